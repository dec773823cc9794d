package controlplane_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/auth"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
)

// agentEnv is a control plane with AgentService, one tenant and one cloud
// account (AWS account 111111111111).
type agentEnv struct {
	*cptest.Env
	tn   *cptest.Tenant
	acct *sirsiv1.CloudAccount
}

func startAgentEnv(t *testing.T, opts ...cptest.Option) *agentEnv {
	t.Helper()
	env := cptest.Start(t, append([]cptest.Option{cptest.WithAgentService()}, opts...)...)
	tn := env.NewTenant(t, "acme")
	return &agentEnv{Env: env, tn: tn, acct: env.NewCloudAccount(t, tn.ID, "111111111111")}
}

func wantAgentCode(t *testing.T, err error, want codes.Code, what string) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("%s: code %s (%v), want %s", what, got, err, want)
	}
}

func authFailures(t *testing.T, env *cptest.Env, reason string) float64 {
	t.Helper()
	mfs, err := env.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "sirsi_agent_auth_failures_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func auditEvents(t *testing.T, env *cptest.Env, tenantID, action string) []*sirsiv1.AuditEvent {
	t.Helper()
	resp, err := env.Client.ListAuditEvents(context.Background(), &sirsiv1.ListAuditEventsRequest{TenantId: tenantID, Action: action, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Events
}

func TestEnrollIssuesCertificateAndListsAgent(t *testing.T) {
	e := startAgentEnv(t)
	ctx := context.Background()
	before := e.Clock.Now()
	ag := e.EnrollAgent(t, e.tn.ID, e.acct.Id)

	leaf := ag.Cert.Leaf
	want := "spiffe://" + controlplane.DefaultTrustDomain + "/tenant/" + e.tn.ID + "/account/" + e.acct.Id + "/agent/" + ag.ID
	if len(leaf.URIs) != 1 || leaf.URIs[0].String() != want {
		t.Fatalf("URI SANs = %v, want %s", leaf.URIs, want)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: e.AgentCA.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("issued certificate does not verify against the CA: %v", err)
	}
	if life := leaf.NotAfter.Sub(before); life < controlplane.DefaultAgentCertTTL-time.Minute || life > controlplane.DefaultAgentCertTTL+time.Minute {
		t.Errorf("certificate lives %s, want about %s", life, controlplane.DefaultAgentCertTTL)
	}
	if !ag.Enroll.ExpireTime.AsTime().Equal(leaf.NotAfter) || ag.Enroll.CaBundlePem != string(e.CACertPEM) ||
		ag.Enroll.TenantId != e.tn.ID || ag.Enroll.CloudAccountId != e.acct.Id {
		t.Errorf("enroll response = %v", ag.Enroll)
	}

	list, err := e.tn.Viewer.ListAgents(ctx, &sirsiv1.ListAgentsRequest{TenantId: e.tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Agents) != 1 || list.Agents[0].Id != ag.ID || list.Agents[0].Hostname != "cptest" || list.Agents[0].CloudAccountId != e.acct.Id ||
		!list.Agents[0].CertExpireTime.AsTime().Equal(leaf.NotAfter) {
		t.Fatalf("agents = %v", list.Agents)
	}
	ev := auditEvents(t, e.Env, e.tn.ID, "agent.enroll")
	if len(ev) != 1 || ev[0].Outcome != "ok" || ev[0].Actor != "agent:"+ag.ID || ev[0].Target != "agent/"+ag.ID {
		t.Fatalf("enroll audit = %v", ev)
	}

	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	hb, err := ag.Client.Heartbeat(ctx, &sirsiv1.HeartbeatRequest{
		Version: "1.2.3", Hostname: "ip-10-0-0-1", LastSweepTimes: map[string]*timestamppb.Timestamp{"discovery": timestamppb.New(at)}, LastError: "throttled",
		LastSweepFailures: map[string]*sirsiv1.SweepFailure{"costs": {Time: timestamppb.New(at), Error: "costs sweep: throttled"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if hb.Interval.AsDuration() != controlplane.DefaultHeartbeatInterval || hb.ServerTime == nil {
		t.Errorf("heartbeat response = %v", hb)
	}
	got, err := e.tn.Viewer.GetAgent(ctx, &sirsiv1.GetAgentRequest{TenantId: e.tn.ID, Id: ag.ID})
	if err != nil {
		t.Fatal(err)
	}
	if a := got.Agent; a.Version != "1.2.3" || a.Hostname != "ip-10-0-0-1" || a.LastError != "throttled" || !a.LastSweepTimes["discovery"].AsTime().Equal(at) ||
		a.LastSweepFailures["costs"].GetError() != "costs sweep: throttled" || !a.LastSweepFailures["costs"].GetTime().AsTime().Equal(at) {
		t.Fatalf("agent after heartbeat = %v", a)
	}
}

func TestEnrollRefusals(t *testing.T) {
	e := startAgentEnv(t)
	ctx := context.Background()
	c := e.DialAgent(t, nil)
	_, csr := cptest.NewCSR(t)
	var last *sirsiv1.EnrollResponse
	enroll := func(tok, csrPEM string) error {
		var err error
		last, err = c.Enroll(ctx, &sirsiv1.EnrollRequest{EnrollmentToken: tok, CsrPem: csrPEM})
		return err
	}

	unknown, _ := auth.Generate(auth.KindEnrollment)
	wantAgentCode(t, enroll(unknown, csr), codes.Unauthenticated, "unknown token")
	wantAgentCode(t, enroll("sxe_nope", csr), codes.InvalidArgument, "malformed token")

	tok := e.NewEnrollmentToken(t, e.tn.ID, e.acct.Id)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, weak)
	if err != nil {
		t.Fatal(err)
	}
	weakCSR := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	for name, bad := range map[string]string{"garbage": "not a csr", "weak RSA": weakCSR, "empty": ""} {
		err := enroll(tok, bad)
		wantAgentCode(t, err, codes.InvalidArgument, name+" CSR")
		if f := violations(err); len(f) != 1 || f[0] != "csr_pem" {
			t.Errorf("%s CSR: violations %v, want csr_pem", name, f)
		}
	}
	// The refused CSRs did not spend the single use.
	if err := enroll(tok, csr); err != nil {
		t.Fatalf("token spent by a refused CSR: %v", err)
	}
	agentID := last.AgentId
	// The same key again (its answer was lost) is the same agent.
	if err := enroll(tok, csr); err != nil || last.AgentId != agentID {
		t.Fatalf("the same key and token again: %v (agent %q, want %q)", err, last.GetAgentId(), agentID)
	}
	_, otherCSR := cptest.NewCSR(t)
	err = enroll(tok, otherCSR)
	wantAgentCode(t, err, codes.PermissionDenied, "used-up token")
	if !strings.Contains(err.Error(), "used up") {
		t.Errorf("used-up token: %v", err)
	}
	if _, err := e.tn.Admin.RevokeAgent(ctx, &sirsiv1.RevokeAgentRequest{Id: agentID}); err != nil {
		t.Fatal(err)
	}
	err = enroll(tok, csr)
	wantAgentCode(t, err, codes.PermissionDenied, "a revoked agent enrolling again")
	if !strings.Contains(err.Error(), "revoked") {
		t.Errorf("a revoked agent enrolling again: %v", err)
	}
	if agents, err := e.tn.Viewer.ListAgents(ctx, &sirsiv1.ListAgentsRequest{}); err != nil || len(agents.Agents) != 1 {
		t.Errorf("agents after enrolling again = %v (%v), want the one", agents.GetAgents(), err)
	}

	expiring := e.NewEnrollmentToken(t, e.tn.ID, e.acct.Id)
	e.Clock.Advance(2 * time.Hour)
	err = enroll(expiring, csr)
	wantAgentCode(t, err, codes.FailedPrecondition, "expired token")
	if !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired token: %v", err)
	}

	for reason, want := range map[string]float64{
		"unknown_enrollment_token": 1, "malformed_enrollment_token": 1, "used_enrollment_token": 1, "expired_enrollment_token": 1, "revoked": 1,
	} {
		if got := authFailures(t, e.Env, reason); got != want {
			t.Errorf("auth failures %s = %v, want %v", reason, got, want)
		}
	}
	outcomes := map[string]int{}
	for _, ev := range auditEvents(t, e.Env, e.tn.ID, "agent.enroll") {
		outcomes[ev.Outcome]++
	}
	if outcomes["ok"] != 2 || outcomes["PermissionDenied"] != 2 || outcomes["FailedPrecondition"] != 1 {
		t.Errorf("tenant's enroll audit outcomes = %v", outcomes)
	}
	// The unknown token belongs to no tenant: its refusal is in the
	// operator-level log.
	if ev := auditEvents(t, e.Env, "", "agent.enroll"); len(ev) < 1 || ev[0].Outcome != "Unauthenticated" {
		t.Errorf("operator-level enroll audit = %v", ev)
	}
}

func violations(err error) []string {
	var out []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				out = append(out, v.Field)
			}
		}
	}
	return out
}

// signed issues a client certificate for the identity with ca.
func signed(t *testing.T, ca *pki.CA, id pki.AgentIdentity, ttl time.Duration) tls.Certificate {
	t.Helper()
	key, csrPEM := cptest.NewCSR(t)
	csr, err := pki.ParseCSRPEM([]byte(csrPEM))
	if err != nil {
		t.Fatal(err)
	}
	uri, err := id.URI()
	if err != nil {
		t.Fatal(err)
	}
	_, certPEM, err := ca.SignCSR(csr, uri, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return cptest.KeyPair(t, key, string(certPEM))
}

func selfSignedAgent(t *testing.T, id pki.AgentIdentity) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	uri, _ := id.URI()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "impostor"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, IsCA: true, URIs: []*url.URL{uri},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// dialWith is an AgentService client presenting cert (if any) to addr,
// even when the server's list of acceptable CAs does not name its issuer
// (a client left to choose would send nothing then).
func dialWith(t *testing.T, addr string, roots *x509.CertPool, cert *tls.Certificate) sirsiv1.AgentServiceClient {
	t.Helper()
	cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return sirsiv1.NewAgentServiceClient(conn)
}

// serveAgents serves env's AgentService with a TLS configuration of the
// test's choosing, to reach the certificate checks behind the handshake.
func serveAgents(t *testing.T, env *cptest.Env, edit func(*tls.Config)) string {
	t.Helper()
	sc, err := pki.NewServerCert(env.AgentCA, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := pki.ServerTLSConfig(sc.GetCertificate, nil)
	edit(cfg)
	g := grpc.NewServer(append(env.Server.ServerOptions(), grpc.Creds(credentials.NewTLS(cfg)))...)
	env.Server.RegisterAgentService(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return lis.Addr().String()
}

func TestAgentCertificateAuthentication(t *testing.T) {
	e := startAgentEnv(t)
	ctx := context.Background()
	ag := e.EnrollAgent(t, e.tn.ID, e.acct.Id)
	id := pki.AgentIdentity{TrustDomain: controlplane.DefaultTrustDomain, TenantID: e.tn.ID, CloudAccountID: e.acct.Id, AgentID: ag.ID}
	hb := func(c sirsiv1.AgentServiceClient) error {
		_, err := c.Heartbeat(ctx, &sirsiv1.HeartbeatRequest{Version: "1"})
		return err
	}
	if err := hb(ag.Client); err != nil {
		t.Fatalf("enrolled agent refused: %v", err)
	}

	otherCA, _, err := pki.LoadOrCreateCA(pki.Options{Dir: t.TempDir(), Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	// The same CA key with a clock two days back signs a certificate
	// that expired yesterday.
	pastCA, _, err := pki.LoadOrCreateCA(pki.Options{Dir: filepath.Dir(e.AgentCA.CertPath), Now: func() time.Time { return time.Now().Add(-48 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	foreign := signed(t, otherCA, id, time.Hour)
	expired := signed(t, pastCA, id, time.Hour)
	self := selfSignedAgent(t, id)

	t.Run("handshake", func(t *testing.T) {
		wantAgentCode(t, hb(e.DialAgent(t, nil)), codes.Unauthenticated, "no certificate")
		for name, cert := range map[string]*tls.Certificate{"self-signed": &self, "other CA": &foreign, "expired": &expired} {
			if err := hb(dialWith(t, e.AgentEndpoint, e.AgentCA.Pool(), cert)); status.Code(err) != codes.Unavailable {
				t.Errorf("%s: %v, want the handshake to fail (Unavailable)", name, err)
			}
		}
	})
	t.Run("interceptor", func(t *testing.T) {
		// Nothing verified by TLS: the interceptor must refuse every
		// certificate, even the genuine one.
		unverified := serveAgents(t, e.Env, func(c *tls.Config) { c.ClientAuth = tls.RequestClientCert })
		for name, cert := range map[string]*tls.Certificate{"genuine": &ag.Cert, "self-signed": &self, "other CA": &foreign, "expired": &expired} {
			wantAgentCode(t, hb(dialWith(t, unverified, e.AgentCA.Pool(), cert)), codes.Unauthenticated, "unverified "+name)
		}
		// TLS trusting another CA as well: the interceptor still wants ours.
		pool := e.AgentCA.Pool()
		pool.AddCert(otherCA.Cert)
		lax := serveAgents(t, e.Env, func(c *tls.Config) { c.ClientAuth, c.ClientCAs = tls.VerifyClientCertIfGiven, pool })
		wantAgentCode(t, hb(dialWith(t, lax, e.AgentCA.Pool(), &foreign)), codes.Unauthenticated, "other CA behind a lax TLS layer")
		if err := hb(dialWith(t, lax, e.AgentCA.Pool(), &ag.Cert)); err != nil {
			t.Fatalf("genuine certificate behind a lax TLS layer: %v", err)
		}
		// TLS on real time, the control plane's clock past the expiry.
		e.Clock.Advance(controlplane.DefaultAgentCertTTL + time.Hour)
		err := hb(dialWith(t, lax, e.AgentCA.Pool(), &ag.Cert))
		e.Clock.Advance(-controlplane.DefaultAgentCertTTL - time.Hour)
		wantAgentCode(t, err, codes.Unauthenticated, "expired by the server's clock")
		if !strings.Contains(err.Error(), "expired") {
			t.Errorf("expired by the server's clock: %v", err)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		if _, err := e.tn.Editor.RevokeAgent(ctx, &sirsiv1.RevokeAgentRequest{TenantId: e.tn.ID, Id: ag.ID}); err != nil {
			t.Fatal(err)
		}
		wantAgentCode(t, hb(ag.Client), codes.PermissionDenied, "revoked agent")
		_, err := ag.Client.RenewCertificate(ctx, &sirsiv1.RenewCertificateRequest{CsrPem: mustCSR(t)})
		wantAgentCode(t, err, codes.PermissionDenied, "revoked agent renewing")
	})
	for reason, least := range map[string]float64{"no_certificate": 1, "unverified_certificate": 4, "untrusted_certificate": 1, "expired_certificate": 1, "revoked": 2} {
		if got := authFailures(t, e.Env, reason); got < least {
			t.Errorf("auth failures %s = %v, want at least %v", reason, got, least)
		}
	}
	var revoked int
	for _, ev := range auditEvents(t, e.Env, e.tn.ID, sirsiv1.AgentService_Heartbeat_FullMethodName) {
		if ev.Outcome == "PermissionDenied" && ev.Actor == "agent:"+ag.ID {
			revoked++
		}
	}
	if revoked != 1 {
		t.Errorf("%d audited refusals of the revoked agent's heartbeat, want 1", revoked)
	}
}

func mustCSR(t *testing.T) string {
	_, csr := cptest.NewCSR(t)
	return csr
}

func TestRenewalOverlap(t *testing.T) {
	e := startAgentEnv(t)
	ctx := context.Background()
	ag := e.EnrollAgent(t, e.tn.ID, e.acct.Id)
	renew := func(c sirsiv1.AgentServiceClient) tls.Certificate {
		t.Helper()
		key, csr := cptest.NewCSR(t)
		resp, err := c.RenewCertificate(ctx, &sirsiv1.RenewCertificateRequest{CsrPem: csr})
		if err != nil {
			t.Fatal(err)
		}
		if resp.CaBundlePem != string(e.CACertPEM) {
			t.Error("renewal answered another CA bundle")
		}
		return cptest.KeyPair(t, key, resp.CertificatePem)
	}
	hb := func(cert *tls.Certificate) error {
		_, err := e.DialAgent(t, cert).Heartbeat(ctx, &sirsiv1.HeartbeatRequest{})
		return err
	}
	first := ag.Cert
	second := renew(ag.Client)
	if second.Leaf.URIs[0].String() != first.Leaf.URIs[0].String() || second.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) == 0 {
		t.Fatalf("renewed certificate: URI %s serial %s, first URI %s serial %s", second.Leaf.URIs[0], second.Leaf.SerialNumber, first.Leaf.URIs[0], first.Leaf.SerialNumber)
	}
	if err := hb(&first); err != nil {
		t.Fatalf("the previous certificate must work during the overlap: %v", err)
	}
	if err := hb(&second); err != nil {
		t.Fatal(err)
	}
	third := renew(e.DialAgent(t, &second))
	wantAgentCode(t, hb(&first), codes.Unauthenticated, "certificate two renewals old")
	for name, c := range map[string]*tls.Certificate{"second": &second, "third": &third} {
		if err := hb(c); err != nil {
			t.Errorf("%s certificate: %v", name, err)
		}
	}
	if got := authFailures(t, e.Env, "superseded_certificate"); got != 1 {
		t.Errorf("superseded refusals = %v", got)
	}
	if ev := auditEvents(t, e.Env, e.tn.ID, "agent.renew_certificate"); len(ev) != 2 || ev[0].Actor != "agent:"+ag.ID || ev[0].Outcome != "ok" {
		t.Errorf("renewal audit = %v", ev)
	}
}

func resource(id, region string) *sirsiv1.Resource {
	return &sirsiv1.Resource{ResourceId: id, Type: "aws_ec2_instance", Region: region, Size: "m5.large", State: "running", Tags: map[string]string{"aws:cloudformation:stack-name": "web"}}
}

func TestForeignTenantPayloadsLandInTheCallersTenant(t *testing.T) {
	foreignTenantPayloads(t)
}

// foreignTenantPayloads is the AgentService cross-tenant matrix; opts pick
// the store (crosstenant_pg_test.go runs it on PostgreSQL).
func foreignTenantPayloads(t *testing.T, opts ...cptest.Option) {
	e := startAgentEnv(t, opts...)
	ctx := context.Background()
	tnB := e.NewTenant(t, "bravo")
	acctB := e.NewCloudAccount(t, tnB.ID, "222222222222")
	agA := e.EnrollAgent(t, e.tn.ID, e.acct.Id)
	agB := e.EnrollAgent(t, tnB.ID, acctB.Id)

	polB, err := tnB.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{TenantId: tnB.ID, Name: "b-all"}})
	if err != nil {
		t.Fatal(err)
	}
	polA, err := e.tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{TenantId: e.tn.ID, Name: "a-all"}})
	if err != nil {
		t.Fatal(err)
	}

	r := resource("i-0aaa", "us-east-1")
	r.TenantId, r.CloudAccountId, r.AccountId = tnB.ID, acctB.Id, "222222222222"
	if _, err := agA.Client.ReportInventory(ctx, &sirsiv1.ReportInventoryRequest{BatchId: "shared-batch", Upserts: []*sirsiv1.Resource{r}}); err != nil {
		t.Fatal(err)
	}
	inB, err := tnB.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{TenantId: tnB.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(inB.Resources) != 0 {
		t.Fatalf("A's agent wrote into B: %v", inB.Resources)
	}
	inA, err := e.tn.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{TenantId: e.tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(inA.Resources) != 1 || inA.Resources[0].TenantId != e.tn.ID || inA.Resources[0].CloudAccountId != e.acct.Id || inA.Resources[0].AccountId != "111111111111" {
		t.Fatalf("A's resources = %v", inA.Resources)
	}
	// Batch ids are per tenant: B's agent reusing A's id is not a duplicate.
	resp, err := agB.Client.ReportInventory(ctx, &sirsiv1.ReportInventoryRequest{BatchId: "shared-batch", Upserts: []*sirsiv1.Resource{resource("i-0bbb", "us-east-1")}})
	if err != nil || resp.Duplicate {
		t.Fatalf("B's batch with A's batch id: %v, %v", resp, err)
	}

	_, err = agA.Client.ReportRecommendations(ctx, &sirsiv1.ReportRecommendationsRequest{BatchId: "r1", PolicyId: polB.OptimizationPolicy.Id})
	wantAgentCode(t, err, codes.NotFound, "recommendations under B's policy")

	recsB, err := agB.Client.ReportRecommendations(ctx, &sirsiv1.ReportRecommendationsRequest{BatchId: "rb", PolicyId: polB.OptimizationPolicy.Id, Recommendations: []*sirsiv1.Recommendation{
		{ResourceId: "i-0bbb", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", CurrentSize: "m5.large", ProposedSize: "m5.small", Confidence: 0.9},
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = agA.Client.ReportActions(ctx, &sirsiv1.ReportActionsRequest{BatchId: "a1", Actions: []*sirsiv1.Action{{
		Id: "act-1", RecommendationId: recsB.RecommendationIds[0], ResourceId: "i-0bbb", ResourceType: "aws_ec2_instance", Region: "us-east-1",
		Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED,
	}}})
	wantAgentCode(t, err, codes.InvalidArgument, "action on B's recommendation")
	if v := violations(err); len(v) != 1 || v[0] != "actions[0].recommendation_id" {
		t.Errorf("violations = %v", v)
	}
	if got, err := e.Store.Tenant(tnB.ID).GetRecommendation(ctx, recsB.RecommendationIds[0]); err != nil || got.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN {
		t.Fatalf("B's recommendation after A's attempt: %v, %v", got, err)
	}

	asg, err := agA.Client.GetAssignment(ctx, &sirsiv1.GetAssignmentRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if asg.CloudAccount.Id != e.acct.Id || len(asg.Policies) != 1 || asg.Policies[0].Id != polA.OptimizationPolicy.Id {
		t.Fatalf("A's assignment = %v", asg)
	}

	// Plans: A's agent cannot save one under B's policy or carrying out
	// B's recommendation, and does not see B's approved plan.
	planB := &sirsiv1.ActionPlan{Id: "plan-b", PolicyId: polB.OptimizationPolicy.Id, Actions: plannedActions("pb", recsB.RecommendationIds[0])}
	if _, err := agB.Client.ReportActionPlan(ctx, &sirsiv1.ReportActionPlanRequest{BatchId: "pb", Plan: planB}); err != nil {
		t.Fatal(err)
	}
	if _, err := tnB.Editor.ApproveActionPlan(ctx, &sirsiv1.ApproveActionPlanRequest{Id: "plan-b"}); err != nil {
		t.Fatal(err)
	}
	_, err = agA.Client.ReportActionPlan(ctx, &sirsiv1.ReportActionPlanRequest{BatchId: "pa1", Plan: &sirsiv1.ActionPlan{Id: "plan-a1", PolicyId: polB.OptimizationPolicy.Id}})
	wantAgentCode(t, err, codes.NotFound, "plan under B's policy")
	_, err = agA.Client.ReportActionPlan(ctx, &sirsiv1.ReportActionPlanRequest{BatchId: "pa2", Plan: &sirsiv1.ActionPlan{
		Id: "plan-a2", PolicyId: polA.OptimizationPolicy.Id, Actions: plannedActions("pa", recsB.RecommendationIds[0]),
	}})
	wantAgentCode(t, err, codes.InvalidArgument, "plan carrying out B's recommendation")
	// The same plan id in A is A's own plan, not B's.
	if _, err := agA.Client.ReportActionPlan(ctx, &sirsiv1.ReportActionPlanRequest{BatchId: "pa3", Plan: &sirsiv1.ActionPlan{Id: "plan-b", PolicyId: polA.OptimizationPolicy.Id}}); err != nil {
		t.Fatal(err)
	}
	gotB, err := tnB.Viewer.GetActionPlan(ctx, &sirsiv1.GetActionPlanRequest{Id: "plan-b"})
	if err != nil || gotB.Plan.Status != sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_APPROVED || len(gotB.Plan.Actions) != 1 || gotB.Plan.PolicyId != polB.OptimizationPolicy.Id {
		t.Fatalf("B's plan after A's agent used its id: %v, %v", gotB, err)
	}
	_, err = agA.Client.ReportActions(ctx, &sirsiv1.ReportActionsRequest{BatchId: "a2", Actions: []*sirsiv1.Action{{
		Id: "act-2", PlanId: "nope", ResourceId: "i-0bbb", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED,
	}}})
	wantAgentCode(t, err, codes.InvalidArgument, "action from an unknown plan")
	asg, err = agA.Client.GetAssignment(ctx, &sirsiv1.GetAssignmentRequest{})
	if err != nil || len(asg.ApprovedPlans) != 0 || len(asg.ApprovedRecommendations) != 0 {
		t.Fatalf("A's assignment shows B's approvals: %v, %v", asg, err)
	}
	if asg, err := agB.Client.GetAssignment(ctx, &sirsiv1.GetAssignmentRequest{}); err != nil || len(asg.ApprovedPlans) != 1 || asg.ApprovedPlans[0].TenantId != tnB.ID {
		t.Fatalf("B's assignment: %v, %v", asg, err)
	}

	// Reservations: not against B's policy, and A's grants leave B's cap
	// alone.
	_, err = agA.Client.ReserveActions(ctx, &sirsiv1.ReserveActionsRequest{ReservationId: "r-1", PolicyId: polB.OptimizationPolicy.Id, Count: 1})
	wantAgentCode(t, err, codes.NotFound, "reserve under B's policy")
	if r, err := agA.Client.ReserveActions(ctx, &sirsiv1.ReserveActionsRequest{ReservationId: "r-1", PolicyId: polA.OptimizationPolicy.Id, Count: controlplane.DefaultMaxActionsPerHour}); err != nil || r.Granted != controlplane.DefaultMaxActionsPerHour {
		t.Fatalf("A's reservation: %v, %v", r, err)
	}
	// B's reservation with A's id is B's own, and B's window is empty.
	if r, err := agB.Client.ReserveActions(ctx, &sirsiv1.ReserveActionsRequest{ReservationId: "r-1", PolicyId: polB.OptimizationPolicy.Id, Count: 3}); err != nil || r.Granted != 3 {
		t.Fatalf("B's reservation after A used up its cap: %v, %v", r, err)
	}
}

func TestBatchesAreIdempotent(t *testing.T) {
	e := startAgentEnv(t)
	ctx := context.Background()
	ag := e.EnrollAgent(t, e.tn.ID, e.acct.Id)
	sums := &sirsiv1.ReportUtilizationRequest{BatchId: "u-1", Summaries: []*sirsiv1.UtilizationSummary{
		{ResourceId: "i-1", Region: "us-east-1", Metric: "cpu_utilization", Statistic: "p95", Value: 12, Coverage: 1},
		{ResourceId: "i-2", Region: "us-east-1", Metric: "cpu_utilization", Statistic: "Average", Value: 3, Coverage: 0.5},
	}}
	actions := &sirsiv1.ReportActionsRequest{BatchId: "a-1", Actions: []*sirsiv1.Action{
		{Id: "x1", ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "stop", Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED},
		{Id: "x2", ResourceId: "i-2", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_FAILED, Error: "boom"},
	}}
	for i, want := range []bool{false, true} {
		u, err := ag.Client.ReportUtilization(ctx, proto.Clone(sums).(*sirsiv1.ReportUtilizationRequest))
		if err != nil || u.Duplicate != want {
			t.Fatalf("utilization send %d: %v, %v; want duplicate=%t", i, u, err, want)
		}
		a, err := ag.Client.ReportActions(ctx, proto.Clone(actions).(*sirsiv1.ReportActionsRequest))
		if err != nil || a.Duplicate != want {
			t.Fatalf("actions send %d: %v, %v; want duplicate=%t", i, a, err, want)
		}
	}
	list, err := e.tn.Viewer.ListUtilization(ctx, &sirsiv1.ListUtilizationRequest{TenantId: e.tn.ID})
	if err != nil || len(list.Summaries) != 2 {
		t.Fatalf("utilization rows = %v, %v", list, err)
	}
	ev := auditEvents(t, e.Env, e.tn.ID, "agent.action")
	outcomes := map[string]string{}
	for _, x := range ev {
		outcomes[x.Target] = x.Outcome
		if x.Actor != "agent:"+ag.ID {
			t.Errorf("action audited with actor %q", x.Actor)
		}
	}
	if len(ev) != 2 || outcomes["i-1"] != "succeeded" || outcomes["i-2"] != "failed" {
		t.Fatalf("action audit = %v", ev)
	}
}

func TestReportValidationNamesFields(t *testing.T) {
	e := startAgentEnv(t)
	ctx := context.Background()
	c := e.EnrollAgent(t, e.tn.ID, e.acct.Id).Client
	tooManyTags := map[string]string{}
	for i := range 51 {
		tooManyTags[strings.Repeat("k", i+1)] = "v"
	}
	manyUpserts := make([]*sirsiv1.Resource, controlplane.MaxReportUpserts+1)
	for i := range manyUpserts {
		manyUpserts[i] = resource("i-x", "us-east-1")
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"batch id too long", func() error {
			_, err := c.ReportInventory(ctx, &sirsiv1.ReportInventoryRequest{BatchId: strings.Repeat("b", 65)})
			return err
		}, "batch_id"},
		{"missing batch id", func() error {
			_, err := c.ReportCosts(ctx, &sirsiv1.ReportCostsRequest{})
			return err
		}, "batch_id"},
		{"region", func() error {
			_, err := c.ReportInventory(ctx, &sirsiv1.ReportInventoryRequest{BatchId: "b", Upserts: []*sirsiv1.Resource{resource("i-1", "us-east-1"), resource("i-2", "Mars")}})
			return err
		}, "upserts[1].region"},
		{"resource type", func() error {
			r := resource("i-1", "us-east-1")
			r.Type = "aws_dynamo"
			_, err := c.ReportInventory(ctx, &sirsiv1.ReportInventoryRequest{BatchId: "b", Upserts: []*sirsiv1.Resource{r}})
			return err
		}, "upserts[0].type"},
		{"tags", func() error {
			r := resource("i-1", "us-east-1")
			r.Tags = tooManyTags
			_, err := c.ReportInventory(ctx, &sirsiv1.ReportInventoryRequest{BatchId: "b", Upserts: []*sirsiv1.Resource{r}})
			return err
		}, "upserts[0].tags"},
		{"too many upserts", func() error {
			_, err := c.ReportInventory(ctx, &sirsiv1.ReportInventoryRequest{BatchId: "b", Upserts: manyUpserts})
			return err
		}, "upserts"},
		{"coverage", func() error {
			_, err := c.ReportUtilization(ctx, &sirsiv1.ReportUtilizationRequest{BatchId: "b", Summaries: []*sirsiv1.UtilizationSummary{
				{ResourceId: "i-1", Region: "us-east-1", Metric: "cpu_utilization", Statistic: "p95", Coverage: 1.5},
			}})
			return err
		}, "summaries[0].coverage"},
		{"amount", func() error {
			_, err := c.ReportCosts(ctx, &sirsiv1.ReportCostsRequest{BatchId: "b", Records: []*sirsiv1.CostRecord{{Day: "2026-01-02", Service: "EC2", Amount: &sirsiv1.Money{CurrencyCode: "usd", Micros: 1}}}})
			return err
		}, "records[0].amount"},
		{"resource costs with records", func() error {
			_, err := c.ReportCosts(ctx, &sirsiv1.ReportCostsRequest{BatchId: "b", Records: []*sirsiv1.CostRecord{{Day: "2026-01-02", Service: "EC2", Amount: money.USDFromFloat(1)}},
				ResourceCosts: []*sirsiv1.ResourceCost{{Day: "2026-01-02", ResourceType: "aws_ec2_instance", ResourceId: "i-1", Amount: money.USDFromFloat(1)}}})
			return err
		}, "resource_costs"},
		{"resource cost day", func() error {
			_, err := c.ReportCosts(ctx, &sirsiv1.ReportCostsRequest{BatchId: "b", ResourceCosts: []*sirsiv1.ResourceCost{{Day: "2026-1-2", ResourceType: "aws_ec2_instance", ResourceId: "i-1"}}})
			return err
		}, "resource_costs[0].day"},
		{"resource costs and unavailable", func() error {
			_, err := c.ReportCosts(ctx, &sirsiv1.ReportCostsRequest{BatchId: "b", ResourceCostsUnavailable: "no",
				ResourceCosts: []*sirsiv1.ResourceCost{{Day: "2026-01-02", ResourceType: "aws_ec2_instance", ResourceId: "i-1"}}})
			return err
		}, "resource_costs_unavailable"},
		{"day", func() error {
			_, err := c.ReportCosts(ctx, &sirsiv1.ReportCostsRequest{BatchId: "b", Anomalies: []*sirsiv1.CostAnomaly{{Day: "02/01/2026", Service: "EC2", ExpectedAmount: money.USDFromFloat(1), ActualAmount: money.USDFromFloat(9)}}})
			return err
		}, "anomalies[0].day"},
		{"confidence", func() error {
			_, err := c.ReportRecommendations(ctx, &sirsiv1.ReportRecommendationsRequest{BatchId: "b", PolicyId: "p", Recommendations: []*sirsiv1.Recommendation{
				{ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", Confidence: 2},
			}})
			return err
		}, "recommendations[0].confidence"},
		{"skip reason", func() error {
			_, err := c.ReportRecommendations(ctx, &sirsiv1.ReportRecommendationsRequest{BatchId: "b", PolicyId: "p", Recommendations: []*sirsiv1.Recommendation{
				{ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", SkipReason: 99, SkipDetail: "why"},
			}})
			return err
		}, "recommendations[0].skip_reason"},
		{"skip reason without detail", func() error {
			_, err := c.ReportRecommendations(ctx, &sirsiv1.ReportRecommendationsRequest{BatchId: "b", PolicyId: "p", Recommendations: []*sirsiv1.Recommendation{
				{ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", SkipReason: sirsiv1.SkipReason_SKIP_REASON_EXCLUDED},
			}})
			return err
		}, "recommendations[0].skip_detail"},
		{"skip detail without reason", func() error {
			_, err := c.ReportRecommendations(ctx, &sirsiv1.ReportRecommendationsRequest{BatchId: "b", PolicyId: "p", Recommendations: []*sirsiv1.Recommendation{
				{ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", SkipDetail: "made up"},
			}})
			return err
		}, "recommendations[0].skip_detail"},
		{"action status", func() error {
			_, err := c.ReportActions(ctx, &sirsiv1.ReportActionsRequest{BatchId: "b", Actions: []*sirsiv1.Action{
				{Id: "a", ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "stop"},
			}})
			return err
		}, "actions[0].status"},
		{"action plan id", func() error {
			_, err := c.ReportActions(ctx, &sirsiv1.ReportActionsRequest{BatchId: "b", Actions: []*sirsiv1.Action{
				{Id: "a", PlanId: "has space", ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "stop", Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED},
			}})
			return err
		}, "actions[0].plan_id"},
		{"plan action status", func() error {
			_, err := c.ReportActionPlan(ctx, &sirsiv1.ReportActionPlanRequest{BatchId: "b", Plan: &sirsiv1.ActionPlan{Id: "p", PolicyId: "p", Actions: []*sirsiv1.Action{
				{Id: "a", RecommendationId: "r", ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "stop", DryRun: true},
			}}})
			return err
		}, "plan.actions[0].status"},
		{"reservation count", func() error {
			_, err := c.ReserveActions(ctx, &sirsiv1.ReserveActionsRequest{ReservationId: "r", PolicyId: "p", Count: -1})
			return err
		}, "count"},
		{"sweep name", func() error {
			_, err := c.Heartbeat(ctx, &sirsiv1.HeartbeatRequest{LastSweepTimes: map[string]*timestamppb.Timestamp{"Bad Name": timestamppb.Now()}})
			return err
		}, `last_sweep_times["Bad Name"]`},
		{"sweep failure time", func() error {
			_, err := c.Heartbeat(ctx, &sirsiv1.HeartbeatRequest{LastSweepFailures: map[string]*sirsiv1.SweepFailure{"costs": {Error: "throttled"}}})
			return err
		}, `last_sweep_failures["costs"].time`},
		{"sweep failure error", func() error {
			_, err := c.Heartbeat(ctx, &sirsiv1.HeartbeatRequest{LastSweepFailures: map[string]*sirsiv1.SweepFailure{"costs": {Time: timestamppb.Now(), Error: strings.Repeat("x", 5000)}}})
			return err
		}, `last_sweep_failures["costs"].error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			wantAgentCode(t, err, codes.InvalidArgument, tt.name)
			v := violations(err)
			if len(v) != 1 || v[0] != tt.want {
				t.Fatalf("violations %v, want [%s]", v, tt.want)
			}
		})
	}
	// Nothing of the refused batches was stored or marked as seen.
	if r, err := c.ReportInventory(ctx, &sirsiv1.ReportInventoryRequest{BatchId: "b"}); err != nil || r.Duplicate {
		t.Fatalf("batch id of refused batches: %v, %v", r, err)
	}
}

func TestGetAssignment(t *testing.T) {
	e := startAgentEnv(t)
	ctx := context.Background()
	ag := e.EnrollAgent(t, e.tn.ID, e.acct.Id)
	other := e.NewCloudAccount(t, e.tn.ID, "333333333333")
	mk := func(name string, accounts ...string) string {
		t.Helper()
		p, err := e.tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{
			TenantId: e.tn.ID, Name: name, Selector: &sirsiv1.PolicySelector{AccountIds: accounts},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return p.OptimizationPolicy.Id
	}
	all := mk("all")
	mine := mk("mine", "111111111111", "999999999999")
	mk("theirs", "333333333333")

	recs := []*sirsiv1.Recommendation{
		{ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "stop"},
		{ResourceId: "i-2", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "stop"},
	}
	ids, _, err := e.Store.Tenant(e.tn.ID).ApplyRecommendations(ctx, e.acct.Id, "seed-1", all, nil, recs)
	if err != nil {
		t.Fatal(err)
	}
	otherIDs, _, err := e.Store.Tenant(e.tn.ID).ApplyRecommendations(ctx, other.Id, "seed-2", all, nil, recs[:1])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ids[0], otherIDs[0]} {
		if _, err := e.Store.Tenant(e.tn.ID).SetRecommendationStatus(ctx, id, sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED); err != nil {
			t.Fatal(err)
		}
	}

	asg, err := ag.Client.GetAssignment(ctx, &sirsiv1.GetAssignmentRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, p := range asg.Policies {
		got[p.Id] = true
	}
	if len(got) != 2 || !got[all] || !got[mine] {
		t.Errorf("policies = %v, want all and mine", got)
	}
	if len(asg.ApprovedRecommendations) != 1 || asg.ApprovedRecommendations[0].Id != ids[0] {
		t.Errorf("approved recommendations = %v, want only %s", asg.ApprovedRecommendations, ids[0])
	}
	if a := asg.CloudAccount; a.Id != e.acct.Id || a.ExternalId != "cptest-external-id" || a.RoleArn == "" {
		t.Errorf("cloud account = %v", a)
	}
}
