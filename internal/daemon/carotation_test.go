package daemon

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
)

// rotationAgent is an agent's key, certificate and the CA bundle it was
// last given.
type rotationAgent struct {
	key    *ecdsa.PrivateKey
	cert   tls.Certificate
	bundle []byte
}

func csrPEM(t *testing.T, key *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func (a *rotationAgent) set(t *testing.T, certPEM, bundle string) {
	t.Helper()
	keyDER, err := x509.MarshalECPrivateKey(a.key)
	if err != nil {
		t.Fatal(err)
	}
	a.cert, err = tls.X509KeyPair([]byte(certPEM), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	a.bundle = []byte(bundle)
}

// agentClient dials the agent listener trusting roots and presenting cert
// (nil: none).
func agentClient(t *testing.T, endpoint string, roots []byte, cert *tls.Certificate) sirsiv1.AgentServiceClient {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(roots) {
		t.Fatal("no CA certificate to trust")
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	conn, err := grpc.NewClient(u.Host, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return sirsiv1.NewAgentServiceClient(conn)
}

// signedBy reports whether ca signed c; both CAs of a rotation have the
// same subject, so only the signature tells them apart.
func signedBy(t *testing.T, c tls.Certificate, ca *x509.Certificate) bool {
	t.Helper()
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.CheckSignatureFrom(ca) == nil
}

// TestCARotationEndToEnd runs the three rotation steps against agentd
// server with restarts between them: an agent certificate of the old CA
// keeps working through the overlap, the agent renews onto the new CA,
// and once the old CA is retired its certificates are refused.
func TestCARotationEndToEnd(t *testing.T) {
	dir := t.TempDir()
	pkiPath := filepath.Join(dir, pkiDir)
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()

	var mgmtEndpoint string
	start := func() (*proc, string) {
		p, endpoint := startServer(t, "-data-dir", dir)
		mgmtEndpoint = endpoint
		return p, fmt.Sprint(p.waitLog("agent listener ready")["endpoint"])
	}
	// Each step through the command an operator runs, as the binary
	// would: exit code and output checked.
	rotateCA := func(step string, wantCode int, want string) {
		t.Helper()
		var stdout, stderr strings.Builder
		code := Main([]string{"server", "rotate-ca", step, "-data-dir", dir}, &stdout, &stderr)
		if code != wantCode || !strings.Contains(stdout.String()+stderr.String(), want) {
			t.Fatalf("rotate-ca %s: exit %d, want %d with %q; stdout:\n%s\nstderr:\n%s", step, code, wantCode, want, stdout.String(), stderr.String())
		}
	}
	heartbeat := func(endpoint string, roots []byte, a *rotationAgent) error {
		_, err := agentClient(t, endpoint, roots, &a.cert).Heartbeat(ctx, &sirsiv1.HeartbeatRequest{})
		return err
	}

	p, agentEndpoint := start()
	tok, _ := readToken(t, dir)
	mgmt := dial(t, mgmtEndpoint, filepath.Join(pkiPath, pki.CACertFile))
	octx := withToken(ctx, tok)
	tn, err := mgmt.CreateTenant(octx, &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{Name: "acme", DisplayName: "Acme", Tier: sirsiv1.Tier_TIER_STANDARD}})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := mgmt.CreateCloudAccount(octx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: &sirsiv1.CloudAccount{
		TenantId: tn.Tenant.Id, Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: "111111111111", Regions: []string{"us-east-1"},
		RoleArn: "arn:aws:iam::111111111111:role/sirsi-agent", ExternalId: "rotation-external-id",
	}})
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(pkiPath, pki.CACertFile))
	if err != nil {
		t.Fatal(err)
	}
	enroll := func(endpoint string, roots []byte) *rotationAgent {
		et, err := mgmt.CreateEnrollmentToken(octx, &sirsiv1.CreateEnrollmentTokenRequest{TenantId: tn.Tenant.Id, CloudAccountId: acct.CloudAccount.Id, Ttl: durationpb.New(time.Hour), MaxUses: 1})
		if err != nil {
			t.Fatal(err)
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := agentClient(t, endpoint, roots, nil).Enroll(ctx, &sirsiv1.EnrollRequest{EnrollmentToken: et.EnrollmentToken.Token, CsrPem: csrPEM(t, key), Hostname: "rotation", Version: "0.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		a := &rotationAgent{key: key}
		a.set(t, resp.CertificatePem, resp.CaBundlePem)
		return a
	}
	renewing := enroll(agentEndpoint, caPEM)
	stale := enroll(agentEndpoint, caPEM)
	stopServer(t, p)

	// Step 1: stage. Old certificates work; a renewal hands out both CAs.
	rotateCA("promote", exitFailure, "none is staged")
	rotateCA("stage", exitOK, "staged the next CA")
	rotateCA("stage", exitFailure, "a next CA is already staged")
	nextPEM, err := os.ReadFile(filepath.Join(pkiPath, pki.NextCACertFile))
	if err != nil {
		t.Fatal(err)
	}
	nextCerts, err := pki.ParseCertificatesPEM(nextPEM)
	if err != nil || len(nextCerts) != 1 {
		t.Fatalf("staged CA certificate: %d (%v)", len(nextCerts), err)
	}
	next := nextCerts[0]
	p, agentEndpoint = start()
	if err := heartbeat(agentEndpoint, caPEM, stale); err != nil {
		t.Fatalf("old-CA certificate after staging: %v", err)
	}
	resp, err := agentClient(t, agentEndpoint, caPEM, &renewing.cert).RenewCertificate(ctx, &sirsiv1.RenewCertificateRequest{CsrPem: csrPEM(t, renewing.key)})
	if err != nil {
		t.Fatal(err)
	}
	renewing.set(t, resp.CertificatePem, resp.CaBundlePem)
	if signedBy(t, renewing.cert, next) {
		t.Fatal("the staged CA signed before its promotion")
	}
	if certs, err := pki.ParseCertificatesPEM(renewing.bundle); err != nil || len(certs) != 2 {
		t.Fatalf("renewal bundle: %d certificates (%v), want the old and the next CA", len(certs), err)
	}
	stopServer(t, p)

	// Step 2: promote. Both CAs' certificates work; renewals use the new CA.
	rotateCA("promote", exitOK, "promoted the next CA")
	p, agentEndpoint = start()
	if err := heartbeat(agentEndpoint, renewing.bundle, stale); err != nil {
		t.Fatalf("old-CA certificate during the overlap: %v", err)
	}
	resp, err = agentClient(t, agentEndpoint, renewing.bundle, &renewing.cert).RenewCertificate(ctx, &sirsiv1.RenewCertificateRequest{CsrPem: csrPEM(t, renewing.key)})
	if err != nil {
		t.Fatal(err)
	}
	renewing.set(t, resp.CertificatePem, resp.CaBundlePem)
	if !signedBy(t, renewing.cert, next) {
		t.Fatal("the certificate renewed after the promotion is not signed by the new CA")
	}
	if err := heartbeat(agentEndpoint, renewing.bundle, renewing); err != nil {
		t.Fatalf("new-CA certificate: %v", err)
	}
	stopServer(t, p)

	// Step 3: retire. Only the new CA's certificates work.
	rotateCA("retire", exitOK, "retired the previous CA")
	rotateCA("retire", exitFailure, "there is none")
	p, agentEndpoint = start()
	if err := heartbeat(agentEndpoint, renewing.bundle, renewing); err != nil {
		t.Fatalf("new-CA certificate after the retirement: %v", err)
	}
	if err := heartbeat(agentEndpoint, renewing.bundle, stale); err == nil {
		t.Fatal("old-CA certificate accepted after the retirement")
	}
	stopServer(t, p)
}
