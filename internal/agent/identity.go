package agent

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/atomicfile"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/crashpoint"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
)

// Files of the agent's identity in its data dir. The key never leaves the
// host; the certificate, CA bundle and identity are what enrollment
// returned, so a restart needs no token. identity.json is written last:
// until it exists the agent is not enrolled, and agent.key is the key of
// an enrollment in progress, which a restart presents again (see enroll).
// A renewal stages its key and certificate as *.next files and renames
// them into place; finishRenewal completes or discards a staged pair a
// crash left.
const (
	keyFile      = "agent.key"
	certFile     = "agent.crt"
	caFile       = "ca.pem"
	identityFile = "identity.json"
	nextSuffix   = ".next"
)

// Identity is who the control plane says this agent is.
type Identity struct {
	AgentID        string `json:"agent_id"`
	TenantID       string `json:"tenant_id"`
	CloudAccountID string `json:"cloud_account_id"`
}

// credentials holds the current key pair and trust anchors; renewal swaps
// them while connections keep reading through the accessors.
type credentials struct {
	dir string

	mu   sync.RWMutex
	id   Identity
	cert *tls.Certificate
	leaf *x509.Certificate
	pool *x509.CertPool
}

// ErrNotEnrolled means the data dir holds no usable identity and no
// enrollment token was given.
var ErrNotEnrolled = errors.New("this agent is not enrolled: start it once with an enrollment token (-enroll-token, -enroll-token-file or SIRSI_ENROLL_TOKEN)")

// loadCredentials reads the identity from dir. It returns (nil, nil) when
// the dir holds none yet, and an error when it holds a broken one: a
// half-enrolled data dir must be looked at, not silently re-enrolled.
func loadCredentials(dir string) (*credentials, error) {
	if err := finishRenewal(dir); err != nil {
		return nil, err
	}
	idPath := filepath.Join(dir, identityFile)
	b, err := os.ReadFile(idPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the agent identity: %w", err)
	}
	var id Identity
	if err := json.Unmarshal(b, &id); err != nil {
		return nil, fmt.Errorf("%s: %w", idPath, err)
	}
	if id.AgentID == "" || id.TenantID == "" || id.CloudAccountID == "" {
		return nil, fmt.Errorf("%s: agent_id, tenant_id and cloud_account_id are all required", idPath)
	}
	key, err := pki.ReadKeyFile(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, err
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, certFile))
	if err != nil {
		return nil, fmt.Errorf("reading the agent certificate: %w", err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, caFile))
	if err != nil {
		return nil, fmt.Errorf("reading the CA bundle: %w", err)
	}
	c := &credentials{dir: dir, id: id}
	if err := c.set(key, certPEM, caPEM); err != nil {
		return nil, fmt.Errorf("the identity in %s: %w", dir, err)
	}
	return c, nil
}

func (c *credentials) set(key crypto.Signer, certPEM, caPEM []byte) error {
	certs, err := pki.ParseCertificatesPEM(certPEM)
	if err != nil {
		return fmt.Errorf("agent certificate: %w", err)
	}
	cas, err := pki.ParseCertificatesPEM(caPEM)
	if err != nil {
		return fmt.Errorf("CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	for _, ca := range cas {
		pool.AddCert(ca)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("agent key: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		return fmt.Errorf("the agent certificate does not match its key: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cert, c.leaf, c.pool = &pair, certs[0], pool
	return nil
}

// saveIdentity writes identity.json, the commit point of an enrollment.
func (c *credentials) saveIdentity() error {
	b, err := json.MarshalIndent(c.identity(), "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the identity: %w", err)
	}
	return atomicfile.Write(filepath.Join(c.dir, identityFile), append(b, '\n'), 0o600)
}

func (c *credentials) identity() Identity {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.id
}

func (c *credentials) leafCert() *x509.Certificate {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.leaf
}

// tlsConfig presents the current certificate on every new connection and
// trusts only the control plane's CA bundle. The name verified is each
// replica's own (see newConn).
func (c *credentials) tlsConfig() *tls.Config {
	c.mu.RLock()
	pool := c.pool
	c.mu.RUnlock()
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		RootCAs:    pool,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			c.mu.RLock()
			defer c.mu.RUnlock()
			return c.cert, nil
		},
	}
}

// enroll trades the enrollment token and a CSR for the first
// certificate. The key is saved before the token is presented and reused
// by a restart that finds it without identity.json: the control plane
// derives the agent from the token and the key, so when the answer of an
// enrollment it committed was lost (a crash, a dropped connection) the same
// key presenting the same token gets the same agent back without using
// the token again.
func enroll(ctx context.Context, dir string, client sirsiv1.AgentServiceClient, token, hostname, version string) (*credentials, error) {
	key, err := enrollmentKey(dir)
	if err != nil {
		return nil, err
	}
	crashpoint.Hit(crashpoint.AgentEnrollAfterKeySave)
	csr, err := pki.CreateCSRPEM(key, hostname)
	if err != nil {
		return nil, err
	}
	resp, err := client.Enroll(ctx, &sirsiv1.EnrollRequest{EnrollmentToken: token, CsrPem: string(csr), Hostname: hostname, Version: version})
	if err != nil {
		return nil, fmt.Errorf("enrolling with the control plane: %w", err)
	}
	crashpoint.Hit(crashpoint.AgentEnrollAfterAnswer)
	c := &credentials{dir: dir, id: Identity{AgentID: resp.GetAgentId(), TenantID: resp.GetTenantId(), CloudAccountID: resp.GetCloudAccountId()}}
	if c.id.AgentID == "" || c.id.TenantID == "" || c.id.CloudAccountID == "" {
		return nil, errors.New("enrolling with the control plane: the answer lacks the agent, tenant or cloud account id")
	}
	certPEM, caPEM := []byte(resp.GetCertificatePem()), []byte(resp.GetCaBundlePem())
	if err := c.set(key, certPEM, caPEM); err != nil {
		return nil, fmt.Errorf("enrolling with the control plane: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, caFile), caPEM, 0o644); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(dir, certFile), certPEM, 0o644); err != nil {
		return nil, err
	}
	crashpoint.Hit(crashpoint.AgentEnrollAfterCertSave)
	if err := c.saveIdentity(); err != nil {
		return nil, err
	}
	crashpoint.Hit(crashpoint.AgentEnrollAfterIdentitySave)
	return c, nil
}

// enrollmentKey is the key of the enrollment in progress: the one a
// previous start saved, or a new one, saved before it is used.
func enrollmentKey(dir string) (crypto.Signer, error) {
	path := filepath.Join(dir, keyFile)
	key, err := pki.ReadKeyFile(path)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("the key of an unfinished enrollment: %w", err)
	}
	if key, err = pki.NewClientKey(); err != nil {
		return nil, err
	}
	if err := pki.WriteKeyFile(path, key); err != nil {
		return nil, err
	}
	return key, nil
}

// renew asks for a certificate for a fresh key, authenticated by the
// current one, and stores it before using it: key and certificate are
// staged as *.next files (the certificate last, so a staged certificate
// means a complete pair) and then renamed into place, which finishRenewal
// repeats after a crash.
func (c *credentials) renew(ctx context.Context, client sirsiv1.AgentServiceClient, hostname string) (*x509.Certificate, error) {
	key, err := pki.NewClientKey()
	if err != nil {
		return nil, err
	}
	csr, err := pki.CreateCSRPEM(key, hostname)
	if err != nil {
		return nil, err
	}
	resp, err := client.RenewCertificate(ctx, &sirsiv1.RenewCertificateRequest{CsrPem: string(csr)})
	if err != nil {
		return nil, fmt.Errorf("renewing the agent certificate: %w", err)
	}
	certPEM, caPEM := []byte(resp.GetCertificatePem()), []byte(resp.GetCaBundlePem())
	probe := &credentials{dir: c.dir, id: c.identity()}
	if err := probe.set(key, certPEM, caPEM); err != nil {
		return nil, fmt.Errorf("renewing the agent certificate: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(c.dir, caFile), caPEM, 0o644); err != nil {
		return nil, err
	}
	if err := pki.WriteKeyFile(filepath.Join(c.dir, keyFile+nextSuffix), key); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(c.dir, certFile+nextSuffix), certPEM, 0o644); err != nil {
		return nil, err
	}
	if err := finishRenewal(c.dir); err != nil {
		return nil, err
	}
	if err := c.set(key, certPEM, caPEM); err != nil {
		return nil, err
	}
	return c.leafCert(), nil
}

// finishRenewal completes a renewal whose staged pair is whole (the
// certificate is staged last) by renaming key, then certificate, into
// place, and discards a staged key whose certificate never came. Either
// way agent.key and agent.crt match afterwards.
func finishRenewal(dir string) error {
	key, cert := filepath.Join(dir, keyFile), filepath.Join(dir, certFile)
	if _, err := os.Stat(cert + nextSuffix); err == nil {
		if err := os.Rename(key+nextSuffix, key); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("installing the renewed agent key: %w", err)
		}
		if err := os.Rename(cert+nextSuffix, cert); err != nil {
			return fmt.Errorf("installing the renewed agent certificate: %w", err)
		}
		return atomicfile.SyncDir(dir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("looking for a staged agent certificate: %w", err)
	}
	if err := os.Remove(key + nextSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("discarding the key of an unfinished renewal: %w", err)
	}
	return nil
}
