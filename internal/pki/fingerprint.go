package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
)

// Fingerprint names a certificate by the SHA-256 of its DER, in hex.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// Fingerprint names the signing CA.
func (ca *CA) Fingerprint() string { return Fingerprint(ca.Cert) }

// Knows reports whether fingerprint names the signing CA or a CA trusted
// beside it during a rotation, and whether the signing CA superseded it
// (a rotation promoted a newer CA past it).
func (ca *CA) Knows(fingerprint string) (known, superseded bool) {
	if fingerprint == ca.Fingerprint() {
		return true, false
	}
	for _, c := range ca.trusted {
		if Fingerprint(c) == fingerprint {
			return true, c == ca.previous
		}
	}
	return false, false
}
