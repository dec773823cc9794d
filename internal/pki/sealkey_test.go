package pki

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets"
)

func localSealer(t *testing.T) *secrets.LocalSealer {
	t.Helper()
	s, err := secrets.NewLocalSealer(filepath.Join(t.TempDir(), "seal.key"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func keyFileOf(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealedCAKey(t *testing.T) {
	dir := t.TempDir()
	sealer := localSealer(t)
	ca, created, err := LoadOrCreateCA(Options{Dir: dir, Name: "sirsi.test", Sealer: sealer})
	if err != nil || !created {
		t.Fatalf("creating a sealed CA: created %v, %v", created, err)
	}
	b := keyFileOf(t, dir)
	if !secrets.IsSealed(strings.TrimSpace(string(b))) || bytes.Contains(b, []byte("PRIVATE KEY")) {
		t.Fatalf("the CA key file holds %q, want one sealed value", b)
	}

	again, created, err := LoadOrCreateCA(Options{Dir: dir, Name: "sirsi.test", Sealer: sealer})
	if err != nil || created || again.SealedOnLoad {
		t.Fatalf("reloading the sealed CA: created %v, sealed on load %v, %v", created, again.SealedOnLoad, err)
	}
	if !publicKeysEqual(again.key.Public(), ca.key.Public()) {
		t.Fatal("the reloaded CA has another key")
	}

	if _, _, err := LoadOrCreateCA(Options{Dir: dir, Name: "sirsi.test"}); err == nil || !strings.Contains(err.Error(), "is sealed") {
		t.Fatalf("loading a sealed CA key without a sealer: %v", err)
	}
	if _, _, err := LoadOrCreateCA(Options{Dir: dir, Name: "sirsi.test", Sealer: localSealer(t)}); err == nil {
		t.Fatal("a CA key sealed under one key file opened with another")
	}

	// A sealed value made for another context is not taken for the key.
	other, err := sealer.Seal(context.Background(), b, []byte("tenant:x:webhook_secret"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, CAKeyFile), []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateCA(Options{Dir: dir, Name: "sirsi.test", Sealer: sealer}); err == nil {
		t.Fatal("a value sealed for a tenant opened as the CA key")
	}
}

func TestPlainCAKeySealedOnLoad(t *testing.T) {
	dir := t.TempDir()
	plain, _, err := LoadOrCreateCA(Options{Dir: dir, Name: "sirsi.test"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(keyFileOf(t, dir), []byte("PRIVATE KEY")) {
		t.Fatal("without a sealer the key should be PEM")
	}
	sealer := localSealer(t)
	ca, _, err := LoadOrCreateCA(Options{Dir: dir, Name: "sirsi.test", Sealer: sealer})
	if err != nil || !ca.SealedOnLoad {
		t.Fatalf("loading a PEM key with a sealer: sealed on load %v, %v", ca != nil && ca.SealedOnLoad, err)
	}
	b := keyFileOf(t, dir)
	if !secrets.IsSealed(strings.TrimSpace(string(b))) {
		t.Fatalf("after loading, the key file holds %q, want it sealed", b)
	}
	info, err := os.Stat(filepath.Join(dir, CAKeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("sealed key file mode: %v %v", info.Mode(), err)
	}
	if !publicKeysEqual(ca.key.Public(), plain.key.Public()) {
		t.Fatal("sealing on load changed the key")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Fatalf("the atomic rewrite left %s behind", e.Name())
		}
	}
}

func TestResealCAKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sealer := localSealer(t)
	if _, _, err := LoadOrCreateCA(Options{Dir: dir, Name: "sirsi.test", Sealer: sealer}); err != nil {
		t.Fatal(err)
	}
	if err := sealer.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	rewrap := func(sealed string, aad []byte) (string, error) { return sealer.Rewrap(ctx, sealed, aad) }
	changed, err := ResealCAKey(dir, rewrap)
	if err != nil || !changed {
		t.Fatalf("reseal: changed %v, %v", changed, err)
	}
	if v, err := sealer.KeyVersion(strings.TrimSpace(string(keyFileOf(t, dir)))); err != nil || v != 2 {
		t.Fatalf("the CA key is under version %d after reseal (%v), want 2", v, err)
	}
	if _, _, err := LoadOrCreateCA(Options{Dir: dir, Name: "sirsi.test", Sealer: sealer}); err != nil {
		t.Fatalf("loading the resealed CA: %v", err)
	}
	same := func(sealed string, _ []byte) (string, error) { return sealed, nil }
	if changed, err := ResealCAKey(dir, same); err != nil || changed {
		t.Fatalf("a reseal that changes nothing: changed %v, %v", changed, err)
	}

	plainDir := t.TempDir()
	if _, _, err := LoadOrCreateCA(Options{Dir: plainDir, Name: "sirsi.test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ResealCAKey(plainDir, rewrap); err == nil || !strings.Contains(err.Error(), "not sealed") {
		t.Fatalf("resealing a PEM key: %v", err)
	}
}
