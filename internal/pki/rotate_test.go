package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"
)

func agentCert(t *testing.T, ca *CA) *x509.Certificate {
	t.Helper()
	id, err := AgentIdentity{TrustDomain: "sirsi.test", TenantID: "t1", CloudAccountID: "acc-1", AgentID: "ag_1"}.URI()
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert, _, err := ca.SignCSR(csrFor(t, key), id, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func trusts(ca *CA, c *x509.Certificate, now time.Time) bool {
	_, err := c.Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err == nil
}

func bundleCerts(t *testing.T, ca *CA) int {
	t.Helper()
	certs, err := ParseCertificatesPEM(ca.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	return len(certs)
}

func TestCARotation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	c := &clock{time.Now()}
	opts := Options{Dir: dir, Name: "sirsi.test", Now: c.now}
	old := newCA(t, dir, c)
	oldCert := agentCert(t, old)
	sc, err := NewServerCert(old, dir, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Leaf().Issuer.String() != old.Cert.Subject.String() {
		t.Fatalf("server certificate issued by %s", sc.Leaf().Issuer)
	}

	// Step 1: the next CA is trusted and handed out, the old one signs.
	next, err := StageNextCA(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := StageNextCA(opts); err == nil {
		t.Fatal("staged a second next CA")
	}
	staged := newCA(t, dir, c)
	if !staged.Cert.Equal(old.Cert) {
		t.Fatal("the staged CA signs before its promotion")
	}
	if n := bundleCerts(t, staged); n != 2 || staged.CertPath != filepath.Join(dir, CABundleFile) {
		t.Fatalf("bundle holds %d certificates at %s, want both CAs in %s", n, staged.CertPath, CABundleFile)
	}
	if !trusts(staged, oldCert, c.t) {
		t.Fatal("old-CA certificate refused during the overlap")
	}

	// Step 2: the new CA signs, the old one's certificates still work.
	if err := PromoteNextCA(dir); err != nil {
		t.Fatal(err)
	}
	promoted := newCA(t, dir, c)
	if !promoted.Cert.Equal(next) {
		t.Fatal("the promoted CA is not the staged one")
	}
	newCert := agentCert(t, promoted)
	if newCert.Issuer.String() != next.Subject.String() {
		t.Fatalf("agent certificate issued by %s after the promotion", newCert.Issuer)
	}
	if !trusts(promoted, oldCert, c.t) || !trusts(promoted, newCert, c.t) {
		t.Fatal("during the overlap both CAs' certificates must be accepted")
	}
	sc, err = NewServerCert(promoted, dir, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Leaf().Issuer.String() != next.Subject.String() {
		t.Fatalf("server certificate still issued by %s after the promotion", sc.Leaf().Issuer)
	}
	if _, err := StageNextCA(opts); err == nil {
		t.Fatal("staged a next CA while the previous one is still trusted")
	}

	// Step 3: the old CA is gone.
	if err := RetirePreviousCA(dir); err != nil {
		t.Fatal(err)
	}
	retired := newCA(t, dir, c)
	if trusts(retired, oldCert, c.t) {
		t.Fatal("old-CA certificate accepted after the retirement")
	}
	if !trusts(retired, newCert, c.t) {
		t.Fatal("new-CA certificate refused after the retirement")
	}
	if n := bundleCerts(t, retired); n != 1 || retired.CertPath != filepath.Join(dir, CACertFile) {
		t.Fatalf("after the rotation: %d certificates at %s, want the new CA alone in %s", n, retired.CertPath, CACertFile)
	}
	if err := RetirePreviousCA(dir); err == nil {
		t.Fatal("retired a CA twice")
	}
	if err := PromoteNextCA(dir); err == nil {
		t.Fatal("promoted with nothing staged")
	}
}
