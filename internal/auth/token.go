// Package auth makes and recognises SirsiNexus bearer secrets.
//
// A secret is "<prefix>_" + 64 lowercase hex digits (256 random bits from
// crypto/rand) + 8 hex digits of CRC-32 over everything before them, e.g.
// sxt_3f9c...e1a07b2c. The prefix names the kind (sxo operator, sxt tenant
// API token, sxe enrollment token) so secret scanners and people can tell
// what leaked; the checksum lets a scanner, and the server, discard a
// mistyped or made-up string without a database lookup.
//
// Only SHA-256 hashes of secrets are stored. A fast hash is right here: the
// secrets are random and 256 bits long, so there is nothing for a slow
// password hash to protect against, and lookups stay cheap on every call.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
)

// Kind is what a secret is for.
type Kind int

const (
	KindOperator Kind = iota + 1
	KindAPIToken
	KindEnrollment
)

var prefixes = map[Kind]string{
	KindOperator:   "sxo_",
	KindAPIToken:   "sxt_",
	KindEnrollment: "sxe_",
}

func (k Kind) String() string {
	switch k {
	case KindOperator:
		return "operator token"
	case KindAPIToken:
		return "API token"
	case KindEnrollment:
		return "enrollment token"
	}
	return fmt.Sprintf("kind %d", int(k))
}

// Prefix is the kind's recognisable prefix, including the underscore.
func (k Kind) Prefix() string { return prefixes[k] }

const (
	randomBytes = 32
	bodyLen     = 2 * randomBytes
	sumLen      = 8
	// SecretLen is the length of every well-formed secret.
	SecretLen = 4 + bodyLen + sumLen
)

// ErrMalformed: the string is not a secret of the expected kind.
var ErrMalformed = errors.New("malformed token")

// Generate makes a new secret of kind k.
func Generate(k Kind) (string, error) {
	p, ok := prefixes[k]
	if !ok {
		return "", fmt.Errorf("generate token: unknown kind %d", int(k))
	}
	b := make([]byte, randomBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate %s: read random bytes: %w", k, err)
	}
	s := p + hex.EncodeToString(b)
	return s + checksum(s), nil
}

// Parse reports the kind of a well-formed secret and rejects everything
// else: wrong length, unknown prefix, upper-case or non-hex digits, a bad
// checksum.
func Parse(s string) (Kind, error) {
	if len(s) != SecretLen {
		return 0, fmt.Errorf("%w: length %d, want %d", ErrMalformed, len(s), SecretLen)
	}
	var kind Kind
	for k, p := range prefixes {
		if strings.HasPrefix(s, p) {
			kind = k
		}
	}
	if kind == 0 {
		return 0, fmt.Errorf("%w: unknown prefix", ErrMalformed)
	}
	for i := 4; i < SecretLen; i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return 0, fmt.Errorf("%w: character %d is not a lowercase hex digit", ErrMalformed, i)
		}
	}
	body := s[:SecretLen-sumLen]
	if subtle.ConstantTimeCompare([]byte(checksum(body)), []byte(s[SecretLen-sumLen:])) != 1 {
		return 0, fmt.Errorf("%w: checksum mismatch", ErrMalformed)
	}
	return kind, nil
}

// ParseKind is Parse that also insists on the kind.
func ParseKind(s string, want Kind) error {
	k, err := Parse(s)
	if err != nil {
		return err
	}
	if k != want {
		return fmt.Errorf("%w: a %s, not a %s", ErrMalformed, k, want)
	}
	return nil
}

// Hash is what the store keeps instead of the secret.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// HashEqual compares two hashes in constant time.
func HashEqual(a, b []byte) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare(a, b) == 1
}

func checksum(s string) string {
	return fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(s)))
}
