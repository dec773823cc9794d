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

// TestServerKeySealed: with a sealing CA the server's TLS key is written
// sealed; a key a server wrote in clear before is read once, rewritten
// sealed in place and kept (the certificate is not reissued), and a key
// sealed for another context is not taken for it.
func TestServerKeySealed(t *testing.T) {
	dir := t.TempDir()
	serverKeyFile := func() []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, ServerKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// An older server: CA and server key in clear.
	plainCA, _, err := LoadOrCreateCA(Options{Dir: dir, Name: "sirsi.test"})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := NewServerCert(plainCA, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(serverKeyFile(), []byte("PRIVATE KEY")) {
		t.Fatal("without a sealer the server key should be PEM")
	}

	sealer := localSealer(t)
	ca, _, err := LoadOrCreateCA(Options{Dir: dir, Name: "sirsi.test", Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := NewServerCert(ca, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := serverKeyFile()
	if !secrets.IsSealed(strings.TrimSpace(string(b))) || bytes.Contains(b, []byte("PRIVATE KEY")) {
		t.Fatalf("after a start with sealing the server key file holds %q, want one sealed value", b)
	}
	if !bytes.Equal(sc.Leaf().Raw, plain.Leaf().Raw) {
		t.Fatal("sealing the server key reissued the certificate: the key was not kept")
	}
	if info, err := os.Stat(filepath.Join(dir, ServerKeyFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("sealed server key file mode: %v %v", info.Mode(), err)
	}
	// Loaded again it is the same sealed key and the same certificate.
	again, err := NewServerCert(ca, dir, nil)
	if err != nil || !bytes.Equal(again.Leaf().Raw, plain.Leaf().Raw) {
		t.Fatalf("reloading the sealed server key: %v (certificate reissued: %v)", err, err == nil)
	}
	sk, _, err := readSealedKey(context.Background(), filepath.Join(dir, ServerKeyFile), sealer, ServerKeyAAD)
	if err != nil || !publicKeysEqual(sk.Public(), plain.Leaf().PublicKey) {
		t.Fatalf("the sealed file does not hold the certificate's key: %v", err)
	}
	// The CA's sealed key is not the server's: contexts keep them apart.
	if _, _, err := readSealedKey(context.Background(), filepath.Join(dir, CAKeyFile), sealer, ServerKeyAAD); err == nil {
		t.Fatal("the sealed CA key opened as the server key")
	}
	// A server started with sealing issues its key sealed from the start.
	fresh := t.TempDir()
	fca, _, err := LoadOrCreateCA(Options{Dir: fresh, Name: "sirsi.test", Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewServerCert(fca, fresh, nil); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(fresh, ServerKeyFile)); err != nil || !secrets.IsSealed(strings.TrimSpace(string(b))) {
		t.Fatalf("a new server key is not sealed: %q %v", b, err)
	}
}
