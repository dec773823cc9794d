package pki

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// MaxClientTTL caps SignCSR lifetimes: agent certificates are meant to be
// short-lived and renewed.
const MaxClientTTL = 30 * 24 * time.Hour

// ParseCSRPEM decodes and checks the signature of a PEM certificate
// request, as an agent sends it.
func ParseCSRPEM(b []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("csr: no PEM CERTIFICATE REQUEST block")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("csr: %w", err)
	}
	return csr, nil
}

// SignCSR issues a client certificate for csr's public key whose only
// identity is the URI SAN id (a SPIFFE id); whatever names the CSR asks for
// are ignored, since the caller decided the identity from an enrollment or a
// previous certificate. Returns the certificate and its PEM.
func (ca *CA) SignCSR(csr *x509.CertificateRequest, id *url.URL, ttl time.Duration) (*x509.Certificate, []byte, error) {
	if err := CheckCSR(csr); err != nil {
		return nil, nil, err
	}
	if id == nil || id.Scheme != "spiffe" || id.Host == "" {
		return nil, nil, errors.New("identity: must be a spiffe:// URI with a trust domain")
	}
	if ttl <= 0 || ttl > MaxClientTTL {
		return nil, nil, fmt.Errorf("ttl: must be positive and at most %s, not %s", MaxClientTTL, ttl)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	t := ca.now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"SirsiNexus"}, CommonName: id.Path},
		NotBefore:    t.Add(-clockSkew),
		NotAfter:     ca.notAfter(t, ttl),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{id},
	}
	cert, certPEM, err := ca.sign(tmpl, csr.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("issuing the client certificate for %s: %w", id, err)
	}
	return cert, certPEM, nil
}

func checkClientKey(pub any) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return fmt.Errorf("ECDSA curve %s is not P-256 or P-384", k.Curve.Params().Name)
		}
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("RSA key of %d bits is shorter than 2048", k.N.BitLen())
		}
	case ed25519.PublicKey:
	default:
		return fmt.Errorf("unsupported public key type %T", pub)
	}
	return nil
}

// AgentIdentity is what an agent certificate's SPIFFE id says.
type AgentIdentity struct {
	TrustDomain    string
	TenantID       string
	CloudAccountID string
	AgentID        string
}

var idSegment = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// URI is spiffe://<trust-domain>/tenant/<t>/account/<a>/agent/<id>.
func (a AgentIdentity) URI() (*url.URL, error) {
	for name, v := range map[string]string{"tenant id": a.TenantID, "cloud account id": a.CloudAccountID, "agent id": a.AgentID} {
		if !idSegment.MatchString(v) {
			return nil, fmt.Errorf("%s %q: must be 1-128 letters, digits, '.', '_' or '-'", name, v)
		}
	}
	if a.TrustDomain == "" || strings.ContainsAny(a.TrustDomain, "/:@?#") {
		return nil, fmt.Errorf("trust domain %q is not a host name", a.TrustDomain)
	}
	return &url.URL{
		Scheme: "spiffe",
		Host:   a.TrustDomain,
		Path:   "/tenant/" + a.TenantID + "/account/" + a.CloudAccountID + "/agent/" + a.AgentID,
	}, nil
}

// ParseAgentIdentity reads the single SPIFFE URI of a verified client
// certificate and checks it belongs to trustDomain.
func ParseAgentIdentity(cert *x509.Certificate, trustDomain string) (AgentIdentity, error) {
	if len(cert.URIs) != 1 {
		return AgentIdentity{}, fmt.Errorf("client certificate has %d URI SANs, want exactly one spiffe id", len(cert.URIs))
	}
	u := cert.URIs[0]
	if u.Scheme != "spiffe" || u.Host != trustDomain {
		return AgentIdentity{}, fmt.Errorf("client certificate id %q is not in trust domain %q", u, trustDomain)
	}
	parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	if len(parts) != 6 || parts[0] != "tenant" || parts[2] != "account" || parts[4] != "agent" {
		return AgentIdentity{}, fmt.Errorf("client certificate id %q is not /tenant/<t>/account/<a>/agent/<id>", u)
	}
	id := AgentIdentity{TrustDomain: u.Host, TenantID: parts[1], CloudAccountID: parts[3], AgentID: parts[5]}
	if _, err := id.URI(); err != nil {
		return AgentIdentity{}, fmt.Errorf("client certificate id %q: %w", u, err)
	}
	return id, nil
}

// CheckCSR verifies a request's signature and that its key is one SignCSR
// accepts, so a caller can refuse a bad request before it spends anything
// on it (an enrollment token's use).
func CheckCSR(csr *x509.CertificateRequest) error {
	if err := csr.CheckSignature(); err != nil {
		return fmt.Errorf("csr: signature does not verify: %w", err)
	}
	if err := checkClientKey(csr.PublicKey); err != nil {
		return fmt.Errorf("csr: %w", err)
	}
	return nil
}

// SerialHex is how a certificate's serial number is written down (lower-case
// hex, no separators), so that the control plane's store and its checks of
// presented certificates spell it the same way.
func SerialHex(c *x509.Certificate) string { return c.SerialNumber.Text(16) }
