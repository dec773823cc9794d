package cptest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
)

// Env is one running control plane.
type Env struct {
	Endpoint      string
	OperatorToken string
	Store         store.Store
	Server        *controlplane.Server
	Registry      *prometheus.Registry
	Clock         *Clock
	// Client is authenticated with the operator token.
	Client sirsiv1.ManagementServiceClient
	// TLS or WithAgentService only: the CA that signed the server's
	// certificate (for 127.0.0.1 and localhost), as PEM and as a file.
	// With WithAgentService it is the agent CA, which also signs the
	// management listener's certificate under WithTLS.
	CACertPEM  []byte
	CACertFile string
	// WithAgentService only: AgentService's mTLS listener ("127.0.0.1:port")
	// and the CA that issues agent certificates.
	AgentEndpoint string
	AgentCA       *pki.CA

	clientCreds credentials.TransportCredentials
	secure      bool
}

type config struct {
	tls      bool
	st       store.Store
	operator string
	logger   hclog.Logger
	edit     []func(*controlplane.Options)
	agent    bool
	inner    []grpc.UnaryServerInterceptor
}

// Option changes how Start builds the environment.
type Option func(*config)

// WithInnerInterceptor adds ic innermost to both listeners' chains, where
// the caller is authenticated, as agentd adds the console's change feed.
func WithInnerInterceptor(ic grpc.UnaryServerInterceptor) Option {
	return func(c *config) { c.inner = append(c.inner, ic) }
}

// WithTLS serves TLS with a certificate from a throwaway CA.
func WithTLS() Option { return func(c *config) { c.tls = true } }

// WithStore uses st instead of a fresh SQLite database; Start closes it.
func WithStore(st store.Store) Option { return func(c *config) { c.st = st } }

// WithOperatorToken supplies the operator token instead of letting the
// server make one.
func WithOperatorToken(tok string) Option { return func(c *config) { c.operator = tok } }

// WithLogger gives the server a logger (default: none).
func WithLogger(l hclog.Logger) Option { return func(c *config) { c.logger = l } }

// WithServerOptions edits the server's options just before New.
func WithServerOptions(f func(*controlplane.Options)) Option {
	return func(c *config) { c.edit = append(c.edit, f) }
}

// Start runs a control plane until the test ends.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	ctx := context.Background()
	st := cfg.st
	if st == nil {
		var err error
		st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "sirsi.db"), nil)
		if err != nil {
			t.Fatalf("cptest: open SQLite store: %v", err)
		}
	}
	t.Cleanup(func() { st.Close() })

	env := &Env{Store: st, Registry: prometheus.NewRegistry(), Clock: &Clock{}}
	o := controlplane.Options{
		Store: st, Logger: cfg.logger, Registerer: env.Registry, Clock: env.Clock.Now, OperatorToken: cfg.operator,
	}
	var agentCA *agentPKI
	if cfg.agent {
		agentCA = newAgentPKI(t, env.Clock)
		o.AgentCA = agentCA.signer
	}
	for _, f := range cfg.edit {
		f(&o)
	}
	srv, err := controlplane.New(o)
	if err != nil {
		t.Fatalf("cptest: new control plane: %v", err)
	}
	env.Server = srv
	env.OperatorToken = cfg.operator
	if env.OperatorToken == "" {
		env.OperatorToken = srv.InitialOperatorToken()
	}
	if env.OperatorToken == "" {
		t.Fatal("cptest: the store already had an operator token; pass WithOperatorToken")
	}

	serverOpts := append(srv.ServerOptions(), grpc.ChainUnaryInterceptor(cfg.inner...))
	env.clientCreds = insecure.NewCredentials()
	env.secure = cfg.tls
	if agentCA != nil {
		env.AgentCA, env.CACertPEM, env.CACertFile = agentCA.signer, agentCA.signer.CertPEM, agentCA.signer.CertPath
		env.AgentEndpoint = startAgentListener(t, srv, agentCA, env.Clock, cfg.inner)
	}
	if cfg.tls && agentCA != nil {
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(&tls.Config{GetCertificate: agentCA.server.GetCertificate, MinVersion: tls.VersionTLS12})))
		env.clientCreds = credentials.NewTLS(&tls.Config{RootCAs: agentCA.signer.Pool(), MinVersion: tls.VersionTLS12})
	} else if cfg.tls {
		serverTLS, caPEM := selfSigned(t)
		env.CACertPEM = caPEM
		env.CACertFile = filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(env.CACertFile, caPEM, 0o600); err != nil {
			t.Fatalf("cptest: write CA file: %v", err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(serverTLS)))
		env.clientCreds = credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	}
	g := grpc.NewServer(serverOpts...)
	srv.Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cptest: listen: %v", err)
	}
	env.Endpoint = lis.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Serve returns when Stop runs in cleanup.
		_ = g.Serve(lis)
	}()
	t.Cleanup(func() {
		g.Stop()
		<-done
	})
	env.Client = env.Dial(t, env.OperatorToken)
	return env
}

// Dial returns a client sending token as its bearer token; "" sends no
// authorization at all. The connection closes when the test ends.
func (e *Env) Dial(t testing.TB, token string) sirsiv1.ManagementServiceClient {
	t.Helper()
	return sirsiv1.NewManagementServiceClient(e.DialConn(t, token))
}

// DialConn is Dial returning the connection, for generic Invoke calls.
func (e *Env) DialConn(t testing.TB, token string) *grpc.ClientConn {
	t.Helper()
	// Traced like the provider's client, so a test's trace crosses the
	// wire as a real caller's does.
	opts := []grpc.DialOption{grpc.WithTransportCredentials(e.clientCreds), tracing.DialOption()}
	if token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{token: token, secure: e.secure}))
	}
	conn, err := grpc.NewClient(e.Endpoint, opts...)
	if err != nil {
		t.Fatalf("cptest: dial %s: %v", e.Endpoint, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

type bearer struct {
	token  string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearer) RequireTransportSecurity() bool { return b.secure }

// Tenant is a tenant with one token of each role.
type Tenant struct {
	Tenant                               *sirsiv1.Tenant
	ID                                   string
	AdminToken, EditorToken, ViewerToken string
	Admin, Editor, Viewer                sirsiv1.ManagementServiceClient
}

// NewTenant creates a tenant named name with admin, editor and viewer
// tokens that never expire.
func (e *Env) NewTenant(t testing.TB, name string) *Tenant {
	t.Helper()
	resp, err := e.Client.CreateTenant(context.Background(), &sirsiv1.CreateTenantRequest{
		Tenant: &sirsiv1.Tenant{Name: name, DisplayName: name},
	})
	if err != nil {
		t.Fatalf("cptest: create tenant %s: %v", name, err)
	}
	tn := &Tenant{Tenant: resp.Tenant, ID: resp.Tenant.Id}
	tn.AdminToken, _ = e.NewAPIToken(t, tn.ID, sirsiv1.Role_ROLE_ADMIN, 0)
	tn.EditorToken, _ = e.NewAPIToken(t, tn.ID, sirsiv1.Role_ROLE_EDITOR, 0)
	tn.ViewerToken, _ = e.NewAPIToken(t, tn.ID, sirsiv1.Role_ROLE_VIEWER, 0)
	tn.Admin = e.Dial(t, tn.AdminToken)
	tn.Editor = e.Dial(t, tn.EditorToken)
	tn.Viewer = e.Dial(t, tn.ViewerToken)
	return tn
}

// NewAPIToken creates a token in tenantID with the operator token; ttl 0
// never expires. It returns the secret and the token record.
func (e *Env) NewAPIToken(t testing.TB, tenantID string, role sirsiv1.Role, ttl time.Duration) (string, *sirsiv1.ApiToken) {
	t.Helper()
	req := &sirsiv1.CreateApiTokenRequest{TenantId: tenantID, Role: role, Description: "cptest " + role.String()}
	if ttl != 0 {
		req.Ttl = durationpb.New(ttl)
	}
	resp, err := e.Client.CreateApiToken(context.Background(), req)
	if err != nil {
		t.Fatalf("cptest: create %s token: %v", role, err)
	}
	return resp.ApiToken.Token, resp.ApiToken
}

// Clock is the server's clock. It follows real time (plus whatever Advance
// added), so a test that does not care about time sees a normal server,
// until Set freezes it at a chosen instant.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
	frozen bool
	at     time.Time
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return c.at
	}
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.at = c.at.Add(d)
		return
	}
	c.offset += d
}

// Set stops the clock at t; Advance moves it from there.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frozen, c.at = true, t
}

func selfSigned(t testing.TB) (*tls.Config, []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("cptest: CA key: %v", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cptest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("cptest: CA certificate: %v", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatalf("cptest: parse CA certificate: %v", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("cptest: server key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatalf("cptest: server certificate: %v", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}
