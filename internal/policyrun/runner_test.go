package policyrun

import (
	"context"
	"errors"
	"iter"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/actuator"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

// fakeExecutor succeeds at everything it is asked and remembers it.
type fakeExecutor struct {
	mu       sync.Mutex
	executed []actuator.Request
	last     map[string]time.Time
	resumed  []*sirsiv1.Action
	refuse   map[string]string // resource id -> reason a dry run refuses it
	// finished holds the finished actions not yet marked reported.
	finished []*sirsiv1.Action
	// fails is how often Execute still fails on a resource after acting.
	fails map[string]int
}

func (f *fakeExecutor) Execute(_ context.Context, req actuator.Request) *sirsiv1.Action {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.executed = append(f.executed, req)
	if f.fails[req.ResourceID] > 0 {
		f.fails[req.ResourceID]--
		return &sirsiv1.Action{Id: req.ID, ResourceId: req.ResourceID, Action: req.Action, Status: sirsiv1.ActionStatus_ACTION_STATUS_FAILED,
			Error: "InsufficientInstanceCapacity", Steps: []*sirsiv1.ActionStep{{Name: "check", Status: "succeeded"}, {Name: req.Action, Status: "failed"}}}
	}
	act := &sirsiv1.Action{Id: req.ID, ResourceId: req.ResourceID, Action: req.Action, PlanId: req.PlanID, RecommendationId: req.RecommendationID,
		Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, RealizedMonthlySavings: req.EstimatedMonthlySavings}
	f.finished = append(f.finished, act)
	return act
}

func (f *fakeExecutor) DryRun(_ context.Context, req actuator.Request) *sirsiv1.Action {
	if reason, ok := f.refuse[req.ResourceID]; ok {
		return &sirsiv1.Action{Id: req.ID, ResourceId: req.ResourceID, Status: sirsiv1.ActionStatus_ACTION_STATUS_FAILED, Error: reason, DryRun: true}
	}
	return &sirsiv1.Action{Id: req.ID, ResourceId: req.ResourceID, ResourceType: req.ResourceType, Region: req.Region, Action: req.Action,
		PlanId: req.PlanID, RecommendationId: req.RecommendationID, FromSize: req.FromSize, ToSize: req.ToSize,
		Status: sirsiv1.ActionStatus_ACTION_STATUS_PLANNED, DryRun: true}
}

func (f *fakeExecutor) LastAction(id string) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.last[id]
	return t, ok
}

func (f *fakeExecutor) Resume(_ context.Context, done func(*sirsiv1.Action)) {
	for _, act := range f.resumed {
		f.mu.Lock()
		f.finished = append(f.finished, act)
		f.mu.Unlock()
		done(act)
	}
}

func (f *fakeExecutor) Unreported() ([]*sirsiv1.Action, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.finished), nil
}

func (f *fakeExecutor) MarkReported(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.finished = slices.DeleteFunc(f.finished, func(a *sirsiv1.Action) bool { return a.GetId() == id })
	return nil
}

func (f *fakeExecutor) resources() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.executed {
		out = append(out, r.ResourceID)
	}
	slices.Sort(out)
	return out
}

type fakeReporter struct {
	mu      sync.Mutex
	actions []*sirsiv1.Action
	plans   []*sirsiv1.ActionPlan
	down    bool // the spool refuses reports
}

func (f *fakeReporter) ReportAction(act *sirsiv1.Action) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("spool full")
	}
	f.actions = append(f.actions, act)
	return nil
}

func (f *fakeReporter) SavePlan(_ context.Context, plan *sirsiv1.ActionPlan) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.plans = append(f.plans, plan)
	return nil
}

// fakeReserver grants up to cap actions in all, like a tenant-wide cap
// per hour that never rolls over during a test.
type fakeReserver struct {
	cap, granted int
	err          error
}

func (f *fakeReserver) Reserve(_ context.Context, _ string, n int) (int, time.Time, error) {
	if f.err != nil {
		return 0, time.Time{}, f.err
	}
	g := min(n, f.cap-f.granted)
	f.granted += g
	return g, time.Time{}, nil
}

type flatPrices float64

func (p flatPrices) EC2Hourly(string, string) (float64, error) { return float64(p), nil }

type world struct {
	dir  string
	now  time.Time
	exec *fakeExecutor
	rep  *fakeReporter
	res  *fakeReserver
	inv  []*sirsiv1.Resource
}

func newWorld(t *testing.T, now time.Time) *world {
	return &world{dir: t.TempDir(), now: now, exec: &fakeExecutor{last: map[string]time.Time{}}, rep: &fakeReporter{}, res: &fakeReserver{cap: 1000}}
}

func (w *world) runner(t *testing.T) *Runner {
	t.Helper()
	r, err := New(Config{DataDir: w.dir, Executor: w.exec, Reporter: w.rep, Reserver: w.res, Clock: func() time.Time { return w.now },
		Prices: flatPrices(0.1), Inventory: func() iter.Seq[*sirsiv1.Resource] {
			if w.inv == nil {
				return nil
			}
			return slices.Values(w.inv)
		}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func rec(id, resource string, savings float64) *sirsiv1.Recommendation {
	return &sirsiv1.Recommendation{Id: id, ResourceId: resource, ResourceType: actuator.ResourceEC2Instance, Region: "us-east-1",
		Action: actuator.ActionResize, CurrentSize: "m5.xlarge", ProposedSize: "m5.large", EstimatedMonthlySavings: money.USDFromFloat(savings)}
}

func autoPolicy(maxPerRun int32) *sirsiv1.OptimizationPolicy {
	return &sirsiv1.OptimizationPolicy{Id: "p1", Name: "auto", Version: 1, Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO,
		Schedule: "0 2 * * *", Timezone: "UTC", MaxActionsPerRun: &maxPerRun}
}

// at02 is a day's schedule firing of autoPolicy.
var at02 = time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)

// TestAutoRunsLargestSavingsWithinTheRunLimit: in the window, the largest
// savings go first, at most max_actions_per_run per window, counted across
// a restart; outside the window nothing happens; an irreversible release,
// however large its saving, never runs in auto.
func TestAutoRunsLargestSavingsWithinTheRunLimit(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, at02.Add(-time.Minute))
	p := autoPolicy(2)
	asg := &sirsiv1.GetAssignmentResponse{Policies: []*sirsiv1.OptimizationPolicy{p}}
	r := w.runner(t)
	if !r.Stale(asg.Policies) {
		t.Fatal("a new runner has decisions")
	}
	r.Decided(ctx, asg.Policies, map[string][]*sirsiv1.Recommendation{"p1": {
		rec("r1", "i-1", 10), rec("r2", "i-2", 30), rec("r3", "i-3", 20), {Id: "r4", ResourceId: "eipalloc-1", ResourceType: "aws_eip", Action: "release", EstimatedMonthlySavings: money.USDFromFloat(99)},
	}})
	if r.Stale(asg.Policies) {
		t.Fatal("stale right after the decisions")
	}
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	if n := len(w.exec.executed); n != 0 {
		t.Fatalf("%d actions before the window opened", n)
	}
	w.now = at02.Add(10 * time.Minute)
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	if got, want := w.exec.resources(), []string{"i-2", "i-3"}; !slices.Equal(got, want) {
		t.Fatalf("executed %v, want the two largest savings %v", got, want)
	}
	if len(w.rep.actions) != 2 {
		t.Errorf("%d actions reported, want 2", len(w.rep.actions))
	}
	// A restart in the same window: the window's count survives it.
	r = w.runner(t)
	r.Decided(ctx, asg.Policies, map[string][]*sirsiv1.Recommendation{"p1": {rec("r1", "i-1", 10)}})
	w.now = at02.Add(20 * time.Minute)
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	if n := len(w.exec.executed); n != 2 {
		t.Fatalf("%d actions after a restart in the same window, want still 2", n)
	}
	// The next day's window has room again.
	w.now = at02.Add(24*time.Hour + time.Minute)
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	if got := w.exec.resources(); !slices.Equal(got, []string{"i-1", "i-2", "i-3"}) {
		t.Fatalf("executed %v after the next firing", got)
	}
}

// TestDecidedTypesReplacesOnlyItsTypes: the decisions made after a
// discovery (volumes) replace the volumes' recommendations and keep the
// instances' from the last utilisation decision; they do not make the
// decisions current for a changed policy.
func TestDecidedTypesReplacesOnlyItsTypes(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, at02.Add(time.Minute))
	p := autoPolicy(10)
	asg := &sirsiv1.GetAssignmentResponse{Policies: []*sirsiv1.OptimizationPolicy{p}}
	r := w.runner(t)
	gp3 := func(id, vol string) *sirsiv1.Recommendation {
		return &sirsiv1.Recommendation{Id: id, ResourceId: vol, ResourceType: actuator.ResourceEBSVolume, Region: "us-east-1",
			Action: actuator.ActionMigrateGP3, CurrentSize: "gp2:500", ProposedSize: "gp3:500", EstimatedMonthlySavings: money.USDFromFloat(5)}
	}
	r.DecidedTypes(ctx, asg.Policies, []string{actuator.ResourceEBSVolume}, map[string][]*sirsiv1.Recommendation{"p1": {gp3("r0", "vol-0")}})
	if !r.Stale(asg.Policies) {
		t.Fatal("decisions about volumes alone made the decisions current")
	}
	r.Decided(ctx, asg.Policies, map[string][]*sirsiv1.Recommendation{"p1": {rec("r1", "i-1", 10), gp3("r2", "vol-1")}})
	r.DecidedTypes(ctx, asg.Policies, []string{actuator.ResourceEBSVolume}, map[string][]*sirsiv1.Recommendation{"p1": {gp3("r3", "vol-2")}})
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	if got, want := w.exec.resources(), []string{"i-1", "vol-2"}; !slices.Equal(got, want) {
		t.Fatalf("executed %v, want %v: the instance kept, the volumes replaced", got, want)
	}
}

// TestTenantCapAndCooldownHoldBack: the tenant-wide grant cuts a run, a
// failed reservation acts on nothing, and a resource inside its cool-down
// is left out.
func TestTenantCapAndCooldownHoldBack(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, at02.Add(time.Minute))
	w.res.cap = 1
	w.exec.last["i-2"] = at02.Add(-time.Hour) // inside the default 24h cool-down
	p := autoPolicy(5)
	asg := &sirsiv1.GetAssignmentResponse{Policies: []*sirsiv1.OptimizationPolicy{p}}
	r := w.runner(t)
	r.Decided(ctx, asg.Policies, map[string][]*sirsiv1.Recommendation{"p1": {rec("r1", "i-1", 10), rec("r2", "i-2", 30), rec("r3", "i-3", 20)}})
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	if got := w.exec.resources(); !slices.Equal(got, []string{"i-3"}) {
		t.Fatalf("executed %v, want only i-3 (i-2 cools down, the cap grants one)", got)
	}
	w.res.err = errors.New("control plane down")
	w.now = at02.Add(24*time.Hour + time.Minute)
	if err := r.Run(ctx, asg); err == nil {
		t.Fatal("a failed reservation is not an error")
	}
	if n := len(w.exec.executed); n != 1 {
		t.Fatalf("%d actions without a reservation", n)
	}
}

// TestApproveActsOnApprovedPlansOnly: an approve policy saves a plan (the
// dry run, without what live checks refuse, the same plan only once) and
// acts on approved plans and recommendations only, with the plan's ids.
func TestApproveActsOnApprovedPlansOnly(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, at02.Add(time.Minute))
	w.exec.refuse = map[string]string{"i-3": "carries the exclude tag team=payments"}
	p := autoPolicy(5)
	p.Mode = sirsiv1.PolicyMode_POLICY_MODE_APPROVE
	asg := &sirsiv1.GetAssignmentResponse{Policies: []*sirsiv1.OptimizationPolicy{p}}
	r := w.runner(t)
	recs := map[string][]*sirsiv1.Recommendation{"p1": {rec("r1", "i-1", 10), rec("r2", "i-2", 30), rec("r3", "i-3", 20)}}
	r.Decided(ctx, asg.Policies, recs)
	r.Decided(ctx, asg.Policies, recs)
	if len(w.rep.plans) != 1 {
		t.Fatalf("%d plans saved for the same decisions, want 1", len(w.rep.plans))
	}
	plan := w.rep.plans[0]
	var planned []string
	for _, a := range plan.GetActions() {
		planned = append(planned, a.GetResourceId())
	}
	if !slices.Equal(planned, []string{"i-2", "i-1"}) || money.FloatOr(plan.GetEstimatedMonthlySavings(), math.NaN()) != 40 {
		t.Fatalf("plan %v saving %s, want i-2, i-1 saving 40", planned, money.Format(plan.GetEstimatedMonthlySavings()))
	}
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	if n := len(w.exec.executed); n != 0 {
		t.Fatalf("%d actions without an approval", n)
	}
	asg.ApprovedPlans = []*sirsiv1.ActionPlan{plan}
	asg.ApprovedRecommendations = []*sirsiv1.Recommendation{{Id: "r9", PolicyId: "p1", ResourceId: "i-9", ResourceType: actuator.ResourceEC2Instance,
		Action: actuator.ActionStop, Region: "us-east-1"}}
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	if got := w.exec.resources(); !slices.Equal(got, []string{"i-1", "i-2", "i-9"}) {
		t.Fatalf("executed %v, want the plan's i-1, i-2 and the approved i-9", got)
	}
	for _, req := range w.exec.executed {
		if req.ResourceID != "i-9" && (req.PlanID != plan.GetId() || !slices.ContainsFunc(plan.GetActions(), func(a *sirsiv1.Action) bool { return a.GetId() == req.ID })) {
			t.Errorf("request %s on %s carries plan %q, not the saved action's id and plan %s", req.ID, req.ResourceID, req.PlanID, plan.GetId())
		}
	}
}

// TestDryRunAutoPlansAndNeverActs: auto with dry_run saves plans and
// never executes, off-hours included.
func TestDryRunAutoPlansAndNeverActs(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, at02.Add(time.Minute))
	p := autoPolicy(5)
	p.DryRun = true
	p.Offhours = &sirsiv1.OffHoursSettings{StopCron: "* * * * *"}
	w.inv = []*sirsiv1.Resource{{ResourceId: "i-1", Type: actuator.ResourceEC2Instance, State: "running", Region: "us-east-1"}}
	asg := &sirsiv1.GetAssignmentResponse{Policies: []*sirsiv1.OptimizationPolicy{p}}
	r := w.runner(t)
	r.Decided(ctx, asg.Policies, map[string][]*sirsiv1.Recommendation{"p1": {rec("r1", "i-1", 10)}})
	for range 3 {
		if err := r.Run(ctx, asg); err != nil {
			t.Fatal(err)
		}
		w.now = w.now.Add(time.Minute)
	}
	if len(w.exec.executed) != 0 || len(w.rep.plans) != 1 {
		t.Fatalf("dry run executed %d and saved %d plans, want 0 and 1", len(w.exec.executed), len(w.rep.plans))
	}
}

// TestOffHoursStopsAtTheFiringOnly: firings before the policy was first
// seen are history; at a stop firing the selected running instances are
// stopped, never excluded or stopped ones; a restart does not replay it.
func TestOffHoursStopsAtTheFiringOnly(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, time.Date(2026, 6, 1, 18, 30, 0, 0, time.UTC))
	hundred := int32(100)
	p := &sirsiv1.OptimizationPolicy{Id: "p1", Name: "nights", Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO, Schedule: "0 3 1 1 *", MaxActionsPerRun: &hundred,
		ResourceTypes: []string{actuator.ResourceEC2Instance},
		Selector:      &sirsiv1.PolicySelector{ExcludeTags: map[string]string{"team": "payments"}},
		Offhours:      &sirsiv1.OffHoursSettings{StopCron: "0 19 * * *", StartCron: "0 7 * * *"}}
	w.inv = []*sirsiv1.Resource{
		{ResourceId: "i-1", Type: actuator.ResourceEC2Instance, State: "running", Region: "us-east-1", Size: "m5.large"},
		{ResourceId: "i-2", Type: actuator.ResourceEC2Instance, State: "stopped", Region: "us-east-1", Size: "m5.large"},
		{ResourceId: "i-3", Type: actuator.ResourceEC2Instance, State: "running", Region: "us-east-1", Size: "m5.large", Tags: map[string]string{"team": "payments"}},
		{ResourceId: "vol-1", Type: actuator.ResourceEBSVolume, State: "in-use", Region: "us-east-1"},
	}
	asg := &sirsiv1.GetAssignmentResponse{Policies: []*sirsiv1.OptimizationPolicy{p}}
	r := w.runner(t)
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	w.now = w.now.Add(time.Hour) // past 19:00
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	if got := w.exec.resources(); !slices.Equal(got, []string{"i-1"}) {
		t.Fatalf("stopped %v at the firing, want i-1", got)
	}
	stop := w.exec.executed[0]
	// 12 of every 24 hours stopped: half a month's price of 0.1 an hour.
	if stop.Action != actuator.ActionStop || stop.Cooldown != 0 || money.FloatOr(stop.EstimatedMonthlySavings, math.NaN()) != 36.5 {
		t.Errorf("stop request %+v, want a stop without cool-down saving 36.50", stop)
	}
	r = w.runner(t)
	w.now = w.now.Add(time.Minute)
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	if n := len(w.exec.executed); n != 1 {
		t.Fatalf("%d actions after a restart, want the firing handled once", n)
	}
}

// TestUnreportedActionsAreReportedAtStart: actions that finished without
// their report reaching the reporter (a crash, a refusing spool) are
// reported at the next start, before the resumed ones, each once.
func TestUnreportedActionsAreReportedAtStart(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, at02.Add(time.Minute))
	p := autoPolicy(5)
	asg := &sirsiv1.GetAssignmentResponse{Policies: []*sirsiv1.OptimizationPolicy{p}}
	r := w.runner(t)
	r.Decided(ctx, asg.Policies, map[string][]*sirsiv1.Recommendation{"p1": {rec("r1", "i-1", 10), rec("r2", "i-2", 30)}})
	w.rep.down = true
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	if len(w.rep.actions) != 0 || len(w.exec.finished) != 2 {
		t.Fatalf("%d reported and %d left unreported while the spool refused, want 0 and 2", len(w.rep.actions), len(w.exec.finished))
	}
	w.rep.down = false
	w.exec.resumed = []*sirsiv1.Action{{Id: "resumed-1", ResourceId: "i-7", Status: sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK}}
	r = w.runner(t) // the next start
	r.Resume(ctx)
	r.Resume(ctx) // once per process
	var got []string
	for _, a := range w.rep.actions {
		got = append(got, a.GetResourceId())
	}
	slices.Sort(got[:min(2, len(got))]) // the two ran side by side
	if !slices.Equal(got, []string{"i-1", "i-2", "i-7"}) {
		t.Fatalf("reported %v, want the two unreported actions then the resumed one, once each", got)
	}
	if len(w.exec.finished) != 0 {
		t.Fatalf("%d actions left unmarked after their reports", len(w.exec.finished))
	}
	if a, b := ReportBatchID(w.rep.actions[0]), ReportBatchID(w.rep.actions[0]); a != b || a == ReportBatchID(w.rep.actions[1]) {
		t.Errorf("report batch ids: %s and %s for one action, %s for another", a, b, ReportBatchID(w.rep.actions[1]))
	}
}

func nightsPolicy(mode sirsiv1.PolicyMode) *sirsiv1.OptimizationPolicy {
	return &sirsiv1.OptimizationPolicy{Id: "p1", Name: "nights", Mode: mode, Schedule: "0 3 1 1 *", ResourceTypes: []string{actuator.ResourceEC2Instance},
		Offhours: &sirsiv1.OffHoursSettings{StopCron: "0 19 * * *", StartCron: "0 7 * * *"}}
}

// TestOffHoursFiringIsKeptAndRetried: a firing that comes before the first
// inventory, or while the agent is down, is carried out later within its
// window (60 minutes); an instance AWS fails to stop is tried again at the
// next run; a firing whose window closed is dropped.
func TestOffHoursFiringIsKeptAndRetried(t *testing.T) {
	ctx := context.Background()
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	w := newWorld(t, day.Add(18*time.Hour))
	w.exec.fails = map[string]int{"i-2": 1}
	asg := &sirsiv1.GetAssignmentResponse{Policies: []*sirsiv1.OptimizationPolicy{nightsPolicy(sirsiv1.PolicyMode_POLICY_MODE_AUTO)}}
	r := w.runner(t)
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	w.now = day.Add(19*time.Hour + time.Minute)
	if err := r.Run(ctx, asg); err == nil {
		t.Fatal("a stop firing without an inventory is not an error")
	}
	w.inv = []*sirsiv1.Resource{
		{ResourceId: "i-1", Type: actuator.ResourceEC2Instance, State: "running", Region: "us-east-1"},
		{ResourceId: "i-2", Type: actuator.ResourceEC2Instance, State: "running", Region: "us-east-1"},
		{ResourceId: "i-asg", Type: actuator.ResourceEC2Instance, State: "running", Region: "us-east-1", Tags: map[string]string{"aws:autoscaling:groupName": "g"}},
	}
	r = w.runner(t) // a restart keeps the pending firing
	w.now = day.Add(19*time.Hour + 20*time.Minute)
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	if got := w.exec.resources(); !slices.Equal(got, []string{"i-1", "i-2"}) {
		t.Fatalf("tried %v, want i-1 and i-2 (never the Auto Scaling group member)", got)
	}
	w.now = day.Add(19*time.Hour + 30*time.Minute)
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	if got := w.exec.resources(); !slices.Equal(got, []string{"i-1", "i-2", "i-2"}) {
		t.Fatalf("tried %v, want i-2 again after its failure", got)
	}
	if a, b := w.exec.executed[1].ID, w.exec.executed[2].ID; a == b {
		t.Error("the retry reuses the failed request's id, which the journal would answer with the failure")
	}
	// The agent is down over the start firing and its window.
	w.now = day.Add(32 * time.Hour)
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	if n := len(w.exec.executed); n != 3 {
		t.Fatalf("%d actions after the start firing's window closed, want none new", n)
	}
	// The next stop firing is caught up 30 minutes late; then the start.
	w.now = day.Add(43*time.Hour + 30*time.Minute)
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	w.now = day.Add(55*time.Hour + 5*time.Minute)
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	var starts []string
	for _, req := range w.exec.executed[3:] {
		if req.Action == actuator.ActionStart {
			starts = append(starts, req.ResourceID)
			if req.StoppedAt.IsZero() || !req.OffHours {
				t.Errorf("start of %s without the off-hours stop it undoes", req.ResourceID)
			}
		}
	}
	slices.Sort(starts)
	if !slices.Equal(starts, []string{"i-1", "i-2"}) {
		t.Fatalf("started %v, want exactly the two off-hours stopped", starts)
	}
}

// TestOffHoursOnlyInAuto: approve mode and dry runs never carry out a
// firing (a dry run checks it through the executor), and recommend mode
// ignores schedules.
func TestOffHoursOnlyInAuto(t *testing.T) {
	ctx := context.Background()
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		p    *sirsiv1.OptimizationPolicy
	}{
		{"approve", nightsPolicy(sirsiv1.PolicyMode_POLICY_MODE_APPROVE)},
		{"dry run", func() *sirsiv1.OptimizationPolicy {
			p := nightsPolicy(sirsiv1.PolicyMode_POLICY_MODE_AUTO)
			p.DryRun = true
			return p
		}()},
		{"recommend", nightsPolicy(sirsiv1.PolicyMode_POLICY_MODE_RECOMMEND)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, day.Add(18*time.Hour))
			w.inv = []*sirsiv1.Resource{{ResourceId: "i-1", Type: actuator.ResourceEC2Instance, State: "running", Region: "us-east-1"}}
			asg := &sirsiv1.GetAssignmentResponse{Policies: []*sirsiv1.OptimizationPolicy{tc.p}}
			r := w.runner(t)
			for _, at := range []time.Duration{18 * time.Hour, 19*time.Hour + time.Minute, 19*time.Hour + 2*time.Minute} {
				w.now = day.Add(at)
				if err := r.Run(ctx, asg); err != nil {
					t.Fatal(err)
				}
			}
			if len(w.exec.executed) != 0 || len(w.rep.actions) != 0 {
				t.Fatalf("%d executed, %d reported", len(w.exec.executed), len(w.rep.actions))
			}
		})
	}
}
