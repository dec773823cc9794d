package processtest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/crashpoint"
)

// TestEnrollmentCrashAtEveryStep kills an enrollment at each of its step
// boundaries, each time after changing the account, with a new single-use
// token and an empty data dir:
// the agent after saving its key, the server (`agentd server`, on SQLite
// and on PostgreSQL) after committing the enrollment and before answering,
// the agent after receiving the answer, after saving certificate and CA
// bundle, and after saving identity.json. Restarted with the same token
// (the server restarted, the agent left to retry), the agent must be
// enrolled and report the account exactly; the control plane must hold
// one agent per data dir, the one its identity.json names, connected, and
// each token must have been used once: a lost answer neither burns the
// token nor leaves a second agent behind.
func TestEnrollmentCrashAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("starts agentd 9 times per store")
	}
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			w, srv := newServerWorld(t, awssim.FleetSpec{N: 20, Seed: 17, Mix: awssim.FleetMix{Instances: 60, Volumes: 40}}, backend)
			want := map[string]bool{}
			for round, point := range crashpoint.EnrollPoints {
				// The account changes first, so that each restart has
				// something to report: convergence is measured from the
				// restart to the control plane listing the account.
				w.change(t, round)
				dir, token := t.TempDir(), w.enrollmentToken(t)
				var a *proc
				var begin time.Time
				if point == crashpoint.ServerEnrollAfterCommit {
					srv.p.kill()
					srv.start(t, []string{crashpoint.EnvVar + "=" + point})
					a = start(t, w.agentArgs(dir, token)...)
					expectCrash(t, srv.p, point)
					// The agent lost the answer with the connection and
					// retries with the same key and token.
					begin = time.Now()
					srv.start(t, nil)
				} else {
					expectCrash(t, startEnv(t, []string{crashpoint.EnvVar + "=" + point}, w.agentArgs(dir, token)...), point)
					begin = time.Now()
					a = start(t, w.agentArgs(dir, token)...)
				}
				waitUntil(t, "the agent's identity after a crash at "+point, convergeBound, a, func() bool { return a.logged("agent identity", "") })
				w.converge(t, a, "after an enrollment crash at "+point)
				logConvergence(t, "enrollment crash "+point, backend, time.Since(begin))
				for _, line := range a.errorLines() {
					t.Errorf("after a crash at %s the agent logged an error: %s", point, line)
				}
				a.kill()
				want[identityIn(t, dir)] = true
			}
			agents := w.agents(t)
			if len(agents) != len(want) {
				t.Errorf("%d agents enrolled, want one per data dir (%d)", len(agents), len(want))
			}
			for _, ag := range agents {
				if !want[ag.GetId()] {
					t.Errorf("agent %s (%s) is no data dir's identity: a second enrollment was admitted", ag.GetId(), ag.GetStatus())
				}
			}
			toks, err := w.viewer.ListEnrollmentTokens(context.Background(), &sirsiv1.ListEnrollmentTokensRequest{TenantId: w.tenantID})
			if err != nil {
				t.Fatalf("ListEnrollmentTokens: %v", err)
			}
			if len(toks.GetEnrollmentTokens()) != len(crashpoint.EnrollPoints) {
				t.Errorf("%d enrollment tokens listed, want %d", len(toks.GetEnrollmentTokens()), len(crashpoint.EnrollPoints))
			}
			for _, tok := range toks.GetEnrollmentTokens() {
				if tok.GetUses() != 1 {
					t.Errorf("enrollment token %s used %d times, want once", tok.GetId(), tok.GetUses())
				}
			}
		})
	}
}

// identityIn is the agent id identity.json in dir names.
func identityIn(tb testing.TB, dir string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "identity.json"))
	if err != nil {
		tb.Fatalf("the agent's identity: %v", err)
	}
	var id struct {
		AgentID string `json:"agent_id"`
	}
	if err := json.Unmarshal(b, &id); err != nil || id.AgentID == "" {
		tb.Fatalf("%s holds no agent id (%v): %s", dir, err, b)
	}
	return id.AgentID
}
