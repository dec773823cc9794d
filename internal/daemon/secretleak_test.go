package daemon

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
)

// leakWindow is the length of the pieces of each secret that are looked
// for: a log line that quotes any 16 characters of a secret's random part
// (a "prefix for identification", a truncated value) leaks it too.
const leakWindow = 16

// secretSet is every secret a run created, by name.
type secretSet map[string]string

// leaks names the secrets of which some leakWindow-long piece occurs in
// text, with the piece, so a failure says what leaked and how much.
func (s secretSet) leaks(where, text string) []string {
	var out []string
	for name, secret := range s {
		for i := 0; i+leakWindow <= len(secret); i++ {
			if piece := secret[i : i+leakWindow]; strings.Contains(text, piece) {
				out = append(out, fmt.Sprintf("%s: %s (%q...)", where, name, piece))
				break
			}
		}
	}
	return out
}

// secretBody is a bearer secret without its kind prefix: the "sxt_" every API
// token starts with is no secret.
func secretBody(tok string) string { return tok[4:] }

// oneOff changes the last digit of the random part, as a typo would: the
// checksum no longer matches, and every other character still does.
func oneOff(tok string) string {
	i := len(tok) - 9
	c := byte('0')
	if tok[i] == '0' {
		c = '1'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

func randomText(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// TestSecretLeakFinder proves the search below can fail: a secret logged
// whole, or just a piece of it, at trace level is found.
func TestSecretLeakFinder(t *testing.T) {
	secret := "sxt_" + strings.Repeat("0123456789abcdef", 4) + "deadbeef"
	secrets := secretSet{"api token": secretBody(secret)}
	for _, logged := range []string{secret, secret[10:30], oneOff(secret)} {
		var buf bytes.Buffer
		log := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Trace, JSONFormat: true})
		log.Trace("authenticating", "token", logged)
		if got := secrets.leaks("log", buf.String()); len(got) != 1 || !strings.Contains(got[0], "api token") {
			t.Errorf("logging %q: leaks = %v, want the API token", logged, got)
		}
	}
	var buf bytes.Buffer
	hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Trace}).Trace("authenticating", "token_id", "tok-1", "prefix", secret[:8])
	if got := secrets.leaks("log", buf.String()); len(got) != 0 {
		t.Errorf("an id and the kind prefix flagged as leaks: %v", got)
	}
}

// TestSecretLeakEndToEnd runs a server at trace level through everything
// that handles a secret (tenant with webhook secret, API token, cloud
// account with external id, enrollment, mTLS agent calls, refused tokens
// one character off) and searches the whole log, the audit log as the API
// serves it and as the database holds it, and the database files for
// the bearer tokens.
func TestSecretLeakEndToEnd(t *testing.T) {
	dir := t.TempDir()
	p, endpoint := startServer(t, "-data-dir", dir, "-log-level", "trace")
	ready := p.waitLog("agent listener ready")
	agentURL, caFile := fmt.Sprint(ready["endpoint"]), fmt.Sprint(ready["ca_cert"])
	opTok, _ := readToken(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	mc := dial(t, endpoint, filepath.Join(dir, pkiDir, pki.CACertFile))
	op := withToken(ctx, opTok)

	webhookSecret := randomText(t, "whsec-")
	externalID := randomText(t, "ext-")
	tn, err := mc.CreateTenant(op, &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{
		Name: "acme", Tier: sirsiv1.Tier_TIER_STANDARD, WebhookUrl: "https://hooks.example.com/sirsi", WebhookSecret: webhookSecret,
	}})
	if err != nil {
		t.Fatal(err)
	}
	tid := tn.Tenant.Id
	at, err := mc.CreateApiToken(op, &sirsiv1.CreateApiTokenRequest{TenantId: tid, Role: sirsiv1.Role_ROLE_ADMIN, Description: "leak test"})
	if err != nil {
		t.Fatal(err)
	}
	apiTok := at.ApiToken.Token
	admin := withToken(ctx, apiTok)
	acct, err := mc.CreateCloudAccount(admin, &sirsiv1.CreateCloudAccountRequest{CloudAccount: &sirsiv1.CloudAccount{
		TenantId: tid, Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: "123456789012", Regions: []string{"us-east-1"},
		RoleArn: "arn:aws:iam::123456789012:role/sirsi", ExternalId: externalID,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mc.UpdateTenant(op, &sirsiv1.UpdateTenantRequest{Tenant: &sirsiv1.Tenant{
		Id: tid, Name: "acme", Tier: sirsiv1.Tier_TIER_STANDARD, WebhookUrl: "https://hooks.example.com/v2", Version: tn.Tenant.Version,
	}}); err != nil {
		t.Fatal(err)
	}
	et, err := mc.CreateEnrollmentToken(admin, &sirsiv1.CreateEnrollmentTokenRequest{TenantId: tid, CloudAccountId: acct.CloudAccount.Id})
	if err != nil {
		t.Fatal(err)
	}
	enrollTok := et.EnrollmentToken.Token

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER}))
	enrollClient := sirsiv1.NewAgentServiceClient(dialConn(t, agentURL, caFile))
	if _, err := enrollClient.Enroll(ctx, &sirsiv1.EnrollRequest{EnrollmentToken: oneOff(enrollTok), CsrPem: csr}); status.Code(err) == codes.OK {
		t.Fatal("an enrollment token one character off was accepted")
	}
	enrolled, err := enrollClient.Enroll(ctx, &sirsiv1.EnrollRequest{EnrollmentToken: enrollTok, CsrPem: csr, Hostname: "leak-host"})
	if err != nil {
		t.Fatal(err)
	}
	// The same key again is the same agent retrying after a lost answer;
	// any other key is a second agent, which a single-use token refuses.
	again, err := enrollClient.Enroll(ctx, &sirsiv1.EnrollRequest{EnrollmentToken: enrollTok, CsrPem: csr, Hostname: "leak-host"})
	if err != nil || again.AgentId != enrolled.AgentId {
		t.Fatalf("the same key enrolling again: %v (agent %q, want %q)", err, again.GetAgentId(), enrolled.AgentId)
	}
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, otherKey)
	if err != nil {
		t.Fatal(err)
	}
	otherCSR := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: otherDER}))
	if _, err := enrollClient.Enroll(ctx, &sirsiv1.EnrollRequest{EnrollmentToken: enrollTok, CsrPem: otherCSR}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a single-use enrollment token used by a second key: %v, want PermissionDenied", err)
	}
	enrolled = again
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
	t.Cleanup(func() { _ = conn.Close() })
	agent := sirsiv1.NewAgentServiceClient(conn)
	if _, err := agent.Heartbeat(ctx, &sirsiv1.HeartbeatRequest{Version: "1.0.0", Hostname: "leak-host"}); err != nil {
		t.Fatal(err)
	}
	asg, err := agent.GetAssignment(ctx, &sirsiv1.GetAssignmentRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if asg.CloudAccount.GetId() != acct.CloudAccount.Id {
		t.Fatalf("assignment = %v", asg)
	}

	for name, c := range map[string]context.Context{
		"operator token one off":        withToken(ctx, oneOff(opTok)),
		"API token one off":             withToken(ctx, oneOff(apiTok)),
		"enrollment token as API token": withToken(ctx, enrollTok),
	} {
		if _, err := mc.ListTenants(c, &sirsiv1.ListTenantsRequest{}); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: %v, want Unauthenticated", name, err)
		}
	}

	var audit strings.Builder
	for _, q := range []struct {
		c      context.Context
		tenant string
	}{{op, ""}, {admin, tid}} {
		resp, err := mc.ListAuditEvents(q.c, &sirsiv1.ListAuditEventsRequest{TenantId: q.tenant, PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Events) == 0 {
			t.Fatalf("no audit events for tenant %q", q.tenant)
		}
		for _, e := range resp.Events {
			fmt.Fprintln(&audit, e.String())
		}
	}
	// The refused calls must have been audited, or the search below
	// would pass without looking at how failures are recorded.
	if !strings.Contains(audit.String(), "Unauthenticated") {
		t.Fatalf("no refused call in the audit log:\n%s", audit.String())
	}
	stopServer(t, p)

	secrets := secretSet{
		"operator token":                secretBody(opTok),
		"API token":                     secretBody(apiTok),
		"enrollment token":              secretBody(enrollTok),
		"operator token one off":        secretBody(oneOff(opTok)),
		"API token one off":             secretBody(oneOff(apiTok)),
		"enrollment token one off":      secretBody(oneOff(enrollTok)),
		"webhook secret":                webhookSecret,
		"cloud account external id":     externalID,
		"agent private key (PEM piece)": agentKeyPEM(t, key),
	}
	p.mu.Lock()
	logs := strings.Join(p.raw, "\n")
	stdout := strings.Join(p.out, "\n")
	p.mu.Unlock()
	if !strings.Contains(logs, `"@level":"trace"`) && !strings.Contains(logs, `"@level":"debug"`) {
		t.Fatalf("the log has no trace or debug lines: the server did not log at trace level:\n%s", logs)
	}

	db := rawSQLite(t, dir)
	rows, err := db.Query(`SELECT * FROM audit_events ORDER BY sequence`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var dump strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			fmt.Fprintf(&dump, "%s=%s ", cols[i], v)
		}
		dump.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if dump.Len() == 0 {
		t.Fatal("the audit table is empty")
	}

	var found []string
	found = append(found, secrets.leaks("server log", logs)...)
	found = append(found, secrets.leaks("server stdout", stdout)...)
	found = append(found, secrets.leaks("ListAuditEvents", audit.String())...)
	found = append(found, secrets.leaks("audit_events table", dump.String())...)

	// Bearer tokens are stored hashed only and the webhook secret and
	// external id sealed, so no piece of any may be in the database files.
	atRest := secretSet{
		"operator token": secretBody(opTok), "API token": secretBody(apiTok), "enrollment token": secretBody(enrollTok),
		"webhook secret": webhookSecret, "cloud account external id": externalID,
	}
	files, err := filepath.Glob(filepath.Join(dir, sqliteFile+"*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("database files: %v, %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, atRest.leaks(filepath.Base(f), string(b))...)
	}
	if len(found) > 0 {
		t.Fatalf("secrets leaked:\n%s", strings.Join(found, "\n"))
	}
}

// agentKeyPEM is the agent's private key as it would be written to disk;
// the base64 body is what must never be logged.
func agentKeyPEM(t *testing.T, key *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	s := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	lines := strings.Split(s, "\n")
	return lines[1]
}
