package secrets

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sealer encrypts small secrets for storage at rest. Sealed values are
// printable strings "sirsi:v1:<backend>:<key version>:<payload>", so they
// fit the text columns and files the plaintext used to live in.
//
// aad binds a ciphertext to where it is stored (a tenant's webhook secret,
// an account's external id): a sealed value copied to another row does not
// open there.
type Sealer interface {
	// Seal encrypts plaintext under the newest key version.
	Seal(ctx context.Context, plaintext, aad []byte) (string, error)
	// Open decrypts a sealed value made with the same aad, under whichever
	// key version made it.
	Open(ctx context.Context, sealed string, aad []byte) ([]byte, error)
	// Rotate creates a new key version; new seals use it and values sealed
	// under older versions still open.
	Rotate(ctx context.Context) error
	// Rewrap re-seals a value under the newest key version, without the
	// plaintext leaving the backend where the backend allows it (Vault
	// transit's rewrap).
	Rewrap(ctx context.Context, sealed string, aad []byte) (string, error)
	// KeyVersion is the key version a sealed value was made with.
	KeyVersion(sealed string) (int, error)
	// LatestVersion is the key version new seals use, so that rotation can
	// skip values that are already under it.
	LatestVersion(ctx context.Context) (int, error)
}

const sealPrefix = "sirsi:v1:"

// ErrNotSealed: a value handed to Open, Rewrap or KeyVersion is not in the
// sealed format.
var ErrNotSealed = errors.New("not a sealed value")

// IsSealed reports whether s has the sealed format. Values stored before
// sealing was turned on do not, and are read as they are.
func IsSealed(s string) bool {
	_, err := parseSealed(s)
	return err == nil
}

// envelope is a parsed sealed value.
type envelope struct {
	backend string
	version int
	payload string
}

func (e envelope) String() string {
	return sealPrefix + e.backend + ":" + strconv.Itoa(e.version) + ":" + e.payload
}

// header is what the local sealer authenticates besides the caller's aad,
// so a payload cannot be relabelled with another version or backend.
func (e envelope) header() string {
	return sealPrefix + e.backend + ":" + strconv.Itoa(e.version)
}

func parseSealed(s string) (envelope, error) {
	rest, ok := strings.CutPrefix(s, sealPrefix)
	if !ok {
		return envelope{}, fmt.Errorf("%w: it does not start with %q", ErrNotSealed, sealPrefix)
	}
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return envelope{}, fmt.Errorf("%w: want %s<backend>:<key version>:<payload>", ErrNotSealed, sealPrefix)
	}
	v, err := strconv.Atoi(parts[1])
	if err != nil || v < 1 || strconv.Itoa(v) != parts[1] {
		return envelope{}, fmt.Errorf("%w: key version %q is not a positive whole number", ErrNotSealed, parts[1])
	}
	return envelope{backend: parts[0], version: v, payload: parts[2]}, nil
}

// parseFor parses s and checks it was made by backend.
func parseFor(backend, s string) (envelope, error) {
	e, err := parseSealed(s)
	if err != nil {
		return envelope{}, err
	}
	if e.backend != backend {
		return envelope{}, fmt.Errorf("the value was sealed by the %q backend, not %q: configure the sealer that made it", e.backend, backend)
	}
	return e, nil
}
