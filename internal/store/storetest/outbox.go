package storetest

import (
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// testEventOutbox: a change stored for a tenant with a webhook writes one
// event per change (the same anomaly reported again writes none, a
// changed figure one more; an action one per status, none for a dry
// run); a tenant without a webhook gets none. Concurrent claimers never
// get the same event, a claimed event is hidden for its lease, and the
// outcomes move it to delivered, pending at the retry time, or dead.
func testEventOutbox(t *testing.T, s store.Store) {
	c := ctx(t)
	hooked := must(s.CreateTenant(c, &sirsiv1.Tenant{Name: "hooked", WebhookUrl: "https://hooks.example.com/x", WebhookSecret: "0123456789abcdef-first"}))
	plain := must(s.CreateTenant(c, &sirsiv1.Tenant{Name: "plain"}))
	ts, ps := s.Tenant(hooked.Id), s.Tenant(plain.Id)
	acct, pacct := newAccount(t, ts, "111111111111"), newAccount(t, ps, "222222222222")
	anomaly := func(service string, actual float64) *sirsiv1.CostAnomaly {
		return &sirsiv1.CostAnomaly{Day: "2026-11-20", Service: service, ExpectedAmount: money.USDFromFloat(100), ActualAmount: money.USDFromFloat(actual), Score: 3}
	}
	for i, list := range [][]*sirsiv1.CostAnomaly{
		{anomaly("EC2", 300), anomaly("RDS", 250)},
		{anomaly("EC2", 300), anomaly("RDS", 250)}, // the next pull, same figures
		{anomaly("EC2", 310)},                      // a revised figure
	} {
		must(ts.ApplyCosts(c, acct.Id, "costs-"+string(rune('a'+i)), nil, list))
		must(ps.ApplyCosts(c, pacct.Id, "costs-"+string(rune('a'+i)), nil, list))
	}
	action := &sirsiv1.Action{Id: "act-1", ResourceId: "i-1", ResourceType: "ec2_instance", Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_RUNNING}
	must(ts.ApplyActions(c, acct.Id, "actions-a", []*sirsiv1.Action{action}))
	must(ts.ApplyActions(c, acct.Id, "actions-b", []*sirsiv1.Action{action})) // reported again
	done := proto.CloneOf(action)
	done.Status = sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED
	dry := &sirsiv1.Action{Id: "act-2", ResourceId: "i-2", Action: "resize", DryRun: true, Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED}
	must(ts.ApplyActions(c, acct.Id, "actions-c", []*sirsiv1.Action{done, dry}))

	all, _, err := ts.ListWebhookEvents(c, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_UNSPECIFIED, store.Page{})
	ok(t, err)
	var types []string
	for _, e := range all {
		types = append(types, e.Type+" "+e.Subject)
		if e.State != sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_PENDING || e.TenantId != hooked.Id || e.Attempts != 0 {
			t.Errorf("new event %v", e)
		}
	}
	want := []string{
		"cost.anomaly " + acct.Id + "/2026-11-20/EC2", "cost.anomaly " + acct.Id + "/2026-11-20/RDS", "cost.anomaly " + acct.Id + "/2026-11-20/EC2",
		"action.started actions/act-1", "action.succeeded actions/act-1",
	}
	if len(types) != len(want) {
		t.Fatalf("events %q, want %q", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Errorf("event %d = %q, want %q", i, types[i], want[i])
		}
	}
	if none, _, err := ps.ListWebhookEvents(c, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_UNSPECIFIED, store.Page{}); err != nil || len(none) != 0 {
		t.Fatalf("tenant without webhook has events %v (%v)", none, err)
	}

	// Three claimers at once share the five events without overlap.
	now := time.Now()
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			got, err := s.ClaimEvents(c, now, time.Minute, 2)
			if err != nil {
				t.Errorf("claim: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, e := range got {
				claimed[e.Event.Id]++
				if len(e.Data) == 0 {
					t.Errorf("claimed event %s without data", e.Event.Id)
				}
			}
		})
	}
	wg.Wait()
	rest := must(s.ClaimEvents(c, now, time.Minute, 10))
	for _, e := range rest {
		claimed[e.Event.Id]++
	}
	if len(claimed) != len(want) {
		t.Fatalf("claimed %d distinct events, want %d", len(claimed), len(want))
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("event %s claimed %d times", id, n)
		}
	}
	if again := must(s.ClaimEvents(c, now.Add(59*time.Second), time.Minute, 10)); len(again) != 0 {
		t.Fatalf("%d events claimed again within the lease", len(again))
	}

	// Outcomes: delivered, retry later, dead.
	ok(t, s.FinishEvent(c, hooked.Id, all[0].Id, store.EventOutcome{At: now, Delivered: true}))
	ok(t, s.FinishEvent(c, hooked.Id, all[1].Id, store.EventOutcome{At: now, Err: "HTTP 503", RetryAt: now.Add(time.Hour)}))
	ok(t, s.FinishEvent(c, hooked.Id, all[2].Id, store.EventOutcome{At: now, Err: "HTTP 400"}))
	// A finished event is not moved again by a late outcome.
	ok(t, s.FinishEvent(c, hooked.Id, all[0].Id, store.EventOutcome{At: now, Err: "late"}))
	wantErr(t, s.FinishEvent(c, hooked.Id, "no-such-event", store.EventOutcome{At: now, Delivered: true}), store.ErrNotFound, "finish of an unknown event")
	dead, _, err := ts.ListWebhookEvents(c, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_DEAD, store.Page{})
	ok(t, err)
	if len(dead) != 1 || dead[0].Id != all[2].Id || dead[0].LastError != "HTTP 400" || dead[0].Attempts != 1 || dead[0].FinishTime == nil {
		t.Fatalf("dead letters %v", dead)
	}
	delivered, _, err := ts.ListWebhookEvents(c, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_DELIVERED, store.Page{})
	ok(t, err)
	if len(delivered) != 1 || delivered[0].Id != all[0].Id || delivered[0].Attempts != 1 || delivered[0].LastError != "" {
		t.Fatalf("delivered %v", delivered)
	}
	retry := must(s.ClaimEvents(c, now.Add(time.Hour), time.Minute, 10))
	var ids []string
	for _, e := range retry {
		ids = append(ids, e.Event.Id)
	}
	if len(retry) != 3 || retry[0].Event.Attempts+retry[1].Event.Attempts+retry[2].Event.Attempts != 1 {
		t.Errorf("due an hour later: %v, want the retried event and the two never finished", ids)
	}

	// Deleting the tenant deletes its outbox.
	ok(t, s.DeleteTenant(c, hooked.Id, 0, true))
	if left := must(s.ClaimEvents(c, now.Add(2*time.Hour), time.Minute, 10)); len(left) != 0 {
		t.Errorf("%d events left of a deleted tenant", len(left))
	}
}
