package sealed

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// Server keys kept in the store's settings: random bytes made by the first
// server to start, read by every replica on the database, sealed when the
// server has a sealer (each with its setting's name as context, so one
// sealed key cannot be passed off as another). This file is their one
// home.

// AuditKeySetting holds the seed of the Ed25519 key that signs audit
// checkpoints (store.AuditCheckpoint).
const AuditKeySetting = "audit_checkpoint_key"

// KeyBytes is the size of every such key (an HMAC key, an Ed25519 seed).
const KeyBytes = 32

func keyAAD(setting string) []byte { return []byte("setting:" + setting) }

// LoadKey reads the key in setting, making it on the first start
// (replicas racing to make it all end up with the stored one). With a
// sealer the key is stored sealed, and a key stored in clear by a start
// without one is sealed now.
func LoadKey(ctx context.Context, st store.Store, sealer secrets.Sealer, setting string) ([]byte, error) {
	fresh := make([]byte, KeyBytes)
	_, _ = rand.Read(fresh) // crypto/rand.Read never fails on supported platforms
	value := fresh
	if sealer != nil {
		sealed, err := sealer.Seal(ctx, fresh, keyAAD(setting))
		if err != nil {
			return nil, fmt.Errorf("seal a new key for setting %s: %w", setting, err)
		}
		value = []byte(sealed)
	}
	stored, err := st.PutSettingIfAbsent(ctx, setting, value)
	if err != nil {
		return nil, fmt.Errorf("initialise the key in setting %s: %w", setting, err)
	}
	key, err := openKey(ctx, sealer, setting, stored)
	if err != nil {
		return nil, err
	}
	if sealer != nil && !secrets.IsSealed(string(stored)) {
		sealed, err := sealer.Seal(ctx, stored, keyAAD(setting))
		if err != nil {
			return nil, fmt.Errorf("seal the key stored in clear in setting %s: %w", setting, err)
		}
		if err := st.PutSetting(ctx, setting, []byte(sealed)); err != nil {
			return nil, fmt.Errorf("store the sealed key of setting %s: %w", setting, err)
		}
	}
	return key, nil
}

// ReadKey reads the key in setting without making or rewriting it (for
// offline commands, which must not change what they inspect);
// store.ErrNotFound when no server has made it yet.
func ReadKey(ctx context.Context, st store.Store, sealer secrets.Sealer, setting string) ([]byte, error) {
	stored, err := st.GetSetting(ctx, setting)
	if err != nil {
		return nil, err
	}
	return openKey(ctx, sealer, setting, stored)
}

func openKey(ctx context.Context, sealer secrets.Sealer, setting string, stored []byte) ([]byte, error) {
	key := stored
	if secrets.IsSealed(string(stored)) {
		if sealer == nil {
			return nil, fmt.Errorf("the key in setting %s is sealed and no seal is configured", setting)
		}
		var err error
		if key, err = sealer.Open(ctx, string(stored), keyAAD(setting)); err != nil {
			return nil, fmt.Errorf("open the key in setting %s: %w", setting, err)
		}
	}
	if len(key) != KeyBytes {
		return nil, fmt.Errorf("the key in setting %s is %d bytes, want %d", setting, len(key), KeyBytes)
	}
	return key, nil
}

// AuditCheckpointKey is the server's audit checkpoint signing key, made
// on the first start.
func AuditCheckpointKey(ctx context.Context, st store.Store, sealer secrets.Sealer) (ed25519.PrivateKey, error) {
	seed, err := LoadKey(ctx, st, sealer, AuditKeySetting)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoint key: %w", err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// AuditCheckpointPublicKey is the public half of the checkpoint key, read
// without making it; nil, nil when no server has made it yet (and so no
// checkpoint can exist that it signed).
func AuditCheckpointPublicKey(ctx context.Context, st store.Store, sealer secrets.Sealer) (ed25519.PublicKey, error) {
	seed, err := ReadKey(ctx, st, sealer, AuditKeySetting)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit checkpoint key: %w", err)
	}
	return ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey), nil
}
