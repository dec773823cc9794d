package secrets

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// fuzzStatuses are the answers a fuzzed Vault gives. 5xx and 429 are left
// out: vault/api retries them with a back-off of a second or more, which
// would make each input take seconds and test the retry loop, not the
// parsing.
var fuzzStatuses = []int{http.StatusOK, http.StatusNoContent, http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound}

// FuzzVaultResponses serves arbitrary bodies as Vault's answer to every
// call this package makes after logging in (KV v2 read/write/metadata,
// transit encrypt/decrypt, AWS secrets engine reads) and to AppRole
// login. Vault, or whoever sits in front of it, is outside input: the
// client must not panic, and what it accepts must be usable.
func FuzzVaultResponses(f *testing.F) {
	for _, s := range []string{
		`{"data":{"data":{"k":"v"},"metadata":{"version":3}}}`,
		`{"data":{"current_version":2,"oldest_version":1,"max_versions":0,"cas_required":false,"created_time":"2026-01-01T00:00:00Z","versions":{"1":{"created_time":"x","destroyed":true},"2":{}}}}`,
		`{"data":{"version":1}}`,
		`{"data":{"ciphertext":"vault:v1:AAAA"}}`,
		`{"data":{"ciphertext":"vault:v0:"}}`,
		`{"data":{"plaintext":"AA=="}}`,
		`{"data":{"plaintext":"BWFhZGFhcGxhaW4="}}`,
		`{"lease_id":"aws/creds/r/1","lease_duration":900,"renewable":true,"data":{"access_key":"AKIA","secret_key":"s","session_token":null}}`,
		`{"auth":{"client_token":"hvs.x","lease_duration":60,"renewable":true}}`,
		`{"errors":["permission denied"]}`,
		`{"data":{"versions":{"one":{}}}}`,
		`{"data":{"data":null,"metadata":{"version":1e400}}}`,
		`[]`, `null`, ``, `{"data":`,
	} {
		f.Add(uint8(0), []byte(s))
		f.Add(uint8(3), []byte(s))
	}
	// One server per fuzzing process; each input swaps its answer in.
	type answer struct {
		code int
		body []byte
	}
	var current atomic.Pointer[answer]
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/auth/token/lookup-self" {
			_, _ = w.Write([]byte(`{"data":{"ttl":3600,"creation_ttl":3600,"renewable":true,"policies":["default"]}}`))
			return
		}
		a := current.Load()
		w.WriteHeader(a.code)
		_, _ = w.Write(a.body)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	f.Cleanup(srv.Close)

	f.Fuzz(func(t *testing.T, status uint8, body []byte) {
		current.Store(&answer{code: fuzzStatuses[int(status)%len(fuzzStatuses)], body: body})
		// Each input's clients pool their own connections: close them, or
		// a long run runs out of file descriptors.
		defer srv.CloseClientConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		v, err := NewVaultClient(ctx, VaultConfig{Address: srv.URL, Token: "hvs.fuzz"}, nil)
		if err != nil {
			t.Fatalf("login with a fixed lookup-self answer: %v", err)
		}

		if data, _, err := v.KVGet(ctx, "secret", "sirsi/x"); err == nil && data == nil {
			t.Fatal("KVGet: no data and no error")
		}
		if _, err := v.KVPut(ctx, "secret", "sirsi/x", map[string]any{"k": "v"}, nil); err != nil && err.Error() == "" {
			t.Fatal("KVPut: empty error")
		}
		if m, err := v.KVMetadata(ctx, "secret", "sirsi/x"); err == nil && m == nil {
			t.Fatal("KVMetadata: no metadata and no error")
		}

		ts := NewTransitSealer(v, "transit", "sirsi")
		if sealed, err := ts.Seal(ctx, []byte("plain"), []byte("aad")); err == nil {
			if n, err := ts.KeyVersion(sealed); err != nil || n < 1 {
				t.Fatalf("Seal returned %q, whose key version does not parse: %d, %v", sealed, n, err)
			}
		}
		_, _ = ts.Open(ctx, envelope{backend: vaultBackend, version: 1, payload: "AAAA"}.String(), []byte("aad"))

		creds, err := v.AWSCredentials("aws", "agent").Retrieve(ctx)
		if err == nil && (creds.AccessKeyID == "" || creds.SecretAccessKey == "" || !creds.Expires.After(time.Now())) {
			t.Fatalf("Retrieve accepted unusable credentials: key %q, expires %s", creds.AccessKeyID, creds.Expires)
		}

		if ar, err := NewVaultClient(ctx, VaultConfig{Address: srv.URL, AppRoleID: "role", AppRoleSecretID: "secret-id"}, nil); err == nil && ar == nil {
			t.Fatal("AppRole login: no client and no error")
		}
	})
}
