package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
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
