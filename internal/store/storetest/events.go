package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// testEventTypes: each state change writes its event once, in the
// transaction of the change: a recommendation opens and closes once
// (superseded, dismissed, or executed by an action, a report sent again
// writing nothing), a saved plan is pending approval once, an agent is
// connected at enrollment, stale once per silence however often the
// watcher looks, and connected again at its next heartbeat only.
func testEventTypes(t *testing.T, s store.Store) {
	c := ctx(t)
	tn := must(s.CreateTenant(c, &sirsiv1.Tenant{Name: "events", WebhookUrl: "https://hooks.example.com/x", WebhookSecret: "0123456789abcdef-first"}))
	ts := s.Tenant(tn.Id)
	acct := newAccount(t, ts, "111111111111")
	pol := newPolicy(t, ts, "p")

	var want []string
	expect := func(what string, events ...string) {
		t.Helper()
		want = append(want, events...)
		all, _, err := ts.ListWebhookEvents(c, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_UNSPECIFIED, store.Page{Size: store.MaxPageSize})
		ok(t, err)
		got := make([]string, 0, len(all))
		for _, e := range all {
			got = append(got, e.Type+" "+e.Subject)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("after %s, events:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	rec := func(id string) string { return "recommendations/" + id }

	ids, _ := must2(ts.ApplyRecommendations(c, acct.Id, "recs-1", pol.Id, nil, []*sirsiv1.Recommendation{
		sizedRec("i-1", "m5.xlarge", "m5.large"), sizedRec("i-2", "m5.xlarge", "m5.large"), sizedRec("i-3", "m5.xlarge", "m5.large"),
	}))
	expect("three recommendations", validation.EventRecommendationOpened+" "+rec(ids[0]), validation.EventRecommendationOpened+" "+rec(ids[1]),
		validation.EventRecommendationOpened+" "+rec(ids[2]))
	// The next run proposes the same for i-1 and i-2 and nothing for i-3.
	must2(ts.ApplyRecommendations(c, acct.Id, "recs-2", pol.Id, nil, []*sirsiv1.Recommendation{
		sizedRec("i-1", "m5.xlarge", "m5.large"), sizedRec("i-2", "m5.xlarge", "m5.large"),
	}))
	must2(ts.ApplyRecommendations(c, acct.Id, "recs-2", pol.Id, nil, nil)) // the batch sent again
	expect("i-3 superseded", validation.EventRecommendationClosed+" "+rec(ids[2]))
	must(ts.DismissRecommendation(c, ids[1]))
	must(ts.DismissRecommendation(c, ids[1])) // idempotent: no second event
	expect("i-2 dismissed", validation.EventRecommendationClosed+" "+rec(ids[1]))
	done := &sirsiv1.Action{Id: "act-1", ResourceId: "i-1", ResourceType: "aws_ec2_instance", Action: "resize", RecommendationId: ids[0],
		Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED}
	must(ts.ApplyActions(c, acct.Id, "actions-1", []*sirsiv1.Action{done}))
	must(ts.ApplyActions(c, acct.Id, "actions-2", []*sirsiv1.Action{done})) // reported again
	expect("i-1 executed", validation.EventActionSucceeded+" actions/act-1", validation.EventRecommendationClosed+" "+rec(ids[0]))

	for _, batch := range []string{"plan-1", "plan-1-again"} {
		must(ts.SaveActionPlan(c, acct.Id, batch, &sirsiv1.ActionPlan{Id: "plan-1", PolicyId: pol.Id}))
	}
	expect("a plan", validation.EventPlanPendingApproval+" plans/plan-1")

	agent := must(ts.CreateAgent(c, &sirsiv1.Agent{CloudAccountId: acct.Id, Version: "1"}))
	expect("enrollment", validation.EventAgentConnected+" agents/"+agent.Id)
	beat := func(at time.Time) {
		t.Helper()
		must(ts.RecordHeartbeat(c, agent.Id, store.Heartbeat{At: at, Version: "1"}))
	}
	base := time.Now()
	beat(base)
	expect("a heartbeat of a connected agent")
	for range 2 { // two watchers (or two replicas) notice the same silence
		must(s.MarkStaleAgents(c, base.Add(time.Minute)))
	}
	if n := must(s.MarkStaleAgents(c, base.Add(time.Hour))); n != 0 {
		t.Fatalf("marked %d agents stale again in one silence", n)
	}
	expect("a silence", validation.EventAgentStale+" agents/"+agent.Id)
	beat(base.Add(2 * time.Hour))
	beat(base.Add(2*time.Hour + time.Second))
	expect("heartbeats after the silence", validation.EventAgentConnected+" agents/"+agent.Id)
	must(s.MarkStaleAgents(c, base.Add(3*time.Hour)))
	beat(base.Add(4 * time.Hour))
	expect("a second silence", validation.EventAgentStale+" agents/"+agent.Id, validation.EventAgentConnected+" agents/"+agent.Id)
	must(ts.RevokeAgent(c, agent.Id))
	if n := must(s.MarkStaleAgents(c, base.Add(5*time.Hour))); n != 0 {
		t.Fatalf("a revoked agent was marked stale (%d)", n)
	}
	expect("a revoked agent's silence")

	// A tenant without a webhook gets no event, and its silent agent is
	// marked all the same (so it does not turn connected on a heartbeat
	// without having been stale).
	plain := newTenant(t, s, "plain")
	pacct := newAccount(t, plain, "222222222222")
	pa := must(plain.CreateAgent(c, &sirsiv1.Agent{CloudAccountId: pacct.Id}))
	if n := must(s.MarkStaleAgents(c, time.Now().Add(time.Hour))); n != 1 {
		t.Fatalf("marked %d agents, want %s only", n, pa.Id)
	}
	if none, _, err := plain.ListWebhookEvents(c, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_UNSPECIFIED, store.Page{}); err != nil || len(none) != 0 {
		t.Fatalf("tenant without webhook has events %v (%v)", none, err)
	}
	expect(fmt.Sprintf("another tenant's agent %s going silent", pa.Id))
}

// EveryEventType makes, through s, one state change of each webhook event
// type for the tenant tenantID (which must have a webhook and nothing
// else yet), each reported twice as an agent resending it would, and
// returns the "type subject" of every event they must make, each once.
// Tests of delivery (two replicas, a killed server) use it as the truth a
// receiver is compared with.
func EveryEventType(t *testing.T, s store.Store, tenantID string) []string {
	t.Helper()
	defer guard(t)
	c := ctx(t)
	ts := s.Tenant(tenantID)
	acct := newAccount(t, ts, "111111111111")
	pol := newPolicy(t, ts, "every-event")
	twice := func(do func(batch string)) {
		do("first")
		do("again")
	}
	var want []string
	add := func(typ, subject string) { want = append(want, typ+" "+subject) }

	// The agent enrolls, goes silent, and comes back.
	agent := must(ts.CreateAgent(c, &sirsiv1.Agent{CloudAccountId: acct.Id, Version: "1"}))
	add(validation.EventAgentConnected, "agents/"+agent.Id)
	twice(func(string) { must(s.MarkStaleAgents(c, time.Now().Add(time.Hour))) })
	add(validation.EventAgentStale, "agents/"+agent.Id)
	twice(func(string) {
		must(ts.RecordHeartbeat(c, agent.Id, store.Heartbeat{At: time.Now().Add(2 * time.Hour), Version: "1"}))
	})
	add(validation.EventAgentConnected, "agents/"+agent.Id)

	// Two recommendations open; one is dismissed, the other carried out.
	var ids []string
	twice(func(batch string) {
		ids, _ = must2(ts.ApplyRecommendations(c, acct.Id, "recs-"+batch, pol.Id, nil, []*sirsiv1.Recommendation{
			sizedRec("i-1", "m5.xlarge", "m5.large"), sizedRec("i-2", "m5.xlarge", "m5.large"),
		}))
	})
	for _, id := range ids {
		add(validation.EventRecommendationOpened, "recommendations/"+id)
	}
	twice(func(string) { must(ts.DismissRecommendation(c, ids[1])) })
	add(validation.EventRecommendationClosed, "recommendations/"+ids[1])

	twice(func(batch string) {
		must(ts.SaveActionPlan(c, acct.Id, "plan-"+batch, &sirsiv1.ActionPlan{Id: "plan-1", PolicyId: pol.Id}))
	})
	add(validation.EventPlanPendingApproval, "plans/plan-1")

	// A resize carried out on day 3 at $0.192 -> $0.096 an hour; the bill
	// shows $4.608 a day before and $2.304 after, so Cost Explorer
	// verifies its saving.
	day0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	changed := day0.AddDate(0, 0, 3)
	running := ledgerAction("act-1", pol.Id, "i-1", "resize", "m5.large", sirsiv1.ActionStatus_ACTION_STATUS_RUNNING, changed.Add(-time.Minute), changed, 192_000, 96_000)
	running.RecommendationId = ids[0]
	succeeded := proto.CloneOf(running)
	succeeded.Status = sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED
	failed := ledgerAction("act-2", pol.Id, "i-9", "stop", "", sirsiv1.ActionStatus_ACTION_STATUS_FAILED, changed, changed, 0, 0)
	rolledBack := ledgerAction("act-3", pol.Id, "i-8", "stop", "", sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK, changed, changed, 0, 0)
	for i, batch := range [][]*sirsiv1.Action{{running}, {succeeded, failed, rolledBack}} {
		twice(func(again string) { must(ts.ApplyActions(c, acct.Id, fmt.Sprintf("actions-%d-%s", i, again), batch)) })
	}
	add(validation.EventActionStarted, "actions/act-1")
	add(validation.EventActionSucceeded, "actions/act-1")
	add(validation.EventRecommendationClosed, "recommendations/"+ids[0])
	add(validation.EventActionFailed, "actions/act-2")
	add(validation.EventActionRolledBack, "actions/act-3")

	var costs []*sirsiv1.ResourceCost
	for d := range 6 {
		amount := int64(4_608_000)
		if d >= 3 {
			amount = 2_304_000
		}
		costs = append(costs, &sirsiv1.ResourceCost{ResourceType: ec2, ResourceId: "i-1", Day: day0.AddDate(0, 0, d).Format("2006-01-02"),
			Amount: money.Micros(amount, money.USD)})
	}
	twice(func(batch string) { must(ts.ApplyResourceCosts(c, acct.Id, "resource-costs-"+batch, costs, "")) })
	add(validation.EventSavingsVerified, "savings/act-1")

	anomaly := &sirsiv1.CostAnomaly{Day: "2026-11-20", Service: "EC2", ExpectedAmount: money.USDFromFloat(100), ActualAmount: money.USDFromFloat(300), Score: 3}
	twice(func(batch string) {
		must(ts.ApplyCosts(c, acct.Id, "costs-"+batch, nil, []*sirsiv1.CostAnomaly{anomaly}))
	})
	add(validation.EventCostAnomaly, acct.Id+"/2026-11-20/EC2")

	seen := map[string]bool{}
	for _, w := range want {
		seen[strings.Fields(w)[0]] = true
	}
	if len(seen) != len(validation.WebhookEventTypes()) {
		t.Fatalf("EveryEventType covers %d of the %d event types", len(seen), len(validation.WebhookEventTypes()))
	}
	return want
}

// testEveryEventType checks EveryEventType against the outbox itself.
func testEveryEventType(t *testing.T, s store.Store) {
	c := ctx(t)
	tn := must(s.CreateTenant(c, &sirsiv1.Tenant{Name: "every", WebhookUrl: "https://hooks.example.com/x", WebhookSecret: "0123456789abcdef-first"}))
	want := EveryEventType(t, s, tn.Id)
	all, _, err := s.Tenant(tn.Id).ListWebhookEvents(c, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_UNSPECIFIED, store.Page{Size: store.MaxPageSize})
	ok(t, err)
	got := make([]string, 0, len(all))
	for _, e := range all {
		got = append(got, e.Type+" "+e.Subject)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
