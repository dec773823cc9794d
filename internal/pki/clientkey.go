package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
)

// NewClientKey generates an agent's private key on the host: it never
// leaves the host, only a CSR for it does.
func NewClientKey() (crypto.Signer, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating a private key: %w", err)
	}
	return k, nil
}

// CreateCSRPEM is a certificate request for key. It names nothing: the
// server decides the identity from the enrollment token or the current
// certificate.
func CreateCSRPEM(key crypto.Signer, commonName string) ([]byte, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: commonName}}, key)
	if err != nil {
		return nil, fmt.Errorf("creating a certificate request: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// WriteKeyFile stores key at path with mode 0600, atomically.
func WriteKeyFile(path string, key crypto.Signer) error { return writeKey(path, key) }

// ReadKeyFile loads a key WriteKeyFile stored, refusing a file group or
// others can read.
func ReadKeyFile(path string) (crypto.Signer, error) { return readKey(path) }

// ParseCertificatesPEM decodes every CERTIFICATE block of b; none is an
// error.
func ParseCertificatesPEM(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing a certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no PEM CERTIFICATE block")
	}
	return out, nil
}
