package sealed

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// ResealReport counts what Reseal did.
type ResealReport struct {
	// Rewrapped values were sealed under an older key version.
	Rewrapped int
	// Sealed values were stored in clear (written before sealing was on).
	Sealed int
	// Current values were already under the latest version.
	Current int
}

var errTooManyConflicts = errors.New("the row kept changing under the reseal; run rotate-seal again")

// maxAttempts bounds the retries of one row that a running server keeps
// updating between our read and our write.
const maxAttempts = 5

// Reseal brings every sealed value in inner (the undecorated store) under
// the sealer's latest key version and seals values stored in clear. Each
// row is written on its own, with its version as the precondition, so a
// server may keep running: a row it changed meanwhile is read again and
// retried, and values it seals under an older version keep opening.
func Reseal(ctx context.Context, inner store.Store, s secrets.Sealer) (ResealReport, error) {
	var r ResealReport
	latest, err := s.LatestVersion(ctx)
	if err != nil {
		return r, fmt.Errorf("resealing: %w", err)
	}
	var tenants []*sirsiv1.Tenant
	for page := (store.Page{Size: store.MaxPageSize}); ; {
		list, next, err := inner.ListTenants(ctx, page)
		if err != nil {
			return r, fmt.Errorf("resealing: listing tenants: %w", err)
		}
		tenants = append(tenants, list...)
		if next == "" {
			break
		}
		page.Token = next
	}
	for _, t := range tenants {
		if err := resealWebhooks(ctx, inner.Tenant(t.Id), s, latest, &r); err != nil {
			return r, err
		}
		if err := resealAccounts(ctx, inner.Tenant(t.Id), s, latest, &r); err != nil {
			return r, err
		}
	}
	return r, nil
}

// resealValue returns the value to store instead of v, or "" when v is
// fine as it is; it counts what it did.
func resealValue(ctx context.Context, s secrets.Sealer, latest int, v string, aad []byte, r *ResealReport) (string, error) {
	if v == "" {
		return "", nil
	}
	if !secrets.IsSealed(v) {
		out, err := s.Seal(ctx, []byte(v), aad)
		if err == nil {
			r.Sealed++
		}
		return out, err
	}
	ver, err := s.KeyVersion(v)
	if err != nil {
		return "", err
	}
	if ver >= latest {
		r.Current++
		return "", nil
	}
	out, err := s.Rewrap(ctx, v, aad)
	if err == nil {
		r.Rewrapped++
	}
	return out, err
}

// resealWebhooks reseals the secrets of the tenant's webhook endpoints,
// its own (the tenant's webhook_url) included.
func resealWebhooks(ctx context.Context, ts store.TenantStore, s secrets.Sealer, latest int, r *ResealReport) error {
	var hooks []*sirsiv1.Webhook
	for page := (store.Page{Size: store.MaxPageSize}); ; {
		list, next, err := ts.ListWebhooks(ctx, page)
		if err != nil {
			return fmt.Errorf("resealing: listing the webhooks of tenant %q: %w", ts.TenantID(), err)
		}
		hooks = append(hooks, list...)
		if next == "" {
			break
		}
		page.Token = next
	}
	for _, w := range hooks {
		if err := resealWebhook(ctx, ts, s, latest, w, r); err != nil {
			return err
		}
	}
	return nil
}

func resealWebhook(ctx context.Context, ts store.TenantStore, s secrets.Sealer, latest int, w *sirsiv1.Webhook, r *ResealReport) error {
	for range maxAttempts {
		next, err := resealValue(ctx, s, latest, w.Secret, WebhookAAD(ts.TenantID(), w.Id), r)
		if err != nil {
			return fmt.Errorf("resealing the secret of webhook %q: %w", w.Id, err)
		}
		if next == "" {
			return nil
		}
		up := proto.Clone(w).(*sirsiv1.Webhook)
		up.Secret = next
		_, err = ts.UpdateWebhook(ctx, up)
		if !errors.Is(err, store.ErrVersionMismatch) {
			if err != nil {
				return fmt.Errorf("resealing the secret of webhook %q: %w", w.Id, err)
			}
			return nil
		}
		uncount(r, w.Secret)
		if w, err = ts.GetWebhook(ctx, w.Id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return fmt.Errorf("resealing the secret of webhook %q: %w", up.Id, err)
		}
	}
	return fmt.Errorf("resealing the secret of webhook %q: %w", w.Id, errTooManyConflicts)
}

func resealAccounts(ctx context.Context, ts store.TenantStore, s secrets.Sealer, latest int, r *ResealReport) error {
	var accounts []*sirsiv1.CloudAccount
	for page := (store.Page{Size: store.MaxPageSize}); ; {
		list, next, err := ts.ListCloudAccounts(ctx, page)
		if err != nil {
			return fmt.Errorf("resealing: listing the cloud accounts of tenant %q: %w", ts.TenantID(), err)
		}
		accounts = append(accounts, list...)
		if next == "" {
			break
		}
		page.Token = next
	}
	for _, a := range accounts {
		if err := resealAccount(ctx, ts, s, latest, a, r); err != nil {
			return err
		}
	}
	return nil
}

func resealAccount(ctx context.Context, ts store.TenantStore, s secrets.Sealer, latest int, a *sirsiv1.CloudAccount, r *ResealReport) error {
	for range maxAttempts {
		next, err := resealValue(ctx, s, latest, a.ExternalId, AccountAAD(ts.TenantID(), a.Id), r)
		if err != nil {
			return fmt.Errorf("resealing the external id of cloud account %q: %w", a.Id, err)
		}
		if next == "" {
			return nil
		}
		up := proto.Clone(a).(*sirsiv1.CloudAccount)
		up.ExternalId = next
		_, err = ts.UpdateCloudAccount(ctx, up)
		if !errors.Is(err, store.ErrVersionMismatch) {
			if err != nil {
				return fmt.Errorf("resealing the external id of cloud account %q: %w", a.Id, err)
			}
			return nil
		}
		uncount(r, a.ExternalId)
		if a, err = ts.GetCloudAccount(ctx, a.Id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return fmt.Errorf("resealing the external id of cloud account %q: %w", up.Id, err)
		}
	}
	return fmt.Errorf("resealing the external id of cloud account %q: %w", a.Id, errTooManyConflicts)
}

// uncount takes back the count of a write that lost a race and is retried.
func uncount(r *ResealReport, v string) {
	if secrets.IsSealed(v) {
		r.Rewrapped--
	} else {
		r.Sealed--
	}
}
