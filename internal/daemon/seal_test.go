package daemon

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets/vaulttest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sealed"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
)

func runRotateSeal(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(append([]string{"server", "rotate-seal"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// caKeyVersion is the key version the CA key in dataDir is sealed with.
func caKeyVersion(t *testing.T, s secrets.Sealer, dataDir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, pkiDir, pki.CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.KeyVersion(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("the CA key file is not sealed: %v", err)
	}
	return v
}

// TestRotateSealWhileServing seals through a running server, rotates with
// agentd server rotate-seal while it runs, and checks that the server keeps
// opening what it stored and starts again on the rotated key.
func TestRotateSealWhileServing(t *testing.T) {
	dir := t.TempDir()
	p, endpoint := startServer(t, "-data-dir", dir)
	tok, _ := readToken(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	cl := dial(t, endpoint, filepath.Join(dir, pkiDir, pki.CACertFile))
	const secret = "whsec-rotate-seal-0123456789abcdef"
	created, err := cl.CreateTenant(withToken(ctx, tok), &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{
		Name: "acme", DisplayName: "Acme", Tier: sirsiv1.Tier_TIER_STANDARD,
		WebhookUrl: "https://hooks.example.com/acme", WebhookSecret: secret,
	}})
	if err != nil {
		t.Fatal(err)
	}

	sealer, err := secrets.NewLocalSealer(filepath.Join(dir, sealKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	db := rawSQLite(t, dir)
	storedSecret := func() string {
		t.Helper()
		var v string
		if err := db.QueryRow(`SELECT secret FROM webhooks WHERE id = (SELECT id FROM tenants WHERE name = 'acme')`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v, err := sealer.KeyVersion(storedSecret()); err != nil || v != 1 {
		t.Fatalf("the stored webhook secret: version %d, %v; want sealed under version 1", v, err)
	}
	if v := caKeyVersion(t, sealer, dir); v != 1 {
		t.Fatalf("CA key sealed under version %d, want 1", v)
	}

	code, stdout, stderr := runRotateSeal(t, "-data-dir", dir)
	if code != exitOK {
		t.Fatalf("rotate-seal exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, want := range []string{"version 2", "1 values rewrapped", "CA key: rewrapped to version 2", "server TLS key: rewrapped to version 2"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("rotate-seal output lacks %q:\n%s", want, stdout)
		}
	}
	stored := storedSecret()
	if v, err := sealer.KeyVersion(stored); err != nil || v != 2 {
		t.Fatalf("after rotation the webhook secret is under version %d (%v), want 2", v, err)
	}
	if pt, err := sealer.Open(ctx, stored, sealed.TenantAAD(created.Tenant.Id)); err != nil || string(pt) != secret {
		t.Fatalf("the rewrapped secret opens to %q, %v", pt, err)
	}
	if v := caKeyVersion(t, sealer, dir); v != 2 {
		t.Fatalf("after rotation the CA key is under version %d, want 2", v)
	}

	// The running server opens the value sealed under a version it had
	// not seen; a read fails if it cannot.
	got, err := cl.GetTenant(withToken(ctx, tok), &sirsiv1.GetTenantRequest{Id: created.Tenant.Id})
	if err != nil || !got.GetTenant().GetWebhookSecretSet() {
		t.Fatalf("reading the tenant from the running server after rotation: %v, %v", got, err)
	}
	stopServer(t, p)

	p, endpoint = startServer(t, "-data-dir", dir)
	defer stopServer(t, p)
	cl = dial(t, endpoint, filepath.Join(dir, pkiDir, pki.CACertFile))
	if _, err := cl.GetTenant(withToken(ctx, tok), &sirsiv1.GetTenantRequest{Id: created.Tenant.Id}); err != nil {
		t.Fatalf("reading the tenant after a restart on the rotated key: %v", err)
	}
}

func TestRotateSealVault(t *testing.T) {
	ctx := context.Background()
	srv := vaulttest.New(t)
	srv.EnableTransit("transit")
	srv.CreateTransitKey("transit", "agentd")
	token := srv.CreateToken(time.Hour, true)
	v, err := secrets.NewVaultClient(ctx, secrets.VaultConfig{Address: srv.URL, Token: token}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := secrets.NewTransitSealer(v, "transit", "agentd")

	dir := t.TempDir()
	inner, err := sqlite.Open(ctx, filepath.Join(dir, sqliteFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := sealed.Wrap(inner, ts)
	const secret, extID = "whsec-vault-0123456789abcdef", "external-id-0123456789"
	tn, err := st.CreateTenant(ctx, &sirsiv1.Tenant{Name: "acme", WebhookUrl: "https://hooks.example.com/a", WebhookSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := st.Tenant(tn.Id).CreateCloudAccount(ctx, &sirsiv1.CloudAccount{
		Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: "123456789012", RoleArn: "arn:aws:iam::123456789012:role/sirsi", ExternalId: extID,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := inner.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pki.LoadOrCreateCA(pki.Options{Dir: filepath.Join(dir, pkiDir), Name: "sirsi.local", Sealer: ts}); err != nil {
		t.Fatal(err)
	}

	cfg := filepath.Join(t.TempDir(), "agentd.hcl")
	if err := os.WriteFile(cfg, []byte(`
data_dir = "`+dir+`"
seal {
  backend     = "vault"
  transit_key = "agentd"
}
vault {
  address = "`+srv.URL+`"
  token   = "`+token+`"
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runRotateSeal(t, "-config", cfg)
	if code != exitOK {
		t.Fatalf("rotate-seal exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if srv.TransitKeyVersion("transit", "agentd") != 2 || !strings.Contains(stdout, "2 values rewrapped") {
		t.Fatalf("transit key at version %d after rotate-seal; output:\n%s", srv.TransitKeyVersion("transit", "agentd"), stdout)
	}

	inner, err = sqlite.Open(ctx, filepath.Join(dir, sqliteFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	rawT, err := inner.GetTenant(ctx, tn.Id)
	if err != nil {
		t.Fatal(err)
	}
	rawA, err := inner.Tenant(tn.Id).GetCloudAccount(ctx, acct.Id)
	if err != nil {
		t.Fatal(err)
	}
	for what, val := range map[string]string{"webhook secret": rawT.WebhookSecret, "external id": rawA.ExternalId} {
		if n, err := ts.KeyVersion(val); err != nil || n != 2 {
			t.Errorf("%s after rotate-seal: version %d, %v; want 2", what, n, err)
		}
	}
	if v := caKeyVersion(t, ts, dir); v != 2 {
		t.Errorf("CA key after rotate-seal: version %d, want 2", v)
	}
	st = sealed.Wrap(inner, ts)
	if got, err := st.GetTenant(ctx, tn.Id); err != nil || got.WebhookSecret != secret {
		t.Fatalf("the rewrapped webhook secret opens to %q, %v", got.GetWebhookSecret(), err)
	}
	if got, err := st.Tenant(tn.Id).GetCloudAccount(ctx, acct.Id); err != nil || got.ExternalId != extID {
		t.Fatalf("the rewrapped external id opens to %q, %v", got.GetExternalId(), err)
	}
}

func TestRotateSealRefusals(t *testing.T) {
	code, _, stderr := runRotateSeal(t, "-data-dir", filepath.Join(t.TempDir(), "missing"))
	if code != exitUsage || !strings.Contains(stderr, "does not exist") {
		t.Fatalf("a data dir that does not exist: exit %d, %s", code, stderr)
	}

	// A data dir whose server never sealed anything gets no new key file.
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, sqliteFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	code, _, stderr = runRotateSeal(t, "-data-dir", dir)
	if code != exitFailure || !strings.Contains(stderr, sealKeyFile) {
		t.Fatalf("a data dir without a seal key: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, sealKeyFile)); !os.IsNotExist(err) {
		t.Fatalf("rotate-seal created a seal key file: %v", err)
	}

	code, _, stderr = runRotateSeal(t, "-data-dir", dir, "extra")
	if code != exitUsage || !strings.Contains(stderr, "unexpected arguments") {
		t.Fatalf("extra arguments: exit %d, %s", code, stderr)
	}
}
