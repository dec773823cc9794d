package controlplane_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// createHook makes an endpoint through the API as the tenant's editor.
func createHook(t *testing.T, c sirsiv1.ManagementServiceClient, w *sirsiv1.Webhook) *sirsiv1.Webhook {
	t.Helper()
	resp, err := c.CreateWebhook(context.Background(), &sirsiv1.CreateWebhookRequest{Webhook: w})
	if err != nil {
		t.Fatalf("create webhook %s: %v", w.Url, err)
	}
	return resp.Webhook
}

// startAction stores an action.started event's change for the tenant, as
// an agent's report does.
func (h *hookEnv) startAction(t *testing.T, tenantID, id string) {
	t.Helper()
	h.batch++
	a := &sirsiv1.Action{Id: id, ResourceId: "i-" + id, ResourceType: "ec2_instance", Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_RUNNING}
	if _, err := h.Store.Tenant(tenantID).ApplyActions(context.Background(), h.accounts[tenantID], fmt.Sprintf("batch-%d", h.batch), []*sirsiv1.Action{a}); err != nil {
		t.Fatalf("store action: %v", err)
	}
}

// waitState waits until n of the tenant's deliveries are in state.
func (h *hookEnv) waitState(t *testing.T, tenantID string, state sirsiv1.WebhookEventState, n int) []*sirsiv1.WebhookEvent {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if got := h.events(t, tenantID, state); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d deliveries %v", n, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWebhookEndpointsEachGetTheirEvents: two endpoints with different
// filters each receive exactly the events their filter takes, once,
// signed with their own secret (which the other's does not verify).
func TestWebhookEndpointsEachGetTheirEvents(t *testing.T) {
	h := startHooks(t, true)
	tn := h.NewTenant(t, "acme")
	anomalies, actions := newReceiver(t, http.StatusOK), newReceiver(t, http.StatusOK)
	a := createHook(t, tn.Editor, &sirsiv1.Webhook{TenantId: tn.ID, Url: anomalies.srv.URL + "/hook", Secret: hookSecret, EventTypes: []string{validation.EventCostAnomaly}})
	b := createHook(t, tn.Editor, &sirsiv1.Webhook{TenantId: tn.ID, Url: actions.srv.URL + "/hook", Secret: hookSecret2, EventTypes: []string{validation.EventActionStarted}})
	h.report(t, tn.ID, anomaly(0, 0), anomaly(1, 0))
	h.startAction(t, tn.ID, "act-1")
	h.report(t, tn.ID, anomaly(0, 0)) // the next pull: nothing new
	h.startAction(t, tn.ID, "act-1")  // reported again

	done := h.waitState(t, tn.ID, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_DELIVERED, 3)
	if all := h.events(t, tn.ID, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_UNSPECIFIED); len(all) != 3 || len(done) != 3 {
		t.Fatalf("deliveries %v, want 3, all delivered", all)
	}
	byHook := map[string]map[string]bool{}
	for _, e := range done {
		if byHook[e.WebhookId] == nil {
			byHook[e.WebhookId] = map[string]bool{}
		}
		byHook[e.WebhookId][e.Id] = true
	}
	for _, c := range []struct {
		rcv          *receiver
		hook         *sirsiv1.Webhook
		secret, not  string
		typ          string
		wantRequests int
	}{
		{anomalies, a, hookSecret, hookSecret2, validation.EventCostAnomaly, 2},
		{actions, b, hookSecret2, hookSecret, validation.EventActionStarted, 1},
	} {
		reqs := c.rcv.requests()
		if len(reqs) != c.wantRequests {
			t.Fatalf("endpoint %s got %d requests, want %d", c.hook.Id, len(reqs), c.wantRequests)
		}
		for _, r := range reqs {
			ev := checkSigned(t, r, c.secret)
			if controlplane.VerifyWebhookSignature(c.not, r.header.Get("X-Sirsi-Timestamp"), string(r.body), r.header.Get("X-Sirsi-Signature")) {
				t.Errorf("endpoint %s: the other endpoint's secret verifies its delivery", c.hook.Id)
			}
			if ev.Type != c.typ || !byHook[c.hook.Id][ev.ID] {
				t.Errorf("endpoint %s got %s %s, want only its own %s deliveries", c.hook.Id, ev.Type, ev.ID, c.typ)
			}
		}
	}
}

// TestWebhookFailingEndpointDoesNotHoldOthers: while one endpoint hangs
// on every request it gets, the other receives all its deliveries; let go,
// the hanging one answers 500 and its deliveries are retried and
// dead-lettered, each on its own, while the other's stay delivered once.
func TestWebhookFailingEndpointDoesNotHoldOthers(t *testing.T) {
	h := startHooks(t, true)
	tn := h.NewTenant(t, "acme")
	release := make(chan struct{})
	var once sync.Once
	let := func() { once.Do(func() { close(release) }) }
	var mu sync.Mutex
	hung := 0
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		hung++
		mu.Unlock()
		<-release
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(bad.Close)
	t.Cleanup(let) // runs before bad.Close
	good := newReceiver(t, http.StatusOK)
	badHook := createHook(t, tn.Editor, &sirsiv1.Webhook{TenantId: tn.ID, Url: bad.URL + "/hook", Secret: hookSecret})
	goodHook := createHook(t, tn.Editor, &sirsiv1.Webhook{TenantId: tn.ID, Url: good.srv.URL + "/hook", Secret: hookSecret2})
	const n = 3
	h.report(t, tn.ID, anomalies(n)...)

	// Every good delivery arrives while the bad endpoint holds its requests.
	for deadline := time.Now().Add(30 * time.Second); len(good.requests()) < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the good endpoint got %d of %d deliveries while the other hangs", len(good.requests()), n)
		}
	}
	mu.Lock()
	if hung == 0 {
		t.Log("the bad endpoint had not been called yet when the good one was served")
	}
	mu.Unlock()
	let()

	dead := h.waitState(t, tn.ID, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_DEAD, n)
	for _, e := range dead {
		if e.WebhookId != badHook.Id || e.Attempts != controlplane.WebhookMaxAttempts || e.LastError != "HTTP 500" {
			t.Errorf("dead letter %v, want the bad endpoint's after %d attempts", e, controlplane.WebhookMaxAttempts)
		}
	}
	delivered := h.events(t, tn.ID, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_DELIVERED)
	if len(delivered) != n {
		t.Fatalf("delivered %v, want the good endpoint's %d", delivered, n)
	}
	for _, e := range delivered {
		if e.WebhookId != goodHook.Id || e.Attempts != 1 {
			t.Errorf("delivered %v, want the good endpoint's in one attempt", e)
		}
	}
	if got := len(good.requests()); got != n {
		t.Errorf("the good endpoint got %d requests, want %d", got, n)
	}
	for _, r := range good.requests() {
		checkSigned(t, r, hookSecret2)
	}
}

// TestWebhookCRUDRolesAndIsolation: editors write endpoints and viewers
// read them, secrets never come back, every change is audited, another
// tenant reaches none of them, bad input names its field, and the
// tenant's own endpoint changes only through UpdateTenant.
func TestWebhookCRUDRolesAndIsolation(t *testing.T) {
	h := startHooks(t, false)
	ctx := context.Background()
	tn, other := h.NewTenant(t, "acme"), h.NewTenant(t, "other")
	w := createHook(t, tn.Editor, &sirsiv1.Webhook{TenantId: tn.ID, Url: "https://hooks.example.com/a", Secret: hookSecret,
		EventTypes: []string{validation.EventCostAnomaly}, Description: "anomalies"})
	if w.Secret != "" || !w.SecretSet || !w.GetEnabled() || w.Version != 1 {
		t.Fatalf("created %v: want the secret hidden, reported set, enabled", w)
	}
	got, err := tn.Viewer.GetWebhook(ctx, &sirsiv1.GetWebhookRequest{TenantId: tn.ID, Id: w.Id})
	if err != nil || !proto.Equal(got.Webhook, w) {
		t.Fatalf("viewer get = %v, %v; want %v", got, err, w)
	}
	list, err := tn.Viewer.ListWebhooks(ctx, &sirsiv1.ListWebhooksRequest{TenantId: tn.ID})
	if err != nil || len(list.Webhooks) != 1 || list.Webhooks[0].Secret != "" {
		t.Fatalf("viewer list = %v, %v", list, err)
	}
	up := proto.CloneOf(w)
	up.Description = "changed"
	if _, err := tn.Viewer.UpdateWebhook(ctx, &sirsiv1.UpdateWebhookRequest{Webhook: up}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("viewer update: %v, want PermissionDenied", err)
	}
	if _, err := tn.Viewer.CreateWebhook(ctx, &sirsiv1.CreateWebhookRequest{Webhook: &sirsiv1.Webhook{TenantId: tn.ID, Url: "https://x.example.com", Secret: hookSecret}}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("viewer create: %v, want PermissionDenied", err)
	}
	u, err := tn.Editor.UpdateWebhook(ctx, &sirsiv1.UpdateWebhookRequest{Webhook: up})
	if err != nil || u.Webhook.Description != "changed" || u.Webhook.Secret != "" || !u.Webhook.SecretSet {
		t.Fatalf("editor update = %v, %v", u, err)
	}

	// Another tenant's tokens: not its tenant.
	for name, call := range map[string]func() error{
		"get": func() error {
			_, err := other.Admin.GetWebhook(ctx, &sirsiv1.GetWebhookRequest{TenantId: tn.ID, Id: w.Id})
			return err
		},
		"list": func() error {
			_, err := other.Admin.ListWebhooks(ctx, &sirsiv1.ListWebhooksRequest{TenantId: tn.ID})
			return err
		},
		"update": func() error {
			_, err := other.Admin.UpdateWebhook(ctx, &sirsiv1.UpdateWebhookRequest{Webhook: up})
			return err
		},
		"delete": func() error {
			_, err := other.Admin.DeleteWebhook(ctx, &sirsiv1.DeleteWebhookRequest{TenantId: tn.ID, Id: w.Id})
			return err
		},
	} {
		if err := call(); status.Code(err) != codes.PermissionDenied {
			t.Errorf("other tenant %s: %v, want PermissionDenied", name, err)
		}
	}
	// Its own tenant id with this tenant's endpoint id: not found.
	if _, err := other.Admin.GetWebhook(ctx, &sirsiv1.GetWebhookRequest{TenantId: other.ID, Id: w.Id}); status.Code(err) != codes.NotFound {
		t.Errorf("other tenant get by id: %v, want NotFound", err)
	}

	// Bad input names the field.
	for field, bad := range map[string]*sirsiv1.Webhook{
		"webhook.url":         {TenantId: tn.ID, Url: "http://hooks.example.com/a", Secret: hookSecret},
		"webhook.event_types": {TenantId: tn.ID, Url: "https://hooks.example.com/a", Secret: hookSecret, EventTypes: []string{"cost.anomalies"}},
		"webhook.secret":      {TenantId: tn.ID, Url: "https://hooks.example.com/a", Secret: "short"},
		"webhook.description": {TenantId: tn.ID, Url: "https://hooks.example.com/a", Secret: hookSecret, Description: strings.Repeat("x", validation.MaxDescriptionLen+1)},
	} {
		_, err := tn.Editor.CreateWebhook(ctx, &sirsiv1.CreateWebhookRequest{Webhook: bad})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), field) {
			t.Errorf("create with a bad %s: %v", field, err)
		}
	}
	if _, err := tn.Editor.CreateWebhook(ctx, &sirsiv1.CreateWebhookRequest{Webhook: &sirsiv1.Webhook{TenantId: tn.ID, Url: "https://hooks.example.com/a"}}); status.Code(err) != codes.InvalidArgument ||
		!strings.Contains(err.Error(), "webhook.secret") {
		t.Errorf("create without a secret: %v", err)
	}

	// The tenant's own endpoint is listed but changed only by UpdateTenant.
	tg, err := h.Client.GetTenant(ctx, &sirsiv1.GetTenantRequest{Id: tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	tg.Tenant.WebhookUrl, tg.Tenant.WebhookSecret = "https://hooks.example.com/tenant", hookSecret2
	if _, err := h.Client.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: tg.Tenant}); err != nil {
		t.Fatal(err)
	}
	own, err := tn.Viewer.GetWebhook(ctx, &sirsiv1.GetWebhookRequest{TenantId: tn.ID, Id: tn.ID})
	if err != nil || own.Webhook.Url != "https://hooks.example.com/tenant" || own.Webhook.Secret != "" {
		t.Fatalf("the tenant's own endpoint = %v, %v", own, err)
	}
	if _, err := tn.Editor.DeleteWebhook(ctx, &sirsiv1.DeleteWebhookRequest{TenantId: tn.ID, Id: tn.ID}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("delete the tenant's own endpoint: %v, want FailedPrecondition", err)
	}

	if _, err := tn.Editor.DeleteWebhook(ctx, &sirsiv1.DeleteWebhookRequest{TenantId: tn.ID, Id: w.Id, Version: u.Webhook.Version}); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.Viewer.GetWebhook(ctx, &sirsiv1.GetWebhookRequest{TenantId: tn.ID, Id: w.Id}); status.Code(err) != codes.NotFound {
		t.Errorf("get after delete: %v, want NotFound", err)
	}
	audit, err := h.Client.ListAuditEvents(ctx, &sirsiv1.ListAuditEventsRequest{TenantId: tn.ID, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range audit.Events {
		seen[e.Action+" "+e.Outcome]++
	}
	for _, m := range []string{"CreateWebhook", "UpdateWebhook", "DeleteWebhook"} {
		full := "/sirsi.v1.ManagementService/" + m
		if seen[full+" ok"] == 0 {
			t.Errorf("%s not audited as ok: %v", m, seen)
		}
	}
	h.noSecrets(t, tn.ID)
}
