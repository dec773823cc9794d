// Package pki is the control plane's certificate authority: it creates an
// ECDSA P-256 CA in the data dir on first start, reuses it afterwards, issues
// the server certificate for the gRPC listener (renewing it before it
// expires), and signs agents' CSRs with a SPIFFE URI.
//
// The CA and server private keys are read and written only in keyfile.go:
// in clear by readKey and writeKey, or sealed at rest (Vault transit, a
// local key file) by readSealedKey and writeSealedKey when Options.Sealer
// is set.
package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/atomicfile"
)

// File names inside the PKI directory.
const (
	CACertFile     = "ca.pem"
	CAKeyFile      = "ca-key.pem"
	ServerCertFile = "server.pem"
	ServerKeyFile  = "server-key.pem"
)

// Defaults for lifetimes.
const (
	CAValidity     = 10 * 365 * 24 * time.Hour
	ServerValidity = 90 * 24 * time.Hour
	// clockSkew backdates NotBefore so a peer whose clock runs a little
	// behind still accepts a certificate issued a moment ago.
	clockSkew = 5 * time.Minute
)

// CA is a loaded or freshly created authority.
type CA struct {
	Cert *x509.Certificate
	// CertPEM is what clients put in their trust store.
	CertPEM []byte
	// CertPath is the CA certificate's file, for SIRSI_CA_CERT_FILE.
	CertPath string

	// SealedOnLoad is set when the key file held a key in clear that
	// loading sealed, because Options.Sealer was set.
	SealedOnLoad bool

	key crypto.Signer
	now func() time.Time
	// sealer, when set, also keeps the server certificates' keys sealed
	// (ServerCert).
	sealer KeySealer
	// trusted are the staged or previous CA certificates of a rotation
	// (rotate.go), trusted beside Cert but never signing.
	trusted []*x509.Certificate
	// previous is the one of trusted that a promotion superseded.
	previous *x509.Certificate
}

// Options configures LoadOrCreateCA.
type Options struct {
	// Dir holds the CA and server files; created 0700 if missing.
	Dir string
	// Name goes into the CA's subject, e.g. the trust domain.
	Name string
	// Now defaults to time.Now; tests move it to exercise renewal.
	Now func() time.Time
	// Sealer, when set, keeps the CA key sealed at rest: a new key is
	// written sealed and a key found in clear is sealed on load.
	Sealer KeySealer
}

// LoadOrCreateCA loads the CA from o.Dir, or creates one if neither file
// exists. One file without the other is an error rather than a fresh CA,
// because silently replacing a CA would strand every certificate it signed.
func LoadOrCreateCA(o Options) (ca *CA, created bool, err error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("creating the PKI directory %s: %w", o.Dir, err)
	}
	certPath := filepath.Join(o.Dir, CACertFile)
	keyPath := filepath.Join(o.Dir, CAKeyFile)
	certExists, err := exists(certPath)
	if err != nil {
		return nil, false, err
	}
	keyExists, err := exists(keyPath)
	if err != nil {
		return nil, false, err
	}
	switch {
	case certExists && keyExists:
		ca, err := loadCA(certPath, keyPath, o.Sealer)
		if err != nil {
			return nil, false, err
		}
		ca.now = now
		if err := ca.loadTrusted(o.Dir); err != nil {
			return nil, false, err
		}
		return ca, false, nil
	case certExists != keyExists:
		return nil, false, fmt.Errorf("loading the CA: %s and %s must both exist or both be absent; restore the missing one or remove both to create a new CA", certPath, keyPath)
	}
	ca, err = createCA(certPath, keyPath, o.Name, now, o.Sealer)
	if err != nil {
		return nil, false, err
	}
	return ca, true, nil
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, fmt.Errorf("checking %s: %w", path, err)
}

func createCA(certPath, keyPath, name string, now func() time.Time, sealer KeySealer) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	t := now()
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"SirsiNexus"}, CommonName: "SirsiNexus agentd CA " + name},
		NotBefore:             t.Add(-clockSkew),
		NotAfter:              t.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SubjectKeyId:          ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("self-signing the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing the new CA certificate: %w", err)
	}
	// The key goes first: a crash between the two writes leaves a key
	// without a certificate, which LoadOrCreateCA reports instead of
	// handing out certificates nobody can verify.
	if err := saveKey(context.Background(), keyPath, key, sealer, CAKeyAAD); err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := atomicfile.Write(certPath, certPEM, 0o644); err != nil {
		return nil, err
	}
	return &CA{Cert: cert, CertPEM: certPEM, CertPath: certPath, key: key, now: now, sealer: sealer}, nil
}

func loadCA(certPath, keyPath string, sealer KeySealer) (*CA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("reading the CA certificate: %w", err)
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("CA certificate %s: %w", certPath, err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("CA certificate %s: not a CA certificate", certPath)
	}
	key, migrated, err := loadKey(context.Background(), keyPath, sealer, CAKeyAAD)
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, fmt.Errorf("CA key %s does not belong to the certificate %s", keyPath, certPath)
	}
	return &CA{Cert: cert, CertPEM: certPEM, CertPath: certPath, SealedOnLoad: migrated, key: key, sealer: sealer}, nil
}

// Pool returns a pool holding this CA and, during a rotation, the CA
// trusted beside it (rotate.go).
func (ca *CA) Pool() *x509.CertPool {
	p := ca.signerPool()
	for _, c := range ca.trusted {
		p.AddCert(c)
	}
	return p
}

// signerPool holds only the CA that signs.
func (ca *CA) signerPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

func (ca *CA) sign(tmpl *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate, []byte, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("signing the certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing the signed certificate: %w", err)
	}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// notAfter caps a lifetime at the CA's own expiry: a certificate cannot be
// trusted longer than its issuer.
func (ca *CA) notAfter(start time.Time, ttl time.Duration) time.Time {
	end := start.Add(ttl)
	if end.After(ca.Cert.NotAfter) {
		return ca.Cert.NotAfter
	}
	return end
}

func newSerial() (*big.Int, error) {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating a serial number: %w", err)
	}
	return s.Add(s, big.NewInt(1)), nil
}

func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encoding the public key: %w", err)
	}
	sum := crypto.SHA256.New()
	sum.Write(der)
	return sum.Sum(nil)[:20], nil
}

func parseCertPEM(b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing the certificate: %w", err)
	}
	return cert, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	da, err := x509.MarshalPKIXPublicKey(a)
	if err != nil {
		return false
	}
	db, err := x509.MarshalPKIXPublicKey(b)
	if err != nil {
		return false
	}
	return bytes.Equal(da, db)
}
