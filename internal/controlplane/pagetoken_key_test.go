package controlplane

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
)

// The page-token key is made once per database; a server with a seal
// stores it sealed, sealing one a start without a seal left in clear, and
// keeps the same key (tokens already handed out stay valid).
func TestPageKeySealedInTheStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "sirsi.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	plain, err := loadPageKey(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := loadPageKey(ctx, st, nil); err != nil || !bytes.Equal(again, plain) {
		t.Fatalf("second start: %x, %v; want the stored key", again, err)
	}
	sealer, err := secrets.NewLocalSealer(filepath.Join(dir, "seal.key"))
	if err != nil {
		t.Fatal(err)
	}
	sealedKey, err := loadPageKey(ctx, st, sealer)
	if err != nil || !bytes.Equal(sealedKey, plain) {
		t.Fatalf("first start with a seal: %x, %v; want the key made before", sealedKey, err)
	}
	stored, err := st.GetSetting(ctx, pageKeySetting)
	if err != nil || !secrets.IsSealed(string(stored)) || bytes.Contains(stored, plain) {
		t.Fatalf("stored key after a start with a seal: %q, %v; want it sealed", stored, err)
	}
	if again, err := loadPageKey(ctx, st, sealer); err != nil || !bytes.Equal(again, plain) {
		t.Fatalf("next start with the seal: %x, %v", again, err)
	}
	if _, err := loadPageKey(ctx, st, nil); err == nil {
		t.Fatal("a start without the seal read the sealed key")
	}
}
