package pki

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"math/big"
	"strings"
	"testing"
)

func TestCheckCSR(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tampered := csrFor(t, p256)
	tampered.Signature = append([]byte(nil), tampered.Signature...)
	tampered.Signature[len(tampered.Signature)-1] ^= 0xff
	for _, tt := range []struct {
		name string
		csr  *x509.CertificateRequest
		want string
	}{
		{"P-256", csrFor(t, p256), ""},
		{"Ed25519", csrFor(t, ed), ""},
		{"P-224", csrFor(t, p224), "P-224"},
		{"RSA 1024", csrFor(t, weak), "2048"},
		{"bad signature", tampered, "signature"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckCSR(tt.csr)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestSerialHex(t *testing.T) {
	c := &x509.Certificate{SerialNumber: big.NewInt(0xabc123)}
	if got := SerialHex(c); got != "abc123" {
		t.Fatalf("SerialHex = %q", got)
	}
}
