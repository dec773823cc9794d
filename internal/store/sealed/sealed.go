// Package sealed is a store.Store decorator that keeps the store's
// reversible secrets sealed at rest: a tenant's webhook secret and a cloud
// account's external id are sealed on every write and opened on every
// read, so the database (and its backups) never holds them in clear while
// callers see plaintext as before.
//
// Each value is sealed with its row as context ("webhook:<tenant>/<id>:secret",
// "account:<tenant>/<id>:external_id"; the tenant's own endpoint, which
// was the tenant's webhook_url before migration 0023, keeps
// "tenant:<id>:webhook_secret"): a sealed value copied into another
// row does not open there. Values written before sealing was turned on are
// read back as they are and sealed on their next write, or by Reseal.
//
// Token secrets are not here: the store only ever holds their hashes.
package sealed

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// Store seals and opens on the way to and from the inner store; every
// method it does not define is the inner store's.
type Store struct {
	store.Store
	sealer secrets.Sealer
}

// Wrap returns inner with its secrets sealed by s.
func Wrap(inner store.Store, s secrets.Sealer) store.Store {
	return &Store{Store: inner, sealer: s}
}

// Unwrap is the inner store, for the capabilities of a back end that the
// decorator has nothing to seal in (store.SharedLimitsOf).
func (s *Store) Unwrap() store.Store { return s.Store }

// TenantAAD is the context a tenant's webhook secret is sealed with.
func TenantAAD(tenantID string) []byte {
	return []byte("tenant:" + tenantID + ":webhook_secret")
}

// WebhookAAD is the context a webhook endpoint's secret is sealed with.
// The tenant's own endpoint (id = tenant id) keeps the tenant's context:
// migration 0023 moved the tenant's sealed secret there without opening
// it, and the deprecated tenant webhook_url still writes it.
func WebhookAAD(tenantID, webhookID string) []byte {
	if webhookID == tenantID {
		return TenantAAD(tenantID)
	}
	return []byte("webhook:" + tenantID + "/" + webhookID + ":secret")
}

// AccountAAD is the context a cloud account's external id is sealed with.
func AccountAAD(tenantID, accountID string) []byte {
	return []byte("account:" + tenantID + "/" + accountID + ":external_id")
}

// newID is the form the SQL stores give ids; the decorator assigns ids
// itself when sealing, because the context names the row.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

func seal(ctx context.Context, s secrets.Sealer, v string, aad []byte) (string, error) {
	if v == "" {
		return "", nil
	}
	return s.Seal(ctx, []byte(v), aad)
}

// open returns stored values that are not sealed (written before sealing
// was on) as they are.
func open(ctx context.Context, s secrets.Sealer, v string, aad []byte) (string, error) {
	if v == "" || !secrets.IsSealed(v) {
		return v, nil
	}
	b, err := s.Open(ctx, v, aad)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (s *Store) openTenant(ctx context.Context, t *sirsiv1.Tenant) (*sirsiv1.Tenant, error) {
	if t == nil || t.WebhookSecret == "" {
		return t, nil
	}
	pt, err := open(ctx, s.sealer, t.WebhookSecret, TenantAAD(t.Id))
	if err != nil {
		return nil, fmt.Errorf("opening the webhook secret of tenant %q: %w", t.Id, err)
	}
	t.WebhookSecret = pt
	return t, nil
}

func (s *Store) CreateTenant(ctx context.Context, in *sirsiv1.Tenant) (*sirsiv1.Tenant, error) {
	t := proto.Clone(in).(*sirsiv1.Tenant)
	if t.Id == "" {
		t.Id = newID()
	}
	var err error
	if t.WebhookSecret, err = seal(ctx, s.sealer, in.WebhookSecret, TenantAAD(t.Id)); err != nil {
		return nil, fmt.Errorf("create tenant %q: sealing the webhook secret: %w", t.Name, err)
	}
	out, err := s.Store.CreateTenant(ctx, t)
	if err != nil {
		return nil, err
	}
	out.WebhookSecret = in.WebhookSecret
	return out, nil
}

func (s *Store) GetTenant(ctx context.Context, id string) (*sirsiv1.Tenant, error) {
	t, err := s.Store.GetTenant(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.openTenant(ctx, t)
}

func (s *Store) GetTenantByName(ctx context.Context, name string) (*sirsiv1.Tenant, error) {
	t, err := s.Store.GetTenantByName(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.openTenant(ctx, t)
}

// UpdateTenant seals a new secret; an empty one still keeps the stored
// (sealed) secret, which stays valid because the row is the same.
func (s *Store) UpdateTenant(ctx context.Context, in *sirsiv1.Tenant) (*sirsiv1.Tenant, error) {
	t := proto.Clone(in).(*sirsiv1.Tenant)
	var err error
	if t.WebhookSecret, err = seal(ctx, s.sealer, in.WebhookSecret, TenantAAD(t.Id)); err != nil {
		return nil, fmt.Errorf("update tenant %q: sealing the webhook secret: %w", t.Id, err)
	}
	out, err := s.Store.UpdateTenant(ctx, t)
	if err != nil {
		return nil, err
	}
	return s.openTenant(ctx, out)
}

func (s *Store) ListTenants(ctx context.Context, p store.Page) ([]*sirsiv1.Tenant, string, error) {
	list, next, err := s.Store.ListTenants(ctx, p)
	if err != nil {
		return nil, "", err
	}
	for i, t := range list {
		if list[i], err = s.openTenant(ctx, t); err != nil {
			return nil, "", err
		}
	}
	return list, next, nil
}

func (s *Store) Tenant(tenantID string) store.TenantStore {
	return &tenantStore{TenantStore: s.Store.Tenant(tenantID), sealer: s.sealer}
}

// tenantStore seals the external ids of one tenant's cloud accounts.
type tenantStore struct {
	store.TenantStore
	sealer secrets.Sealer
}

func (t *tenantStore) openAccount(ctx context.Context, a *sirsiv1.CloudAccount) (*sirsiv1.CloudAccount, error) {
	if a == nil || a.ExternalId == "" {
		return a, nil
	}
	pt, err := open(ctx, t.sealer, a.ExternalId, AccountAAD(t.TenantID(), a.Id))
	if err != nil {
		return nil, fmt.Errorf("opening the external id of cloud account %q: %w", a.Id, err)
	}
	a.ExternalId = pt
	return a, nil
}

func (t *tenantStore) CreateCloudAccount(ctx context.Context, in *sirsiv1.CloudAccount) (*sirsiv1.CloudAccount, error) {
	a := proto.Clone(in).(*sirsiv1.CloudAccount)
	if a.Id == "" {
		a.Id = newID()
	}
	var err error
	if a.ExternalId, err = seal(ctx, t.sealer, in.ExternalId, AccountAAD(t.TenantID(), a.Id)); err != nil {
		return nil, fmt.Errorf("create cloud account %q: sealing the external id: %w", a.AccountId, err)
	}
	out, err := t.TenantStore.CreateCloudAccount(ctx, a)
	if err != nil {
		return nil, err
	}
	out.ExternalId = in.ExternalId
	return out, nil
}

func (t *tenantStore) GetCloudAccount(ctx context.Context, id string) (*sirsiv1.CloudAccount, error) {
	a, err := t.TenantStore.GetCloudAccount(ctx, id)
	if err != nil {
		return nil, err
	}
	return t.openAccount(ctx, a)
}

func (t *tenantStore) UpdateCloudAccount(ctx context.Context, in *sirsiv1.CloudAccount) (*sirsiv1.CloudAccount, error) {
	a := proto.Clone(in).(*sirsiv1.CloudAccount)
	var err error
	if a.ExternalId, err = seal(ctx, t.sealer, in.ExternalId, AccountAAD(t.TenantID(), a.Id)); err != nil {
		return nil, fmt.Errorf("update cloud account %q: sealing the external id: %w", a.Id, err)
	}
	out, err := t.TenantStore.UpdateCloudAccount(ctx, a)
	if err != nil {
		return nil, err
	}
	return t.openAccount(ctx, out)
}

func (t *tenantStore) ListCloudAccounts(ctx context.Context, p store.Page) ([]*sirsiv1.CloudAccount, string, error) {
	list, next, err := t.TenantStore.ListCloudAccounts(ctx, p)
	if err != nil {
		return nil, "", err
	}
	for i, a := range list {
		if list[i], err = t.openAccount(ctx, a); err != nil {
			return nil, "", err
		}
	}
	return list, next, nil
}

func (t *tenantStore) openWebhook(ctx context.Context, w *sirsiv1.Webhook) (*sirsiv1.Webhook, error) {
	if w == nil || w.Secret == "" {
		return w, nil
	}
	pt, err := open(ctx, t.sealer, w.Secret, WebhookAAD(t.TenantID(), w.Id))
	if err != nil {
		return nil, fmt.Errorf("opening the secret of webhook %q: %w", w.Id, err)
	}
	w.Secret = pt
	return w, nil
}

func (t *tenantStore) CreateWebhook(ctx context.Context, in *sirsiv1.Webhook) (*sirsiv1.Webhook, error) {
	w := proto.Clone(in).(*sirsiv1.Webhook)
	if w.Id == "" {
		w.Id = newID()
	}
	var err error
	if w.Secret, err = seal(ctx, t.sealer, in.Secret, WebhookAAD(t.TenantID(), w.Id)); err != nil {
		return nil, fmt.Errorf("create webhook: sealing the secret: %w", err)
	}
	out, err := t.TenantStore.CreateWebhook(ctx, w)
	if err != nil {
		return nil, err
	}
	out.Secret = in.Secret
	return out, nil
}

func (t *tenantStore) GetWebhook(ctx context.Context, id string) (*sirsiv1.Webhook, error) {
	w, err := t.TenantStore.GetWebhook(ctx, id)
	if err != nil {
		return nil, err
	}
	return t.openWebhook(ctx, w)
}

// UpdateWebhook seals a new secret; an empty one keeps the stored
// (sealed) secret, which stays valid because the row is the same.
func (t *tenantStore) UpdateWebhook(ctx context.Context, in *sirsiv1.Webhook) (*sirsiv1.Webhook, error) {
	w := proto.Clone(in).(*sirsiv1.Webhook)
	var err error
	if w.Secret, err = seal(ctx, t.sealer, in.Secret, WebhookAAD(t.TenantID(), w.Id)); err != nil {
		return nil, fmt.Errorf("update webhook %q: sealing the secret: %w", w.Id, err)
	}
	out, err := t.TenantStore.UpdateWebhook(ctx, w)
	if err != nil {
		return nil, err
	}
	return t.openWebhook(ctx, out)
}

func (t *tenantStore) ListWebhooks(ctx context.Context, p store.Page) ([]*sirsiv1.Webhook, string, error) {
	list, next, err := t.TenantStore.ListWebhooks(ctx, p)
	if err != nil {
		return nil, "", err
	}
	for i, w := range list {
		if list[i], err = t.openWebhook(ctx, w); err != nil {
			return nil, "", err
		}
	}
	return list, next, nil
}
