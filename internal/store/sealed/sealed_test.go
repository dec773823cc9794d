package sealed_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sealed"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/storetest"
)

func newSealer(t *testing.T) *secrets.LocalSealer {
	t.Helper()
	s, err := secrets.NewLocalSealer(filepath.Join(t.TempDir(), "seal.key"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openSQLite(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return sealed.Wrap(openSQLite(t, filepath.Join(t.TempDir(), "sirsi.db")), newSealer(t))
	})
}

const (
	webhookSecret = "whsec-0123456789-plain-webhook"
	externalID    = "extid-9876543210-plain-external"
)

// must(call)(t) is call's value, or ends the test on its error.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// seed creates a tenant with a webhook and an account with an external id
// through s.
func seed(t *testing.T, s store.Store, name string) (*sirsiv1.Tenant, *sirsiv1.CloudAccount) {
	t.Helper()
	ctx := context.Background()
	tn := must(s.CreateTenant(ctx, &sirsiv1.Tenant{Name: name, WebhookUrl: "https://hooks.example.com/" + name, WebhookSecret: webhookSecret + name}))(t)
	acct := must(s.Tenant(tn.Id).CreateCloudAccount(ctx, &sirsiv1.CloudAccount{
		Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: "123456789012", Regions: []string{"us-east-1"},
		RoleArn: "arn:aws:iam::123456789012:role/sirsi", ExternalId: externalID + name,
	}))(t)
	return tn, acct
}

func TestNoPlaintextAtRest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "agentd.db")
	inner, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := sealed.Wrap(inner, newSealer(t))
	ctx := context.Background()
	tn, acct := seed(t, s, "acme")
	if tn.WebhookSecret != webhookSecret+"acme" || acct.ExternalId != externalID+"acme" {
		t.Fatalf("create returned %q / %q, want the plaintext", tn.WebhookSecret, acct.ExternalId)
	}
	// Updates: a new secret, then one without a secret (keeps the stored).
	tn.WebhookSecret = webhookSecret + "rotated"
	tn = must(s.UpdateTenant(ctx, tn))(t)
	tn.WebhookSecret = ""
	tn = must(s.UpdateTenant(ctx, tn))(t)
	if tn.WebhookSecret != webhookSecret+"rotated" {
		t.Fatalf("update without a secret returned %q, want the stored one opened", tn.WebhookSecret)
	}
	acct.ExternalId = externalID + "updated"
	acct = must(s.Tenant(tn.Id).UpdateCloudAccount(ctx, acct))(t)
	if acct.ExternalId != externalID+"updated" {
		t.Fatalf("account update returned %q", acct.ExternalId)
	}

	rawT := must(inner.GetTenant(ctx, tn.Id))(t)
	rawA := must(inner.Tenant(tn.Id).GetCloudAccount(ctx, acct.Id))(t)
	if !secrets.IsSealed(rawT.WebhookSecret) || !secrets.IsSealed(rawA.ExternalId) {
		t.Fatalf("the inner store holds %q / %q, want sealed values", rawT.WebhookSecret, rawA.ExternalId)
	}
	if err := inner.Close(); err != nil {
		t.Fatal(err)
	}

	files, err := filepath.Glob(filepath.Join(dir, "agentd.db*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("database files: %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{webhookSecret, externalID} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds the plaintext %q", filepath.Base(f), secret)
			}
		}
		if !bytes.Contains(b, []byte("sirsi:v1:local:")) && filepath.Base(f) == "agentd.db" {
			t.Errorf("%s holds no sealed value: the test looks in the wrong place", filepath.Base(f))
		}
	}
}

func TestCopiedCiphertextDoesNotOpen(t *testing.T) {
	inner := openSQLite(t, filepath.Join(t.TempDir(), "sirsi.db"))
	s := sealed.Wrap(inner, newSealer(t))
	ctx := context.Background()
	a, acctA := seed(t, s, "a")
	b, acctB := seed(t, s, "b")

	rawA := must(inner.GetTenant(ctx, a.Id))(t)
	rawB := must(inner.GetTenant(ctx, b.Id))(t)
	rawB.WebhookSecret = rawA.WebhookSecret
	must(inner.UpdateTenant(ctx, rawB))(t)
	if _, err := s.GetTenant(ctx, b.Id); err == nil || !strings.Contains(err.Error(), "webhook secret") {
		t.Fatalf("tenant b with tenant a's sealed secret: %v, want an error", err)
	}
	if got := must(s.GetTenant(ctx, a.Id))(t); got.WebhookSecret != webhookSecret+"a" {
		t.Fatalf("tenant a reads %q", got.WebhookSecret)
	}

	rawAcctA := must(inner.Tenant(a.Id).GetCloudAccount(ctx, acctA.Id))(t)
	rawAcctB := must(inner.Tenant(b.Id).GetCloudAccount(ctx, acctB.Id))(t)
	rawAcctB.ExternalId = rawAcctA.ExternalId
	must(inner.Tenant(b.Id).UpdateCloudAccount(ctx, rawAcctB))(t)
	if _, err := s.Tenant(b.Id).GetCloudAccount(ctx, acctB.Id); err == nil || !strings.Contains(err.Error(), "external id") {
		t.Fatalf("account of b with a's sealed external id: %v, want an error", err)
	}
	if _, _, err := s.Tenant(b.Id).ListCloudAccounts(ctx, store.Page{}); err == nil {
		t.Fatal("listing b's accounts opened a value sealed for a's account")
	}
}

func TestLegacyPlaintextAndReseal(t *testing.T) {
	inner := openSQLite(t, filepath.Join(t.TempDir(), "sirsi.db"))
	sealer := newSealer(t)
	s := sealed.Wrap(inner, sealer)
	ctx := context.Background()

	// Rows written before sealing was turned on.
	legacyT, legacyA := seed(t, inner, "legacy")
	// Rows sealed under version 1.
	oldT, oldA := seed(t, s, "old")
	if got := must(s.GetTenant(ctx, legacyT.Id))(t); got.WebhookSecret != webhookSecret+"legacy" {
		t.Fatalf("a plaintext row reads back as %q", got.WebhookSecret)
	}
	if got := must(s.Tenant(legacyT.Id).GetCloudAccount(ctx, legacyA.Id))(t); got.ExternalId != externalID+"legacy" {
		t.Fatalf("a plaintext account reads back as %q", got.ExternalId)
	}

	if err := sealer.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := sealed.Reseal(ctx, inner, sealer)
	if err != nil {
		t.Fatalf("reseal: %v", err)
	}
	if r != (sealed.ResealReport{Rewrapped: 2, Sealed: 2}) {
		t.Fatalf("reseal report %+v, want 2 rewrapped and 2 sealed", r)
	}
	for _, id := range []string{legacyT.Id, oldT.Id} {
		raw := must(inner.GetTenant(ctx, id))(t)
		if v, err := sealer.KeyVersion(raw.WebhookSecret); err != nil || v != 2 {
			t.Fatalf("tenant %s after reseal: version %d, %v", id, v, err)
		}
	}
	for tid, aid := range map[string]string{legacyT.Id: legacyA.Id, oldT.Id: oldA.Id} {
		raw := must(inner.Tenant(tid).GetCloudAccount(ctx, aid))(t)
		if v, err := sealer.KeyVersion(raw.ExternalId); err != nil || v != 2 {
			t.Fatalf("account %s after reseal: version %d, %v", aid, v, err)
		}
	}
	list, _, err := s.ListTenants(ctx, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range list {
		if tn.WebhookSecret != webhookSecret+tn.Name {
			t.Fatalf("tenant %s reads %q after reseal", tn.Name, tn.WebhookSecret)
		}
	}
	if got := must(s.Tenant(oldT.Id).GetCloudAccount(ctx, oldA.Id))(t); got.ExternalId != externalID+"old" {
		t.Fatalf("account reads %q after reseal", got.ExternalId)
	}

	again, err := sealed.Reseal(ctx, inner, sealer)
	if err != nil || again != (sealed.ResealReport{Current: 4}) {
		t.Fatalf("a second reseal = %+v, %v; want all 4 values current and nothing written", again, err)
	}
}

// TestWebhookSecretSealedPerEndpoint: an endpoint's secret is sealed in
// the inner store and opens through the wrapper; its envelope copied to
// another endpoint's row does not open there (the context names the row),
// while the tenant's own endpoint opens under the tenant's context, the
// one migration 22 carried over.
func TestWebhookSecretSealedPerEndpoint(t *testing.T) {
	ctx := context.Background()
	inner := openSQLite(t, filepath.Join(t.TempDir(), "sirsi.db"))
	s := sealed.Wrap(inner, newSealer(t))
	tn, _ := seed(t, s, "acme")
	ts, raw := s.Tenant(tn.Id), inner.Tenant(tn.Id)
	a := must(ts.CreateWebhook(ctx, &sirsiv1.Webhook{Url: "https://a.example.com", Secret: webhookSecret + "a"}))(t)
	b := must(ts.CreateWebhook(ctx, &sirsiv1.Webhook{Url: "https://b.example.com", Secret: webhookSecret + "b"}))(t)
	rawA := must(raw.GetWebhook(ctx, a.Id))(t)
	if !secrets.IsSealed(rawA.Secret) {
		t.Fatalf("the inner store holds %q, want a sealed value", rawA.Secret)
	}
	if got := must(ts.GetWebhook(ctx, a.Id))(t); got.Secret != webhookSecret+"a" {
		t.Fatalf("opened %q", got.Secret)
	}
	if own := must(ts.GetWebhook(ctx, tn.Id))(t); own.Secret != webhookSecret+"acme" {
		t.Fatalf("the tenant's own endpoint opened %q", own.Secret)
	}
	moved := must(raw.GetWebhook(ctx, b.Id))(t)
	moved.Secret = rawA.Secret
	must(raw.UpdateWebhook(ctx, moved))(t)
	if _, err := ts.GetWebhook(ctx, b.Id); err == nil {
		t.Fatal("a sealed secret copied to another endpoint opened there")
	}
}
