package secrets

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/vault/api"
)

const vaultBackend = "vault"

// TransitSealer seals with a key in Vault's transit secrets engine: the key
// never leaves Vault, rotation is Vault's key rotation, and rotation
// rewraps without the plaintext leaving Vault.
//
// Transit only takes a "context" for derived keys, so aad is bound another
// way: it is framed in front of the plaintext before encryption and checked
// after decryption, so a value copied to another row does not open there.
type TransitSealer struct {
	v     *Vault
	mount string
	key   string
}

// NewTransitSealer seals with the transit key named key on the engine
// mounted at mount ("transit" when empty). The token needs update on
// <mount>/encrypt/<key>, <mount>/decrypt/<key> and <mount>/rewrap/<key>,
// read on <mount>/keys/<key>, and, for rotate-seal, update on
// <mount>/keys/<key>/rotate.
func NewTransitSealer(v *Vault, mount, key string) *TransitSealer {
	mount = strings.Trim(mount, "/")
	if mount == "" {
		mount = "transit"
	}
	return &TransitSealer{v: v, mount: mount, key: key}
}

func (t *TransitSealer) path(op string) string { return t.mount + "/" + op + "/" + t.key }

// frame puts aad, length-prefixed, in front of the plaintext.
func frame(plaintext, aad []byte) []byte {
	b := binary.AppendUvarint(nil, uint64(len(aad)))
	b = append(b, aad...)
	return append(b, plaintext...)
}

func unframe(b, aad []byte) ([]byte, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return nil, errors.New("the decrypted value is not framed by this sealer")
	}
	if !bytes.Equal(b[w:w+int(n)], aad) {
		return nil, errors.New("the value was sealed for another context (copied from another row?)")
	}
	return b[w+int(n):], nil
}

// toVault turns an envelope back into transit's ciphertext.
func toVault(e envelope) string { return "vault:v" + strconv.Itoa(e.version) + ":" + e.payload }

// fromVault wraps transit's "vault:v<N>:<base64>" in an envelope.
func fromVault(ct string) (string, error) {
	rest, ok := strings.CutPrefix(ct, "vault:v")
	if !ok {
		return "", fmt.Errorf("vault answered a ciphertext without the vault:v<N>: prefix")
	}
	ver, payload, ok := strings.Cut(rest, ":")
	n, err := strconv.Atoi(ver)
	if !ok || err != nil || n < 1 || payload == "" {
		return "", fmt.Errorf("vault answered a malformed ciphertext")
	}
	return envelope{backend: vaultBackend, version: n, payload: payload}.String(), nil
}

func (t *TransitSealer) write(ctx context.Context, op string, body map[string]any) (*api.Secret, error) {
	s, err := t.v.client.Logical().WriteWithContext(ctx, t.path(op), body)
	if err != nil {
		return nil, apiError(err)
	}
	if s == nil || s.Data == nil {
		return nil, errors.New("vault answered without data")
	}
	return s, nil
}

func (t *TransitSealer) ciphertext(ctx context.Context, op string, body map[string]any) (string, error) {
	s, err := t.write(ctx, op, body)
	if err != nil {
		return "", err
	}
	ct, _ := s.Data["ciphertext"].(string)
	return fromVault(ct)
}

// Seal asks transit to encrypt.
func (t *TransitSealer) Seal(ctx context.Context, plaintext, aad []byte) (string, error) {
	sealed, err := t.ciphertext(ctx, "encrypt", map[string]any{
		"plaintext": base64.StdEncoding.EncodeToString(frame(plaintext, aad)),
	})
	if err != nil {
		return "", fmt.Errorf("sealing with vault transit key %s: %w", t.path("keys"), err)
	}
	return sealed, nil
}

// Open asks transit to decrypt and checks the context.
func (t *TransitSealer) Open(ctx context.Context, sealed string, aad []byte) ([]byte, error) {
	e, err := parseFor(vaultBackend, sealed)
	if err != nil {
		return nil, fmt.Errorf("opening a sealed value: %w", err)
	}
	s, err := t.write(ctx, "decrypt", map[string]any{"ciphertext": toVault(e)})
	if err != nil {
		return nil, fmt.Errorf("opening a sealed value with vault transit key %s: %w", t.path("keys"), err)
	}
	b64, _ := s.Data["plaintext"].(string)
	framed, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("opening a sealed value: vault answered plaintext that is not base64: %w", err)
	}
	pt, err := unframe(framed, aad)
	if err != nil {
		return nil, fmt.Errorf("opening a sealed value: %w", err)
	}
	return pt, nil
}

// Rotate rotates the transit key.
func (t *TransitSealer) Rotate(ctx context.Context) error {
	if _, err := t.v.client.Logical().WriteWithContext(ctx, t.mount+"/keys/"+t.key+"/rotate", nil); err != nil {
		return fmt.Errorf("rotating vault transit key %s: %w", t.path("keys"), apiError(err))
	}
	return nil
}

// Rewrap uses transit's rewrap, so the plaintext stays in Vault. The
// context is not checked here (that needs the plaintext); it stays bound
// inside the value and Open checks it.
func (t *TransitSealer) Rewrap(ctx context.Context, sealed string, _ []byte) (string, error) {
	e, err := parseFor(vaultBackend, sealed)
	if err != nil {
		return "", fmt.Errorf("rewrapping: %w", err)
	}
	out, err := t.ciphertext(ctx, "rewrap", map[string]any{"ciphertext": toVault(e)})
	if err != nil {
		return "", fmt.Errorf("rewrapping with vault transit key %s: %w", t.path("keys"), err)
	}
	return out, nil
}

// KeyVersion reads the version from the envelope.
func (t *TransitSealer) KeyVersion(sealed string) (int, error) {
	e, err := parseFor(vaultBackend, sealed)
	if err != nil {
		return 0, err
	}
	return e.version, nil
}

// LatestVersion reads the key's latest_version.
func (t *TransitSealer) LatestVersion(ctx context.Context) (int, error) {
	s, err := t.v.client.Logical().ReadWithContext(ctx, t.path("keys"))
	if err != nil {
		return 0, fmt.Errorf("reading vault transit key %s: %w", t.path("keys"), apiError(err))
	}
	if s == nil || s.Data == nil {
		return 0, fmt.Errorf("reading vault transit key %s: it does not exist", t.path("keys"))
	}
	n, ok := s.Data["latest_version"].(json.Number)
	if !ok {
		return 0, fmt.Errorf("reading vault transit key %s: vault answered without latest_version", t.path("keys"))
	}
	v, err := n.Int64()
	if err != nil || v < 1 {
		return 0, fmt.Errorf("reading vault transit key %s: latest_version %q is not a positive number", t.path("keys"), n)
	}
	return int(v), nil
}
