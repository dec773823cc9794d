package secrets

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets/vaulttest"
)

// runSealSuite checks what every Sealer promises: round trip, context
// binding, tamper detection, and rotation (old values open, new ones use
// the new version, rewrap moves a value to the newest version).
func runSealSuite(t *testing.T, s Sealer, backend string) {
	ctx := context.Background()
	secret := []byte("webhook-secret-0123456789")
	aad := []byte("tenant:t1:webhook_secret")

	v1, err := s.LatestVersion(ctx)
	if err != nil {
		t.Fatalf("latest version: %v", err)
	}
	old, err := s.Seal(ctx, secret, aad)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	if !IsSealed(old) || !strings.HasPrefix(old, "sirsi:v1:"+backend+":") {
		t.Fatalf("sealed value %q lacks the envelope of backend %q", old, backend)
	}
	if strings.Contains(old, string(secret)) {
		t.Fatalf("sealed value %q carries the plaintext", old)
	}
	if v, err := s.KeyVersion(old); err != nil || v != v1 {
		t.Fatalf("key version of a fresh seal = %d, %v; want the latest, %d", v, err, v1)
	}
	again, err := s.Seal(ctx, secret, aad)
	if err != nil || again == old {
		t.Fatalf("sealing the same value twice gave the same ciphertext (%v): nonces are not random", err)
	}
	got, err := s.Open(ctx, old, aad)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("open = %q, %v; want %q", got, err, secret)
	}
	if _, err := s.Open(ctx, old, []byte("tenant:t2:webhook_secret")); err == nil {
		t.Fatal("a value sealed for tenant t1 opened for tenant t2")
	}
	if _, err := s.Open(ctx, "plain-text", aad); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("opening plaintext: %v, want ErrNotSealed", err)
	}
	e, _ := parseSealed(old)
	flipped := e
	flipped.payload = flipMiddle(e.payload)
	if _, err := s.Open(ctx, flipped.String(), aad); err == nil {
		t.Fatal("a tampered value opened")
	}
	if empty, err := s.Seal(ctx, nil, aad); err != nil {
		t.Fatalf("sealing an empty value: %v", err)
	} else if pt, err := s.Open(ctx, empty, aad); err != nil || len(pt) != 0 {
		t.Fatalf("opening a sealed empty value = %q, %v", pt, err)
	}

	if err := s.Rotate(ctx); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	v2, err := s.LatestVersion(ctx)
	if err != nil || v2 != v1+1 {
		t.Fatalf("latest version after rotation = %d, %v; want %d", v2, err, v1+1)
	}
	if got, err := s.Open(ctx, old, aad); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("a value sealed before rotation: open = %q, %v", got, err)
	}
	fresh, err := s.Seal(ctx, secret, aad)
	if err != nil {
		t.Fatalf("seal after rotation: %v", err)
	}
	if v, _ := s.KeyVersion(fresh); v != v2 {
		t.Fatalf("a seal after rotation uses version %d, want %d", v, v2)
	}
	moved, err := s.Rewrap(ctx, old, aad)
	if err != nil {
		t.Fatalf("rewrap: %v", err)
	}
	if v, _ := s.KeyVersion(moved); v != v2 {
		t.Fatalf("rewrap moved the value to version %d, want %d", v, v2)
	}
	if got, err := s.Open(ctx, moved, aad); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("open after rewrap = %q, %v", got, err)
	}
	if _, err := s.Open(ctx, moved, []byte("account:t1/a1:external_id")); err == nil {
		t.Fatal("rewrap dropped the context binding")
	}
}

// flipMiddle changes a character in the middle of a base64 payload to
// another valid one; the last character may carry only padding bits.
func flipMiddle(p string) string {
	i := len(p) / 2
	repl := byte('A')
	if p[i] == 'A' {
		repl = 'B'
	}
	return p[:i] + string(repl) + p[i+1:]
}

func TestLocalSealer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "seal.key")
	s, err := NewLocalSealer(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the key file was not created: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", info.Mode().Perm())
	}
	runSealSuite(t, s, "local")

	// A second process (rotate-seal) rotates: the first opens values
	// sealed under the version it had not seen.
	other, err := NewLocalSealer(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	v3, err := other.Seal(context.Background(), []byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.KeyVersion(v3); v != 3 {
		t.Fatalf("the other process sealed with version %d, want 3", v)
	}
	if pt, err := s.Open(context.Background(), v3, nil); err != nil || string(pt) != "x" {
		t.Fatalf("opening a value sealed under another process's new version: %q, %v", pt, err)
	}
	if _, err := s.Open(context.Background(), "sirsi:v1:vault:1:abc", nil); err == nil || !strings.Contains(err.Error(), `"vault" backend`) {
		t.Fatalf("opening a vault value with the local sealer: %v", err)
	}
}

func TestLocalSealerKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seal.key")
	if _, err := NewLocalSealer(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLocalSealer(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a group-readable key file: %v, want a refusal", err)
	}
	for name, content := range map[string]string{
		"empty":    `{"keys":[]}`,
		"short":    `{"keys":[{"version":1,"key":"AAAA"}]}`,
		"version0": `{"keys":[{"version":0,"key":"` + strings.Repeat("A", 43) + `="}]}`,
		"garbage":  `not json`,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := NewLocalSealer(p); err == nil {
			t.Errorf("key file %s (%s) was accepted", name, content)
		}
	}
}

func TestIsSealed(t *testing.T) {
	for s, want := range map[string]bool{
		"sirsi:v1:local:1:abc":   true,
		"sirsi:v1:vault:12:a:b":  true,
		"sirsi:v1:local:0:abc":   false,
		"sirsi:v1:local:01:abc":  false,
		"sirsi:v1:local:1:":      false,
		"sirsi:v1::1:abc":        false,
		"sirsi:v2:local:1:abc":   false,
		"my-external-id":         false,
		"":                       false,
		"sirsi:v1:local:-1:abc":  false,
		"sirsi:v1:local:one:abc": false,
	} {
		if got := IsSealed(s); got != want {
			t.Errorf("IsSealed(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestTransitSealerAgainstDouble(t *testing.T) {
	srv := vaulttest.New(t)
	srv.SetNamespace("team-a")
	srv.EnableTransit("transit")
	srv.CreateTransitKey("transit", "sirsi")
	v := newVault(t, srv, VaultConfig{Namespace: "team-a", Token: srv.CreateToken(time.Hour, true)})
	s := NewTransitSealer(v, "transit", "sirsi")
	runSealSuite(t, s, "vault")
	if srv.TransitKeyVersion("transit", "sirsi") != 2 || srv.TransitOps() == 0 {
		t.Fatalf("the suite did not reach the double: key version %d, transit calls %d",
			srv.TransitKeyVersion("transit", "sirsi"), srv.TransitOps())
	}

	ctx := context.Background()
	sealed, err := s.Seal(ctx, []byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	other := NewTransitSealer(v, "transit", "other")
	if _, err := other.Open(ctx, sealed, nil); err == nil || !strings.Contains(err.Error(), "encryption key not found") {
		t.Fatalf("opening with a key that does not exist: %v", err)
	}
	if _, err := other.LatestVersion(ctx); err == nil {
		t.Fatal("the latest version of a key that does not exist was read")
	}
	if err := other.Rotate(ctx); err == nil {
		t.Fatal("a key that does not exist was rotated")
	}
	unmounted := NewTransitSealer(v, "nowhere", "sirsi")
	var ae *APIError
	if _, err := unmounted.Seal(ctx, []byte("x"), nil); !errors.As(err, &ae) || ae.StatusCode != http.StatusNotFound {
		t.Fatalf("sealing on an unmounted path: %v, want a 404 APIError", err)
	}
	if _, err := s.Open(ctx, "sirsi:v1:local:1:abc", nil); err == nil || !strings.Contains(err.Error(), `"local" backend`) {
		t.Fatalf("opening a local value with the transit sealer: %v", err)
	}
}

func TestKVAgainstDouble(t *testing.T) {
	srv := vaulttest.New(t)
	srv.EnableKV("secret")
	v := newVault(t, srv, VaultConfig{Token: srv.RootToken})
	runKVSuite(t, v, "secret", "sirsi/test-"+randomSuffix())
}

// runKVSuite writes, reads, checks-and-sets and reads the metadata of one
// KV v2 secret at path, which must not exist yet.
func runKVSuite(t *testing.T, v *Vault, mount, path string) {
	ctx := context.Background()
	if _, _, err := v.KVGet(ctx, mount, path); !errors.Is(err, ErrKVNotFound) {
		t.Fatalf("reading a secret that does not exist: %v, want ErrKVNotFound", err)
	}
	zero := 0
	n, err := v.KVPut(ctx, mount, path, map[string]any{"database_url": "postgres://a"}, &zero)
	if err != nil || n != 1 {
		t.Fatalf("first write with cas 0 = version %d, %v", n, err)
	}
	if _, err := v.KVPut(ctx, mount, path, map[string]any{"database_url": "postgres://b"}, &zero); err == nil ||
		!strings.Contains(err.Error(), "check-and-set") {
		t.Fatalf("a write with a stale cas: %v, want Vault's check-and-set refusal", err)
	}
	one := 1
	if n, err = v.KVPut(ctx, mount, path, map[string]any{"database_url": "postgres://c"}, &one); err != nil || n != 2 {
		t.Fatalf("write with cas 1 = version %d, %v", n, err)
	}
	if n, err = v.KVPut(ctx, mount, path, map[string]any{"database_url": "postgres://d", "n": 4}, nil); err != nil || n != 3 {
		t.Fatalf("write without cas = version %d, %v", n, err)
	}
	data, ver, err := v.KVGet(ctx, mount, path)
	if err != nil || ver != 3 || data["database_url"] != "postgres://d" {
		t.Fatalf("read = %v version %d, %v", data, ver, err)
	}
	m, err := v.KVMetadata(ctx, mount, path)
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	if m.CurrentVersion != 3 || len(m.Versions) != 3 || m.Versions[1].CreatedTime.IsZero() || m.Versions[3].Destroyed {
		t.Fatalf("metadata = %+v", m)
	}
	if _, err := v.KVMetadata(ctx, mount, path+"-absent"); !errors.Is(err, ErrKVNotFound) {
		t.Fatalf("metadata of a secret that does not exist: %v", err)
	}
	if _, _, err := v.KVGet(ctx, "", path); err == nil {
		t.Fatal("an empty mount was accepted")
	}
}

func randomSuffix() string {
	return strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", "")
}

func BenchmarkLocalSealer(b *testing.B) {
	s, err := NewLocalSealer(filepath.Join(b.TempDir(), "seal.key"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	pt, aad := []byte("webhook-secret-0123456789abcdef"), []byte("tenant:t1:webhook_secret")
	sealed, err := s.Seal(ctx, pt, aad)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Seal", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Seal(ctx, pt, aad); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Open", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Open(ctx, sealed, aad); err != nil {
				b.Fatal(err)
			}
		}
	})
}
