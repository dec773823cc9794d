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
// in clear; writeSealedKey and readSealedKey keep the CA key sealed instead
// when a KeySealer is configured.

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

// KeySealer seals the CA private key at rest (secrets.Sealer is one); it
// is declared here so pki does not depend on the secrets package.
type KeySealer interface {
	Seal(ctx context.Context, plaintext, aad []byte) (string, error)
	Open(ctx context.Context, sealed string, aad []byte) ([]byte, error)
}

// CAKeyAAD is the context the CA key is sealed with, so no other sealed
// value can be passed off as the CA key.
var CAKeyAAD = []byte("pki:ca-key")

// sealedPrefix starts every sealed value (see secrets.IsSealed); a sealed
// key file holds one such line.
const sealedPrefix = "sirsi:v1:"

func writeSealedKey(ctx context.Context, path string, key crypto.Signer, s KeySealer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding the private key for %s: %w", path, err)
	}
	sealed, err := s.Seal(ctx, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), CAKeyAAD)
	if err != nil {
		return fmt.Errorf("sealing the private key for %s: %w", path, err)
	}
	return atomicfile.Write(path, []byte(sealed+"\n"), 0o600)
}

// readSealedKey reads a sealed key, or a PEM key written before sealing was
// on, which it then rewrites sealed (migrated reports that).
func readSealedKey(ctx context.Context, path string, s KeySealer) (key crypto.Signer, migrated bool, err error) {
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
		if err := writeSealedKey(ctx, path, key, s); err != nil {
			return nil, false, fmt.Errorf("sealing the existing private key %s: %w", path, err)
		}
		return key, true, nil
	}
	pemBytes, err := s.Open(ctx, content, CAKeyAAD)
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
	path := filepath.Join(dir, CAKeyFile)
	b, err := readKeyFile(path)
	if err != nil {
		return false, err
	}
	content := string(bytes.TrimSpace(b))
	if !strings.HasPrefix(content, sealedPrefix) {
		return false, fmt.Errorf("private key %s is not sealed: start the server once with sealing on, which seals it", path)
	}
	next, err := reseal(content, CAKeyAAD)
	if err != nil {
		return false, fmt.Errorf("resealing the private key %s: %w", path, err)
	}
	if next == content {
		return false, nil
	}
	return true, atomicfile.Write(path, []byte(next+"\n"), 0o600)
}
