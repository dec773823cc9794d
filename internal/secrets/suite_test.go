package secrets

import (
	"context"
	"errors"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets/vaulttest"
)

// jumpClock is a clock a test can move forward to make the client act as
// if time had passed (renew now) without waiting; the server, not the
// client, still decides what is valid.
type jumpClock struct {
	base   clock
	mu     sync.Mutex
	offset time.Duration
}

func (c *jumpClock) off() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

func (c *jumpClock) Now() time.Time { return c.base.Now().Add(c.off()) }

func (c *jumpClock) At(t time.Time) <-chan time.Time { return c.base.At(t.Add(-c.off())) }

// jumpTo moves the clock to t if t is ahead.
func (c *jumpClock) jumpTo(t time.Time) {
	if d := t.Sub(c.Now()); d > 0 {
		c.mu.Lock()
		c.offset += d
		c.mu.Unlock()
	}
}

// suiteEnv is a Vault to run the suite against: the double, or a real one.
type suiteEnv struct {
	// token logs in with a token; Address is set.
	token VaultConfig
	// appRole, when set, logs in with AppRole.
	appRole *VaultConfig
	// awsMount and awsRole name an AWS secrets engine role; empty role
	// skips the credentials checks.
	awsMount, awsRole string
	base              clock
}

// runSuite checks the client against a Vault whose clock it cannot
// control, so it only moves its own clock: login, token renewal, a refused
// token, AppRole login and renewal, AWS credentials issued and renewed.
func runSuite(t *testing.T, env suiteEnv) {
	ctx := context.Background()

	t.Run("token login and renewal", func(t *testing.T) {
		clk := &jumpClock{base: env.base}
		log, _ := testLogger(t)
		v, err := newVaultClient(ctx, env.token, log, clk)
		if err != nil {
			t.Fatalf("logging in with the token: %v", err)
		}
		if v.tok.ttl == 0 || !v.tok.renewable {
			t.Skipf("the token (ttl %s, renewable %v) cannot be renewed; renewal not exercised", v.tok.ttl, v.tok.renewable)
		}
		before := v.tok
		clk.jumpTo(before.refreshAt())
		if err := v.refresh(ctx); err != nil {
			t.Fatalf("renewing the token: %v", err)
		}
		if !v.tok.obtained.After(before.obtained) || v.tok.ttl <= 0 {
			t.Fatalf("after renewal the token lease is %+v (before %+v)", v.tok, before)
		}
	})

	t.Run("unknown token refused", func(t *testing.T) {
		cfg := env.token
		cfg.Token = "hvs.sirsi-test-not-a-token"
		_, err := newVaultClient(ctx, cfg, nil, env.base)
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusForbidden {
			t.Fatalf("logging in with an unknown token: %v, want a 403 APIError", err)
		}
	})

	t.Run("approle login and refresh", func(t *testing.T) {
		if env.appRole == nil {
			t.Skip("no AppRole configured")
		}
		clk := &jumpClock{base: env.base}
		log, _ := testLogger(t)
		v, err := newVaultClient(ctx, *env.appRole, log, clk)
		if err != nil {
			t.Fatalf("logging in with AppRole: %v", err)
		}
		if v.tok.ttl == 0 {
			t.Skip("the AppRole token does not expire; refresh not exercised")
		}
		first := v.client.Token()
		clk.jumpTo(v.tok.refreshAt())
		if err := v.refresh(ctx); err != nil {
			t.Fatalf("refreshing the AppRole token: %v", err)
		}
		if !v.tok.renewable && v.client.Token() == first {
			t.Fatal("a token that cannot be renewed was not replaced by a new login")
		}
	})

	t.Run("aws credentials issued and renewed", func(t *testing.T) {
		if env.awsRole == "" {
			t.Skip("no AWS secrets engine role configured")
		}
		clk := &jumpClock{base: env.base}
		v, err := newVaultClient(ctx, env.token, nil, clk)
		if err != nil {
			t.Fatalf("logging in with the token: %v", err)
		}
		p := v.AWSCredentials(env.awsMount, env.awsRole)
		first, err := p.Retrieve(ctx)
		if err != nil {
			t.Fatalf("reading credentials: %v", err)
		}
		if first.AccessKeyID == "" || first.SecretAccessKey == "" || !first.CanExpire || !first.Expires.After(clk.Now()) {
			t.Fatalf("credentials %s expiring %v are not usable", first.AccessKeyID, first.Expires)
		}
		renewable := p.lease.renewable
		clk.jumpTo(p.lease.refreshAt())
		second, err := p.Retrieve(ctx)
		if err != nil {
			t.Fatalf("refreshing credentials: %v", err)
		}
		if renewable && second.AccessKeyID != first.AccessKeyID {
			t.Fatal("a renewable lease was replaced instead of renewed")
		}
		if !second.Expires.After(clk.Now()) {
			t.Fatalf("refreshed credentials expire at %v, before now %v", second.Expires, clk.Now())
		}
	})
}

func TestSuiteAgainstDouble(t *testing.T) {
	srv := vaulttest.New(t)
	srv.AddAppRole("role-1", "secret-1", time.Hour, false)
	srv.AddAWSRole("aws", "agent", time.Hour, 4*time.Hour)
	runSuite(t, suiteEnv{
		token:    VaultConfig{Address: srv.URL, Token: srv.CreateToken(time.Hour, true)},
		appRole:  &VaultConfig{Address: srv.URL, AppRoleID: "role-1", AppRoleSecretID: "secret-1"},
		awsMount: "aws",
		awsRole:  "agent",
		base:     srv,
	})
	if srv.TokenRenewals() != 1 || srv.LoginCount() != 2 || srv.Renewals() != 1 {
		t.Fatalf("the suite did not reach the double: token renewals %d, logins %d, lease renewals %d",
			srv.TokenRenewals(), srv.LoginCount(), srv.Renewals())
	}
}

// TestRealVault runs the suite against a real Vault. It needs VAULT_ADDR
// and VAULT_TOKEN (a renewable token with a TTL exercises renewal; a root
// token is accepted and renewal is then skipped); VAULT_NAMESPACE and
// VAULT_CACERT are honoured. Optional parts, each skipped when unset:
//
//   - the AWS secrets engine: enable it (vault secrets enable aws), give it
//     root credentials (aws/config/root) and an iam_user role, then set
//     SIRSI_TEST_VAULT_AWS_ROLE (and SIRSI_TEST_VAULT_AWS_MOUNT if not
//     mounted at aws); the token needs read on <mount>/creds/<role> and
//     update on sys/leases/renew. The test creates real IAM users, which
//     Vault deletes when their leases end: use a short TTL.
//   - AppRole: enable it (vault auth enable approle), create a role, then
//     set SIRSI_TEST_VAULT_APPROLE_ROLE_ID and
//     SIRSI_TEST_VAULT_APPROLE_SECRET_ID (and SIRSI_TEST_VAULT_APPROLE_MOUNT
//     if not mounted at approle).
//   - transit and KV v2: the test enables a fresh transit engine and a
//     fresh KV v2 engine (sys/mounts, so a root-like token), runs the
//     sealing and KV checks on them and disables them again; with a token
//     that may not mount engines, point SIRSI_TEST_VAULT_TRANSIT_MOUNT and
//     SIRSI_TEST_VAULT_KV_MOUNT at existing mounts where it may create and
//     rotate transit keys and write KV secrets under sirsi-test/.
func TestRealVault(t *testing.T) {
	addr, token := os.Getenv("VAULT_ADDR"), os.Getenv("VAULT_TOKEN")
	if addr == "" || token == "" {
		t.Skip("set VAULT_ADDR and VAULT_TOKEN to run the suite against a real Vault")
	}
	base := VaultConfig{
		Address:    addr,
		Namespace:  os.Getenv("VAULT_NAMESPACE"),
		CACertFile: os.Getenv("VAULT_CACERT"),
	}
	env := suiteEnv{
		token:    base,
		awsMount: os.Getenv("SIRSI_TEST_VAULT_AWS_MOUNT"),
		awsRole:  os.Getenv("SIRSI_TEST_VAULT_AWS_ROLE"),
		base:     wallClock{},
	}
	env.token.Token = token
	if id := os.Getenv("SIRSI_TEST_VAULT_APPROLE_ROLE_ID"); id != "" {
		cfg := base
		cfg.AppRoleID = id
		cfg.AppRoleSecretID = os.Getenv("SIRSI_TEST_VAULT_APPROLE_SECRET_ID")
		cfg.AppRoleMount = os.Getenv("SIRSI_TEST_VAULT_APPROLE_MOUNT")
		env.appRole = &cfg
	}
	runSuite(t, env)

	v, err := NewVaultClient(context.Background(), env.token, nil)
	if err != nil {
		t.Fatalf("logging in with the token: %v", err)
	}
	t.Run("transit sealing", func(t *testing.T) {
		mount := realMount(t, v, "SIRSI_TEST_VAULT_TRANSIT_MOUNT", &api.MountInput{Type: "transit"})
		// A fresh key per run, since the suite rotates it.
		key := "sirsi-test-" + randomSuffix()
		if _, err := v.client.Logical().WriteWithContext(context.Background(), mount+"/keys/"+key, nil); err != nil {
			t.Fatalf("creating the transit key %s/keys/%s: %v", mount, key, apiError(err))
		}
		runSealSuite(t, NewTransitSealer(v, mount, key), "vault")
	})
	t.Run("kv v2", func(t *testing.T) {
		mount := realMount(t, v, "SIRSI_TEST_VAULT_KV_MOUNT", &api.MountInput{Type: "kv", Options: map[string]string{"version": "2"}})
		runKVSuite(t, v, mount, "sirsi-test/"+randomSuffix())
	})
}

// realMount is the mount named by the environment variable env, or else a
// fresh mount of the given engine that the test enables and disables
// again; it skips, saying why, when the token may not mount engines.
func realMount(t *testing.T, v *Vault, env string, in *api.MountInput) string {
	if m := os.Getenv(env); m != "" {
		return m
	}
	ctx := context.Background()
	mount := "sirsi-test-" + in.Type + "-" + randomSuffix()
	if err := v.client.Sys().MountWithContext(ctx, mount, in); err != nil {
		t.Skipf("cannot enable a %s engine at %s (%v): set %s to an existing mount", in.Type, mount, apiError(err), env)
	}
	t.Cleanup(func() {
		if err := v.client.Sys().UnmountWithContext(context.Background(), mount); err != nil {
			t.Errorf("disabling the test mount %s: %v", mount, err)
		}
	})
	return mount
}
