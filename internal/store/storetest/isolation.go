package storetest

import (
	"math"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// Fixture names one of everything a tenant can own.
type Fixture struct {
	Tenant, Account, Policy, Enroll, APIToken, Agent, Rec, Action, Plan string
	Savings                                                             float64
}

// fillTenant gives ts one of everything; savings tell tenants apart in
// aggregates. Batch ids are the same for every tenant on purpose: they are
// unique per tenant only.
func fillTenant(t *testing.T, s store.Store, ts store.TenantStore, savings float64) Fixture {
	t.Helper()
	c := ctx(t)
	f := Fixture{Tenant: ts.TenantID(), Savings: savings}
	f.Account = newAccount(t, ts, "123456789012").Id
	f.Policy = newPolicy(t, ts, "policy").Id
	f.Enroll = must(ts.CreateEnrollmentToken(c, &sirsiv1.EnrollmentToken{CloudAccountId: f.Account}, []byte(ts.TenantID()+"-enroll"))).Id
	f.APIToken = must(ts.CreateAPIToken(c, &sirsiv1.ApiToken{Role: sirsiv1.Role_ROLE_ADMIN}, []byte(ts.TenantID()+"-api"), store.TokenCap{})).Id
	f.Agent = must(ts.CreateAgent(c, &sirsiv1.Agent{CloudAccountId: f.Account})).Id
	for _, dup := range []bool{
		must(ts.ApplyInventory(c, f.Account, "inv-1", store.InventoryBatch{Upserts: []*sirsiv1.Resource{resource(1, "aws_ec2_instance", "us-east-1", nil)}, ObservedAt: time.Now()})).Duplicate,
		must(ts.ApplyUtilization(c, f.Account, "util-1", []*sirsiv1.UtilizationSummary{{ResourceId: "i-00000001", Region: "us-east-1", Metric: "cpu_utilization", Statistic: "p95", Value: savings}})),
		must(ts.ApplyCosts(c, f.Account, "cost-1", []*sirsiv1.CostRecord{{Day: "2026-11-01", Service: "EC2", Amount: money.USDFromFloat(savings)}},
			[]*sirsiv1.CostAnomaly{{Day: "2026-11-01", Service: "EC2", ExpectedAmount: money.USDFromFloat(0), ActualAmount: money.USDFromFloat(savings)}})),
	} {
		if dup {
			t.Fatal("a batch id used by another tenant counted as a duplicate")
		}
	}
	ids, dup, err := ts.ApplyRecommendations(c, f.Account, "rec-1", f.Policy, nil, []*sirsiv1.Recommendation{{ResourceId: "i-00000001", Action: "resize", EstimatedMonthlySavings: money.USDFromFloat(savings)}})
	ok(t, err)
	if dup {
		t.Fatal("a batch id used by another tenant counted as a duplicate")
	}
	f.Rec = ids[0]
	f.Action = "action-1"
	must(ts.ApplyActions(c, f.Account, "act-1", []*sirsiv1.Action{{Id: f.Action, PolicyId: f.Policy, ResourceId: "i-00000001", Action: "resize",
		Status: sirsiv1.ActionStatus_ACTION_STATUS_FAILED, RealizedMonthlySavings: money.USDFromFloat(savings), StartTime: timestampAt(time.Now())}}))
	f.Plan = "plan-" + ts.TenantID()
	if dup := must(ts.SaveActionPlan(c, f.Account, "plan-1", planOf(f.Plan, f.Policy, f.Rec))); dup {
		t.Fatal("a batch id used by another tenant counted as a duplicate")
	}
	must(ts.ReserveActions(c, store.Reservation{ID: "res-1", CloudAccountID: f.Account, PolicyID: f.Policy, Count: 2, At: time.Now(), DefaultLimit: 2}))
	must(s.AppendAudit(c, &sirsiv1.AuditEvent{TenantId: ts.TenantID(), Actor: "token:" + f.APIToken, Action: "fill", Outcome: "ok"}))
	return f
}

// assertFilled checks that fillTenant's data is all there and unchanged.
func assertFilled(t *testing.T, s store.Store, ts store.TenantStore, f Fixture) {
	t.Helper()
	c := ctx(t)
	if a := must(ts.GetCloudAccount(c, f.Account)); a.Version != 1 || a.DisplayName != "acct 123456789012" {
		t.Fatalf("account changed: %v", a)
	}
	if p := must(ts.GetPolicy(c, f.Policy)); p.Version != 1 {
		t.Fatalf("policy changed: %v", p)
	}
	if e := must(ts.GetEnrollmentToken(c, f.Enroll)); e.Uses != 0 {
		t.Fatalf("enrollment token changed: %v", e)
	}
	if a := must(ts.GetAPIToken(c, f.APIToken)); a.Version != 1 || a.LastUsedTime != nil {
		t.Fatalf("API token changed: %v", a)
	}
	if a := must(ts.GetAgent(c, f.Agent)); a.Status != sirsiv1.AgentStatus_AGENT_STATUS_CONNECTED || a.CertExpireTime != nil || a.Hostname != "" {
		t.Fatalf("agent changed: %v", a)
	}
	if r := must(ts.GetRecommendation(c, f.Rec)); r.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN || money.FloatOr(r.EstimatedMonthlySavings, math.NaN()) != f.Savings {
		t.Fatalf("recommendation changed: %v", r)
	}
	if p := must(ts.GetActionPlan(c, f.Plan)); p.Status != sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_PENDING || len(p.Actions) != 1 || p.Actions[0].RecommendationId != f.Rec {
		t.Fatalf("action plan changed: %v", p)
	}
	acts, _, err := ts.ListActions(c, store.ActionFilter{}, store.Page{})
	ok(t, err)
	if len(acts) != 1 || acts[0].Status != sirsiv1.ActionStatus_ACTION_STATUS_FAILED || money.FloatOr(acts[0].RealizedMonthlySavings, math.NaN()) != f.Savings {
		t.Fatalf("actions changed: %v", acts)
	}
	if l := listAllResources(t, ts, store.ResourceFilter{}, 100); len(l) != 1 || l[0].CloudAccountId != f.Account {
		t.Fatalf("resources changed: %v", l)
	}
	if u, _, _ := ts.ListUtilization(c, store.UtilizationFilter{}, store.Page{}); len(u) != 1 || u[0].Value != f.Savings {
		t.Fatalf("utilization changed: %v", u)
	}
	if rows := must(ts.SumCosts(c, store.CostQuery{})); len(rows) != 1 || rows[0].AmountMicros != must(money.MicrosFromFloat(f.Savings)) {
		t.Fatalf("costs changed: %v", rows)
	}
	if tok := must(s.LookupAPIToken(c, []byte(ts.TenantID()+"-api"))); tok.TenantId != ts.TenantID() {
		t.Fatalf("token lookup found %v", tok)
	}
}

func testTenantIsolation(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newTenant(t, s, "alpha")
	b := newTenant(t, s, "bravo")
	fa := fillTenant(t, s, a, 10)
	fb := fillTenant(t, s, b, 20)

	// Through B, A's objects do not exist.
	nf := func(err error, what string) { t.Helper(); wantErr(t, err, store.ErrNotFound, "B: "+what) }
	fp := func(err error, what string) { t.Helper(); wantErr(t, err, store.ErrFailedPrecondition, "B: "+what) }
	_, err := b.GetCloudAccount(c, fa.Account)
	nf(err, "GetCloudAccount")
	_, err = b.UpdateCloudAccount(c, &sirsiv1.CloudAccount{Id: fa.Account, DisplayName: "pwned"})
	nf(err, "UpdateCloudAccount")
	nf(b.DeleteCloudAccount(c, fa.Account, 0), "DeleteCloudAccount")
	_, err = b.GetPolicy(c, fa.Policy)
	nf(err, "GetPolicy")
	_, err = b.UpdatePolicy(c, &sirsiv1.OptimizationPolicy{Id: fa.Policy, Name: "pwned"})
	nf(err, "UpdatePolicy")
	nf(b.DeletePolicy(c, fa.Policy, 0), "DeletePolicy")
	_, err = b.CreateEnrollmentToken(c, &sirsiv1.EnrollmentToken{CloudAccountId: fa.Account}, []byte("x1"))
	fp(err, "CreateEnrollmentToken for A's account")
	_, err = b.GetEnrollmentToken(c, fa.Enroll)
	nf(err, "GetEnrollmentToken")
	nf(b.DeleteEnrollmentToken(c, fa.Enroll), "DeleteEnrollmentToken")
	_, err = b.GetAPIToken(c, fa.APIToken)
	nf(err, "GetAPIToken")
	_, err = b.UpdateAPIToken(c, fa.APIToken, "pwned", 0)
	nf(err, "UpdateAPIToken")
	nf(b.DeleteAPIToken(c, fa.APIToken), "DeleteAPIToken")
	nf(s.TouchAPIToken(c, b.TenantID(), fa.APIToken, time.Now()), "TouchAPIToken")
	_, err = b.CreateAgent(c, &sirsiv1.Agent{CloudAccountId: fa.Account})
	fp(err, "CreateAgent for A's account")
	_, err = b.GetAgent(c, fa.Agent)
	nf(err, "GetAgent")
	_, err = b.RecordHeartbeat(c, fa.Agent, store.Heartbeat{At: time.Now(), Hostname: "pwned"})
	nf(err, "RecordHeartbeat")
	nf(b.UpdateAgentCertificate(c, fa.Agent, "x", time.Now()), "UpdateAgentCertificate")
	_, err = b.RevokeAgent(c, fa.Agent)
	nf(err, "RevokeAgent")
	_, err = b.GetRecommendation(c, fa.Rec)
	nf(err, "GetRecommendation")
	_, err = b.SetRecommendationStatus(c, fa.Rec, sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_DISMISSED)
	nf(err, "SetRecommendationStatus")
	_, err = b.ApproveRecommendation(c, fa.Rec, "token:x", time.Now())
	nf(err, "ApproveRecommendation")
	_, err = b.RevokeRecommendationApproval(c, fa.Rec)
	nf(err, "RevokeRecommendationApproval")
	_, err = b.DismissRecommendation(c, fa.Rec)
	nf(err, "DismissRecommendation")
	_, err = b.GetActionPlan(c, fa.Plan)
	nf(err, "GetActionPlan")
	_, err = b.ApproveActionPlan(c, fa.Plan, "token:x", time.Now())
	nf(err, "ApproveActionPlan")
	_, err = b.ReserveActions(c, store.Reservation{ID: "x-res", CloudAccountID: fb.Account, PolicyID: fa.Policy, Count: 1, At: time.Now(), DefaultLimit: 5})
	nf(err, "ReserveActions under A's policy")
	_, err = b.SaveActionPlan(c, fa.Account, "x-plan", planOf("x-plan", fb.Policy))
	fp(err, "SaveActionPlan into A's account")
	_, err = b.SaveActionPlan(c, fb.Account, "x-plan2", planOf("x-plan2", fa.Policy))
	fp(err, "SaveActionPlan with A's policy")
	// A's plan id under B's own account is B's own plan.
	must(b.SaveActionPlan(c, fb.Account, "x-plan3", planOf(fa.Plan, fb.Policy)))

	// Batches into A's account are refused; a batch under B's account
	// naming A's policy too.
	_, err = b.ApplyInventory(c, fa.Account, "x-inv", store.InventoryBatch{Upserts: []*sirsiv1.Resource{resource(2, "aws_ec2_instance", "us-east-1", nil)}, Deletions: []*sirsiv1.ResourceRef{{Type: "aws_ec2_instance", Region: "us-east-1", ResourceId: "i-00000001"}}})
	fp(err, "ApplyInventory")
	_, err = b.ApplyUtilization(c, fa.Account, "x-util", []*sirsiv1.UtilizationSummary{{ResourceId: "i-00000001", Metric: "cpu_utilization", Statistic: "p95"}})
	fp(err, "ApplyUtilization")
	_, err = b.ApplyCosts(c, fa.Account, "x-cost", []*sirsiv1.CostRecord{{Day: "2026-11-01", Service: "EC2", Amount: money.USDFromFloat(1)}}, nil)
	fp(err, "ApplyCosts")
	_, _, err = b.ApplyRecommendations(c, fa.Account, "x-rec", fa.Policy, nil, []*sirsiv1.Recommendation{{ResourceId: "i-00000001", Action: "resize"}})
	fp(err, "ApplyRecommendations into A's account")
	_, _, err = b.ApplyRecommendations(c, fb.Account, "x-rec2", fa.Policy, nil, []*sirsiv1.Recommendation{{ResourceId: "i-00000001", Action: "resize"}})
	fp(err, "ApplyRecommendations with A's policy")
	_, err = b.ApplyActions(c, fa.Account, "x-act", []*sirsiv1.Action{{Id: fa.Action, ResourceId: "i-00000001", Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED}})
	fp(err, "ApplyActions into A's account")
	// The same action id under B's own account is B's own row (B's
	// fixture used that id too, so this replaces B's failed action).
	must(b.ApplyActions(c, fb.Account, "x-act2", []*sirsiv1.Action{{Id: fa.Action, ResourceId: "i-00000001", Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_RUNNING, RealizedMonthlySavings: money.USDFromFloat(20)}}))

	// Every list through B shows B's objects only.
	mine := func(what, tenant string) {
		t.Helper()
		if tenant != b.TenantID() {
			t.Fatalf("B's %s shows tenant %q", what, tenant)
		}
	}
	for _, x := range must3(b.ListCloudAccounts(c, store.Page{})) {
		mine("accounts", x.TenantId)
	}
	for _, x := range must3(b.ListPolicies(c, store.Page{})) {
		mine("policies", x.TenantId)
	}
	for _, x := range must3(b.ListEnrollmentTokens(c, store.Page{})) {
		mine("enrollment tokens", x.TenantId)
	}
	for _, x := range must3(b.ListAPITokens(c, store.Page{})) {
		mine("API tokens", x.TenantId)
	}
	for _, x := range must3(b.ListAgents(c, "", store.Page{})) {
		mine("agents", x.TenantId)
	}
	if l := must3(b.ListAgents(c, fa.Account, store.Page{})); len(l) != 0 {
		t.Fatalf("B lists %d agents of A's account", len(l))
	}
	for _, x := range listAllResources(t, b, store.ResourceFilter{}, 100) {
		mine("resources", x.TenantId)
	}
	if l := listAllResources(t, b, store.ResourceFilter{CloudAccountID: fa.Account}, 100); len(l) != 0 {
		t.Fatalf("B lists %d resources of A's account", len(l))
	}
	for _, x := range must3(b.ListUtilization(c, store.UtilizationFilter{ResourceID: "i-00000001"}, store.Page{})) {
		mine("utilization", x.TenantId)
	}
	if rows := must(b.SumCosts(c, store.CostQuery{})); len(rows) != 1 || rows[0].AmountMicros != 20*money.MicrosPerUnit {
		t.Fatalf("B's cost sum = %v, want B's 20 alone", rows)
	}
	if rows := must(b.SumCosts(c, store.CostQuery{CloudAccountID: fa.Account})); len(rows) != 0 {
		t.Fatalf("B sums A's account: %v", rows)
	}
	for _, x := range must3(b.ListCostAnomalies(c, store.Page{})) {
		mine("anomalies", x.TenantId)
	}
	recs, _, total, err := b.ListRecommendations(c, store.RecommendationFilter{}, store.Page{})
	ok(t, err)
	if len(recs) != 1 || money.Format(total) != "20.00 USD" {
		t.Fatalf("B's recommendations = %d, total %s; want B's one and 20.00 USD", len(recs), money.Format(total))
	}
	mine("recommendations", recs[0].TenantId)
	for _, x := range must3(b.ListActions(c, store.ActionFilter{}, store.Page{})) {
		mine("actions", x.TenantId)
	}
	for _, x := range must3(b.ListActionPlans(c, store.ActionPlanFilter{}, store.Page{})) {
		mine("action plans", x.TenantId)
	}
	// A's reservation of its whole cap leaves B's window with B's own.
	if g := must(b.ReserveActions(c, store.Reservation{ID: "res-2", CloudAccountID: fb.Account, PolicyID: fb.Policy, Count: 5, At: time.Now(), DefaultLimit: 5})); g.Granted != 3 {
		t.Fatalf("B's second reservation granted %d, want 3 (5 less B's own 2)", g.Granted)
	}
	if sum := must(b.SavingsSummary(c, time.Now())); sum.ActionsFailed != 0 || sum.ActionsTaken != 1 {
		t.Fatalf("B's savings summary counts A's actions: %v", sum)
	}
	for _, x := range must3(b.ListAuditEvents(c, store.AuditFilter{}, store.Page{})) {
		mine("audit events", x.TenantId)
	}

	// And A's data is all still there, unchanged.
	assertFilled(t, s, a, fa)
}

// must3 is must for list calls, dropping the page token.
func must3[T any](v T, _ string, err error) T { return must(v, err) }
