package storetest

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/ledger"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/monitor"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// billedFleet is a simulated account driven through the EC2 API on a
// manual clock, with what its actions saved worked out from the
// simulator's own prices: the bill it would have run up at the price
// before each change, minus what it ran up.
type billedFleet struct {
	sim    *awssim.Sim
	clock  *awssim.ManualClock
	cfg    aws.Config
	ec2    *awsec2.Client
	prices map[string]float64
	// saved is what the actions saved by the bill, in US dollars.
	saved float64
}

func newBilledFleet(t *testing.T, start time.Time, noResourceData bool) *billedFleet {
	t.Helper()
	clock := awssim.NewManualClock(start)
	sim, err := awssim.New(awssim.Options{Clock: clock, Throttle: awssim.ThrottleOptions{Disabled: true}, NoResourceLevelCosts: noResourceData})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Region: usEast1, Endpoint: srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	return &billedFleet{sim: sim, clock: clock, cfg: cfg, ec2: awsec2.NewFromConfig(cfg), prices: map[string]float64{}}
}

// price is the simulator's (the embedded catalogue's) hourly price.
func (f *billedFleet) price(t *testing.T, typ string) float64 {
	t.Helper()
	if p, ok := f.prices[typ]; ok {
		return p
	}
	cat, err := pricing.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	p, err := cat.EC2Hourly(usEast1, typ)
	if err != nil {
		t.Fatal(err)
	}
	f.prices[typ] = p
	return p
}

// fleet creates n instances in us-east-1 and returns their ids and types.
func (f *billedFleet) fleet(t *testing.T, n int) (ids, types []string) {
	t.Helper()
	man, err := f.sim.SeedFleet(f.sim.AccountID(), awssim.FleetSpec{N: n, Regions: []string{usEast1}, Seed: 3, Mix: awssim.FleetMix{Instances: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range man.Resources {
		ids, types = append(ids, r.ID), append(types, r.Type)
	}
	return ids, types
}

// at moves the clock to t (never back).
func (f *billedFleet) at(t *testing.T, to time.Time) {
	t.Helper()
	d := to.Sub(f.clock.Now())
	if d < 0 {
		t.Fatalf("clock at %v cannot go back to %v", f.clock.Now(), to)
	}
	f.clock.Advance(d)
}

func (f *billedFleet) stop(t *testing.T, id string) {
	t.Helper()
	if _, err := f.ec2.StopInstances(context.Background(), &awsec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
}

func (f *billedFleet) start(t *testing.T, id string) {
	t.Helper()
	if _, err := f.ec2.StartInstances(context.Background(), &awsec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
}

func (f *billedFleet) resize(t *testing.T, id, typ string) {
	t.Helper()
	if _, err := f.ec2.ModifyInstanceAttribute(context.Background(), &awsec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
		InstanceType: &ec2types.AttributeValue{Value: aws.String(typ)}}); err != nil {
		t.Fatal(err)
	}
}

// micros turns an hourly price into micro-US dollars.
func micros(usd float64) int64 { return int64(math.Round(usd * 1e6)) }

// testLedgerReconciledWithTheBill drives a simulated account through nine
// nights of off-hours stops on three instances and a resize of a fourth
// down to a t3.micro,
// reports the actions to the ledger (one instance's stops priced at three times
// the real price, as a stale catalogue would), then what the simulator's
// Cost Explorer bills each instance per day (GetCostAndUsageWithResources
// through the SDK): every entry is verified by Cost Explorer, and what the
// ledger then accrues agrees within 1 % with what the bill shows saved
// (the actions' hours at the price before, minus what was billed), the
// mispriced instance included. A second account whose Cost Explorer has
// no resource-level data keeps its estimates and says why. Each entry's
// first verification writes one savings.verified webhook event.
func testLedgerReconciledWithTheBill(t *testing.T, s store.Store) {
	c := ctx(t)
	tn := must(s.CreateTenant(c, &sirsiv1.Tenant{Name: "reconcile", WebhookUrl: "https://hooks.example.com/x", WebhookSecret: "0123456789abcdef-first"}))
	ts := s.Tenant(tn.Id)
	acct := newAccount(t, ts, "123456789012")
	p := newPolicy(t, ts, "nightly")
	day0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	f := newBilledFleet(t, day0.Add(time.Hour), false)
	// Three instances for the nights, one to resize, one never acted on
	// (billed, no entry).
	ids, types := f.fleet(t, 5)
	big, large := ids[3], types[3]
	const small = "t3.micro"
	ids, types = ids[:3], types[:3]
	var actions []*sirsiv1.Action
	act := func(id, resource, action, toSize string, at time.Time, before, after int64) {
		actions = append(actions, ledgerAction(id, p.Id, resource, action, toSize, succeeded, at.Add(-time.Minute), at, before, after))
	}
	// The resize on day 4: stopped at 10:00, resized, started at 10:05.
	resizeAt := day0.AddDate(0, 0, 4).Add(10 * time.Hour)
	var events []struct {
		at time.Time
		do func()
	}
	on := func(at time.Time, do func()) {
		events = append(events, struct {
			at time.Time
			do func()
		}{at, do})
	}
	for cy := range 9 {
		for i, id := range ids {
			stopAt := day0.AddDate(0, 0, 2+cy).Add(19*time.Hour + time.Duration(i*7)*time.Minute)
			startAt := stopAt.Add(time.Duration(10+cy%4) * time.Hour)
			estimate := micros(f.price(t, types[i]))
			if i == 2 {
				estimate *= 3
			}
			on(stopAt, func() {
				f.stop(t, id)
				act(fmt.Sprintf("stop-%d-%d", cy, i), id, "stop", types[i], stopAt, estimate, 0)
			})
			on(startAt, func() {
				f.start(t, id)
				act(fmt.Sprintf("start-%d-%d", cy, i), id, "start", types[i], startAt, -1, 0)
			})
			f.saved += startAt.Sub(stopAt).Hours() * f.price(t, types[i])
		}
	}
	on(resizeAt, func() {
		f.stop(t, big)
		f.resize(t, big, small)
	})
	on(resizeAt.Add(5*time.Minute), func() {
		f.start(t, big)
		act("resize", big, "resize", small, resizeAt.Add(5*time.Minute), micros(f.price(t, large)), micros(f.price(t, small)))
	})
	now := day0.AddDate(0, 0, 12).Add(10 * time.Hour)
	// Stopped 5 minutes at the large price, then the small price until now.
	f.saved += resizeAt.Add(5*time.Minute).Sub(resizeAt).Hours()*f.price(t, large) +
		now.Sub(resizeAt.Add(5*time.Minute)).Hours()*(f.price(t, large)-f.price(t, small))
	for len(events) > 0 {
		next := 0
		for i, e := range events {
			if e.at.Before(events[next].at) {
				next = i
			}
		}
		f.at(t, events[next].at)
		events[next].do()
		events = append(events[:next], events[next+1:]...)
	}
	f.at(t, now)
	must(ts.ApplyActions(c, acct.Id, "actions", actions))
	estimated := must(ts.SavingsSummary(c, now))
	if estimated.VerifiedEntries != 0 || estimated.ToDate.GetVerifiedSavings().GetMicros() != 0 {
		t.Fatalf("verified before any bill: %d entries, %v", estimated.VerifiedEntries, estimated.ToDate.GetVerifiedSavings())
	}

	costs, err := newMonitorCosts(t, f).PullResources(c)
	if err != nil {
		t.Fatal(err)
	}
	must(ts.ApplyResourceCosts(c, acct.Id, "resource-costs", costs, ""))
	sum := must(ts.SavingsSummary(c, now))
	entries := int64(9*3 + 1)
	if sum.VerifiedEntries != entries || len(sum.EstimateReasons) != 0 {
		t.Errorf("%d entries verified, estimates %v; want all %d verified", sum.VerifiedEntries, sum.EstimateReasons, entries)
	}
	got := float64(sum.ToDate.GetVerifiedSavings().GetMicros()) / 1e6
	if sum.ToDate.GetAccruedSavings().GetMicros() != sum.ToDate.GetVerifiedSavings().GetMicros() || sum.ToDate.GetEstimatedSavings().GetMicros() != 0 {
		t.Errorf("to date: accrued %v, verified %v, estimated %v; want everything verified", sum.ToDate.GetAccruedSavings(), sum.ToDate.GetVerifiedSavings(), sum.ToDate.GetEstimatedSavings())
	}
	t.Logf("reconciled $%.6f, bill $%.6f, estimate $%.6f", got, f.saved, float64(estimated.ToDate.GetAccruedSavings().GetMicros())/1e6)
	if math.Abs(got-f.saved) > 0.01*f.saved {
		t.Errorf("reconciled savings $%.2f, the bill shows $%.2f saved: more than 1%% apart", got, f.saved)
	}
	// The estimate was off by the mispriced instance's stops; the bill is
	// not.
	if est := float64(estimated.ToDate.GetAccruedSavings().GetMicros()) / 1e6; math.Abs(est-f.saved) < 0.1*f.saved {
		t.Errorf("the estimate $%.2f is within 10%% of the bill's $%.2f: the test cannot tell reconciliation from the estimate", est, f.saved)
	}
	// Re-sent, the batch changes nothing; pulled again, it verifies
	// nothing anew.
	if dup := must(ts.ApplyResourceCosts(c, acct.Id, "resource-costs", costs, "")); !dup {
		t.Error("a re-sent resource cost batch was applied again")
	}
	must(ts.ApplyResourceCosts(c, acct.Id, "resource-costs-again", costs, ""))
	verifiedEvents := map[string]int{}
	for _, e := range must3(ts.ListWebhookEvents(c, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_UNSPECIFIED, store.Page{Size: store.MaxPageSize})) {
		if e.Type == validation.EventSavingsVerified {
			verifiedEvents[e.Subject]++
		}
	}
	if int64(len(verifiedEvents)) != entries {
		t.Errorf("savings.verified events for %d entries, want %d", len(verifiedEvents), entries)
	}
	for subject, n := range verifiedEvents {
		if n != 1 {
			t.Errorf("%d savings.verified events for %s, want 1", n, subject)
		}
	}

	// An account without resource-level data.
	other := newAccount(t, ts, "210987654321")
	g := newBilledFleet(t, day0.Add(time.Hour), true)
	gIDs, gTypes := g.fleet(t, 1)
	id := gIDs[0]
	g.at(t, day0.AddDate(0, 0, 3))
	g.stop(t, id)
	must(ts.ApplyActions(c, other.Id, "other-actions", []*sirsiv1.Action{ledgerAction("other-stop", p.Id, id, "stop", gTypes[0], succeeded,
		day0.AddDate(0, 0, 3).Add(-time.Minute), day0.AddDate(0, 0, 3), micros(g.price(t, gTypes[0])), 0)}))
	g.at(t, now)
	_, err = newMonitorCosts(t, g).PullResources(c)
	if err == nil {
		t.Fatal("Cost Explorer without resource-level data answered resource-level costs")
	}
	must(ts.ApplyResourceCosts(c, other.Id, "other-unavailable", nil, err.Error()))
	sum = must(ts.SavingsSummary(c, now))
	if len(sum.EstimateReasons) != 1 || sum.EstimateReasons[0].Entries != 1 ||
		!strings.HasPrefix(sum.EstimateReasons[0].Reason, ledger.NoteUnavailablePrefix) || !strings.Contains(sum.EstimateReasons[0].Reason, "DataUnavailableException") {
		t.Errorf("estimate reasons %v, want the one entry of the account without resource-level data, saying why", sum.EstimateReasons)
	}
	wantEstimate := micros(g.price(t, gTypes[0])) * int64(now.Sub(day0.AddDate(0, 0, 3))/time.Hour)
	if sum.ToDate.GetEstimatedSavings().GetMicros() != wantEstimate || sum.VerifiedEntries != entries {
		t.Errorf("estimated to date %v, %d verified; want %d micro-USD (hours x rate) and %d", sum.ToDate.GetEstimatedSavings(), sum.VerifiedEntries, wantEstimate, entries)
	}
}

func newMonitorCosts(t *testing.T, f *billedFleet) *monitor.Costs {
	t.Helper()
	c, err := monitor.NewCosts(monitor.CostOptions{Config: f.cfg, CacheDir: t.TempDir(), Clock: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
