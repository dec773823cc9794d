package processtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/crashpoint"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// TestAgentFailsOverBetweenReplicas runs two `agentd server` replicas on
// one PostgreSQL database, sharing the seal key and the CA as
// docs/production.md says, and one `agentd agent` given both (-servers,
// the first replica first). The account changes, and the first replica
// is killed by its crash point in the middle of the agent's report: once
// with the batch stored but not acknowledged (the agent must not make the
// next replica store it twice), once with it received but not committed
// (the agent must not lose it). The running agent must move to the second
// replica with its identity and spool, and the control plane must then
// list exactly the account, field by field, with the agent's spool
// drained. Last, an auto policy resizes instances and the first replica is
// killed after storing an action report, before auditing it: every action
// must be listed and audited exactly once.
func TestAgentFailsOverBetweenReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two agentd servers and agentd agent several times")
	}
	w, first := newServerWorld(t, awssim.FleetSpec{N: 120, Seed: 41, Mix: awssim.FleetMix{Instances: 60, Volumes: 40}}, "postgres")
	second := first.replica(t)
	// The test's own view goes through the replica that stays up.
	w.viewer = second.operator(t)
	dir := t.TempDir()
	token := w.enrollmentToken(t)
	servers := first.agentAddr() + "," + second.agentAddr()

	for round, point := range []string{crashpoint.ServerAfterCommit, crashpoint.ServerBeforeCommit} {
		first.p.kill()
		w.change(t, round)
		first.start(t, []string{crashpoint.EnvVar + "=" + point})
		metrics := freeAddr(t)
		// The token is only used by the first start (enrolment, through the
		// first replica); later starts have the identity in the data dir.
		a := start(t, failoverArgs(w.agentArgs(dir, token), servers, metrics)...)
		token = ""
		expectCrash(t, first.p, point)
		took := w.converge(t, a, "after the first replica died at "+point)
		logConvergence(t, "replica killed at "+point+", agent failed over", "postgres", took)
		waitUntil(t, "the agent's spool to drain", convergeBound, a, func() bool { return spoolRecords(t, metrics) == 0 })
		for _, line := range a.errorLines() {
			t.Errorf("the agent logged an error while failing over (%s): %s", point, line)
		}
		a.kill()
	}
	actionsFailOver(t, w, first, dir, servers)
}

// actionCap is the tenant's cap on actions per hour in the action round:
// the number of actions the agent takes, whatever the optimize sweep finds.
const actionCap = 3

// actionsFailOver lets an auto policy resize instances while the first
// replica is killed after storing the agent's first action report and
// before auditing or acknowledging it. Every action must then be listed
// once, audited once per outcome, and match the instance AWS shows.
func actionsFailOver(t *testing.T, w *world, first *serverProc, dir, servers string) {
	t.Helper()
	ctx := context.Background()
	rightsizeInAuto(t, w)

	point := crashpoint.ServerActionsAfterCommit
	first.p.kill()
	first.start(t, []string{crashpoint.EnvVar + "=" + point})
	metrics := freeAddr(t)
	a := start(t, append(failoverArgs(w.agentArgs(dir, ""), servers, metrics), "-schedule-optimize", "@every 2s")...)
	expectCrash(t, first.p, point)

	var acts []*sirsiv1.Action
	waitUntil(t, "every action finished and reported", 3*convergeBound, a, func() bool {
		resp, err := w.viewer.ListActions(ctx, &sirsiv1.ListActionsRequest{TenantId: w.tenantID, PageSize: 100})
		if err != nil {
			t.Fatalf("ListActions: %v", err)
		}
		acts = resp.GetActions()
		done := 0
		for _, act := range acts {
			if act.GetStatus() == sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
				done++
			}
		}
		return done == actionCap
	})
	waitUntil(t, "the agent's spool to drain", convergeBound, a, func() bool { return spoolRecords(t, metrics) == 0 })
	if len(acts) != actionCap {
		t.Errorf("%d actions listed, want exactly the tenant's cap of %d: %v", len(acts), actionCap, acts)
	}

	// AWS's side: the instances that changed type are exactly those the
	// actions name, at the size they name.
	seeded := map[string]string{}
	for _, r := range w.fleet.Resources {
		if r.Kind == "instance" {
			seeded[r.ID] = r.Type
		}
	}
	resized := map[string]string{}
	for k, f := range w.truth(t) {
		id := k[strings.LastIndex(k, "/")+1:]
		if typ, ok := seeded[id]; ok && f.size != typ {
			resized[id] = f.size
		}
	}
	byResource := map[string]*sirsiv1.Action{}
	for _, act := range acts {
		byResource[act.GetResourceId()] = act
		if got := resized[act.GetResourceId()]; got != act.GetToSize() || act.GetAction() != "resize" {
			t.Errorf("action %s: %s %s to %s, but AWS shows the instance as %q (seeded %s)", act.GetId(), act.GetAction(), act.GetResourceId(), act.GetToSize(), got, seeded[act.GetResourceId()])
		}
	}
	for id, typ := range resized {
		if byResource[id] == nil {
			t.Errorf("instance %s was resized to %s with no action listed", id, typ)
		}
	}

	// The audit log: each action's each outcome once, and its success.
	audited := map[string]int{}
	req := &sirsiv1.ListAuditEventsRequest{TenantId: w.tenantID, Action: "agent.action", PageSize: 1000}
	for {
		resp, err := w.viewer.ListAuditEvents(ctx, req)
		if err != nil {
			t.Fatalf("ListAuditEvents: %v", err)
		}
		for _, ev := range resp.GetEvents() {
			id, _, _ := strings.Cut(strings.TrimPrefix(ev.GetDetail(), "action "), ":")
			audited[id+" "+ev.GetOutcome()]++
		}
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	for k, n := range audited {
		if n != 1 {
			t.Errorf("audit: %s recorded %d times, want once", k, n)
		}
	}
	for _, act := range acts {
		if k := act.GetId() + " " + validation.EnumName(act.GetStatus()); audited[k] != 1 {
			t.Errorf("audit: action %s's outcome %s recorded %d times, want once (audit: %v)", act.GetId(), act.GetStatus(), audited[k], audited)
		}
	}
	for _, line := range a.errorLines() {
		t.Errorf("the agent logged an error while failing over during actions: %s", line)
	}
}

// rightsizeInAuto caps the tenant at actionCap actions an hour and gives
// it an auto policy that resizes EC2 instances at every minute's window,
// without the verify wait (the metric check after a resize is the
// actuator's own test; here a flow must not wait minutes of real time).
func rightsizeInAuto(t *testing.T, w *world) {
	t.Helper()
	ctx := context.Background()
	tn, err := w.viewer.GetTenant(ctx, &sirsiv1.GetTenantRequest{Id: w.tenantID})
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	upd, limit := tn.GetTenant(), int32(actionCap)
	upd.MaxActionsPerHour = &limit
	if _, err := w.viewer.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: upd}); err != nil {
		t.Fatalf("UpdateTenant: %v", err)
	}
	perRun := int32(actionCap)
	if _, err := w.viewer.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{
		TenantId: w.tenantID, Name: "rightsize", Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO, ResourceTypes: []string{"aws_ec2_instance"},
		Rightsizing: &sirsiv1.RightsizingSettings{Statistic: sirsiv1.Statistic_STATISTIC_MAX, LookbackDays: 14, HeadroomPercent: 20,
			MinMonthlySavings: money.USDFromFloat(1)},
		Schedule: "* * * * *", Timezone: "UTC", MaxActionsPerRun: &perRun,
		Verify: &sirsiv1.VerifySettings{WaitMinutes: 0},
	}}); err != nil {
		t.Fatalf("CreateOptimizationPolicy: %v", err)
	}
}

// failoverArgs points agentArgs at several replicas and a known metrics
// address.
func failoverArgs(args []string, servers, metrics string) []string {
	out := slices.Clone(args)
	for i := 0; i < len(out)-1; i++ {
		switch out[i] {
		case "-server":
			out[i], out[i+1] = "-servers", servers
		case "-http-listen":
			out[i+1] = metrics
		}
	}
	return out
}

// spoolRecords reads sirsi_agent_spool_records (all kinds) from the agent's
// /metrics; -1 while it cannot be read.
func spoolRecords(tb testing.TB, addr string) int {
	tb.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	total, seen := 0, false
	s := bufio.NewScanner(io.LimitReader(resp.Body, 8<<20))
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		line := s.Text()
		if !strings.HasPrefix(line, "sirsi_agent_spool_records{") {
			continue
		}
		f := strings.Fields(line)
		n, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			tb.Fatalf("metrics line %q: %v", line, err)
		}
		total, seen = total+int(n), true
	}
	if !seen {
		return -1
	}
	return total
}

// replica starts a second `agentd server` on the same database with its own
// data dir and ports, sharing what replicas must share (docs/production.md):
// the seal key and the CA (its key sealed with that seal key).
func (s *serverProc) replica(tb testing.TB) *serverProc {
	tb.Helper()
	from, dataDir := s.arg("-data-dir"), tb.TempDir()
	share := []string{"seal.key", filepath.Join("tls", pki.CACertFile), filepath.Join("tls", pki.CAKeyFile)}
	if err := os.MkdirAll(filepath.Join(dataDir, "tls"), 0o700); err != nil {
		tb.Fatal(err)
	}
	for _, f := range share {
		b, err := os.ReadFile(filepath.Join(from, f))
		if err != nil {
			tb.Fatalf("reading what replicas share: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dataDir, f), b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	r := &serverProc{args: slices.Clone(s.args)}
	r.set("-data-dir", dataDir)
	r.set("-listen", freeAddr(tb))
	r.set("-agent-listen", freeAddr(tb))
	r.start(tb, nil)
	r.token = s.token
	return r
}

func (s *serverProc) agentAddr() string { return s.arg("-agent-listen") }

func (s *serverProc) arg(flag string) string {
	if i := slices.Index(s.args, flag); i >= 0 && i+1 < len(s.args) {
		return s.args[i+1]
	}
	panic(fmt.Sprintf("agentd server started without %s", flag))
}

func (s *serverProc) set(flag, v string) {
	i := slices.Index(s.args, flag)
	if i < 0 || i+1 >= len(s.args) {
		panic(fmt.Sprintf("agentd server started without %s", flag))
	}
	s.args[i+1] = v
}
