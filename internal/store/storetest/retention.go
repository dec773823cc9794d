package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// retentionNow and retentionCutoff are the instants of the retention
// tests: rows older than the cutoff go.
var (
	retentionNow    = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	retentionCutoff = retentionNow.AddDate(0, 0, -30)
)

// retentionSeed is what seedRetention stored in a tenant, and which of it
// retention must keep.
type retentionSeed struct {
	ts                                 store.TenantStore
	keptUtil, keptActions, keptAnomaly []string
	oldUtil, oldActions, oldAnomalies  int
}

// seedRetention stores, in a new tenant, rows on both sides of
// retentionCutoff of every retained kind, with ledger entries and cost
// records, including rows retention must keep however old they are.
func seedRetention(t *testing.T, s store.Store, name string) *retentionSeed {
	c := ctx(t)
	ts := newTenant(t, s, name)
	a := newAccount(t, ts, "123456789012")
	p := newPolicy(t, ts, "rightsize")
	old, fresh := retentionCutoff.Add(-time.Hour), retentionCutoff.Add(time.Hour)
	seed := &retentionSeed{ts: ts}

	var sums []*sirsiv1.UtilizationSummary
	for i := range 5 {
		sums = append(sums, &sirsiv1.UtilizationSummary{ResourceId: fmt.Sprintf("i-old-%d", i), Region: usEast1, Metric: "cpu_utilization", Statistic: "p95",
			Value: 10, WindowStart: timestamppb.New(old.AddDate(0, 0, -14)), WindowEnd: timestamppb.New(old.Add(-time.Duration(i) * time.Hour))})
	}
	for i := range 2 {
		id := fmt.Sprintf("i-new-%d", i)
		sums = append(sums, &sirsiv1.UtilizationSummary{ResourceId: id, Region: usEast1, Metric: "cpu_utilization", Statistic: "p95",
			Value: 20, WindowStart: timestamppb.New(old), WindowEnd: timestamppb.New(fresh)})
		seed.keptUtil = append(seed.keptUtil, id)
	}
	must(ts.ApplyUtilization(c, a.Id, "util", sums))
	seed.oldUtil = 5

	// An approved plan of two actions, one of them done long ago: its
	// action stays until the plan completes.
	recIDs, _, err := ts.ApplyRecommendations(c, a.Id, "recs", p.Id, nil, []*sirsiv1.Recommendation{
		{ResourceId: "i-p1", Action: "resize", CurrentMonthlyCost: money.USDFromFloat(100), ProposedMonthlyCost: money.USDFromFloat(50)},
		{ResourceId: "i-p2", Action: "resize", CurrentMonthlyCost: money.USDFromFloat(100), ProposedMonthlyCost: money.USDFromFloat(50)},
	})
	ok(t, err)
	must(ts.SaveActionPlan(c, a.Id, "plan", planOf("plan-1", p.Id, recIDs...)))
	must(ts.ApproveActionPlan(c, "plan-1", "token:admin", old.AddDate(0, 0, -2)))
	planned := ledgerAction("plan-done", p.Id, "i-p1", "resize", "m5.large", succeeded, old.AddDate(0, 0, -1), old.AddDate(0, 0, -1), 192_000, 96_000)
	planned.PlanId, planned.RecommendationId = "plan-1", recIDs[0]

	running := ledgerAction("running", p.Id, "i-r", "resize", "m5.large", sirsiv1.ActionStatus_ACTION_STATUS_RUNNING, old.AddDate(0, 0, -3), time.Time{}, 192_000, 96_000)
	running.EndTime = nil
	dry := ledgerAction("dry", p.Id, "i-d", "resize", "m5.large", sirsiv1.ActionStatus_ACTION_STATUS_PLANNED, old.AddDate(0, 0, -3), time.Time{}, -1, 0)
	dry.DryRun, dry.EndTime = true, nil
	actions := []*sirsiv1.Action{
		ledgerAction("old-ok-1", p.Id, "i-1", "resize", "m5.large", succeeded, old.AddDate(0, 0, -20), old.AddDate(0, 0, -20), 192_000, 96_000),
		ledgerAction("old-ok-2", p.Id, "i-2", "stop", "m5.large", succeeded, old.AddDate(0, 0, -10), old, 96_000, 0),
		ledgerAction("old-rolled", p.Id, "i-3", "resize", "m5.large", rolledBack, old.AddDate(0, 0, -9), old.AddDate(0, 0, -9), 192_000, 96_000),
		ledgerAction("old-failed", p.Id, "i-4", "resize", "m5.large", sirsiv1.ActionStatus_ACTION_STATUS_FAILED, old.AddDate(0, 0, -8), old.AddDate(0, 0, -8), -1, 0),
		// Started before the cutoff, ended after it: kept.
		ledgerAction("new-ok", p.Id, "i-5", "resize", "m5.large", succeeded, old, fresh, 192_000, 96_000),
		running, dry, planned,
	}
	must(ts.ApplyActions(c, a.Id, "acts", actions))
	seed.keptActions = []string{"new-ok", "plan-done", "running"}
	seed.oldActions = 5

	must(ts.ApplyCosts(c, a.Id, "costs", []*sirsiv1.CostRecord{
		{Day: old.Format(time.DateOnly), AccountId: a.AccountId, Service: "EC2", Region: usEast1, Amount: money.USDFromFloat(40)},
		{Day: fresh.Format(time.DateOnly), AccountId: a.AccountId, Service: "EC2", Region: usEast1, Amount: money.USDFromFloat(30)},
	}, []*sirsiv1.CostAnomaly{
		{Day: old.AddDate(0, 0, -5).Format(time.DateOnly), Service: "EC2", ExpectedAmount: money.USDFromFloat(5), ActualAmount: money.USDFromFloat(50), Score: 6,
			DetectTime: timestamppb.New(old.AddDate(0, 0, -4))},
		// About an old day, but detected again since the cutoff: kept.
		{Day: old.AddDate(0, 0, -6).Format(time.DateOnly), Service: "S3", ExpectedAmount: money.USDFromFloat(5), ActualAmount: money.USDFromFloat(50), Score: 6,
			DetectTime: timestamppb.New(fresh)},
		{Day: fresh.AddDate(0, 0, 1).Format(time.DateOnly), Service: "EC2", ExpectedAmount: money.USDFromFloat(5), ActualAmount: money.USDFromFloat(60), Score: 7,
			DetectTime: timestamppb.New(fresh.AddDate(0, 0, 1))},
	}))
	seed.keptAnomaly = []string{old.AddDate(0, 0, -6).Format(time.DateOnly) + "/S3", fresh.AddDate(0, 0, 1).Format(time.DateOnly) + "/EC2"}
	seed.oldAnomalies = 1
	return seed
}

// retainedNow lists what the tenant holds of each kind, sorted: resource
// ids, action ids, and anomalies as day/service.
func retainedNow(t *testing.T, ts store.TenantStore) (util, actions, anomalies []string) {
	c := ctx(t)
	all := store.Page{Size: store.MaxPageSize}
	us, _ := must2(ts.ListUtilization(c, store.UtilizationFilter{}, all))
	for _, u := range us {
		util = append(util, u.ResourceId)
	}
	as, _ := must2(ts.ListActions(c, store.ActionFilter{}, all))
	for _, a := range as {
		actions = append(actions, a.Id)
	}
	ans, _ := must2(ts.ListCostAnomalies(c, all))
	for _, a := range ans {
		anomalies = append(anomalies, a.Day+"/"+a.Service)
	}
	slices.Sort(util)
	slices.Sort(actions)
	slices.Sort(anomalies)
	return util, actions, anomalies
}

// moneyFigures are everything the money reads of a tenant answer: the
// savings summary and the cost sums.
func moneyFigures(t *testing.T, ts store.TenantStore) []proto.Message {
	c := ctx(t)
	out := []proto.Message{must(ts.SavingsSummary(c, retentionNow))}
	for _, r := range must(ts.SumCosts(c, store.CostQuery{Start: retentionCutoff.AddDate(0, -1, 0), End: retentionNow, GroupBy: "service"})) {
		out = append(out, &sirsiv1.CostRecord{Day: r.PeriodStart.Format(time.DateOnly), Service: r.Key, Amount: money.Micros(r.AmountMicros, r.Currency)})
	}
	return out
}

func sameFigures(t *testing.T, what string, before, after []proto.Message) {
	t.Helper()
	if len(before) != len(after) {
		t.Fatalf("%s: %d money figures before, %d after", what, len(before), len(after))
	}
	for i := range before {
		if !proto.Equal(before[i], after[i]) {
			t.Fatalf("%s: money figure %d changed:\nbefore %v\nafter  %v", what, i, before[i], after[i])
		}
	}
}

// testRetention prunes one tenant in batches of 2: what is older than the
// cutoff goes, what is newer stays, and so do running actions, actions of
// a plan still executing and anomalies still being detected; the other
// tenant keeps everything, and no money figure of either changes.
func testRetention(t *testing.T, s store.Store) {
	c := ctx(t)
	pruned := seedRetention(t, s, "pruned")
	other := seedRetention(t, s, "other")
	otherUtil, otherActions, otherAnomalies := retainedNow(t, other.ts)
	beforePruned, beforeOther := moneyFigures(t, pruned.ts), moneyFigures(t, other.ts)
	if sum := beforePruned[0].(*sirsiv1.GetSavingsSummaryResponse); sum.ToDate.GetAccruedSavings().GetMicros() == 0 || sum.ActionsTaken != 7 {
		t.Fatalf("the seeded ledger accrued %v over %d actions taken: the test would compare nothing", sum.ToDate.GetAccruedSavings(), sum.ActionsTaken)
	}

	const batch = 2
	for kind, want := range map[store.Retained]int{store.RetainedUtilization: pruned.oldUtil, store.RetainedActions: pruned.oldActions, store.RetainedAnomalies: pruned.oldAnomalies} {
		var total int64
		for {
			n := must(pruned.ts.PruneRetained(c, kind, retentionCutoff, batch))
			if n > batch {
				t.Fatalf("%s: one batch of at most %d deleted %d rows", kind, batch, n)
			}
			total += n
			if n < batch {
				break
			}
		}
		if total != int64(want) {
			t.Errorf("%s: pruned %d rows, want %d", kind, total, want)
		}
		if n := must(pruned.ts.PruneRetained(c, kind, retentionCutoff, batch)); n != 0 {
			t.Errorf("%s: a second prune deleted %d rows, want 0", kind, n)
		}
	}
	util, actions, anomalies := retainedNow(t, pruned.ts)
	for _, w := range []struct {
		what      string
		got, want []string
	}{
		{"utilisation", util, pruned.keptUtil}, {"actions", actions, pruned.keptActions}, {"anomalies", anomalies, pruned.keptAnomaly},
	} {
		if !slices.Equal(w.got, w.want) {
			t.Errorf("pruned tenant's %s after pruning: %v, want %v", w.what, w.got, w.want)
		}
	}
	u, a, an := retainedNow(t, other.ts)
	if !slices.Equal(u, otherUtil) || !slices.Equal(a, otherActions) || !slices.Equal(an, otherAnomalies) {
		t.Errorf("the other tenant lost rows: %v %v %v, had %v %v %v", u, a, an, otherUtil, otherActions, otherAnomalies)
	}
	sameFigures(t, "pruned tenant", beforePruned, moneyFigures(t, pruned.ts))
	sameFigures(t, "other tenant", beforeOther, moneyFigures(t, other.ts))

	_, err := pruned.ts.PruneRetained(c, "resources", retentionCutoff, batch)
	wantErr(t, err, store.ErrInvalidArgument, "pruning an unknown kind")
	_, err = pruned.ts.PruneRetained(c, store.RetainedActions, retentionCutoff, 0)
	wantErr(t, err, store.ErrInvalidArgument, "pruning with a limit of 0")

	// Deleting the tenant takes its pruned-action counts with it.
	ok(t, s.DeleteTenant(c, pruned.ts.TenantID(), 0, true))
	if sum := must(s.Tenant(pruned.ts.TenantID()).SavingsSummary(c, retentionNow)); sum.ActionsTaken != 0 {
		t.Errorf("a deleted tenant still counts %d actions taken", sum.ActionsTaken)
	}
}

// testTenantSettings: the per-tenant limits and retention days are kept
// as given, unset stays unset, and an update replaces them.
func testTenantSettings(t *testing.T, s store.Store) {
	c := ctx(t)
	tn := must(s.CreateTenant(c, &sirsiv1.Tenant{Name: "settings", TenantRateLimitPerMinute: proto.Int32(40), MaxApiTokens: proto.Int32(3),
		UtilizationRetentionDays: proto.Int32(7), ActionRetentionDays: proto.Int32(0), AuditRetentionDays: proto.Int32(3650)}))
	got := must(s.GetTenant(c, tn.Id))
	if got.GetTenantRateLimitPerMinute() != 40 || got.GetMaxApiTokens() != 3 || got.GetUtilizationRetentionDays() != 7 ||
		got.ActionRetentionDays == nil || got.GetActionRetentionDays() != 0 || got.AnomalyRetentionDays != nil || got.GetAuditRetentionDays() != 3650 {
		t.Fatalf("created settings read back as %v", got)
	}
	up := proto.CloneOf(got)
	up.TenantRateLimitPerMinute, up.MaxApiTokens, up.UtilizationRetentionDays, up.AnomalyRetentionDays = nil, proto.Int32(9), nil, proto.Int32(30)
	u := must(s.UpdateTenant(c, up))
	if u.TenantRateLimitPerMinute != nil || u.GetMaxApiTokens() != 9 || u.UtilizationRetentionDays != nil || u.GetAnomalyRetentionDays() != 30 || u.GetAuditRetentionDays() != 3650 {
		t.Fatalf("updated settings = %v", u)
	}
	if list, _ := must2(s.ListTenants(c, store.Page{})); len(list) != 1 || !proto.Equal(list[0], u) {
		t.Fatalf("listed tenant = %v, want %v", list, u)
	}
}
