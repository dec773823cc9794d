package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/atomicfile"
)

// writeKey and readKey are the only code that touches private keys at rest
// in clear; writeSealedKey and readSealedKey keep the CA key and the
// server's TLS key sealed instead when a KeySealer is configured, and
// saveKey and loadKey choose between the two.

func writeKey(path string, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding the private key for %s: %w", path, err)
	}
	return atomicfile.Write(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

func readKey(path string) (crypto.Signer, error) {
	b, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	return parseKeyPEM(path, b)
}

func readKeyFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading the private key: %w", err)
	}
	// Like ssh, refuse a key others can read: it may already be copied.
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("private key %s is accessible by group or others (mode %04o); run chmod 600 on it", path, info.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the private key: %w", err)
	}
	return b, nil
}

func parseKeyPEM(path string, b []byte) (crypto.Signer, error) {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(sealedPrefix)) {
		return nil, fmt.Errorf("private key %s is sealed: configure the seal settings (seal block) it was sealed with", path)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("private key %s: no PEM block", path)
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("private key %s: unexpected PEM block %q", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key %s: %T cannot sign", path, key)
	}
	return signer, nil
}

// KeySealer seals the CA and server private keys at rest (secrets.Sealer is one); it
// is declared here so pki does not depend on the secrets package.
type KeySealer interface {
	Seal(ctx context.Context, plaintext, aad []byte) (string, error)
	Open(ctx context.Context, sealed string, aad []byte) ([]byte, error)
}

// CAKeyAAD is the context the CA key is sealed with, so no other sealed
// value can be passed off as the CA key.
var CAKeyAAD = []byte("pki:ca-key")

// ServerKeyAAD is the context the server's TLS key is sealed with.
var ServerKeyAAD = []byte("pki:server-key")

// saveKey writes key sealed with aad when s is set, else in clear.
func saveKey(ctx context.Context, path string, key crypto.Signer, s KeySealer, aad []byte) error {
	if s == nil {
		return writeKey(path, key)
	}
	return writeSealedKey(ctx, path, key, s, aad)
}

// loadKey reads a key saveKey wrote; with s set, a key still in clear is
// sealed in place (migrated).
func loadKey(ctx context.Context, path string, s KeySealer, aad []byte) (key crypto.Signer, migrated bool, err error) {
	if s == nil {
		key, err = readKey(path)
		return key, false, err
	}
	return readSealedKey(ctx, path, s, aad)
}

// sealedPrefix starts every sealed value (see secrets.IsSealed); a sealed
// key file holds one such line.
const sealedPrefix = "sirsi:v1:"

func writeSealedKey(ctx context.Context, path string, key crypto.Signer, s KeySealer, aad []byte) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding the private key for %s: %w", path, err)
	}
	sealed, err := s.Seal(ctx, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), aad)
	if err != nil {
		return fmt.Errorf("sealing the private key for %s: %w", path, err)
	}
	return atomicfile.Write(path, []byte(sealed+"\n"), 0o600)
}

// readSealedKey reads a sealed key, or a PEM key written before sealing was
// on, which it then rewrites sealed (migrated reports that): the same key,
// replaced in one atomic rename, so a crash leaves the old file or the new
// one and the key is never lost.
func readSealedKey(ctx context.Context, path string, s KeySealer, aad []byte) (key crypto.Signer, migrated bool, err error) {
	b, err := readKeyFile(path)
	if err != nil {
		return nil, false, err
	}
	content := string(bytes.TrimSpace(b))
	if !strings.HasPrefix(content, sealedPrefix) {
		key, err := parseKeyPEM(path, b)
		if err != nil {
			return nil, false, err
		}
		if err := writeSealedKey(ctx, path, key, s, aad); err != nil {
			return nil, false, fmt.Errorf("sealing the existing private key %s: %w", path, err)
		}
		return key, true, nil
	}
	pemBytes, err := s.Open(ctx, content, aad)
	if err != nil {
		return nil, false, fmt.Errorf("private key %s: %w", path, err)
	}
	key, err = parseKeyPEM(path, pemBytes)
	return key, false, err
}

// ResealCAKey rewrites the sealed CA key in dir with what reseal makes of
// it (agentd server rotate-seal passes the sealer's rewrap); reseal
// returning its input unchanged leaves the file alone. A key still in clear
// is an error: loading the CA with a sealer seals it first.
func ResealCAKey(dir string, reseal func(sealed string, aad []byte) (string, error)) (changed bool, err error) {
	return resealKey(filepath.Join(dir, CAKeyFile), CAKeyAAD, reseal)
}

// ResealServerKey is ResealCAKey for the server's TLS key; a key still in
// clear is an error too (NewServerCert with a sealing CA seals it).
func ResealServerKey(dir string, reseal func(sealed string, aad []byte) (string, error)) (changed bool, err error) {
	return resealKey(filepath.Join(dir, ServerKeyFile), ServerKeyAAD, reseal)
}

func resealKey(path string, aad []byte, reseal func(sealed string, aad []byte) (string, error)) (changed bool, err error) {
	b, err := readKeyFile(path)
	if err != nil {
		return false, err
	}
	content := string(bytes.TrimSpace(b))
	if !strings.HasPrefix(content, sealedPrefix) {
		return false, fmt.Errorf("private key %s is not sealed: start the server once with sealing on, which seals it", path)
	}
	next, err := reseal(content, aad)
	if err != nil {
		return false, fmt.Errorf("resealing the private key %s: %w", path, err)
	}
	if next == content {
		return false, nil
	}
	return true, atomicfile.Write(path, []byte(next+"\n"), 0o600)
}
