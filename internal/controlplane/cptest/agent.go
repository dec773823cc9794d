package cptest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
)

// WithAgentService also serves AgentService on a second listener with
// mutual TLS, as agentd server does: Env.AgentEndpoint, Env.AgentCA and
// Env.CACertPEM (the CA agents trust) are set.
func WithAgentService() Option { return func(c *config) { c.agent = true } }

// agentPKI is one CA loaded twice: signer follows the test clock, so
// agent certificates expire when the clock says so; server keeps real
// time, so the listener's certificate stays valid for clients on real
// time whatever the test does to the clock.
type agentPKI struct {
	signer *pki.CA
	server *pki.ServerCert
}

func newAgentPKI(t testing.TB, clock *Clock) *agentPKI {
	t.Helper()
	dir := t.TempDir()
	signer, _, err := pki.LoadOrCreateCA(pki.Options{Dir: dir, Name: "cptest", Now: clock.Now})
	if err != nil {
		t.Fatalf("cptest: agent CA: %v", err)
	}
	wallClock, _, err := pki.LoadOrCreateCA(pki.Options{Dir: dir, Name: "cptest"})
	if err != nil {
		t.Fatalf("cptest: agent CA: %v", err)
	}
	sc, err := pki.NewServerCert(wallClock, dir, nil)
	if err != nil {
		t.Fatalf("cptest: agent listener certificate: %v", err)
	}
	return &agentPKI{signer: signer, server: sc}
}

// startAgentListener serves AgentService alone with the interceptors of
// the control plane, verifying client certificates (when given) at the
// server's clock.
func startAgentListener(t testing.TB, srv *controlplane.Server, p *agentPKI, clock *Clock, inner []grpc.UnaryServerInterceptor) string {
	t.Helper()
	cfg := pki.ServerTLSConfig(p.server.GetCertificate, nil)
	cfg.ClientCAs, cfg.ClientAuth, cfg.Time = p.signer.Pool(), tls.VerifyClientCertIfGiven, clock.Now
	opts := append(srv.ServerOptions(), grpc.ChainUnaryInterceptor(inner...), grpc.Creds(srv.ObserveHandshakes(credentials.NewTLS(cfg))), grpc.MaxRecvMsgSize(controlplane.MaxAgentMessageBytes))
	g := grpc.NewServer(opts...)
	srv.RegisterAgentService(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cptest: agent listen: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = g.Serve(lis)
	}()
	t.Cleanup(func() {
		g.Stop()
		<-done
	})
	return lis.Addr().String()
}

// NewCloudAccount creates an AWS cloud account (in us-east-1 and
// eu-west-1) for accountID, a 12-digit AWS account id, with the operator
// token.
func (e *Env) NewCloudAccount(t testing.TB, tenantID, accountID string) *sirsiv1.CloudAccount {
	t.Helper()
	resp, err := e.Client.CreateCloudAccount(context.Background(), &sirsiv1.CreateCloudAccountRequest{CloudAccount: &sirsiv1.CloudAccount{
		TenantId: tenantID, Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: accountID, Regions: []string{"us-east-1", "eu-west-1"},
		RoleArn: "arn:aws:iam::" + accountID + ":role/sirsi-agent", ExternalId: "cptest-external-id",
	}})
	if err != nil {
		t.Fatalf("cptest: create cloud account %s: %v", accountID, err)
	}
	return resp.CloudAccount
}

// NewEnrollmentToken creates a single-use enrollment token for the cloud
// account, valid for an hour of the server's clock, and returns its
// secret.
func (e *Env) NewEnrollmentToken(t testing.TB, tenantID, cloudAccountID string) string {
	t.Helper()
	resp, err := e.Client.CreateEnrollmentToken(context.Background(), &sirsiv1.CreateEnrollmentTokenRequest{
		TenantId: tenantID, CloudAccountId: cloudAccountID, Ttl: durationpb.New(time.Hour), MaxUses: 1,
	})
	if err != nil {
		t.Fatalf("cptest: create enrollment token: %v", err)
	}
	return resp.EnrollmentToken.Token
}

// Agent is an enrolled agent: its certificate and a client using it.
type Agent struct {
	ID       string
	Enroll   *sirsiv1.EnrollResponse
	Key      *ecdsa.PrivateKey
	Cert     tls.Certificate
	Client   sirsiv1.AgentServiceClient
	TenantID string
}

// EnrollAgent enrolls a new agent into the cloud account with a fresh
// P-256 key and a new enrollment token.
func (e *Env) EnrollAgent(t testing.TB, tenantID, cloudAccountID string) *Agent {
	t.Helper()
	key, csrPEM := NewCSR(t)
	resp, err := e.DialAgent(t, nil).Enroll(context.Background(), &sirsiv1.EnrollRequest{
		EnrollmentToken: e.NewEnrollmentToken(t, tenantID, cloudAccountID), CsrPem: csrPEM, Hostname: "cptest", Version: "0.0.0-cptest",
	})
	if err != nil {
		t.Fatalf("cptest: enroll: %v", err)
	}
	cert := KeyPair(t, key, resp.CertificatePem)
	return &Agent{ID: resp.AgentId, Enroll: resp, Key: key, Cert: cert, Client: e.DialAgent(t, &cert), TenantID: resp.TenantId}
}

// DialAgent returns an AgentService client that trusts the agent CA and
// presents cert (nil: no client certificate, as for Enroll). The
// connection closes when the test ends.
func (e *Env) DialAgent(t testing.TB, cert *tls.Certificate) sirsiv1.AgentServiceClient {
	t.Helper()
	if e.AgentEndpoint == "" {
		t.Fatal("cptest: DialAgent needs Start(t, WithAgentService())")
	}
	cfg := &tls.Config{RootCAs: e.AgentCA.Pool(), MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	conn, err := grpc.NewClient(e.AgentEndpoint, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatalf("cptest: dial %s: %v", e.AgentEndpoint, err)
	}
	t.Cleanup(func() { conn.Close() })
	return sirsiv1.NewAgentServiceClient(conn)
}

// NewCSR makes a P-256 key and a PEM certificate request for it.
func NewCSR(t testing.TB) (*ecdsa.PrivateKey, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("cptest: key: %v", err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatalf("cptest: CSR: %v", err)
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// KeyPair joins key and a PEM certificate into a client certificate.
func KeyPair(t testing.TB, key *ecdsa.PrivateKey, certPEM string) tls.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil {
		t.Fatal("cptest: no PEM certificate")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("cptest: parse certificate: %v", err)
	}
	return tls.Certificate{Certificate: [][]byte{block.Bytes}, PrivateKey: key, Leaf: leaf}
}
