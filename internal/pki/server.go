package pki

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/atomicfile"
)

// DefaultServerNames are always in the generated server certificate, so
// local clients can reach the listener by any loopback spelling.
var DefaultServerNames = []string{"localhost", "127.0.0.1", "::1"}

// ServerCert is the daemon's own server certificate, issued by the CA,
// kept in the PKI directory and renewed when a third of its lifetime is
// left, both at start and while serving.
type ServerCert struct {
	ca       *CA
	names    []string
	certPath string
	keyPath  string

	mu       sync.Mutex
	cert     *tls.Certificate
	renewAt  time.Time
	onRenew  func(*x509.Certificate)
	validity time.Duration
}

// NewServerCert loads the server certificate from dir if it was issued by
// ca for (at least) names and is not due for renewal; otherwise it issues
// and stores a new one. names are DNS names or IP addresses; the loopback
// names are always added.
func NewServerCert(ca *CA, dir string, names []string) (*ServerCert, error) {
	all := slices.Clone(DefaultServerNames)
	for _, n := range names {
		if !slices.Contains(all, n) {
			all = append(all, n)
		}
	}
	s := &ServerCert{
		ca:       ca,
		names:    all,
		certPath: filepath.Join(dir, ServerCertFile),
		keyPath:  filepath.Join(dir, ServerKeyFile),
		validity: ServerValidity,
	}
	if err := s.loadOrIssue(); err != nil {
		return nil, err
	}
	return s, nil
}

// OnRenew registers a function called with every certificate issued while
// serving, for logging.
func (s *ServerCert) OnRenew(fn func(*x509.Certificate)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRenew = fn
}

// Leaf is the current certificate.
func (s *ServerCert) Leaf() *x509.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cert.Leaf
}

// GetCertificate is a tls.Config hook; it renews the certificate when due.
func (s *ServerCert) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ca.now().Before(s.renewAt) {
		if err := s.issue(); err != nil {
			// Keep serving the old certificate while it is still valid:
			// a full disk must not take the API down.
			if s.ca.now().Before(s.cert.Leaf.NotAfter) {
				return s.cert, nil
			}
			return nil, err
		}
		if s.onRenew != nil {
			s.onRenew(s.cert.Leaf)
		}
	}
	return s.cert, nil
}

func (s *ServerCert) loadOrIssue() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cert, ok := s.reusable(); ok {
		s.set(cert)
		return nil
	}
	return s.issue()
}

// reusable reports whether the stored pair can be served as it is; any
// problem with it (missing, foreign, stale, wrong names) means reissue, as
// the files are ours to replace.
func (s *ServerCert) reusable() (*tls.Certificate, bool) {
	certPEM, err := os.ReadFile(s.certPath)
	if err != nil {
		return nil, false
	}
	// A key in clear from before sealing is sealed here, in place.
	key, _, err := loadKey(context.Background(), s.keyPath, s.ca.sealer, ServerKeyAAD)
	if err != nil {
		return nil, false
	}
	leaf, err := parseCertPEM(certPEM)
	if err != nil || !publicKeysEqual(leaf.PublicKey, key.Public()) {
		return nil, false
	}
	// Only the signing CA: after a rotation's promotion a certificate of
	// the previous CA is reissued, so it is gone before that CA is.
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: s.ca.signerPool(), CurrentTime: s.ca.now(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return nil, false
	}
	for _, n := range s.names {
		if leaf.VerifyHostname(n) != nil {
			return nil, false
		}
	}
	if !s.ca.now().Before(RenewalTime(leaf)) {
		return nil, false
	}
	return &tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}, true
}

func (s *ServerCert) issue() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generating the server key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return err
	}
	t := s.ca.now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"SirsiNexus"}, CommonName: s.names[0]},
		NotBefore:    t.Add(-clockSkew),
		NotAfter:     s.ca.notAfter(t, s.validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range s.names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, strings.ToLower(n))
		}
	}
	leaf, certPEM, err := s.ca.sign(tmpl, key.Public())
	if err != nil {
		return fmt.Errorf("issuing the server certificate: %w", err)
	}
	// Key first, then certificate: a crash in between leaves a mismatched
	// pair, which reusable() rejects and the next start reissues.
	if err := saveKey(context.Background(), s.keyPath, key, s.ca.sealer, ServerKeyAAD); err != nil {
		return err
	}
	if err := atomicfile.Write(s.certPath, certPEM, 0o644); err != nil {
		return err
	}
	s.set(&tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf})
	return nil
}

func (s *ServerCert) set(c *tls.Certificate) {
	s.cert = c
	s.renewAt = RenewalTime(c.Leaf)
}

// RenewalTime is when two thirds of the lifetime have passed: server and
// agent certificates are renewed then.
func RenewalTime(c *x509.Certificate) time.Time {
	life := c.NotAfter.Sub(c.NotBefore)
	return c.NotBefore.Add(life * 2 / 3)
}

// ServerTLSConfig is TLS 1.2+ with forward-secret AEAD suites only (TLS 1.3
// suites are not configurable and all qualify). clientCAs, when not nil,
// makes client certificates required and verified.
func ServerTLSConfig(getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error), clientCAs *x509.CertPool) *tls.Config {
	cfg := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: getCert,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
	if clientCAs != nil {
		cfg.ClientCAs = clientCAs
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg
}

// KeyPairFile serves a certificate and key from operator-provided files and
// can reload them (on SIGHUP) without a restart.
type KeyPairFile struct {
	certPath, keyPath string

	mu   sync.Mutex
	cert *tls.Certificate
}

// LoadKeyPairFile reads the pair once; failure names both files.
func LoadKeyPairFile(certPath, keyPath string) (*KeyPairFile, error) {
	k := &KeyPairFile{certPath: certPath, keyPath: keyPath}
	if err := k.Reload(); err != nil {
		return nil, err
	}
	return k, nil
}

// Reload re-reads the files; on error the previous pair stays in use.
func (k *KeyPairFile) Reload() error {
	c, err := tls.LoadX509KeyPair(k.certPath, k.keyPath)
	if err != nil {
		return fmt.Errorf("loading the TLS key pair %s / %s: %w", k.certPath, k.keyPath, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cert = &c
	return nil
}

// GetCertificate is a tls.Config hook.
func (k *KeyPairFile) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cert, nil
}

// LoadCertPool reads PEM certificates from path into a new pool.
func LoadCertPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading CA certificates: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}
