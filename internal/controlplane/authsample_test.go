package controlplane_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
)

// strangerCalls is how many refused calls each test makes: the count the
// probe that found one audit row per call used.
const strangerCalls = 1000

// sampledBudget is the per-source budget of the tests below: calls after
// it are answered ResourceExhausted.
const sampledBudget = 60

// wantSampled checks that the calls added at most a handful of rows to
// the operator-level log, then closes the interval with one more refusal
// and checks the summary counts every call after the first, by outcome.
func wantSampled(t *testing.T, env *cptest.Env, before int, refuse func() error) {
	t.Helper()
	added := len(listAudit(t, env.Client, "")) - before
	if added > 3 {
		t.Fatalf("%d refused calls added %d audit rows, want at most 3", strangerCalls, added)
	}
	env.Clock.Advance(controlplane.DefaultAuthFailureAuditInterval)
	if err := refuse(); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("call in the next interval: %v, want Unauthenticated", err)
	}
	sums := auditEvents(t, env, "", controlplane.AuditAuthFailures)
	if len(sums) != 1 {
		t.Fatalf("%d %s entries, want 1: %v", len(sums), controlplane.AuditAuthFailures, sums)
	}
	want := "999 further refused calls from 127.0.0.1"
	breakdown := "(ResourceExhausted 940, Unauthenticated 59)"
	if d := sums[0].Detail; !strings.HasPrefix(d, want) || !strings.Contains(d, breakdown) {
		t.Fatalf("summary detail %q, want %q ... %q", d, want, breakdown)
	}
	if sums[0].SourceAddress != "127.0.0.1" || sums[0].Actor != "anonymous" {
		t.Fatalf("summary %v", sums[0])
	}
}

func sampledLimits(o *controlplane.Options) { o.RateLimits.UnauthenticatedPerMinute = sampledBudget }

func TestUnauthenticatedManagementCallsAreSampled(t *testing.T) {
	env := cptest.Start(t, withLimits(sampledLimits))
	env.Clock.Set(time.Now())
	before := len(listAudit(t, env.Client, ""))
	anon := env.Dial(t, "")
	codesSeen := map[codes.Code]int{}
	for range strangerCalls {
		codesSeen[status.Code(getTenant(anon, "x"))]++
	}
	if codesSeen[codes.Unauthenticated] != sampledBudget || codesSeen[codes.ResourceExhausted] != strangerCalls-sampledBudget {
		t.Fatalf("answers %v, want %d Unauthenticated then ResourceExhausted", codesSeen, sampledBudget)
	}
	wantSampled(t, env, before, func() error { return getTenant(anon, "x") })
}

func TestAgentPortWithoutCertificateIsBudgetedAndSampled(t *testing.T) {
	env := cptest.Start(t, cptest.WithAgentService(), withLimits(sampledLimits))
	env.Clock.Set(time.Now())
	before := len(listAudit(t, env.Client, ""))
	anon := env.DialAgent(t, nil)
	heartbeat := func() error {
		_, err := anon.Heartbeat(context.Background(), &sirsiv1.HeartbeatRequest{Version: "1"})
		return err
	}
	codesSeen := map[codes.Code]int{}
	for range strangerCalls {
		codesSeen[status.Code(heartbeat())]++
	}
	if codesSeen[codes.Unauthenticated] != sampledBudget || codesSeen[codes.ResourceExhausted] != strangerCalls-sampledBudget {
		t.Fatalf("answers %v, want %d Unauthenticated then ResourceExhausted", codesSeen, sampledBudget)
	}
	if got := authFailures(t, env, "no_certificate"); got != strangerCalls {
		t.Fatalf("sirsi_agent_auth_failures_total{reason=no_certificate} = %v, want %d", got, strangerCalls)
	}
	wantSampled(t, env, before, heartbeat)
}

// TestForgedClientCertificateIsCounted: a certificate the TLS layer
// refuses never reaches an interceptor; the handshake observer must still
// count, audit and log it.
func TestForgedClientCertificateIsCounted(t *testing.T) {
	e := startAgentEnv(t)
	id := pki.AgentIdentity{TrustDomain: controlplane.DefaultTrustDomain, TenantID: e.tn.ID, CloudAccountID: e.acct.Id, AgentID: "forged"}
	otherCA, _, err := pki.LoadOrCreateCA(pki.Options{Dir: t.TempDir(), Name: "forger"})
	if err != nil {
		t.Fatal(err)
	}
	pastCA, _, err := pki.LoadOrCreateCA(pki.Options{Dir: filepath.Dir(e.AgentCA.CertPath), Now: func() time.Time { return time.Now().Add(-48 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	for reason, cert := range map[string]func() error{
		"untrusted_certificate": func() error {
			c := signed(t, otherCA, id, time.Hour)
			_, err := dialWith(t, e.AgentEndpoint, e.AgentCA.Pool(), &c).Heartbeat(context.Background(), &sirsiv1.HeartbeatRequest{})
			return err
		},
		"expired_certificate": func() error {
			c := signed(t, pastCA, id, time.Hour)
			_, err := dialWith(t, e.AgentEndpoint, e.AgentCA.Pool(), &c).Heartbeat(context.Background(), &sirsiv1.HeartbeatRequest{})
			return err
		},
	} {
		if err := cert(); status.Code(err) != codes.Unavailable {
			t.Fatalf("%s: %v, want the handshake to fail", reason, err)
		}
		// The client learns of the failure from the server's alert,
		// before the server's handshake call returns: wait for the count.
		waitFor(t, reason, func() bool { return authFailures(t, e.Env, reason) >= 1 })
	}
	evs := auditEvents(t, e.Env, "", controlplane.AuditTLSHandshake)
	if len(evs) != 1 || !strings.Contains(evs[0].Detail, "certificate") || evs[0].Outcome != codes.Unauthenticated.String() || !strings.HasPrefix(evs[0].SourceAddress, "127.0.0.1:") {
		t.Fatalf("%s audit entries %v, want one (the second refusal is counted for the summary)", controlplane.AuditTLSHandshake, evs)
	}
}

// waitFor polls cond for up to ten seconds; a condition, not a delay, is
// what the test waits on.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: condition not met within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRefusedOIDCTokensAreSampled: OIDC callers' failures go through the
// same per-source accounting: the lockout counts them, the audit log
// samples them, and the log takes at most a few lines per source a minute.
func TestRefusedOIDCTokensAreSampled(t *testing.T) {
	var logs syncBuffer
	env := cptest.Start(t, cptest.WithLogger(hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})),
		withLimits(func(o *controlplane.Options) {
			o.Lockout = controlplane.LockoutPolicy{BlockAfter: 25, DelayAfter: 25, Delay: time.Millisecond}
		}))
	env.Clock.Set(time.Now())
	before := len(listAudit(t, env.Client, ""))
	c := env.Dial(t, "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIn0.c2ln")
	codesSeen := map[codes.Code]int{}
	for range 30 {
		codesSeen[status.Code(getTenant(c, "x"))]++
	}
	if codesSeen[codes.Unauthenticated] != 25 || codesSeen[codes.ResourceExhausted] != 5 {
		t.Fatalf("answers %v, want 25 Unauthenticated (the lockout's limit) then ResourceExhausted", codesSeen)
	}
	if n := strings.Count(logs.String(), "refused an OIDC token"); n == 0 || n > 10 {
		t.Fatalf("%d log lines for 25 refused OIDC tokens, want 1..10", n)
	}
	env.Clock.Advance(controlplane.DefaultLockoutBlockFor) // the operator shares the blocked address
	if added := len(listAudit(t, env.Client, "")) - before; added > 3 {
		t.Fatalf("30 refused OIDC tokens added %d audit rows, want at most 3", added)
	}
}
