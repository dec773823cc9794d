package daemon

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
)

// startServer runs `agentd server` and returns it with its gRPC endpoint.
func startServer(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	p := startAgentd(t, append([]string{"server", "-listen", "127.0.0.1:0", "-http-listen", "127.0.0.1:0"}, args...)...)
	l := p.waitLog("gRPC API listening")
	return p, fmt.Sprint(l["endpoint"])
}

func stopServer(t *testing.T, p *proc) {
	t.Helper()
	p.signal(syscall.SIGTERM)
	if code := p.wait(); code != exitOK {
		t.Fatalf("exit code after SIGTERM = %d, want 0", code)
	}
}

func readToken(t *testing.T, dataDir string) (string, os.FileInfo) {
	t.Helper()
	path := filepath.Join(dataDir, operatorTokenFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b)), info
}

func TestServerRestartKeepsDataAndOperatorToken(t *testing.T) {
	dir := t.TempDir()
	p, endpoint := startServer(t, "-data-dir", dir)
	tok, info := readToken(t, dir)
	if info.Mode().Perm() != 0o600 {
		t.Errorf("operator token file mode %04o, want 0600", info.Mode().Perm())
	}
	p.waitLog("generated the operator token on first start; it is in a file readable only by this user", "path", filepath.Join(dir, operatorTokenFile))
	ca := filepath.Join(dir, pkiDir, "ca.pem")
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	created, err := dial(t, endpoint, ca).CreateTenant(withToken(ctx, tok), &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{Name: "acme", DisplayName: "Acme", Tier: sirsiv1.Tier_TIER_STANDARD}})
	if err != nil {
		t.Fatal(err)
	}
	stopServer(t, p)
	if strings.Contains(p.stderrText(), tok) {
		t.Fatal("the operator token appears in the log")
	}

	p, endpoint = startServer(t, "-data-dir", dir)
	tok2, info2 := readToken(t, dir)
	if tok2 != tok || !info2.ModTime().Equal(info.ModTime()) {
		t.Error("the operator token file was rewritten on restart")
	}
	got, err := dial(t, endpoint, ca).GetTenant(withToken(ctx, tok), &sirsiv1.GetTenantRequest{Id: created.GetTenant().GetId()})
	if err != nil {
		t.Fatalf("the first start's token or tenant did not survive a restart: %v", err)
	}
	if got.GetTenant().GetName() != "acme" {
		t.Errorf("tenant = %v", got.GetTenant())
	}
	if findLog(p.logs, "generated the operator token on first start; it is in a file readable only by this user") != nil {
		t.Error("a second token was generated on restart")
	}
	stopServer(t, p)
}

func TestServerSIGHUPReloadsLogLevel(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "agentd.hcl")
	write := func(level string) {
		src := fmt.Sprintf("data_dir = %q\nlog_level = %q\nlog_format = \"json\"\n", filepath.Join(dir, "data"), level)
		if err := os.WriteFile(cfgFile, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("info")
	p, endpoint := startServer(t, "-config", cfgFile)
	tok, _ := readToken(t, filepath.Join(dir, "data"))
	mc := dial(t, endpoint, filepath.Join(dir, "data", pkiDir, "ca.pem"))
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	if _, err := mc.GetIdentity(withToken(ctx, tok), &sirsiv1.GetIdentityRequest{}); err != nil {
		t.Fatal(err)
	}

	write("debug")
	p.signal(syscall.SIGHUP)
	p.waitLog("SIGHUP: reloaded", "log_level", "debug", "previous", "info")
	// Everything logged before the reload line has been read by now, so an
	// access-log line among it would have been logged at info level.
	p.mu.Lock()
	early := findLog(p.logs, "rpc")
	p.mu.Unlock()
	if early != nil {
		t.Fatalf("debug access log written at info level: %v", early)
	}
	if _, err := mc.GetIdentity(withToken(ctx, tok), &sirsiv1.GetIdentityRequest{}); err != nil {
		t.Fatal(err)
	}
	p.waitLog("rpc", "method", "/sirsi.v1.ManagementService/GetIdentity", "code", "OK")

	write("loud")
	p.signal(syscall.SIGHUP)
	p.waitLog("SIGHUP: configuration not reloaded; keeping the running one")
	stopServer(t, p)
}

func TestServerPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitBound)
	defer cancel()
	cluster, err := pgtest.Start(ctx)
	if errors.Is(err, pgtest.ErrNoBinaries) && os.Getenv("CI") != "true" {
		t.Skipf("SKIPPING agentd server on PostgreSQL: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if stopped {
			return
		}
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	dbURL, err := cluster.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}

	dir1 := t.TempDir()
	p, endpoint := startServer(t, "-data-dir", dir1, "-database-url", dbURL)
	p.waitLog("store opened", "backend", "postgresql")
	tok, _ := readToken(t, dir1)
	if _, err := dial(t, endpoint, filepath.Join(dir1, pkiDir, "ca.pem")).CreateTenant(withToken(ctx, tok), &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{Name: "pg-tenant", Tier: sirsiv1.Tier_TIER_FREE}}); err != nil {
		t.Fatal(err)
	}
	stopServer(t, p)

	// A second replica with its own data dir has its own seal key and CA:
	// it would fail every sealed read and every agent, so it refuses to
	// start, saying what to share; first the seal key (the CA key is
	// sealed with it), then the CA.
	dir2 := t.TempDir()
	refused := func(want ...string) {
		t.Helper()
		p := startAgentd(t, "server", "-listen", "127.0.0.1:0", "-http-listen", "127.0.0.1:0", "-data-dir", dir2, "-database-url", dbURL)
		if code := p.wait(); code == exitOK {
			t.Fatalf("a replica with its own data dir started on a shared database")
		}
		for _, w := range want {
			if !strings.Contains(p.stderrText(), w) {
				t.Errorf("refusal does not say %q:\n%s", w, p.stderrText())
			}
		}
	}
	refused("must share the seal key and the CA", "copy seal.key from the first replica's data dir")
	copyFile(t, filepath.Join(dir1, "seal.key"), filepath.Join(dir2, "seal.key"), 0o600)
	if err := os.RemoveAll(filepath.Join(dir2, pkiDir)); err != nil {
		t.Fatal(err)
	}
	refused("is not the CA of the other replicas on this database", "copy the "+pkiDir+" directory")
	if err := os.RemoveAll(filepath.Join(dir2, pkiDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir2, pkiDir), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{pki.CACertFile, pki.CAKeyFile} {
		copyFile(t, filepath.Join(dir1, pkiDir, f), filepath.Join(dir2, pkiDir, f), 0o600)
	}

	// Sharing both, it shares everything that matters through the
	// database: the first token works and the tenant is there; no token
	// file is written, as none was generated.
	p, endpoint = startServer(t, "-data-dir", dir2, "-database-url", dbURL)
	if _, err := os.Stat(filepath.Join(dir2, operatorTokenFile)); !os.IsNotExist(err) {
		t.Errorf("a replica joining an initialised database wrote a token file: %v", err)
	}
	resp, err := dial(t, endpoint, filepath.Join(dir2, pkiDir, "ca.pem")).GetTenant(withToken(ctx, tok), &sirsiv1.GetTenantRequest{Name: "pg-tenant"})
	if err != nil {
		t.Fatalf("the second server does not see the first one's data: %v", err)
	}
	if resp.GetTenant().GetName() != "pg-tenant" {
		t.Errorf("tenant = %v", resp.GetTenant())
	}

	// With the database gone the server is alive but not ready, and still
	// shuts down cleanly.
	stopped = true
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	addr := p.httpAddr()
	if resp, body := httpGet(t, addr, "/readyz"); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "store") {
		t.Errorf("/readyz without a database = %d %s, want 503 naming the store", resp.StatusCode, body)
	}
	if resp, _ := httpGet(t, addr, "/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz without a database = %d, want 200 (the process is up)", resp.StatusCode)
	}
	stopServer(t, p)
	if strings.Contains(p.stderrText(), dbURL) {
		t.Error("the database URL appears in the log")
	}
}

func TestMainErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	badHCL := filepath.Join(t.TempDir(), "bad.hcl")
	if err := os.WriteFile(badHCL, []byte("data_dir = \"/x\"\nlisten_grpc = \"127.0.0.1:1\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no command", nil, exitUsage, []string{"Usage: agentd"}},
		{"unknown command", []string{"nope"}, exitUsage, []string{`unknown command "nope"`}},
		{"server without data dir", []string{"server"}, exitUsage, []string{"data_dir: required"}},
		{"server bad flag value", []string{"server", "-data-dir", t.TempDir(), "-log-level", "loud"}, exitUsage, []string{"log_level", "flag -log-level"}},
		{"server bad config file", []string{"server", "-config", badHCL}, exitUsage, []string{badHCL + ":2", "listen_grpc"}},
		{"server stray argument", []string{"server", "-data-dir", t.TempDir(), "extra"}, exitUsage, []string{"unexpected arguments"}},
		{"server port in use", []string{"server", "-data-dir", t.TempDir(), "-listen", busy.Addr().String(), "-http-listen", "127.0.0.1:0"}, exitFailure, []string{"grpc_listen", "address already in use"}},
		{"dev negative latency", []string{"dev", "-dev-rpc-latency", "-1s"}, exitUsage, []string{"-dev-rpc-latency"}},
		{"dev short token", []string{"dev", "-dev-token", "short"}, exitUsage, []string{"operator_token", "flag -dev-token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

func TestVersion(t *testing.T) {
	var stdout bytes.Buffer
	if code := Main([]string{"version"}, &stdout, &bytes.Buffer{}); code != exitOK {
		t.Fatalf("exit code %d", code)
	}
	if !strings.HasPrefix(stdout.String(), "agentd ") {
		t.Errorf("version output %q", stdout.String())
	}
	p := startAgentd(t, "version")
	if code := p.wait(); code != exitOK {
		t.Fatalf("exit code %d", code)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.out) != 1 || p.out[0] != "agentd "+testVersion {
		t.Errorf("built binary says %q, want the -ldflags version %q", p.out, testVersion)
	}
}

func TestPrintExportsQuotes(t *testing.T) {
	var b bytes.Buffer
	if err := printExports(&b, [][2]string{{"A", "https://127.0.0.1:7443"}, {"B", "it's $HOME"}, {"C", "/tmp/x y/ca.pem"}}); err != nil {
		t.Fatal(err)
	}
	want := "export A=https://127.0.0.1:7443\nexport B='it'\\''s $HOME'\nexport C='/tmp/x y/ca.pem'\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestServerOperatorCertificatesAndClientAuth(t *testing.T) {
	caDir := t.TempDir()
	ca, _, err := pki.LoadOrCreateCA(pki.Options{Dir: caDir, Name: "operator.test"})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := pki.NewServerCert(ca, caDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(caDir, pki.ServerCertFile), filepath.Join(caDir, pki.ServerKeyFile)
	// Hand the daemon copies, so reissuing below changes only what SIGHUP
	// should pick up.
	servedCert, servedKey := filepath.Join(t.TempDir(), "srv.pem"), filepath.Join(t.TempDir(), "srv-key.pem")
	copyFile(t, certPath, servedCert, 0o644)
	copyFile(t, keyPath, servedKey, 0o600)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := url.Parse("spiffe://operator.test/operator/alice")
	clientCert, _, err := ca.SignCSR(csr, id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	p, endpoint := startServer(t, "-data-dir", dir, "-tls-cert-file", servedCert, "-tls-key-file", servedKey, "-tls-client-ca-file", ca.CertPath, "-metrics-listen", "127.0.0.1:0")
	// The operator's files serve the management API; the data dir CA is
	// made all the same, because it signs agent certificates.
	if _, err := os.Stat(filepath.Join(dir, pkiDir, pki.CACertFile)); err != nil {
		t.Errorf("no data dir CA for agent certificates: %v", err)
	}
	tok, _ := readToken(t, dir)
	host := strings.TrimPrefix(endpoint, "https://")
	call := func(withCert bool) (*x509.Certificate, error) {
		cfg := &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"}
		if withCert {
			cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{clientCert.Raw}, PrivateKey: key}}
		}
		var served *x509.Certificate
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			served = cs.PeerCertificates[0]
			return nil
		}
		conn, err := grpc.NewClient(host, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), waitBound)
		defer cancel()
		_, err = sirsiv1.NewManagementServiceClient(conn).GetIdentity(withToken(ctx, tok), &sirsiv1.GetIdentityRequest{})
		return served, err
	}
	if _, err := call(false); err == nil {
		t.Error("a client without a certificate was served although tls.client_ca_file is set")
	}
	served, err := call(true)
	if err != nil {
		t.Fatalf("client with a certificate from the client CA: %v", err)
	}
	if !served.Equal(sc.Leaf()) {
		t.Error("the server does not present the configured certificate")
	}

	metricsAddr := fmt.Sprint(p.waitLog("HTTP listening", "listener", "metrics_listen")["addr"])
	if _, body := httpGet(t, metricsAddr, "/metrics"); !strings.Contains(body, "sirsi_grpc_requests_total") {
		t.Error("/metrics missing on the metrics listener")
	}
	if resp, _ := httpGet(t, p.httpAddr(), "/metrics"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics still on the HTTP listener: %d", resp.StatusCode)
	}

	// Reissue (a new name forces it) and reload with SIGHUP.
	sc2, err := pki.NewServerCert(ca, caDir, []string{"renewed.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, keyPath, servedKey, 0o600)
	copyFile(t, certPath, servedCert, 0o644)
	p.signal(syscall.SIGHUP)
	p.waitLog("SIGHUP: reloaded the TLS certificate")
	served, err = call(true)
	if err != nil {
		t.Fatal(err)
	}
	if !served.Equal(sc2.Leaf()) {
		t.Error("SIGHUP did not reload the certificate files")
	}
	stopServer(t, p)
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}

func TestServerNeverOverwritesTokenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, operatorTokenFile)
	if err := os.WriteFile(path, []byte("token-of-another-database\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := Main([]string{"server", "-data-dir", dir, "-listen", "127.0.0.1:0", "-http-listen", "127.0.0.1:0"}, &stdout, &stderr)
	if code != exitFailure || !strings.Contains(stderr.String(), "never overwritten") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "token-of-another-database\n" {
		t.Fatalf("token file now %q (%v)", b, err)
	}
}

// TestServerAgentListener: agents enroll and call in over the agent
// listener with mutual TLS, also when the management API is plaintext;
// the management listener does not serve AgentService; SIGTERM drains both.
func TestServerAgentListener(t *testing.T) {
	dir := t.TempDir()
	p, endpoint := startServer(t, "-data-dir", dir, "-insecure", "-log-format", "json", "-agent-heartbeat-interval", "45s")
	ready := p.waitLog("agent listener ready")
	agentURL, caFile := fmt.Sprint(ready["endpoint"]), fmt.Sprint(ready["ca_cert"])
	if !strings.HasPrefix(agentURL, "https://127.0.0.1:") || strings.HasSuffix(agentURL, ":7444") || caFile != filepath.Join(dir, pkiDir, pki.CACertFile) {
		t.Fatalf("agent listener %s with CA %s", agentURL, caFile)
	}
	tok, _ := readToken(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	ctx = withToken(ctx, tok)
	mc := dial(t, endpoint, "")
	tn, err := mc.CreateTenant(ctx, &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{Name: "acme", Tier: sirsiv1.Tier_TIER_FREE}})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := mc.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: &sirsiv1.CloudAccount{
		TenantId: tn.Tenant.Id, Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: "123456789012", Regions: []string{"us-east-1"}, RoleArn: "arn:aws:iam::123456789012:role/sirsi",
	}})
	if err != nil {
		t.Fatal(err)
	}
	et, err := mc.CreateEnrollmentToken(ctx, &sirsiv1.CreateEnrollmentTokenRequest{TenantId: tn.Tenant.Id, CloudAccountId: acct.CloudAccount.Id})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := sirsiv1.NewAgentServiceClient(dialConn(t, endpoint, "")).Enroll(ctx, &sirsiv1.EnrollRequest{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("AgentService on the management listener: %v, want Unimplemented", err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	enrolled, err := sirsiv1.NewAgentServiceClient(dialConn(t, agentURL, caFile)).Enroll(ctx, &sirsiv1.EnrollRequest{
		EnrollmentToken: et.EnrollmentToken.Token, CsrPem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER})),
	})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(enrolled.CertificatePem))
	if block == nil {
		t.Fatal("no certificate in the enroll response")
	}
	pool, err := pki.LoadCertPool(caFile)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(strings.TrimPrefix(agentURL, "https://"), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		RootCAs: pool, Certificates: []tls.Certificate{{Certificate: [][]byte{block.Bytes}, PrivateKey: key}}, MinVersion: tls.VersionTLS12,
	})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hb, err := sirsiv1.NewAgentServiceClient(conn).Heartbeat(ctx, &sirsiv1.HeartbeatRequest{Version: "9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	if hb.Interval.AsDuration() != 45*time.Second {
		t.Errorf("heartbeat interval = %s, want the configured 45s", hb.Interval.AsDuration())
	}
	if _, err := grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{}); err != nil {
		t.Errorf("health on the agent listener: %v", err)
	}
	// Without a certificate only Enroll is open.
	if _, err := sirsiv1.NewAgentServiceClient(dialConn(t, agentURL, caFile)).Heartbeat(ctx, &sirsiv1.HeartbeatRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("heartbeat without a certificate: %v", err)
	}
	stopServer(t, p)
	p.mu.Lock()
	drained := 0
	for _, l := range p.logs {
		if l["@message"] == "gRPC drained" {
			drained++
		}
	}
	p.mu.Unlock()
	if drained != 2 {
		t.Errorf("%d listeners logged their drain, want 2 (management and agents)", drained)
	}
}

func TestServerAgentListenerOff(t *testing.T) {
	p, _ := startServer(t, "-data-dir", t.TempDir(), "-agent-listen", "", "-log-format", "json")
	p.waitLog("agent listener off (agent_listen is empty)")
	stopServer(t, p)
	if findLog(p.logs, "agent listener ready") != nil {
		t.Error("an agent listener started although agent_listen is empty")
	}
}
