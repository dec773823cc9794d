package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newCA(t *testing.T, dir string, c *clock) *CA {
	t.Helper()
	ca, _, err := LoadOrCreateCA(Options{Dir: dir, Name: "sirsi.test", Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

func TestCACreateAndReuse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ca, created, err := LoadOrCreateCA(Options{Dir: dir, Name: "sirsi.test", Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	if !created || !ca.Cert.IsCA {
		t.Fatalf("created %v, IsCA %v", created, ca.Cert.IsCA)
	}
	if pub, ok := ca.Cert.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("CA key is %T, want ECDSA P-256", ca.Cert.PublicKey)
	}
	if got := mode(t, filepath.Join(dir, CAKeyFile)); got != 0o600 {
		t.Errorf("CA key mode %04o, want 0600", got)
	}
	if got := mode(t, dir); got != 0o700 {
		t.Errorf("PKI dir mode %04o, want 0700", got)
	}
	if ca.CertPath != filepath.Join(dir, CACertFile) {
		t.Errorf("CertPath = %q", ca.CertPath)
	}

	again, created, err := LoadOrCreateCA(Options{Dir: dir, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	if created || !again.Cert.Equal(ca.Cert) || !bytes.Equal(again.CertPEM, ca.CertPEM) {
		t.Fatal("restart did not reuse the CA")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestCARefusesHalfAndUnsafeState(t *testing.T) {
	c := &clock{time.Now()}
	t.Run("key without cert", func(t *testing.T) {
		dir := t.TempDir()
		newCA(t, dir, c)
		if err := os.Remove(filepath.Join(dir, CACertFile)); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadOrCreateCA(Options{Dir: dir, Now: c.now})
		if err == nil || !strings.Contains(err.Error(), "both exist") {
			t.Fatalf("err = %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, CACertFile)); err == nil {
			t.Error("a new CA certificate was written over the orphaned key")
		}
	})
	t.Run("world-readable key", func(t *testing.T) {
		dir := t.TempDir()
		newCA(t, dir, c)
		if err := os.Chmod(filepath.Join(dir, CAKeyFile), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadOrCreateCA(Options{Dir: dir, Now: c.now})
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("key of another CA", func(t *testing.T) {
		dir, other := t.TempDir(), t.TempDir()
		newCA(t, dir, c)
		newCA(t, other, c)
		b, _ := os.ReadFile(filepath.Join(other, CAKeyFile))
		if err := os.WriteFile(filepath.Join(dir, CAKeyFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadOrCreateCA(Options{Dir: dir, Now: c.now})
		if err == nil || !strings.Contains(err.Error(), "does not belong") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("garbage certificate", func(t *testing.T) {
		dir := t.TempDir()
		newCA(t, dir, c)
		if err := os.WriteFile(filepath.Join(dir, CACertFile), []byte("not pem"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadOrCreateCA(Options{Dir: dir, Now: c.now})
		if err == nil || !strings.Contains(err.Error(), CACertFile) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestServerCert(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ca := newCA(t, dir, c)
	sc, err := NewServerCert(ca, dir, []string{"api.example.test", "10.1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	leaf := sc.Leaf()
	for _, name := range []string{"localhost", "127.0.0.1", "::1", "api.example.test", "10.1.2.3"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool(), CurrentTime: c.t}); err != nil {
			t.Errorf("certificate does not verify for %s: %v", name, err)
		}
	}
	if err := leaf.VerifyHostname("other.example.test"); err == nil {
		t.Error("certificate verifies for a name it was not issued for")
	}
	if got := mode(t, filepath.Join(dir, ServerKeyFile)); got != 0o600 {
		t.Errorf("server key mode %04o", got)
	}

	reused, err := NewServerCert(ca, dir, []string{"api.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	if !reused.Leaf().Equal(leaf) {
		t.Error("restart reissued a certificate that was still good")
	}

	more, err := NewServerCert(ca, dir, []string{"new.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	if more.Leaf().Equal(leaf) || more.Leaf().VerifyHostname("new.example.test") != nil {
		t.Error("a new name did not cause a reissue")
	}
}

func TestServerCertRenewal(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ca := newCA(t, dir, c)
	sc, err := NewServerCert(ca, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := sc.Leaf()
	var renewed *x509.Certificate
	sc.OnRenew(func(c *x509.Certificate) { renewed = c })

	c.t = c.t.Add(ServerValidity / 2)
	got, err := sc.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Leaf.Equal(first) || renewed != nil {
		t.Error("renewed at half the lifetime")
	}

	c.t = c.t.Add(ServerValidity / 4)
	got, err = sc.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Leaf.Equal(first) || renewed == nil || !renewed.Equal(got.Leaf) {
		t.Fatal("not renewed at three quarters of the lifetime")
	}
	if !got.Leaf.NotAfter.After(first.NotAfter) {
		t.Errorf("renewed certificate expires %s, not after %s", got.Leaf.NotAfter, first.NotAfter)
	}
	onDisk, err := NewServerCert(ca, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !onDisk.Leaf().Equal(got.Leaf) {
		t.Error("renewed certificate was not persisted")
	}

	c.t = first.NotAfter.Add(ServerValidity)
	restarted, err := NewServerCert(ca, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !restarted.Leaf().NotAfter.After(c.t) {
		t.Error("an expired certificate was reused at start")
	}
}

func TestServerTLSHandshake(t *testing.T) {
	dir := t.TempDir()
	ca, _, err := LoadOrCreateCA(Options{Dir: dir, Name: "sirsi.test"})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := NewServerCert(ca, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", ServerTLSConfig(sc.GetCertificate, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.(*tls.Conn).Handshake()
			_ = conn.Close()
		}
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("TLS client trusting the CA: %v", err)
	}
	_ = conn.Close()
	_, err = tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1", MaxVersion: tls.VersionTLS11})
	if err == nil {
		t.Error("TLS 1.1 handshake accepted")
	}
	_, err = tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: "127.0.0.1"})
	if err == nil {
		t.Error("client without the CA accepted the server")
	}
}

func csrFor(t *testing.T, key any, uris ...*url.URL) *x509.CertificateRequest {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "agent"}, URIs: uris, DNSNames: []string{"evil.example"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := ParseCSRPEM(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

func TestSignCSR(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ca := newCA(t, dir, c)
	want := AgentIdentity{TrustDomain: "sirsi.test", TenantID: "t1", CloudAccountID: "acc-1", AgentID: "ag_9"}
	id, err := want.URI()
	if err != nil {
		t.Fatal(err)
	}
	if id.String() != "spiffe://sirsi.test/tenant/t1/account/acc-1/agent/ag_9" {
		t.Fatalf("URI = %s", id)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	foreign, _ := url.Parse("spiffe://sirsi.test/tenant/other/account/x/agent/y")
	cert, certPEM, err := ca.SignCSR(csrFor(t, key, foreign), id, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(certPEM, []byte("BEGIN CERTIFICATE")) {
		t.Error("no PEM returned")
	}
	if len(cert.URIs) != 1 || cert.URIs[0].String() != id.String() || len(cert.DNSNames) != 0 {
		t.Errorf("SANs: URIs %v DNS %v; the CSR's own names must be ignored", cert.URIs, cert.DNSNames)
	}
	if got := cert.NotAfter.Sub(c.t); got != 24*time.Hour {
		t.Errorf("lifetime from now = %s, want 24h", got)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: c.t, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate does not verify: %v", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: c.t, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("client certificate usable as a server certificate")
	}
	got, err := ParseAgentIdentity(cert, "sirsi.test")
	if err != nil || got != want {
		t.Errorf("ParseAgentIdentity = %+v, %v", got, err)
	}
	if _, err := ParseAgentIdentity(cert, "other.test"); err == nil {
		t.Error("identity accepted in a foreign trust domain")
	}
}

func TestSignCSRRejects(t *testing.T) {
	ca := newCA(t, t.TempDir(), &clock{time.Now()})
	id, _ := AgentIdentity{TrustDomain: "sirsi.test", TenantID: "t", CloudAccountID: "a", AgentID: "g"}.URI()
	good, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	weakRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tampered := csrFor(t, good)
	tampered.Signature = append([]byte(nil), tampered.Signature...)
	tampered.Signature[len(tampered.Signature)-1] ^= 0xff
	httpID, _ := url.Parse("https://sirsi.test/agent")
	tests := []struct {
		name string
		csr  *x509.CertificateRequest
		id   *url.URL
		ttl  time.Duration
		want string
	}{
		{"bad signature", tampered, id, time.Hour, "signature"},
		{"weak RSA", csrFor(t, weakRSA), id, time.Hour, "2048"},
		{"not spiffe", csrFor(t, good), httpID, time.Hour, "spiffe"},
		{"nil id", csrFor(t, good), nil, time.Hour, "spiffe"},
		{"zero ttl", csrFor(t, good), id, 0, "ttl"},
		{"long ttl", csrFor(t, good), id, MaxClientTTL + time.Hour, "ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ca.SignCSR(tt.csr, tt.id, tt.ttl)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := ParseCSRPEM([]byte("junk")); err == nil {
		t.Error("junk parsed as a CSR")
	}
	if _, err := (AgentIdentity{TrustDomain: "sirsi.test", TenantID: "a/b", CloudAccountID: "a", AgentID: "g"}).URI(); err == nil {
		t.Error("a slash in the tenant id was accepted")
	}
}

func TestKeyPairFileReload(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, &clock{time.Now()})
	sc, err := NewServerCert(ca, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile)
	kp, err := LoadKeyPairFile(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := kp.GetCertificate(nil)
	if !bytes.Equal(first.Certificate[0], sc.Leaf().Raw) {
		t.Fatal("loaded a different certificate")
	}
	if err := os.WriteFile(certPath, []byte("broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := kp.Reload(); err == nil || !strings.Contains(err.Error(), certPath) {
		t.Errorf("reload of a broken file: %v", err)
	}
	still, _ := kp.GetCertificate(nil)
	if still != first {
		t.Error("a failed reload replaced the working pair")
	}
	if _, err := LoadCertPool(keyPath); err == nil {
		t.Error("a key file loaded as a CA pool")
	}
	if _, err := LoadCertPool(ca.CertPath); err != nil {
		t.Error(err)
	}
}

func FuzzParseAndSignCSR(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "a"}}, key)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n"))
	ca, _, err := LoadOrCreateCA(Options{Dir: f.TempDir(), Name: "fuzz.test"})
	if err != nil {
		f.Fatal(err)
	}
	id, _ := AgentIdentity{TrustDomain: "fuzz.test", TenantID: "t", CloudAccountID: "a", AgentID: "g"}.URI()
	f.Fuzz(func(t *testing.T, in []byte) {
		csr, err := ParseCSRPEM(in)
		if err != nil {
			return
		}
		cert, _, err := ca.SignCSR(csr, id, time.Hour)
		if err != nil {
			return
		}
		if len(cert.URIs) != 1 || cert.URIs[0].String() != id.String() || len(cert.DNSNames)+len(cert.IPAddresses)+len(cert.EmailAddresses) != 0 {
			t.Fatalf("signed certificate carries names beyond the given identity: %v %v %v %v", cert.URIs, cert.DNSNames, cert.IPAddresses, cert.EmailAddresses)
		}
	})
}
