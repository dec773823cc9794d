package storetest

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// testWebhookEndpoints: endpoints round-trip (secret included, filter
// sorted, enabled defaulting to true); an update without a secret keeps
// it; each change fans out to every enabled endpoint whose filter takes
// it, once per endpoint however often it is reported; disabling or
// deleting an endpoint dead-letters its pending deliveries; the tenant's
// webhook_url is the endpoint whose id is the tenant's; another tenant
// sees none of it.
func testWebhookEndpoints(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "hooks")
	other := newTenant(t, s, "other")
	const secretA, secretB = "0123456789abcdef-endpoint-a", "0123456789abcdef-endpoint-b"
	a := must(ts.CreateWebhook(c, &sirsiv1.Webhook{Url: "https://a.example.com/hook", Secret: secretA, EventTypes: []string{validation.EventCostAnomaly}, Description: "anomalies"}))
	b := must(ts.CreateWebhook(c, &sirsiv1.Webhook{Url: "https://b.example.com/hook", Secret: secretB,
		EventTypes: []string{validation.EventActionSucceeded, validation.EventActionStarted}}))
	off := must(ts.CreateWebhook(c, &sirsiv1.Webhook{Url: "https://off.example.com/hook", Secret: secretB, Enabled: proto.Bool(false)}))
	if a.TenantId != ts.TenantID() || a.Version != 1 || !a.GetEnabled() || !a.SecretSet || a.Secret != secretA {
		t.Fatalf("created %v", a)
	}
	if got := must(ts.GetWebhook(c, b.Id)); !proto.Equal(got, b) || !slices.Equal(got.EventTypes, []string{validation.EventActionStarted, validation.EventActionSucceeded}) {
		t.Fatalf("get = %v, want %v with its filter sorted", got, b)
	}
	if list, _, err := ts.ListWebhooks(c, store.Page{}); err != nil || len(list) != 3 {
		t.Fatalf("list = %v, %v", list, err)
	}

	acct := newAccount(t, ts, "111111111111")
	anomaly := &sirsiv1.CostAnomaly{Day: "2026-11-20", Service: "EC2", ExpectedAmount: money.USDFromFloat(100), ActualAmount: money.USDFromFloat(300), Score: 3}
	action := &sirsiv1.Action{Id: "act-1", ResourceId: "i-1", ResourceType: "ec2_instance", Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_RUNNING}
	for _, batch := range []string{"1", "2"} { // the second reports the same changes again
		must(ts.ApplyCosts(c, acct.Id, "costs-"+batch, nil, []*sirsiv1.CostAnomaly{anomaly}))
		must(ts.ApplyActions(c, acct.Id, "actions-"+batch, []*sirsiv1.Action{action}))
	}
	events, _, err := ts.ListWebhookEvents(c, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_UNSPECIFIED, store.Page{})
	ok(t, err)
	got := map[string][]string{}
	for _, e := range events {
		got[e.WebhookId] = append(got[e.WebhookId], e.Type)
	}
	if len(events) != 2 || !slices.Equal(got[a.Id], []string{validation.EventCostAnomaly}) || !slices.Equal(got[b.Id], []string{validation.EventActionStarted}) {
		t.Fatalf("deliveries by endpoint %v, want the anomaly to %s and the action to %s only", got, a.Id, b.Id)
	}

	// Changing the URL and filter without a secret keeps the secret.
	up := proto.CloneOf(a)
	up.Secret, up.Url, up.EventTypes = "", "https://a2.example.com/hook", nil
	u := must(ts.UpdateWebhook(c, up))
	if u.Secret != secretA || u.Url != up.Url || len(u.EventTypes) != 0 || u.Version != 2 || u.Description != "anomalies" {
		t.Fatalf("update without a secret = %v", u)
	}
	_, err = ts.UpdateWebhook(c, up) // version 1 again
	wantErr(t, err, store.ErrVersionMismatch, "update with a stale version")
	up.Version, up.Secret = u.Version, "0123456789abcdef-rotated"
	if u = must(ts.UpdateWebhook(c, up)); u.Secret != up.Secret {
		t.Fatalf("rotated secret = %q", u.Secret)
	}
	// Disabling dead-letters the endpoint's pending delivery; deleting
	// does the same for the other's.
	up.Version, up.Enabled = u.Version, proto.Bool(false)
	must(ts.UpdateWebhook(c, up))
	ok(t, ts.DeleteWebhook(c, b.Id, 0))
	_, err = ts.GetWebhook(c, b.Id)
	wantErr(t, err, store.ErrNotFound, "get a deleted webhook")
	dead, _, err := ts.ListWebhookEvents(c, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_DEAD, store.Page{})
	ok(t, err)
	if len(dead) != 2 || dead[0].LastError == "" || dead[1].LastError == "" {
		t.Fatalf("dead after disable and delete = %v, want both deliveries with a reason", dead)
	}

	// Another tenant neither sees nor changes them.
	_, err = other.GetWebhook(c, off.Id)
	wantErr(t, err, store.ErrNotFound, "get another tenant's webhook")
	_, err = other.UpdateWebhook(c, off)
	wantErr(t, err, store.ErrNotFound, "update another tenant's webhook")
	wantErr(t, other.DeleteWebhook(c, off.Id, 0), store.ErrNotFound, "delete another tenant's webhook")
	if list, _, err := other.ListWebhooks(c, store.Page{}); err != nil || len(list) != 0 {
		t.Fatalf("other tenant lists %v, %v", list, err)
	}
	if got := must(ts.GetWebhook(c, off.Id)); got.Version != 1 {
		t.Fatalf("another tenant's calls changed %v", got)
	}

	// The tenant's webhook_url is its own endpoint, id = tenant id, every
	// type, enabled; clearing the URL deletes it.
	tn := must(s.GetTenant(c, ts.TenantID()))
	tn.WebhookUrl, tn.WebhookSecret = "https://tenant.example.com/hook", "0123456789abcdef-tenant"
	tn = must(s.UpdateTenant(c, tn))
	own := must(ts.GetWebhook(c, ts.TenantID()))
	if own.Url != tn.WebhookUrl || own.Secret != "0123456789abcdef-tenant" || len(own.EventTypes) != 0 || !own.GetEnabled() {
		t.Fatalf("tenant's own endpoint = %v", own)
	}
	tn.WebhookUrl, tn.WebhookSecret = "", ""
	must(s.UpdateTenant(c, tn))
	_, err = ts.GetWebhook(c, ts.TenantID())
	wantErr(t, err, store.ErrNotFound, "tenant's endpoint after clearing webhook_url")
}
