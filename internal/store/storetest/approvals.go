package storetest

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

const (
	recOpen       = sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN
	recApproved   = sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED
	recDismissed  = sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_DISMISSED
	recExecuted   = sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED
	recSuperseded = sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_SUPERSEDED

	planPending    = sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_PENDING
	planApproved   = sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_APPROVED
	planSuperseded = sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_SUPERSEDED
	planExecuted   = sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_EXECUTED
)

func testTenantLimits(t *testing.T, s store.Store) {
	c := ctx(t)
	tn := must(s.CreateTenant(c, &sirsiv1.Tenant{Name: "limits", MaxActionsPerHour: proto.Int32(0), RateLimitPerMinute: proto.Int32(250)}))
	got := must(s.GetTenant(c, tn.Id))
	if got.MaxActionsPerHour == nil || *got.MaxActionsPerHour != 0 || got.GetRateLimitPerMinute() != 250 {
		t.Fatalf("created limits read back as %v / %v", got.MaxActionsPerHour, got.RateLimitPerMinute)
	}
	up := proto.Clone(got).(*sirsiv1.Tenant)
	up.MaxActionsPerHour, up.RateLimitPerMinute = proto.Int32(7), nil
	u := must(s.UpdateTenant(c, up))
	if u.GetMaxActionsPerHour() != 7 || u.RateLimitPerMinute != nil {
		t.Fatalf("updated limits = %v / %v, want 7 / unset", u.MaxActionsPerHour, u.RateLimitPerMinute)
	}
	list, _ := must2(s.ListTenants(c, store.Page{}))
	if len(list) != 1 || list[0].GetMaxActionsPerHour() != 7 || list[0].RateLimitPerMinute != nil {
		t.Fatalf("listed tenant = %v", list)
	}
	plain := must(s.CreateTenant(c, &sirsiv1.Tenant{Name: "plain"}))
	if got := must(s.GetTenant(c, plain.Id)); got.MaxActionsPerHour != nil || got.RateLimitPerMinute != nil {
		t.Fatalf("unset limits read back as %v / %v", got.MaxActionsPerHour, got.RateLimitPerMinute)
	}
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(failure{err.Error()})
	}
	return a, b
}

func testPolicyTiming(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "timing")
	in := samplePolicy("timed")
	in.Mode, in.DryRun, in.WindowMinutes, in.CooldownHours = sirsiv1.PolicyMode_POLICY_MODE_AUTO, true, proto.Int32(90), proto.Int32(0)
	p := must(ts.CreatePolicy(c, in))
	got := must(ts.GetPolicy(c, p.Id))
	if !got.DryRun || got.GetWindowMinutes() != 90 || got.CooldownHours == nil || *got.CooldownHours != 0 {
		t.Fatalf("stored policy timing: dry_run %t window %v cooldown %v", got.DryRun, got.WindowMinutes, got.CooldownHours)
	}
	got.DryRun, got.WindowMinutes, got.CooldownHours = false, nil, proto.Int32(48)
	u := must(ts.UpdatePolicy(c, got))
	if u.DryRun || u.WindowMinutes != nil || u.GetCooldownHours() != 48 {
		t.Fatalf("updated policy timing: dry_run %t window %v cooldown %v", u.DryRun, u.WindowMinutes, u.CooldownHours)
	}
}

func sizedRec(res, from, to string) *sirsiv1.Recommendation {
	return &sirsiv1.Recommendation{ResourceId: res, ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize",
		CurrentSize: from, ProposedSize: to, EstimatedMonthlySavings: money.USDFromFloat(40), Confidence: 0.9}
}

// testRecommendationApprovals walks the approval state machine, one
// starting status and move per row.
func testRecommendationApprovals(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "approvals")
	a := newAccount(t, ts, "123456789012")
	p := newPolicy(t, ts, "rightsize")
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	n := 0
	// fresh makes a recommendation of its own policy and brings it to
	// status by the store's own moves.
	fresh := func(status sirsiv1.RecommendationStatus) string {
		n++
		pol := newPolicy(t, ts, fmt.Sprintf("sm-%d", n))
		ids, _ := must2(ts.ApplyRecommendations(c, a.Id, fmt.Sprintf("sm-%d", n), pol.Id, nil, []*sirsiv1.Recommendation{sizedRec("i-1", "m5.xlarge", "m5.large")}))
		id := ids[0]
		switch status {
		case recApproved:
			must(ts.ApproveRecommendation(c, id, "token:t1", at))
		case recDismissed:
			must(ts.DismissRecommendation(c, id))
		case recExecuted:
			must(ts.ApplyActions(c, a.Id, fmt.Sprintf("sm-a-%d", n), []*sirsiv1.Action{{Id: fmt.Sprintf("sm-act-%d", n), RecommendationId: id,
				ResourceId: "i-1", Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED}}))
		case recSuperseded:
			must2(ts.ApplyRecommendations(c, a.Id, fmt.Sprintf("sm-b-%d", n), pol.Id, nil, nil))
		}
		if got := must(ts.GetRecommendation(c, id)); got.Status != status {
			t.Fatalf("setting up a %v recommendation: it is %v", status, got.Status)
		}
		return id
	}
	approve := func(id string) (*sirsiv1.Recommendation, error) {
		return ts.ApproveRecommendation(c, id, "token:t2", at)
	}
	revoke := func(id string) (*sirsiv1.Recommendation, error) { return ts.RevokeRecommendationApproval(c, id) }
	dismiss := func(id string) (*sirsiv1.Recommendation, error) { return ts.DismissRecommendation(c, id) }
	tests := []struct {
		name string
		from sirsiv1.RecommendationStatus
		move func(string) (*sirsiv1.Recommendation, error)
		// want is the status after the move; unspecified means refused
		// with ErrFailedPrecondition.
		want sirsiv1.RecommendationStatus
	}{
		{"approve open", recOpen, approve, recApproved},
		{"approve approved", recApproved, approve, 0},
		{"approve dismissed", recDismissed, approve, 0},
		{"approve executed", recExecuted, approve, 0},
		{"approve superseded", recSuperseded, approve, 0},
		{"revoke approved", recApproved, revoke, recOpen},
		{"revoke open", recOpen, revoke, recOpen},
		{"revoke executed", recExecuted, revoke, 0},
		{"revoke dismissed", recDismissed, revoke, 0},
		{"dismiss open", recOpen, dismiss, recDismissed},
		{"dismiss approved", recApproved, dismiss, recDismissed},
		{"dismiss dismissed", recDismissed, dismiss, recDismissed},
		{"dismiss executed", recExecuted, dismiss, 0},
		{"dismiss superseded", recSuperseded, dismiss, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer guard(t)
			id := fresh(tt.from)
			got, err := tt.move(id)
			stored := must(ts.GetRecommendation(c, id))
			if tt.want == 0 {
				wantErr(t, err, store.ErrFailedPrecondition, tt.name)
				if stored.Status != tt.from {
					t.Fatalf("refused move changed the status to %v", stored.Status)
				}
				return
			}
			ok(t, err)
			if got.Status != tt.want || stored.Status != tt.want {
				t.Fatalf("status returned %v, stored %v, want %v", got.Status, stored.Status, tt.want)
			}
			if !proto.Equal(got, stored) {
				t.Fatalf("returned %v, stored %v", got, stored)
			}
			approved := tt.want == recApproved
			if approved != (stored.ApprovedBy != "") || approved != (stored.ApproveTime != nil) {
				t.Fatalf("approver %q at %v for status %v", stored.ApprovedBy, stored.ApproveTime, stored.Status)
			}
			if approved && (stored.ApprovedBy != "token:t2" || !stored.ApproveTime.AsTime().Equal(at)) {
				t.Fatalf("approver %q at %v, want token:t2 at %v", stored.ApprovedBy, stored.ApproveTime.AsTime(), at)
			}
		})
	}
	for _, move := range []func(string) (*sirsiv1.Recommendation, error){approve, revoke, dismiss} {
		_, err := move("missing")
		wantErr(t, err, store.ErrNotFound, "move a missing recommendation")
	}

	// An approval survives the same proposal reported again, and does not
	// carry over to a different one.
	ids, _ := must2(ts.ApplyRecommendations(c, a.Id, "keep-1", p.Id, nil, []*sirsiv1.Recommendation{
		sizedRec("i-1", "m5.xlarge", "m5.large"), sizedRec("i-2", "m5.xlarge", "m5.large"),
	}))
	must(ts.ApproveRecommendation(c, ids[0], "token:t1", at))
	must(ts.ApproveRecommendation(c, ids[1], "token:t1", at))
	again, _ := must2(ts.ApplyRecommendations(c, a.Id, "keep-2", p.Id, nil, []*sirsiv1.Recommendation{
		sizedRec("i-1", "m5.xlarge", "m5.large"), sizedRec("i-2", "m5.xlarge", "t3.large"),
	}))
	if again[0] != ids[0] {
		t.Fatalf("the same proposal got a new id %s, want %s", again[0], ids[0])
	}
	if r := must(ts.GetRecommendation(c, ids[0])); r.Status != recApproved || r.ApprovedBy != "token:t1" {
		t.Fatalf("re-reported approved recommendation = %v", r)
	}
	if again[1] == ids[1] {
		t.Fatalf("a different proposal kept the approved recommendation's id %s", ids[1])
	}
	if r := must(ts.GetRecommendation(c, ids[1])); r.Status != recSuperseded || r.ProposedSize != "m5.large" {
		t.Fatalf("approved recommendation replaced by a new proposal = %v", r)
	}
	if r := must(ts.GetRecommendation(c, again[1])); r.Status != recOpen || r.ProposedSize != "t3.large" || r.ApprovedBy != "" {
		t.Fatalf("new proposal = %v", r)
	}

	// Any finished action uses the approval up.
	for i, st := range []sirsiv1.ActionStatus{sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK, sirsiv1.ActionStatus_ACTION_STATUS_FAILED} {
		id := fresh(recApproved)
		must(ts.ApplyActions(c, a.Id, fmt.Sprintf("fin-%d", i), []*sirsiv1.Action{{Id: fmt.Sprintf("fin-%d", i), RecommendationId: id, ResourceId: "i-1", Action: "resize", Status: st}}))
		if r := must(ts.GetRecommendation(c, id)); r.Status != recExecuted {
			t.Fatalf("recommendation after a %v action = %v", st, r.Status)
		}
	}
	// A running or dry-run action does not.
	id := fresh(recApproved)
	must(ts.ApplyActions(c, a.Id, "running", []*sirsiv1.Action{
		{Id: "run-1", RecommendationId: id, ResourceId: "i-1", Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_RUNNING},
		{Id: "dry-1", RecommendationId: id, ResourceId: "i-1", Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, DryRun: true},
	}))
	if r := must(ts.GetRecommendation(c, id)); r.Status != recApproved {
		t.Fatalf("recommendation after running and dry-run actions = %v", r.Status)
	}
}

func planOf(id, policyID string, recIDs ...string) *sirsiv1.ActionPlan {
	p := &sirsiv1.ActionPlan{Id: id, PolicyId: policyID, EstimatedMonthlySavings: money.USDFromFloat(12.5)}
	for i, r := range recIDs {
		p.Actions = append(p.Actions, &sirsiv1.Action{Id: fmt.Sprintf("%s-a%d", id, i), PolicyId: policyID, RecommendationId: r,
			ResourceId: fmt.Sprintf("i-%d", i), ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize",
			FromSize: "m5.xlarge", ToSize: "m5.large", Status: sirsiv1.ActionStatus_ACTION_STATUS_PLANNED, DryRun: true})
	}
	return p
}

func testActionPlans(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "plans")
	a := newAccount(t, ts, "123456789012")
	b := newAccount(t, ts, "210987654321")
	p := newPolicy(t, ts, "rightsize")
	q := newPolicy(t, ts, "other")
	recs, _ := must2(ts.ApplyRecommendations(c, a.Id, "r1", p.Id, nil, []*sirsiv1.Recommendation{sizedRec("i-0", "m5.xlarge", "m5.large"), sizedRec("i-1", "m5.xlarge", "m5.large")}))

	first := planOf("plan-1", p.Id, recs...)
	if dup := must(ts.SaveActionPlan(c, a.Id, "pb-1", first)); dup {
		t.Fatal("first save reported as duplicate")
	}
	got := must(ts.GetActionPlan(c, "plan-1"))
	if got.Status != planPending || got.TenantId != ts.TenantID() || got.CloudAccountId != a.Id || got.CreateTime == nil ||
		len(got.Actions) != 2 || got.Actions[1].RecommendationId != recs[1] || got.Actions[0].PlanId != "plan-1" || money.FloatOr(got.EstimatedMonthlySavings, math.NaN()) != 12.5 {
		t.Fatalf("saved plan = %v", got)
	}
	if dup := must(ts.SaveActionPlan(c, a.Id, "pb-1", planOf("plan-x", p.Id))); !dup {
		t.Fatal("repeated batch not reported as duplicate")
	}
	if _, err := ts.GetActionPlan(c, "plan-x"); err == nil {
		t.Fatal("a repeated batch stored its plan")
	}
	// The same plan id under a new batch changes nothing.
	if dup := must(ts.SaveActionPlan(c, a.Id, "pb-1b", planOf("plan-1", p.Id, recs[0]))); !dup {
		t.Fatal("plan saved again under a new batch not reported as duplicate")
	}
	if got := must(ts.GetActionPlan(c, "plan-1")); len(got.Actions) != 2 {
		t.Fatalf("resaving changed the plan: %v", got)
	}
	_, err := ts.SaveActionPlan(c, b.Id, "pb-b", planOf("plan-1", p.Id))
	wantErr(t, err, store.ErrAlreadyExists, "plan id of another cloud account")
	_, err = ts.SaveActionPlan(c, a.Id, "pb-nopol", planOf("plan-9", "missing"))
	wantErr(t, err, store.ErrFailedPrecondition, "plan of a missing policy")

	// A newer plan of the same account and policy supersedes the pending
	// one; plans of another policy or account are untouched.
	must(ts.SaveActionPlan(c, a.Id, "pb-q", planOf("plan-q", q.Id, recs[0])))
	must(ts.SaveActionPlan(c, b.Id, "pb-b2", planOf("plan-b", p.Id)))
	must(ts.SaveActionPlan(c, a.Id, "pb-2", planOf("plan-2", p.Id, recs...)))
	for id, want := range map[string]sirsiv1.ActionPlanStatus{"plan-1": planSuperseded, "plan-2": planPending, "plan-q": planPending, "plan-b": planPending} {
		if got := must(ts.GetActionPlan(c, id)); got.Status != want {
			t.Errorf("%s is %v, want %v", id, got.Status, want)
		}
	}

	_, err = ts.ApproveActionPlan(c, "plan-1", "token:t", time.Now())
	wantErr(t, err, store.ErrFailedPrecondition, "approve a superseded plan")
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	ap := must(ts.ApproveActionPlan(c, "plan-2", "token:t", at))
	if ap.Status != planApproved || ap.ApprovedBy != "token:t" || !ap.ApproveTime.AsTime().Equal(at) {
		t.Fatalf("approved plan = %v", ap)
	}
	if got := must(ts.GetActionPlan(c, "plan-2")); !proto.Equal(got, ap) {
		t.Fatalf("stored %v, returned %v", got, ap)
	}
	_, err = ts.ApproveActionPlan(c, "plan-2", "token:t", at)
	wantErr(t, err, store.ErrFailedPrecondition, "approve twice")
	_, err = ts.ApproveActionPlan(c, "missing", "token:t", at)
	wantErr(t, err, store.ErrNotFound, "approve a missing plan")
	// An approved plan is not superseded by a newer one.
	must(ts.SaveActionPlan(c, a.Id, "pb-3", planOf("plan-3", p.Id, recs[0])))
	if got := must(ts.GetActionPlan(c, "plan-2")); got.Status != planApproved {
		t.Fatalf("approved plan after a newer one = %v", got.Status)
	}

	for _, tc := range []struct {
		f    store.ActionPlanFilter
		want string
	}{
		{store.ActionPlanFilter{}, "[plan-1 plan-2 plan-3 plan-b plan-q]"},
		{store.ActionPlanFilter{PolicyID: q.Id}, "[plan-q]"},
		{store.ActionPlanFilter{Status: planPending}, "[plan-3 plan-b plan-q]"},
		{store.ActionPlanFilter{Status: planApproved, CloudAccountID: a.Id}, "[plan-2]"},
		{store.ActionPlanFilter{Status: planApproved, CloudAccountID: b.Id}, "[]"},
	} {
		var ids []string
		tok := ""
		for {
			l, next := must2(ts.ListActionPlans(c, tc.f, store.Page{Size: 2, Token: tok}))
			for _, p := range l {
				ids = append(ids, p.Id)
			}
			if next == "" {
				break
			}
			tok = next
		}
		if got := fmt.Sprint(ids); got != tc.want {
			t.Errorf("ListActionPlans(%+v) = %s, want %s", tc.f, got, tc.want)
		}
	}
	_, _, err = ts.ListActionPlans(c, store.ActionPlanFilter{Status: planPending}, store.Page{Token: "bogus"})
	wantErr(t, err, store.ErrInvalidPageToken, "bad page token")

	// Executed once every planned action has a finished action from it.
	exec := func(batch, id, rec string, st sirsiv1.ActionStatus, dry bool) {
		must(ts.ApplyActions(c, a.Id, batch, []*sirsiv1.Action{{Id: id, PlanId: "plan-2", RecommendationId: rec, ResourceId: "i-0", Action: "resize", Status: st, DryRun: dry}}))
	}
	exec("e1", "x-1", recs[0], sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, false)
	exec("e2", "x-2", recs[1], sirsiv1.ActionStatus_ACTION_STATUS_RUNNING, false)
	exec("e3", "x-3", recs[1], sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, true)
	if got := must(ts.GetActionPlan(c, "plan-2")); got.Status != planApproved {
		t.Fatalf("plan with an action still running = %v", got.Status)
	}
	exec("e4", "x-2", recs[1], sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK, false)
	if got := must(ts.GetActionPlan(c, "plan-2")); got.Status != planExecuted {
		t.Fatalf("plan with every action finished = %v", got.Status)
	}
	acts, _ := must2(ts.ListActions(c, store.ActionFilter{ResourceID: "i-0"}, store.Page{}))
	for _, x := range acts {
		if x.PlanId != "plan-2" {
			t.Errorf("action %s has plan id %q", x.Id, x.PlanId)
		}
	}
	// A pending plan's actions finishing (they should not, but an agent
	// may report dry runs) do not make it executed.
	must(ts.ApplyActions(c, a.Id, "e5", []*sirsiv1.Action{{Id: "x-5", PlanId: "plan-3", RecommendationId: recs[0], ResourceId: "i-0", Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED}}))
	if got := must(ts.GetActionPlan(c, "plan-3")); got.Status != planPending {
		t.Fatalf("pending plan after its action finished = %v", got.Status)
	}

	// Plans go with their policy and with their tenant.
	ok(t, ts.DeletePolicy(c, q.Id, 0))
	_, err = ts.GetActionPlan(c, "plan-q")
	wantErr(t, err, store.ErrNotFound, "plan of a deleted policy")
	ok(t, s.DeleteTenant(c, ts.TenantID(), 0, true))
	_, err = ts.GetActionPlan(c, "plan-2")
	wantErr(t, err, store.ErrNotFound, "plan of a deleted tenant")
}

func testReservations(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "cap")
	a := newAccount(t, ts, "123456789012")
	p := newPolicy(t, ts, "p")
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	reserve := func(id string, count int, at time.Time) store.Grant {
		return must(ts.ReserveActions(c, store.Reservation{ID: id, CloudAccountID: a.Id, PolicyID: p.Id, Count: count, At: at, DefaultLimit: 5}))
	}
	steps := []struct {
		id      string
		count   int
		at      time.Duration
		granted int
		retry   time.Duration // from t0; 0 for none
	}{
		{"r1", 3, 0, 3, 0},
		{"r2", 4, 10 * time.Minute, 2, time.Hour},
		// Same id, later, other count: the first answer.
		{"r2", 1, 50 * time.Minute, 2, time.Hour},
		{"r3", 1, 30 * time.Minute, 0, time.Hour},
		// r1 left the window; r2's 2 are still counted.
		{"r4", 5, 61 * time.Minute, 3, 70 * time.Minute},
		// Everything before r4 left the window.
		{"r5", 4, 100 * time.Minute, 2, 121 * time.Minute},
		// r4 leaves the window exactly an hour after it was made.
		{"r6", 5, 121 * time.Minute, 3, 160 * time.Minute},
	}
	for _, st := range steps {
		g := reserve(st.id, st.count, t0.Add(st.at))
		var want time.Time
		if st.retry != 0 {
			want = t0.Add(st.retry)
		}
		if g.Granted != st.granted || !g.RetryAt.Equal(want) {
			t.Fatalf("reservation %s of %d at +%s: granted %d retry %v, want %d retry %v", st.id, st.count, st.at, g.Granted, g.RetryAt, st.granted, want)
		}
	}
	// The tenant's own cap replaces the default; zero stops everything.
	tn := must(s.GetTenant(c, ts.TenantID()))
	tn.MaxActionsPerHour = proto.Int32(0)
	must(s.UpdateTenant(c, tn))
	if g := reserve("z1", 1, t0.Add(10*time.Hour)); g.Granted != 0 || !g.RetryAt.Equal(t0.Add(11*time.Hour)) {
		t.Fatalf("reservation under a zero cap = %+v", g)
	}
	tn = must(s.GetTenant(c, ts.TenantID()))
	tn.MaxActionsPerHour = proto.Int32(100)
	must(s.UpdateTenant(c, tn))
	if g := reserve("z2", 50, t0.Add(10*time.Hour)); g.Granted != 50 || !g.RetryAt.IsZero() {
		t.Fatalf("reservation under a cap of 100 = %+v", g)
	}

	_, err := ts.ReserveActions(c, store.Reservation{ID: "np", CloudAccountID: a.Id, PolicyID: "missing", Count: 1, At: t0, DefaultLimit: 5})
	wantErr(t, err, store.ErrNotFound, "reserve under a missing policy")
	_, err = ts.ReserveActions(c, store.Reservation{ID: "bad", CloudAccountID: a.Id, PolicyID: p.Id, Count: 0, At: t0, DefaultLimit: 5})
	wantErr(t, err, store.ErrInvalidArgument, "reserve nothing")

	// Another tenant has its own window, and its reservation ids are its
	// own.
	other := newTenant(t, s, "cap-2")
	oa := newAccount(t, other, "123456789012")
	op := newPolicy(t, other, "p")
	g := must(other.ReserveActions(c, store.Reservation{ID: "r1", CloudAccountID: oa.Id, PolicyID: op.Id, Count: 5, At: t0, DefaultLimit: 5}))
	if g.Granted != 5 {
		t.Fatalf("other tenant's first reservation = %+v", g)
	}
	_, err = other.ReserveActions(c, store.Reservation{ID: "x", CloudAccountID: oa.Id, PolicyID: p.Id, Count: 1, At: t0, DefaultLimit: 5})
	wantErr(t, err, store.ErrNotFound, "reserve under another tenant's policy")
}

// testConcurrentReservations races reservations of one tenant from many
// goroutines (two agents each asking repeatedly): the grants in one window
// never add up to more than the cap, and all of it is handed out.
func testConcurrentReservations(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "race")
	a := newAccount(t, ts, "123456789012")
	b := newAccount(t, ts, "210987654321")
	p := newPolicy(t, ts, "p")
	const limit, workers, each = 25, 8, 6
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		acct := a.Id
		if w%2 == 1 {
			acct = b.Id
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				g, err := ts.ReserveActions(c, store.Reservation{ID: fmt.Sprintf("w%d-%d", w, i), CloudAccountID: acct, PolicyID: p.Id,
					Count: 1 + (w+i)%3, At: at.Add(time.Duration(i) * time.Second), DefaultLimit: limit})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				total += g.Granted
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if total != limit {
		t.Fatalf("granted %d in one window, want exactly the cap %d", total, limit)
	}
}
