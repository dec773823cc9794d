package secrets

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets/vaulttest"
)

// awsDouble is a double with an AWS role "agent" at mount "aws" leasing
// credentials for an hour, renewable for three, and a client logged in
// with the root token.
func awsDouble(t *testing.T) (*vaulttest.Server, *VaultAWSCredentials) {
	t.Helper()
	srv := vaulttest.New(t)
	srv.AddAWSRole("aws", "agent", time.Hour, 3*time.Hour)
	v := newVault(t, srv, VaultConfig{Token: srv.RootToken})
	return srv, v.AWSCredentials("", "agent")
}

func retrieve(t *testing.T, p aws.CredentialsProvider) aws.Credentials {
	t.Helper()
	creds, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatalf("Retrieve: %v", err)
	}
	return creds
}

func TestAWSCredentialsIssued(t *testing.T) {
	srv, p := awsDouble(t)
	start := srv.Now()
	creds := retrieve(t, p)
	if !strings.HasPrefix(creds.AccessKeyID, "AKIA") || len(creds.SecretAccessKey) != 40 {
		t.Fatalf("credentials %+v do not look issued by the double", creds)
	}
	if creds.Source != "Vault" || !creds.CanExpire || !creds.Expires.Equal(start.Add(time.Hour)) {
		t.Fatalf("Source %q CanExpire %v Expires %v, want Vault, true, %v", creds.Source, creds.CanExpire, creds.Expires, start.Add(time.Hour))
	}
	// Early in the lease the provider answers without asking Vault.
	srv.Advance(39 * time.Minute)
	again := retrieve(t, p)
	if again != creds || srv.CredsIssued("agent") != 1 || srv.Renewals() != 0 {
		t.Fatalf("second Retrieve: same=%v issued=%d renewals=%d", again == creds, srv.CredsIssued("agent"), srv.Renewals())
	}
}

func TestAWSCredentialsRenewedBeforeExpiry(t *testing.T) {
	srv, p := awsDouble(t)
	first := retrieve(t, p)
	srv.Advance(41 * time.Minute)
	renewed := retrieve(t, p)
	if srv.Renewals() != 1 || srv.CredsIssued("agent") != 1 {
		t.Fatalf("renewals %d, issued %d; want 1 and 1", srv.Renewals(), srv.CredsIssued("agent"))
	}
	if renewed.AccessKeyID != first.AccessKeyID || renewed.SecretAccessKey != first.SecretAccessKey {
		t.Fatal("renewal changed the keys")
	}
	if want := srv.Now().Add(time.Hour); !renewed.Expires.Equal(want) {
		t.Fatalf("renewed Expires %v, want %v", renewed.Expires, want)
	}
	// Past the first lease's end the renewed keys are still the answer.
	srv.Advance(30 * time.Minute)
	if got := retrieve(t, p); got.AccessKeyID != first.AccessKeyID || srv.CredsIssued("agent") != 1 {
		t.Fatalf("after the first lease's end: key changed %v, issued %d", got.AccessKeyID != first.AccessKeyID, srv.CredsIssued("agent"))
	}
}

func TestAWSCredentialsReissued(t *testing.T) {
	t.Run("renewal refused", func(t *testing.T) {
		srv, p := awsDouble(t)
		first := retrieve(t, p)
		srv.FailNext("sys/leases/renew", 400)
		srv.Advance(41 * time.Minute)
		second := retrieve(t, p)
		if srv.CredsIssued("agent") != 2 || second.AccessKeyID == first.AccessKeyID {
			t.Fatalf("issued %d, new key %v; want new credentials", srv.CredsIssued("agent"), second.AccessKeyID != first.AccessKeyID)
		}
		if want := srv.Now().Add(time.Hour); !second.Expires.Equal(want) {
			t.Fatalf("Expires %v, want %v", second.Expires, want)
		}
	})
	t.Run("max TTL near", func(t *testing.T) {
		srv := vaulttest.New(t)
		srv.AddAWSRole("aws", "agent", time.Hour, 90*time.Minute)
		p := newVault(t, srv, VaultConfig{Token: srv.RootToken}).AWSCredentials("aws", "agent")
		first := retrieve(t, p)
		srv.Advance(41 * time.Minute)
		capped := retrieve(t, p)
		if srv.Renewals() != 1 || capped.AccessKeyID != first.AccessKeyID {
			t.Fatalf("renewals %d; want one renewal keeping the keys", srv.Renewals())
		}
		if want := first.Expires.Add(30 * time.Minute); !capped.Expires.Equal(want) {
			t.Fatalf("capped Expires %v, want the max TTL %v", capped.Expires, want)
		}
		// Two thirds into the capped 49m lease: no point renewing.
		srv.Advance(33 * time.Minute)
		fresh := retrieve(t, p)
		if srv.Renewals() != 1 || srv.CredsIssued("agent") != 2 || fresh.AccessKeyID == first.AccessKeyID {
			t.Fatalf("renewals %d issued %d; want new credentials, not another renewal", srv.Renewals(), srv.CredsIssued("agent"))
		}
	})
	t.Run("lease expired", func(t *testing.T) {
		srv, p := awsDouble(t)
		first := retrieve(t, p)
		srv.Advance(2 * time.Hour)
		second := retrieve(t, p)
		if srv.Renewals() != 0 || srv.CredsIssued("agent") != 2 || second.AccessKeyID == first.AccessKeyID {
			t.Fatalf("renewals %d issued %d; want new credentials without a renewal", srv.Renewals(), srv.CredsIssued("agent"))
		}
	})
}

func TestAWSCredentialsKeptWhenRenewalFailsForNow(t *testing.T) {
	srv, p := awsDouble(t)
	first := retrieve(t, p)
	for range 3 {
		srv.FailNext("sys/leases/renew", 503)
	}
	srv.Advance(41 * time.Minute)
	kept := retrieve(t, p)
	if kept != first || srv.Renewals() != 0 || srv.CredsIssued("agent") != 1 {
		t.Fatalf("kept=%v renewals=%d issued=%d; want the current credentials", kept == first, srv.Renewals(), srv.CredsIssued("agent"))
	}
	renewed := retrieve(t, p)
	if srv.Renewals() != 1 || renewed.AccessKeyID != first.AccessKeyID {
		t.Fatalf("renewals %d after the outage; want 1", srv.Renewals())
	}
}

func TestAWSCredentialsErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		fault func(srv *vaulttest.Server)
		role  string
		want  []string
	}{
		"permission denied": {
			fault: func(srv *vaulttest.Server) { srv.FailNext("aws/creds/agent", 403) },
			want:  []string{"reading AWS credentials from vault at aws/creds/agent", "vault answered 403: permission denied"},
		},
		"server error": {
			fault: func(srv *vaulttest.Server) {
				for range 3 {
					srv.FailNext("aws/creds/agent", 500)
				}
			},
			want: []string{"reading AWS credentials from vault at aws/creds/agent", "vault answered 500: internal error"},
		},
		"malformed JSON": {
			fault: func(srv *vaulttest.Server) { srv.CorruptNext("aws/creds/agent") },
			want:  []string{"reading AWS credentials from vault at aws/creds/agent", "EOF"},
		},
		"unknown role": {
			role: "nobody",
			want: []string{"aws/creds/nobody", `vault answered 400: Role "nobody" not found`},
		},
		"expired vault token": {
			fault: func(srv *vaulttest.Server) { srv.Advance(2 * time.Hour) },
			want:  []string{"aws/creds/agent", "vault answered 403: permission denied"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := vaulttest.New(t)
			srv.AddAWSRole("aws", "agent", time.Hour, 3*time.Hour)
			v := newVault(t, srv, VaultConfig{Token: srv.CreateToken(time.Hour, true)})
			role := tc.role
			if role == "" {
				role = "agent"
			}
			if tc.fault != nil {
				tc.fault(srv)
			}
			_, err := v.AWSCredentials("aws", role).Retrieve(context.Background())
			if err == nil {
				t.Fatal("Retrieve succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans lines", err)
			}
		})
	}

	srv := vaulttest.New(t)
	v := newVault(t, srv, VaultConfig{Token: srv.RootToken})
	_, err := v.AWSCredentials("nowhere", "agent").Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "vault has nothing there") {
		t.Fatalf("unmounted engine: %v", err)
	}
	_, err = v.AWSCredentials("aws", "").Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "role name is empty") {
		t.Fatalf("empty role: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = v.AWSCredentials("aws", "agent").Retrieve(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

func TestAWSCredentialsConcurrent(t *testing.T) {
	srv, p := awsDouble(t)
	var wg sync.WaitGroup
	keys := make([]string, 16)
	for i := range keys {
		wg.Go(func() {
			creds, err := p.Retrieve(context.Background())
			if err != nil {
				t.Errorf("Retrieve: %v", err)
				return
			}
			keys[i] = creds.AccessKeyID
		})
	}
	wg.Wait()
	for _, k := range keys {
		if k != keys[0] {
			t.Fatalf("concurrent callers got different keys: %v", keys)
		}
	}
	if srv.CredsIssued("agent") != 1 {
		t.Fatalf("%d credentials issued for 16 concurrent callers, want 1", srv.CredsIssued("agent"))
	}
}

func TestAWSCredentialsInSDKCache(t *testing.T) {
	srv, p := awsDouble(t)
	cache := aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 10 * time.Minute })
	first, err := cache.Retrieve(context.Background())
	if err != nil {
		t.Fatalf("cache Retrieve: %v", err)
	}
	second, err := cache.Retrieve(context.Background())
	if err != nil {
		t.Fatalf("cache Retrieve: %v", err)
	}
	if first.AccessKeyID != second.AccessKeyID || srv.CredsIssued("agent") != 1 {
		t.Fatalf("the cache did not keep the credentials: issued %d", srv.CredsIssued("agent"))
	}
	if want := srv.Now().Add(50 * time.Minute); !first.Expires.Equal(want) {
		t.Fatalf("cached Expires %v, want the lease end less the window, %v", first.Expires, want)
	}
}

// A full run logs what happened but none of the secrets it handled.
func TestNoSecretsInLogs(t *testing.T) {
	srv := vaulttest.New(t)
	srv.SetTokenMaxTTL(45 * time.Minute)
	srv.AddAppRole("role-id-1", "secret-id-1", 30*time.Minute, true)
	srv.AddAWSRole("aws", "agent", 30*time.Minute, 40*time.Minute)
	log, out := testLogger(t)
	v, err := newVaultClient(context.Background(), VaultConfig{Address: srv.URL, AppRoleID: "role-id-1", AppRoleSecretID: "secret-id-1"}, log, srv)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{"secret-id-1", v.client.Token()}
	p := v.AWSCredentials("aws", "agent")
	remember := func(c aws.Credentials) {
		secrets = append(secrets, c.AccessKeyID, c.SecretAccessKey)
		secrets = append(secrets, srv.LiveLeases()...)
	}
	remember(retrieve(t, p))
	runVault(t, v)

	srv.Advance(20 * time.Minute) // token renewal, credentials renewal (capped)
	waitFor(t, "the token renewal", func() bool { return srv.TokenRenewals() == 1 })
	remember(retrieve(t, p))
	srv.Advance(17 * time.Minute) // login again; credentials reissued
	waitFor(t, "the second login", func() bool { return srv.LoginCount() == 2 })
	secrets = append(secrets, v.client.Token())
	remember(retrieve(t, p))
	srv.FailNext("sys/leases/renew", 403)
	srv.Advance(21 * time.Minute)
	remember(retrieve(t, p))

	if srv.Renewals() == 0 || srv.CredsIssued("agent") < 3 {
		t.Fatalf("the run did not exercise renewal and reissue: renewals %d, issued %d", srv.Renewals(), srv.CredsIssued("agent"))
	}
	logged := out.String()
	for _, event := range []string{"logged in to vault with AppRole", "renewed the vault token", "read AWS credentials", "renewed the lease", "refused to renew"} {
		if !strings.Contains(logged, event) {
			t.Errorf("the log lacks %q:\n%s", event, logged)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logged, s) {
			t.Errorf("the log contains the secret %q:\n%s", s, logged)
		}
	}
}
