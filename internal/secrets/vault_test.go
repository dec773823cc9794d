package secrets

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets/vaulttest"
)

// logBuffer collects a logger's output for tests to read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLogger(t *testing.T) (hclog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Level: hclog.Trace, Output: buf}), buf
}

// newVault logs in to the double with its clock.
func newVault(t *testing.T, srv *vaulttest.Server, cfg VaultConfig) *Vault {
	t.Helper()
	cfg.Address = srv.URL
	log, _ := testLogger(t)
	v, err := newVaultClient(context.Background(), cfg, log, srv)
	if err != nil {
		t.Fatalf("logging in to the vault double: %v", err)
	}
	return v
}

// runVault starts Run and returns a channel that receives its result.
func runVault(t *testing.T, v *Vault) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		done <- v.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Error("Run did not stop after its context was cancelled")
		}
	})
	return done
}

// waitFor polls cond until it holds; the deadline only guards against a
// hung test, it asserts nothing about speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// tokenStatus is the double's answer to a lookup-self with tok.
func tokenStatus(t *testing.T, srv *vaulttest.Server, tok string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/auth/token/lookup-self", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Request", "true")
	req.Header.Set("X-Vault-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestVaultConfigValidate(t *testing.T) {
	good := VaultConfig{Address: "https://vault.internal:8200", Token: "t"}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	approle := VaultConfig{Address: "http://127.0.0.1:8200", AppRoleID: "r", AppRoleSecretID: "s"}
	if err := approle.Validate(); err != nil {
		t.Fatalf("valid AppRole config refused: %v", err)
	}
	for name, tc := range map[string]struct {
		cfg  VaultConfig
		want string
	}{
		"no address":     {VaultConfig{Token: "t"}, "Address is required"},
		"not http":       {VaultConfig{Address: "ftp://vault", Token: "t"}, "Address"},
		"no host":        {VaultConfig{Address: "https://", Token: "t"}, "Address"},
		"bare host":      {VaultConfig{Address: "vault:8200", Token: "t"}, "Address"},
		"no auth":        {VaultConfig{Address: "https://vault"}, "no auth method"},
		"both auths":     {VaultConfig{Address: "https://vault", Token: "t", AppRoleID: "r", AppRoleSecretID: "s"}, "not both"},
		"no secret id":   {VaultConfig{Address: "https://vault", AppRoleID: "r"}, "AppRoleSecretID is required"},
		"no role id":     {VaultConfig{Address: "https://vault", AppRoleSecretID: "s"}, "AppRoleID is required"},
		"bad mount":      {VaultConfig{Address: "https://vault", AppRoleID: "r", AppRoleSecretID: "s", AppRoleMount: "a//b"}, "AppRoleMount"},
		"negative limit": {VaultConfig{Address: "https://vault", Token: "t", Timeout: -time.Second}, "Timeout"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestNewVaultClientRefusesBadConfigAndFiles(t *testing.T) {
	_, err := NewVaultClient(context.Background(), VaultConfig{Address: "https://vault"}, nil)
	if err == nil || !strings.Contains(err.Error(), "no auth method") {
		t.Fatalf("missing auth: %v", err)
	}
	_, err = NewVaultClient(context.Background(), VaultConfig{Address: "https://127.0.0.1:1", Token: "t", CACertFile: t.TempDir() + "/missing.pem"}, nil)
	if err == nil || !strings.Contains(err.Error(), "CACertFile") {
		t.Fatalf("missing CA file: %v", err)
	}
}

func TestTokenLogin(t *testing.T) {
	srv := vaulttest.New(t)
	t.Setenv("VAULT_TOKEN", "hvs.from-the-environment")
	t.Setenv("VAULT_NAMESPACE", "from-the-environment")
	v := newVault(t, srv, VaultConfig{Token: srv.RootToken})
	if v.tok.ttl != 0 || v.tok.renewable {
		t.Fatalf("root token looked up as %+v", v.tok)
	}
	if got := v.client.Token(); got != srv.RootToken {
		t.Fatalf("client uses token %q, want the configured one", got)
	}
	done := runVault(t, v)
	srv.Advance(1000 * time.Hour)
	select {
	case err := <-done:
		t.Fatalf("Run ended for a token that never expires: %v", err)
	default:
	}

	_, err := newVaultClient(context.Background(), VaultConfig{Address: srv.URL, Token: "hvs.bogus"}, nil, srv)
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusForbidden || !strings.Contains(err.Error(), "looking up the vault token") {
		t.Fatalf("bogus token: %v", err)
	}
}

func TestAppRoleLogin(t *testing.T) {
	srv := vaulttest.New(t)
	srv.AddAppRole("role-1", "secret-1", time.Hour, true)
	v := newVault(t, srv, VaultConfig{AppRoleID: "role-1", AppRoleSecretID: "secret-1"})
	if srv.LoginCount() != 1 || v.tok.ttl != time.Hour || !v.tok.renewable {
		t.Fatalf("logins %d, token %+v", srv.LoginCount(), v.tok)
	}
	if tokenStatus(t, srv, v.client.Token()) != 200 {
		t.Fatal("the AppRole token does not work")
	}

	_, err := newVaultClient(context.Background(), VaultConfig{Address: srv.URL, AppRoleID: "role-1", AppRoleSecretID: "wrong"}, nil, srv)
	if err == nil || !strings.Contains(err.Error(), "logging in to vault with AppRole at auth/approle/login") || !strings.Contains(err.Error(), "invalid role or secret ID") {
		t.Fatalf("wrong secret id: %v", err)
	}
	_, err = newVaultClient(context.Background(), VaultConfig{Address: srv.URL, AppRoleID: "role-1", AppRoleSecretID: "secret-1", AppRoleMount: "elsewhere"}, nil, srv)
	if err == nil || !strings.Contains(err.Error(), "auth/elsewhere/login") {
		t.Fatalf("wrong mount: %v", err)
	}
}

func TestNamespaceHeader(t *testing.T) {
	srv := vaulttest.New(t)
	srv.SetNamespace("team-a")
	srv.AddAppRole("role-1", "secret-1", time.Hour, true)
	srv.AddAWSRole("aws", "agent", time.Hour, 2*time.Hour)

	v := newVault(t, srv, VaultConfig{Namespace: "team-a", AppRoleID: "role-1", AppRoleSecretID: "secret-1"})
	if _, err := v.AWSCredentials("", "agent").Retrieve(context.Background()); err != nil {
		t.Fatalf("reading credentials in the namespace: %v", err)
	}

	_, err := newVaultClient(context.Background(), VaultConfig{Address: srv.URL, Token: srv.RootToken}, nil, srv)
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("no namespace: %v", err)
	}
	_, err = newVaultClient(context.Background(), VaultConfig{Address: srv.URL, Namespace: "team-b", Token: srv.RootToken}, nil, srv)
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("wrong namespace: %v", err)
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	srv := vaulttest.New(t)
	tok := srv.CreateToken(30*time.Minute, true)
	v := newVault(t, srv, VaultConfig{Token: tok})
	runVault(t, v)

	srv.Advance(19 * time.Minute)
	if n := srv.TokenRenewals(); n != 0 {
		t.Fatalf("renewed %d times before two thirds of the TTL", n)
	}
	srv.Advance(time.Minute)
	waitFor(t, "the token renewal at 20m", func() bool { return srv.TokenRenewals() == 1 })

	// Past the original 30m expiry, the renewed token still works.
	srv.Advance(15 * time.Minute)
	if got := tokenStatus(t, srv, tok); got != 200 {
		t.Fatalf("token after its first TTL: %d", got)
	}
	srv.Advance(5 * time.Minute)
	waitFor(t, "the second renewal", func() bool { return srv.TokenRenewals() == 2 })
}

func TestTokenRenewalRetriesTransientFailures(t *testing.T) {
	srv := vaulttest.New(t)
	tok := srv.CreateToken(30*time.Minute, true)
	v := newVault(t, srv, VaultConfig{Token: tok})
	// vault/api tries three times; all three fail, so Run must retry.
	for range 3 {
		srv.FailNext("auth/token/renew-self", 500)
	}
	done := runVault(t, v)
	srv.Advance(20 * time.Minute)
	// Advance fired the renewal timer; the next one Run sets is its retry.
	waitFor(t, "Run to schedule a retry", func() bool { return srv.PendingTimers() == 1 })
	select {
	case err := <-done:
		t.Fatalf("Run gave up on a transient failure: %v", err)
	default:
	}
	if srv.TokenRenewals() != 0 {
		t.Fatal("the injected failures did not fail the renewal")
	}
	srv.Advance(time.Second)
	waitFor(t, "the retried renewal", func() bool { return srv.TokenRenewals() == 1 })
}

func TestConfiguredTokenThatCannotBeRenewedEndsRun(t *testing.T) {
	t.Run("not renewable", func(t *testing.T) {
		srv := vaulttest.New(t)
		v := newVault(t, srv, VaultConfig{Token: srv.CreateToken(time.Hour, false)})
		done := runVault(t, v)
		srv.Advance(59 * time.Minute)
		select {
		case err := <-done:
			t.Fatalf("Run ended before the token expired: %v", err)
		default:
		}
		srv.Advance(time.Minute)
		var err error
		waitFor(t, "Run to end", func() bool {
			select {
			case err = <-done:
				return true
			default:
				return false
			}
		})
		if !errors.Is(err, errTokenExpired) || !strings.Contains(err.Error(), "configure a renewable token or AppRole") {
			t.Fatalf("Run ended with %v", err)
		}
	})
	t.Run("renewal refused", func(t *testing.T) {
		srv := vaulttest.New(t)
		v := newVault(t, srv, VaultConfig{Token: srv.CreateToken(time.Hour, true)})
		srv.FailNext("auth/token/renew-self", 403)
		done := runVault(t, v)
		srv.Advance(40 * time.Minute)
		var err error
		waitFor(t, "Run to end", func() bool {
			select {
			case err = <-done:
				return true
			default:
				return false
			}
		})
		if err == nil || !strings.Contains(err.Error(), "renewing the vault token: vault answered 403: permission denied") {
			t.Fatalf("Run ended with %v", err)
		}
	})
}

func TestAppRoleLogsInAgainAtMaxTTL(t *testing.T) {
	srv := vaulttest.New(t)
	srv.SetTokenMaxTTL(45 * time.Minute)
	srv.AddAppRole("role-1", "secret-1", 30*time.Minute, true)
	srv.AddAWSRole("aws", "agent", 10*time.Minute, time.Hour)
	v := newVault(t, srv, VaultConfig{AppRoleID: "role-1", AppRoleSecretID: "secret-1"})
	first := v.client.Token()
	runVault(t, v)

	srv.Advance(20 * time.Minute)
	waitFor(t, "the renewal at 20m", func() bool { return srv.TokenRenewals() == 1 })
	if srv.LoginCount() != 1 {
		t.Fatalf("logged in again while the token could still be renewed: %d logins", srv.LoginCount())
	}
	// That renewal was capped at 25m (45m max); two thirds of it is at
	// 36m40s, when Run must log in again rather than renew.
	srv.Advance(17 * time.Minute)
	waitFor(t, "the second login", func() bool { return srv.LoginCount() == 2 })
	if srv.TokenRenewals() != 1 {
		t.Fatalf("renewed a token at its max TTL: %d renewals", srv.TokenRenewals())
	}
	srv.Advance(9 * time.Minute)
	if tokenStatus(t, srv, first) != 403 {
		t.Fatal("the first token outlived its max TTL in the double")
	}
	if _, err := v.AWSCredentials("aws", "agent").Retrieve(context.Background()); err != nil {
		t.Fatalf("reading credentials with the new token: %v", err)
	}
}

func TestAppRoleLogsInAgainWhenRenewalIsImpossible(t *testing.T) {
	t.Run("token not renewable", func(t *testing.T) {
		srv := vaulttest.New(t)
		srv.AddAppRole("role-1", "secret-1", 30*time.Minute, false)
		v := newVault(t, srv, VaultConfig{AppRoleID: "role-1", AppRoleSecretID: "secret-1"})
		runVault(t, v)
		srv.Advance(20 * time.Minute)
		waitFor(t, "the second login", func() bool { return srv.LoginCount() == 2 })
		srv.Advance(20 * time.Minute)
		waitFor(t, "the third login", func() bool { return srv.LoginCount() == 3 })
		if srv.TokenRenewals() != 0 {
			t.Fatalf("renewed a token that is not renewable: %d", srv.TokenRenewals())
		}
	})
	t.Run("renewal refused", func(t *testing.T) {
		srv := vaulttest.New(t)
		srv.AddAppRole("role-1", "secret-1", 30*time.Minute, true)
		v := newVault(t, srv, VaultConfig{AppRoleID: "role-1", AppRoleSecretID: "secret-1"})
		srv.FailNext("auth/token/renew-self", 403)
		runVault(t, v)
		srv.Advance(20 * time.Minute)
		waitFor(t, "the login after the refused renewal", func() bool { return srv.LoginCount() == 2 })
	})
}

func TestRunStopsOnCancel(t *testing.T) {
	srv := vaulttest.New(t)
	srv.AddAppRole("role-1", "secret-1", 30*time.Minute, true)
	v := newVault(t, srv, VaultConfig{AppRoleID: "role-1", AppRoleSecretID: "secret-1"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop after its context was cancelled")
	}
}
