package storetest

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

const (
	succeeded  = sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED
	rolledBack = sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK
	ec2        = "aws_ec2_instance"
	usEast1    = "us-east-1"
)

// ledgerAction is an executed action on resource id in us-east-1 that ran
// from start to end, priced by the agent at before and after per hour
// (micro-units; negative: not priced).
func ledgerAction(id, policy, resource, action, toSize string, st sirsiv1.ActionStatus, start, end time.Time, before, after int64) *sirsiv1.Action {
	a := &sirsiv1.Action{Id: id, PolicyId: policy, ResourceId: resource, ResourceType: ec2, Region: usEast1, Action: action, ToSize: toSize,
		Status: st, StartTime: timestamppb.New(start), EndTime: timestamppb.New(end)}
	if before >= 0 {
		a.HourlyCostBefore, a.HourlyCostAfter = money.Micros(before, money.USD), money.Micros(after, money.USD)
	}
	return a
}

// ledgerSweep is an inventory batch, observed at the time given, showing
// resource id in this size and state.
func ledgerSweep(id, size, state string, at time.Time) store.InventoryBatch {
	r := resource(0, ec2, usEast1, nil)
	r.ResourceId, r.Size, r.State = id, size, state
	return store.InventoryBatch{Upserts: []*sirsiv1.Resource{r}, ObservedAt: at}
}

// overlapHours is how many whole hours [a, b) and [ps, pe) share.
func overlapHours(a, b, ps, pe time.Time) int64 {
	if a.Before(ps) {
		a = ps
	}
	if b.After(pe) {
		b = pe
	}
	if !b.After(a) {
		return 0
	}
	return int64(b.Sub(a) / time.Hour)
}

// testLedgerOffHours: 20 instances stopped and started by 9 off-hours
// cycles of different lengths accrue exactly hours stopped x hourly price,
// in every period; a sweep seeing them stopped changes nothing, one seeing
// an instance running before the start's report arrives is overruled by
// the start's time; the run-rate counts only what is stopped now.
func testLedgerOffHours(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "offhours")
	a := newAccount(t, ts, "123456789012")
	p := newPolicy(t, ts, "nightly")
	const instances, cycles = 20, 9
	rate := func(i int) int64 { return 96_000 * int64(1+i%4) } // $0.096 to $0.384 per hour
	// Nightly from 19:00 for 10 to 14 hours, the fifth night across the
	// month boundary.
	first := time.Date(2026, 11, 26, 19, 0, 0, 0, time.UTC)
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	var want struct{ toDate, last30, month int64 }
	last30Start, monthStart := now.Add(-30*24*time.Hour), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for cy := range cycles {
		stop := first.AddDate(0, 0, cy)
		start := stop.Add(time.Duration(10+cy%5) * time.Hour)
		var stops, starts []*sirsiv1.Action
		for i := range instances {
			id := fmt.Sprintf("i-%08d", i)
			// The stop takes a minute; it is in effect from its end to the
			// start's beginning.
			stops = append(stops, ledgerAction(fmt.Sprintf("stop-%d-%d", cy, i), p.Id, id, "stop", "m5.large", succeeded, stop.Add(-time.Minute), stop, rate(i), 0))
			starts = append(starts, ledgerAction(fmt.Sprintf("start-%d-%d", cy, i), p.Id, id, "start", "m5.large", succeeded, start, start.Add(time.Minute), -1, 0))
			want.toDate += overlapHours(stop, start, time.Time{}, now) * rate(i)
			want.last30 += overlapHours(stop, start, last30Start, now) * rate(i)
			want.month += overlapHours(stop, start, monthStart, now) * rate(i)
		}
		must(ts.ApplyActions(c, a.Id, fmt.Sprintf("stops-%d", cy), stops))
		must(ts.ApplyInventory(c, a.Id, fmt.Sprintf("inv-stopped-%d", cy), ledgerSweep("i-00000003", "m5.large", "stopped", stop.Add(2*time.Hour))))
		if cy == 4 {
			// Mid-cycle: every instance is stopped, so the run-rate is
			// every price.
			var rr int64
			for i := range instances {
				rr += rate(i)
			}
			sum := must(ts.SavingsSummary(c, stop.Add(time.Hour)))
			if sum.OpenEntries != instances || sum.AnnualizedRunRate.GetMicros() != rr*8760 || sum.MonthlyRunRate.GetMicros() != rr*730 {
				t.Fatalf("run-rate while stopped: %d open, %v a year, %v a month; want %d, %d, %d", sum.OpenEntries,
					sum.AnnualizedRunRate, sum.MonthlyRunRate, instances, rr*8760, rr*730)
			}
			// A sweep sees instance 5 running 30 minutes after the
			// start, before the start's report arrives.
			must(ts.ApplyInventory(c, a.Id, "inv-early", ledgerSweep("i-00000005", "m5.large", "running", start.Add(30*time.Minute))))
		}
		must(ts.ApplyActions(c, a.Id, fmt.Sprintf("starts-%d", cy), starts))
	}
	// A re-sent report opens and closes nothing twice.
	must(ts.ApplyActions(c, a.Id, "stops-0-again", []*sirsiv1.Action{ledgerAction("stop-0-0", p.Id, "i-00000000", "stop", "m5.large", succeeded, first.Add(-time.Minute), first, rate(0), 0)}))
	sum := must(ts.SavingsSummary(c, now))
	for _, tc := range []struct {
		name string
		got  *sirsiv1.SavingsPeriod
		want int64
	}{{"to date", sum.ToDate, want.toDate}, {"last 30 days", sum.Last_30Days, want.last30}, {"this month", sum.ThisMonth, want.month}} {
		if tc.got.GetAccruedSavings().GetMicros() != tc.want || tc.got.GetVerifiedSavings().GetMicros() != 0 {
			t.Errorf("%s: accrued %v (verified %v), want %d micro-USD = hours stopped x hourly price", tc.name, tc.got.GetAccruedSavings(), tc.got.GetVerifiedSavings(), tc.want)
		}
		if len(tc.got.ByAction) != 1 || tc.got.ByAction[0].Key != "stop" || tc.got.ByAction[0].AccruedSavings.GetMicros() != tc.want ||
			len(tc.got.ByPolicy) != 1 || tc.got.ByPolicy[0].Key != p.Id || len(tc.got.ByCloudAccount) != 1 || tc.got.ByCloudAccount[0].Key != a.Id {
			t.Errorf("%s: breakdowns %v %v %v, want all of it under stop, %s and %s", tc.name, tc.got.ByAction, tc.got.ByPolicy, tc.got.ByCloudAccount, p.Id, a.Id)
		}
	}
	if want.month == want.toDate || want.month == 0 {
		t.Fatalf("the fixture must put part of the savings before the month: %+v", want)
	}
	if !sum.ToDate.StartTime.AsTime().Equal(first) || !sum.AsOfTime.AsTime().Equal(now) {
		t.Errorf("to date runs from %v as of %v, want from the first stop %v as of %v", sum.ToDate.StartTime.AsTime(), sum.AsOfTime.AsTime(), first, now)
	}
	if sum.OpenEntries != 0 || sum.AnnualizedRunRate.GetMicros() != 0 || sum.UnknownEntries != 0 {
		t.Errorf("after the last start: %d open, run-rate %v, %d unknown; want nothing open", sum.OpenEntries, sum.AnnualizedRunRate, sum.UnknownEntries)
	}
	if sum.ActionsSucceeded != 2*instances*cycles {
		t.Errorf("%d actions succeeded, want %d", sum.ActionsSucceeded, 2*instances*cycles)
	}
}

// testLedgerRollback: a rolled-back action accrues nothing, also when its
// success was reported first, and does not end the saving of an earlier
// action on the same resource.
func testLedgerRollback(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "rollback")
	a := newAccount(t, ts, "123456789012")
	t0 := time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)
	must(ts.ApplyActions(c, a.Id, "r1", []*sirsiv1.Action{
		ledgerAction("resize-1", "p", "i-1", "resize", "m5.large", succeeded, t0, t0, 192_000, 96_000),
		ledgerAction("resize-2", "p", "i-2", "resize", "m5.large", succeeded, t0, t0, 192_000, 96_000),
	}))
	// i-2's resize is rolled back after its success was reported; i-1 gets
	// a second resize that is rolled back.
	must(ts.ApplyActions(c, a.Id, "r2", []*sirsiv1.Action{
		ledgerAction("resize-2", "p", "i-2", "resize", "m5.large", rolledBack, t0, t0.Add(time.Hour), 192_000, 96_000),
		ledgerAction("resize-3", "p", "i-1", "resize", "m5.medium", rolledBack, t0.Add(2*time.Hour), t0.Add(3*time.Hour), 96_000, 48_000),
	}))
	sum := must(ts.SavingsSummary(c, t0.Add(10*time.Hour)))
	if got, want := sum.ToDate.AccruedSavings.GetMicros(), int64(10*96_000); got != want {
		t.Fatalf("accrued %d micro-USD, want %d: 10 hours of i-1's first resize and nothing of the rolled-back ones", got, want)
	}
	if sum.OpenEntries != 1 || sum.ActionsRolledBack != 2 {
		t.Fatalf("%d open entries, %d rolled back; want 1 and 2", sum.OpenEntries, sum.ActionsRolledBack)
	}
}

// testLedgerChangedBySomeoneElse: an inventory sweep that finds a resized
// instance in another size closes its entry at the sweep's time, so accrual
// stops there; sweeps showing the action's own effect, or older than the
// action, change nothing; a deleted resource's entry closes unless the
// action deleted it; rates come from the recommendation when the agent sent
// none, and an entry priced by neither is counted as unknown.
func testLedgerChangedBySomeoneElse(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "changed")
	a := newAccount(t, ts, "123456789012")
	p := newPolicy(t, ts, "rightsize")
	t0 := time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)
	ids, _, err := ts.ApplyRecommendations(c, a.Id, "rec", p.Id, nil, []*sirsiv1.Recommendation{{ResourceId: "i-1", Action: "resize",
		CurrentMonthlyCost: money.USDFromFloat(140.16), ProposedMonthlyCost: money.USDFromFloat(70.08)}})
	ok(t, err)
	resize := ledgerAction("resize-1", p.Id, "i-1", "resize", "m5.large", succeeded, t0, t0.Add(10*time.Minute), -1, 0)
	resize.RecommendationId = ids[0]
	vol := ledgerAction("snap-1", p.Id, "vol-1", "snapshot_and_delete", "", succeeded, t0, t0, 10_000, 500)
	vol.ResourceType = "aws_ebs_volume"
	stop := ledgerAction("stop-1", p.Id, "i-2", "stop", "m5.large", succeeded, t0, t0, 50_000, 0)
	unpriced := ledgerAction("resize-9", p.Id, "i-9", "resize", "m5.large", succeeded, t0, t0, -1, 0)
	swept := ledgerAction("resize-3", p.Id, "i-3", "resize", "m5.large", succeeded, t0, t0, 100_000, 40_000)
	must(ts.ApplyInventory(c, a.Id, "before", store.InventoryBatch{Upserts: []*sirsiv1.Resource{ledgerSweep("i-1", "m5.xlarge", "running", t0).Upserts[0],
		ledgerSweep("i-2", "m5.large", "running", t0).Upserts[0], ledgerSweep("i-3", "m5.large", "running", t0).Upserts[0]}, ObservedAt: t0}))
	must(ts.ApplyActions(c, a.Id, "acts", []*sirsiv1.Action{resize, vol, stop, unpriced, swept}))
	opened := t0.Add(10 * time.Minute)
	// A sweep from before the resize arrives late, then one showing it
	// done, then one showing i-1 changed by someone else to m5.2xlarge;
	// i-2 is terminated and vol-1 deleted (by its own action).
	must(ts.ApplyInventory(c, a.Id, "late", ledgerSweep("i-1", "m5.xlarge", "running", t0.Add(5*time.Minute))))
	must(ts.ApplyInventory(c, a.Id, "done", ledgerSweep("i-1", "m5.large", "running", t0.Add(time.Hour))))
	changed := t0.Add(5 * time.Hour)
	must(ts.ApplyInventory(c, a.Id, "changed", ledgerSweep("i-1", "m5.2xlarge", "running", changed)))
	gone := t0.Add(7 * time.Hour)
	must(ts.ApplyInventory(c, a.Id, "gone", store.InventoryBatch{ObservedAt: gone, Deletions: []*sirsiv1.ResourceRef{
		{Type: ec2, Region: usEast1, ResourceId: "i-2"}, {Type: "aws_ebs_volume", Region: usEast1, ResourceId: "vol-1"}}}))
	// A complete sweep of the instances names only i-1: i-3 was
	// terminated by someone, which the membership deletes without naming.
	membership := t0.Add(9 * time.Hour)
	must(ts.ApplyInventory(c, a.Id, "membership", store.InventoryBatch{ObservedAt: membership, Units: []*sirsiv1.InventoryUnit{
		{Type: ec2, Region: usEast1, ResourceIds: []string{"i-1"}, Total: 1, Last: true}}}))
	now := t0.Add(48 * time.Hour)
	sum := must(ts.SavingsSummary(c, now))
	// i-1: $0.192 - $0.096 (140.16 and 70.08 a month over 730 hours) from
	// the resize's end to the sweep that saw the change.
	resized := int64(changed.Sub(opened)/time.Second) * 96_000 / 3600
	stopped := int64(7) * 50_000
	snapshotted := int64(48) * 9_500
	resized += int64(9) * 60_000
	byAction := map[string]int64{}
	for _, b := range sum.ToDate.ByAction {
		byAction[b.Key] = b.AccruedSavings.GetMicros()
	}
	if byAction["resize"] != resized || byAction["stop"] != stopped || byAction["snapshot_and_delete"] != snapshotted {
		t.Fatalf("accrued by action %v, want resize %d (i-1 until the change, i-3 until the sweep without it), stop %d (until terminated), snapshot_and_delete %d (still in effect)",
			byAction, resized, stopped, snapshotted)
	}
	if sum.ToDate.AccruedSavings.GetMicros() != resized+stopped+snapshotted || sum.UnknownEntries != 1 || sum.OpenEntries != 1 {
		t.Fatalf("to date %v, %d unknown, %d open; want %d, 1 unknown (the unpriced resize), 1 open (the deleted volume)",
			sum.ToDate.AccruedSavings, sum.UnknownEntries, sum.OpenEntries, resized+stopped+snapshotted)
	}
}

// testLedgerExecutedExternally: a sweep finding a resource at its open
// recommendation's proposed size closes the recommendation as executed by
// "external" and credits hours x the recommendation's hourly difference
// from the sweep's time; seeing it again credits nothing twice. When the
// agent's own action for a recommendation is reported after a sweep saw
// its change, the action's entry replaces the external one.
func testLedgerExecutedExternally(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "external")
	a := newAccount(t, ts, "123456789012")
	p := newPolicy(t, ts, "rightsize")
	rec := func(id string) *sirsiv1.Recommendation {
		return &sirsiv1.Recommendation{ResourceId: id, ResourceType: ec2, Region: usEast1, Action: "resize", CurrentSize: "m5.xlarge", ProposedSize: "m5.large",
			CurrentMonthlyCost: money.USDFromFloat(140.16), ProposedMonthlyCost: money.USDFromFloat(70.08)}
	}
	ids, _ := must2(ts.ApplyRecommendations(c, a.Id, "recs", p.Id, nil, []*sirsiv1.Recommendation{rec("i-1"), rec("i-2"), rec("i-3"), rec("i-4")}))
	t0 := time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)
	sweep := func(batch string, at time.Time, sizes map[string]string) {
		var ups []*sirsiv1.Resource
		for _, id := range []string{"i-1", "i-2", "i-3", "i-4"} {
			ups = append(ups, ledgerSweep(id, sizes[id], "running", at).Upserts[0])
		}
		must(ts.ApplyInventory(c, a.Id, batch, store.InventoryBatch{Upserts: ups, ObservedAt: at}))
	}
	sweep("before", t0, map[string]string{"i-1": "m5.xlarge", "i-2": "m5.xlarge", "i-3": "m5.xlarge", "i-4": "m5.xlarge"})
	// The optimizer saw i-4 resized before the sweep reported it: its
	// next report no longer proposes anything for it.
	must2(ts.ApplyRecommendations(c, a.Id, "recs-2", p.Id, nil, []*sirsiv1.Recommendation{rec("i-1"), rec("i-2"), rec("i-3")}))
	for i := range ids[:3] {
		if r := must(ts.GetRecommendation(c, ids[i])); r.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN || r.ExecutedBy != "" {
			t.Fatalf("recommendation %d after a sweep at the current size: %v by %q", i, r.Status, r.ExecutedBy)
		}
	}
	// i-1 and i-2 are resized by someone; i-3 to another size than proposed.
	t1 := t0.Add(time.Hour)
	sweep("after", t1, map[string]string{"i-1": "m5.large", "i-2": "m5.large", "i-3": "m5.2xlarge", "i-4": "m5.large"})
	sweep("again", t1.Add(time.Hour), map[string]string{"i-1": "m5.large", "i-2": "m5.large", "i-3": "m5.2xlarge", "i-4": "m5.large"})
	for i, want := range []string{"external", "external", "", "external"} {
		r := must(ts.GetRecommendation(c, ids[i]))
		executed := r.Status == sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED
		if r.ExecutedBy != want || executed != (want != "") {
			t.Fatalf("recommendation %d: %v by %q, want executed by %q", i, r.Status, r.ExecutedBy, want)
		}
		if want != "" && !r.UpdateTime.AsTime().Equal(t1) {
			t.Fatalf("recommendation %d closed at %v, want the sweep's time %v", i, r.UpdateTime.AsTime(), t1)
		}
	}
	// The agent's report of its own resize of i-2 arrives late.
	done := t1.Add(-time.Minute)
	act := ledgerAction("resize-2", p.Id, "i-2", "resize", "m5.large", succeeded, done.Add(-4*time.Minute), done, 192_000, 96_000)
	act.RecommendationId = ids[1]
	must(ts.ApplyActions(c, a.Id, "acts", []*sirsiv1.Action{act}))
	if r := must(ts.GetRecommendation(c, ids[1])); r.ExecutedBy != "agent" {
		t.Fatalf("recommendation carried out by the agent is executed by %q", r.ExecutedBy)
	}
	now := t1.Add(10 * time.Hour)
	sum := must(ts.SavingsSummary(c, now))
	accrual := func(from time.Time, rate int64) int64 {
		secs := int64(now.Sub(from) / time.Second)
		return secs/3600*rate + secs%3600*rate/3600
	}
	want := 2*accrual(t1, 96_000) + accrual(done, 96_000)
	if got := sum.ToDate.AccruedSavings.GetMicros(); got != want || sum.OpenEntries != 3 || sum.MonthlyRunRate.GetMicros() != 3*96_000*730 {
		t.Fatalf("to date %d micros, %d open, run-rate %d; want %d (10 h of i-1 and i-4 from the sweep, 10 h 1 min of i-2 from its action), 3 open, %d",
			got, sum.OpenEntries, sum.MonthlyRunRate.GetMicros(), want, 3*96_000*730)
	}
}
