package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// identityServer answers GetIdentity, failing the first failures calls with
// failWith, and records what the client sent.
type identityServer struct {
	sirsiv1.UnimplementedManagementServiceServer
	failures  int32
	failWith  func() error
	calls     atomic.Int32
	lastAuth  atomic.Value
	lastAgent atomic.Value
}

func (s *identityServer) GetIdentity(ctx context.Context, _ *sirsiv1.GetIdentityRequest) (*sirsiv1.GetIdentityResponse, error) {
	n := s.calls.Add(1)
	md, _ := metadata.FromIncomingContext(ctx)
	s.lastAuth.Store(strings.Join(md.Get("authorization"), ","))
	s.lastAgent.Store(strings.Join(md.Get("user-agent"), ","))
	if n <= s.failures {
		return nil, s.failWith()
	}
	return &sirsiv1.GetIdentityResponse{Actor: "operator", Operator: true}, nil
}

// serve starts srv on a loopback port and returns its address.
func serve(t *testing.T, srv *identityServer, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(opts...)
	sirsiv1.RegisterManagementServiceServer(g, srv)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return lis.Addr().String()
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestParseEndpoint(t *testing.T) {
	for _, tc := range []struct {
		in      string
		target  string
		tls     bool
		wantErr string
	}{
		{in: "https://cp.example.com:8443", target: "dns:///cp.example.com:8443", tls: true},
		{in: "http://127.0.0.1:9090", target: "dns:///127.0.0.1:9090", tls: false},
		{in: "cp.example.com:443", target: "dns:///cp.example.com:443", tls: true},
		{in: "https://[::1]:8443/", target: "dns:///[::1]:8443", tls: true},
		{in: "", wantErr: "endpoint: must not be empty"},
		{in: "ftp://x:1", wantErr: "scheme must be https or http"},
		{in: "https://x:1/api", wantErr: "without user, path or query"},
		{in: "https://x", wantErr: "must be host:port"},
		{in: "justahost", wantErr: "must be host:port"},
		{in: ":8080", wantErr: "host and port must not be empty"},
	} {
		target, useTLS, err := parseEndpoint(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseEndpoint(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || target != tc.target || useTLS != tc.tls {
			t.Errorf("parseEndpoint(%q) = %q, %v, %v; want %q, %v", tc.in, target, useTLS, err, tc.target, tc.tls)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		cfg     Config
		wantErr string
	}{
		"no token":      {Config{Endpoint: "127.0.0.1:1"}, "token: must not be empty"},
		"token newline": {Config{Endpoint: "127.0.0.1:1", Token: "a\nb"}, "token: must not contain line breaks"},
		"bad pem":       {Config{Endpoint: "127.0.0.1:1", Token: "t", CACertPEM: "nope"}, "ca_cert_pem: no PEM-encoded certificate"},
		"missing file":  {Config{Endpoint: "127.0.0.1:1", Token: "t", CACertFile: filepath.Join(dir, "absent.pem")}, "ca_cert_file: reading"},
		"file not pem":  {Config{Endpoint: "127.0.0.1:1", Token: "t", CACertFile: notPEM}, "ca_cert_file: no PEM-encoded certificate"},
		"bad endpoint":  {Config{Endpoint: "nohostport", Token: "t"}, "endpoint"},
		"plaintext":     {Config{Endpoint: "http://127.0.0.1:1", Token: "t"}, ""},
	} {
		c, err := New(context.Background(), tc.cfg)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: New: %v", name, err)
			} else {
				_ = c.Close()
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: New error = %v, want one containing %q", name, err, tc.wantErr)
		}
	}
}

func TestCallsCarryTokenAndUserAgent(t *testing.T) {
	srv := &identityServer{}
	addr := serve(t, srv)
	c := newClient(t, Config{Endpoint: "http://" + addr, Token: "s3cret", UserAgent: "terraform-provider-sirsi/test"})
	if _, err := c.Management.GetIdentity(context.Background(), &sirsiv1.GetIdentityRequest{}); err != nil {
		t.Fatalf("GetIdentity: %v", err)
	}
	if got := srv.lastAuth.Load(); got != "Bearer s3cret" {
		t.Errorf("authorization = %q, want %q", got, "Bearer s3cret")
	}
	if got, _ := srv.lastAgent.Load().(string); !strings.HasPrefix(got, "terraform-provider-sirsi/test") {
		t.Errorf("user-agent = %q, want it to start with terraform-provider-sirsi/test", got)
	}
}

func TestRetriesTransientErrors(t *testing.T) {
	for name, failWith := range map[string]func() error{
		"unavailable": func() error { return status.Error(codes.Unavailable, "restarting") },
		"exhausted with retry info": func() error {
			st, err := status.New(codes.ResourceExhausted, "slow down").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(10 * time.Millisecond)})
			if err != nil {
				panic(err)
			}
			return st.Err()
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := &identityServer{failures: 3, failWith: failWith}
			addr := serve(t, srv)
			c := newClient(t, Config{Endpoint: "http://" + addr, Token: "t", RetryTimeout: time.Minute})
			if _, err := c.Management.GetIdentity(context.Background(), &sirsiv1.GetIdentityRequest{}); err != nil {
				t.Fatalf("GetIdentity after transient failures: %v", err)
			}
			if got := srv.calls.Load(); got != 4 {
				t.Errorf("server saw %d calls, want 4 (3 failures + 1 success)", got)
			}
		})
	}
}

func TestDoesNotRetryPermanentErrors(t *testing.T) {
	srv := &identityServer{failures: 100, failWith: func() error { return status.Error(codes.Unauthenticated, "bad token") }}
	addr := serve(t, srv)
	c := newClient(t, Config{Endpoint: "http://" + addr, Token: "t", RetryTimeout: time.Minute})
	_, err := c.Management.GetIdentity(context.Background(), &sirsiv1.GetIdentityRequest{})
	if !IsUnauthenticated(err) {
		t.Fatalf("error = %v, want Unauthenticated", err)
	}
	if got := srv.calls.Load(); got != 1 {
		t.Errorf("server saw %d calls, want 1", got)
	}
}

func TestRetryGivesUpAfterRetryTimeout(t *testing.T) {
	srv := &identityServer{failures: 1 << 30, failWith: func() error { return status.Error(codes.Unavailable, "down") }}
	addr := serve(t, srv)
	c := newClient(t, Config{Endpoint: "http://" + addr, Token: "t", RetryTimeout: 500 * time.Millisecond})
	_, err := c.Management.GetIdentity(context.Background(), &sirsiv1.GetIdentityRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("error = %v, want Unavailable once retries are exhausted", err)
	}
	if got := srv.calls.Load(); got < 2 {
		t.Errorf("server saw %d calls, want at least 2 (retried)", got)
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	srv := &identityServer{failures: 1 << 30, failWith: func() error { return status.Error(codes.Unavailable, "down") }}
	addr := serve(t, srv)
	c := newClient(t, Config{Endpoint: "http://" + addr, Token: "t", RetryTimeout: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Management.GetIdentity(ctx, &sirsiv1.GetIdentityRequest{})
	if err == nil {
		t.Fatal("GetIdentity succeeded against a server that is always unavailable")
	}
	if !errors.Is(err, context.DeadlineExceeded) && status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("error = %v, want the context's deadline", err)
	}
}

// selfSigned returns a server certificate for 127.0.0.1 and its PEM.
func selfSigned(t *testing.T) (credentials.TransportCredentials, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sirsi test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := credentials.NewServerTLSFromFile(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return creds, string(certPEM)
}

func TestTLS(t *testing.T) {
	creds, caPEM := selfSigned(t)
	srv := &identityServer{}
	addr := serve(t, srv, grpc.Creds(creds))
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(caPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		cfg    Config
		wantOK bool
	}{
		"ca pem":        {Config{Endpoint: "https://" + addr, CACertPEM: caPEM}, true},
		"ca file":       {Config{Endpoint: addr, CACertFile: caFile}, true},
		"insecure":      {Config{Endpoint: "https://" + addr, Insecure: true}, true},
		"untrusted":     {Config{Endpoint: "https://" + addr}, false},
		"plaintext/tls": {Config{Endpoint: "http://" + addr}, false},
	} {
		t.Run(name, func(t *testing.T) {
			tc.cfg.Token = "t"
			// Handshake failures are Unavailable; keep their retries short.
			tc.cfg.RetryTimeout = 300 * time.Millisecond
			c := newClient(t, tc.cfg)
			_, err := c.Management.GetIdentity(context.Background(), &sirsiv1.GetIdentityRequest{})
			if tc.wantOK && err != nil {
				t.Fatalf("GetIdentity: %v", err)
			}
			if !tc.wantOK && err == nil {
				t.Fatal("GetIdentity succeeded, want a TLS failure")
			}
		})
	}
}

func TestTenantID(t *testing.T) {
	c := &Client{DefaultTenantID: "ten-default"}
	if got, err := c.TenantID("ten-x"); err != nil || got != "ten-x" {
		t.Errorf("TenantID(explicit) = %q, %v", got, err)
	}
	if got, err := c.TenantID(""); err != nil || got != "ten-default" {
		t.Errorf("TenantID(\"\") = %q, %v, want the default", got, err)
	}
	if _, err := (&Client{}).TenantID(""); !errors.Is(err, ErrNoTenant) || !strings.Contains(err.Error(), "SIRSI_TENANT_ID") {
		t.Errorf("TenantID without default: %v, want ErrNoTenant naming SIRSI_TENANT_ID", err)
	}
}

func TestErrorDetailIncludesFieldViolations(t *testing.T) {
	st, err := status.New(codes.InvalidArgument, "invalid tenant").WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "tenant.name", Description: "must be a slug"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := ErrorDetail(st.Err())
	for _, want := range []string{"invalid tenant", "InvalidArgument", "tenant.name: must be a slug"} {
		if !strings.Contains(got, want) {
			t.Errorf("ErrorDetail = %q, want it to contain %q", got, want)
		}
	}
	d := ErrorDiagnostic("Creating tenant acme", st.Err())
	if d.Summary() != "Creating tenant acme failed" || d.Detail() != got {
		t.Errorf("ErrorDiagnostic = %q / %q", d.Summary(), d.Detail())
	}
	if got := ErrorDetail(errors.New("plain")); got != "plain" {
		t.Errorf("ErrorDetail(plain error) = %q", got)
	}
	if !IsNotFound(status.Error(codes.NotFound, "x")) || IsNotFound(status.Error(codes.Internal, "x")) {
		t.Error("IsNotFound misclassifies")
	}
	if !IsAborted(status.Error(codes.Aborted, "x")) || IsAborted(nil) {
		t.Error("IsAborted misclassifies")
	}
}
