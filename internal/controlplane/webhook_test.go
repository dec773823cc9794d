package controlplane_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

const (
	hookSecret  = "whsec-0123456789abcdef-first"
	hookSecret2 = "whsec-0123456789abcdef-rotated"
)

func TestVerifyWebhookSignature(t *testing.T) {
	body, ts := `{"type":"cost_anomaly"}`, "1767225600"
	m := hmac.New(sha256.New, []byte(hookSecret))
	m.Write([]byte(ts + "." + body))
	good := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if !controlplane.VerifyWebhookSignature(hookSecret, ts, body, good) {
		t.Fatal("a correct signature was refused")
	}
	for name, c := range map[string]struct{ secret, ts, body, header string }{
		"other secret":    {hookSecret2, ts, body, good},
		"other timestamp": {hookSecret, "1767225601", body, good},
		"other body":      {hookSecret, ts, body + " ", good},
		"no prefix":       {hookSecret, ts, body, strings.TrimPrefix(good, "sha256=")},
		"other prefix":    {hookSecret, ts, body, "sha1=" + strings.TrimPrefix(good, "sha256=")},
		"not hex":         {hookSecret, ts, body, "sha256=zz" + good[9:]},
		"truncated":       {hookSecret, ts, body, good[:len(good)-2]},
		"upper-case hex":  {hookSecret, ts, body, "sha256=" + strings.ToUpper(good[7:]) + "0"},
		"empty":           {hookSecret, ts, body, ""},
	} {
		if controlplane.VerifyWebhookSignature(c.secret, c.ts, c.body, c.header) {
			t.Errorf("%s: signature accepted", name)
		}
	}
}

// receiver is a tenant's webhook endpoint on loopback. It answers with
// statuses in order, repeating the last one.
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []received
}

type received struct {
	method, path string
	header       http.Header
	body         []byte
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Errorf("receiver: read body: %v", err)
		}
		r.mu.Lock()
		r.got = append(r.got, received{req.Method, req.URL.Path, req.Header.Clone(), body})
		status := r.statuses[min(len(r.got), len(r.statuses))-1]
		r.mu.Unlock()
		if status == http.StatusFound {
			http.Redirect(w, req, "/elsewhere", status)
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// lockedBuffer collects the server's log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type hookEnv struct {
	*cptest.Env
	log *lockedBuffer
}

// startHooks starts a control plane logging everything, with a short
// retry backoff; run starts its background work (the delivery workers).
func startHooks(t *testing.T, run bool) *hookEnv {
	log := &lockedBuffer{}
	env := cptest.Start(t, cptest.WithLogger(hclog.New(&hclog.LoggerOptions{Output: log, Level: hclog.Trace})))
	env.Server.SetWebhookBackoff(time.Millisecond)
	h := &hookEnv{Env: env, log: log}
	if run {
		h.run(t)
	}
	return h
}

func (h *hookEnv) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Server.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
}

func (h *hookEnv) hookedTenant(t *testing.T, name, url string) *sirsiv1.Tenant {
	t.Helper()
	resp, err := h.Client.CreateTenant(context.Background(), &sirsiv1.CreateTenantRequest{
		Tenant: &sirsiv1.Tenant{Name: name, WebhookUrl: url, WebhookSecret: hookSecret},
	})
	if err != nil {
		t.Fatalf("create tenant with webhook: %v", err)
	}
	return resp.Tenant
}

// deliveries waits until the tenant's audit log holds n webhook
// deliveries and returns them.
func (h *hookEnv) deliveries(t *testing.T, tenantID string, n int) []*sirsiv1.AuditEvent {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := h.Client.ListAuditEvents(context.Background(), &sirsiv1.ListAuditEventsRequest{TenantId: tenantID, Action: "webhook.deliver"})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Events) >= n {
			return resp.Events
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d webhook deliveries audited, want %d", len(resp.Events), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *hookEnv) deliveryCount(t *testing.T, outcome string) float64 {
	t.Helper()
	families, err := h.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "sirsi_webhook_deliveries_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// noSecrets fails if a webhook secret reached the log or the audit log.
func (h *hookEnv) noSecrets(t *testing.T, tenantID string) {
	t.Helper()
	if h.log.String() == "" {
		t.Fatal("the server logged nothing: the log check would prove nothing")
	}
	resp, err := h.Client.ListAuditEvents(context.Background(), &sirsiv1.ListAuditEventsRequest{TenantId: tenantID, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	op, err := h.Client.ListAuditEvents(context.Background(), &sirsiv1.ListAuditEventsRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	audit := fmt.Sprint(resp.Events, op.Events)
	for _, secret := range []string{hookSecret, hookSecret2} {
		if strings.Contains(h.log.String(), secret) {
			t.Errorf("the log contains a webhook secret:\n%s", h.log.String())
		}
		if strings.Contains(audit, secret) {
			t.Errorf("the audit log contains a webhook secret: %s", audit)
		}
	}
}

func anomalies(tenantID string, n int) []*sirsiv1.CostAnomaly {
	out := make([]*sirsiv1.CostAnomaly, n)
	for i := range out {
		out[i] = &sirsiv1.CostAnomaly{
			Id: fmt.Sprintf("anomaly-%d", i), TenantId: tenantID, CloudAccountId: "acct-1", Day: "2026-11-20",
			Service: "Amazon Elastic Compute Cloud - Compute", ExpectedAmount: money.USDFromFloat(100), ActualAmount: money.USDFromFloat(340.5 + float64(i)), Score: 4.2,
			DetectTime: timestamppb.New(time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)),
		}
	}
	return out
}

// checkSigned checks one request is a correctly signed cost_anomaly
// delivery under secret and returns its delivery id.
func checkSigned(t *testing.T, r received, secret string) string {
	t.Helper()
	if r.method != http.MethodPost || r.path != "/hook" {
		t.Fatalf("request %s %s, want POST /hook", r.method, r.path)
	}
	for k, want := range map[string]string{"Content-Type": "application/json", "X-Sirsi-Event": "cost_anomaly"} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	ts := r.header.Get("X-Sirsi-Timestamp")
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		t.Errorf("X-Sirsi-Timestamp %q is not Unix seconds", ts)
	}
	if !controlplane.VerifyWebhookSignature(secret, ts, string(r.body), r.header.Get("X-Sirsi-Signature")) {
		t.Errorf("signature %q does not verify", r.header.Get("X-Sirsi-Signature"))
	}
	id := r.header.Get("X-Sirsi-Delivery")
	if len(id) != 36 {
		t.Errorf("X-Sirsi-Delivery %q is not a UUID", id)
	}
	return id
}

func TestWebhookDeliverySigned(t *testing.T) {
	h := startHooks(t, true)
	rcv := newReceiver(t, http.StatusNoContent)
	tn := h.hookedTenant(t, "acme", rcv.srv.URL+"/hook")
	at := time.Now().Truncate(time.Second)
	h.Clock.Set(at)
	want := anomalies(tn.Id, 2)
	h.Server.DeliverAnomalies(context.Background(), tn.Id, want)

	ev := h.deliveries(t, tn.Id, 1)[0]
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	id := checkSigned(t, reqs[0], hookSecret)
	if ev.Outcome != "ok" || ev.Actor != "control-plane" || ev.Target != "webhook/"+id || !strings.Contains(ev.Detail, "2 anomalies delivered in 1 attempt") {
		t.Errorf("audit event = %v", ev)
	}
	if ts := reqs[0].header.Get("X-Sirsi-Timestamp"); ts != strconv.FormatInt(at.Unix(), 10) {
		t.Errorf("X-Sirsi-Timestamp %s, want the control plane's clock %d", ts, at.Unix())
	}
	var body struct {
		Type      string            `json:"type"`
		TenantID  string            `json:"tenant_id"`
		Anomalies []json.RawMessage `json:"anomalies"`
		SentAt    time.Time         `json:"sent_at"`
	}
	if err := json.Unmarshal(reqs[0].body, &body); err != nil {
		t.Fatalf("body %s: %v", reqs[0].body, err)
	}
	if body.Type != "cost_anomaly" || body.TenantID != tn.Id || !body.SentAt.Equal(at) || len(body.Anomalies) != 2 {
		t.Fatalf("body = %s", reqs[0].body)
	}
	for i, raw := range body.Anomalies {
		var got sirsiv1.CostAnomaly
		if err := protojson.Unmarshal(raw, &got); err != nil {
			t.Fatalf("anomaly %d: %v", i, err)
		}
		if !proto.Equal(&got, want[i]) {
			t.Errorf("anomaly %d = %v, want %v", i, &got, want[i])
		}
	}
	if n := h.deliveryCount(t, "ok"); n != 1 {
		t.Errorf("ok deliveries counted %v, want 1", n)
	}
	h.noSecrets(t, tn.Id)
}

func TestWebhookRetriesServerErrors(t *testing.T) {
	h := startHooks(t, true)
	rcv := newReceiver(t, http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusOK)
	tn := h.hookedTenant(t, "acme", rcv.srv.URL+"/hook")
	h.Server.DeliverAnomalies(context.Background(), tn.Id, anomalies(tn.Id, 1))

	ev := h.deliveries(t, tn.Id, 1)[0]
	reqs := rcv.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (two 5xx, then success)", len(reqs))
	}
	first := checkSigned(t, reqs[0], hookSecret)
	for _, r := range reqs[1:] {
		if id := checkSigned(t, r, hookSecret); id != first {
			t.Errorf("retry has delivery id %s, the first attempt %s", id, first)
		}
	}
	if ev.Outcome != "ok" || !strings.Contains(ev.Detail, "in 3 attempt(s)") {
		t.Errorf("audit event = %v", ev)
	}
	if ok, failed := h.deliveryCount(t, "ok"), h.deliveryCount(t, "failed"); ok != 1 || failed != 0 {
		t.Errorf("counted ok=%v failed=%v, want 1 and 0", ok, failed)
	}
	h.noSecrets(t, tn.Id)
}

func TestWebhookGivesUpAfterMaxAttempts(t *testing.T) {
	h := startHooks(t, true)
	rcv := newReceiver(t, http.StatusBadGateway)
	tn := h.hookedTenant(t, "acme", rcv.srv.URL+"/hook")
	h.Server.DeliverAnomalies(context.Background(), tn.Id, anomalies(tn.Id, 1))

	ev := h.deliveries(t, tn.Id, 1)[0]
	if n := len(rcv.requests()); n != controlplane.WebhookMaxAttempts {
		t.Fatalf("%d requests, want %d", n, controlplane.WebhookMaxAttempts)
	}
	if ev.Outcome != "failed" || !strings.Contains(ev.Detail, "HTTP 502") {
		t.Errorf("audit event = %v", ev)
	}
	if n := h.deliveryCount(t, "failed"); n != 1 {
		t.Errorf("failed deliveries counted %v, want 1", n)
	}
	h.noSecrets(t, tn.Id)
}

func TestWebhookNoRetryOnClientError(t *testing.T) {
	h := startHooks(t, true)
	rcv := newReceiver(t, http.StatusBadRequest, http.StatusOK)
	tn := h.hookedTenant(t, "acme", rcv.srv.URL+"/hook")
	h.Server.DeliverAnomalies(context.Background(), tn.Id, anomalies(tn.Id, 1))

	ev := h.deliveries(t, tn.Id, 1)[0]
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("%d requests, want 1: a 4xx is not retried", n)
	}
	if ev.Outcome != "failed" || !strings.Contains(ev.Detail, "after 1 attempt(s): HTTP 400") {
		t.Errorf("audit event = %v", ev)
	}
	if n := h.deliveryCount(t, "failed"); n != 1 {
		t.Errorf("failed deliveries counted %v, want 1", n)
	}
	h.noSecrets(t, tn.Id)
}

func TestWebhookDoesNotFollowRedirects(t *testing.T) {
	h := startHooks(t, true)
	rcv := newReceiver(t, http.StatusFound, http.StatusOK)
	tn := h.hookedTenant(t, "acme", rcv.srv.URL+"/hook")
	h.Server.DeliverAnomalies(context.Background(), tn.Id, anomalies(tn.Id, 1))

	ev := h.deliveries(t, tn.Id, 1)[0]
	reqs := rcv.requests()
	if len(reqs) != 1 || reqs[0].path != "/hook" {
		t.Fatalf("requests %v, want only the one to /hook", reqs)
	}
	if ev.Outcome != "failed" || !strings.Contains(ev.Detail, "HTTP 302") {
		t.Errorf("audit event = %v", ev)
	}
}

func TestWebhookQueueFullDrops(t *testing.T) {
	h := startHooks(t, false)
	h.Server.SetWebhookQueueSize(1)
	rcv := newReceiver(t, http.StatusOK)
	tn := h.hookedTenant(t, "acme", rcv.srv.URL+"/hook")
	h.Server.DeliverAnomalies(context.Background(), tn.Id, anomalies(tn.Id, 1))
	h.Server.DeliverAnomalies(context.Background(), tn.Id, anomalies(tn.Id, 3))
	if n := h.deliveryCount(t, "dropped"); n != 1 {
		t.Fatalf("dropped deliveries counted %v, want 1", n)
	}
	if !strings.Contains(h.log.String(), "webhook queue full") {
		t.Errorf("no warning about the full queue in the log:\n%s", h.log.String())
	}

	// The report that found room is still delivered once workers run.
	h.run(t)
	ev := h.deliveries(t, tn.Id, 1)[0]
	if ev.Outcome != "ok" || !strings.Contains(ev.Detail, "1 anomalies delivered") {
		t.Errorf("audit event = %v", ev)
	}
	h.noSecrets(t, tn.Id)
}

func TestWebhookSecretKeptRotatedAndRemoved(t *testing.T) {
	h := startHooks(t, true)
	ctx := context.Background()
	rcv := newReceiver(t, http.StatusOK)
	tn := h.hookedTenant(t, "acme", rcv.srv.URL+"/old")
	if tn.WebhookSecret != "" || !tn.WebhookSecretSet || tn.WebhookUrl != rcv.srv.URL+"/old" {
		t.Fatalf("create returned %v: want the secret hidden and reported set", tn)
	}
	got, err := h.Client.GetTenant(ctx, &sirsiv1.GetTenantRequest{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Tenant.WebhookSecret != "" || !got.Tenant.WebhookSecretSet {
		t.Fatalf("get returned %v", got.Tenant)
	}
	list, err := h.Client.ListTenants(ctx, &sirsiv1.ListTenantsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Tenants) != 1 || list.Tenants[0].WebhookSecret != "" || !list.Tenants[0].WebhookSecretSet {
		t.Fatalf("list returned %v", list.Tenants)
	}

	// A new URL without a secret keeps the stored secret.
	up := proto.CloneOf(got.Tenant)
	up.WebhookUrl = rcv.srv.URL + "/hook"
	u, err := h.Client.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: up})
	if err != nil {
		t.Fatal(err)
	}
	if u.Tenant.WebhookSecret != "" || !u.Tenant.WebhookSecretSet || u.Tenant.WebhookUrl != up.WebhookUrl {
		t.Fatalf("update returned %v", u.Tenant)
	}
	h.Server.DeliverAnomalies(ctx, tn.Id, anomalies(tn.Id, 1))
	h.deliveries(t, tn.Id, 1)
	checkSigned(t, rcv.requests()[0], hookSecret)

	// Rotation: the next delivery is signed with the new secret only.
	up = proto.CloneOf(u.Tenant)
	up.WebhookSecret = hookSecret2
	u, err = h.Client.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: up})
	if err != nil {
		t.Fatal(err)
	}
	h.Server.DeliverAnomalies(ctx, tn.Id, anomalies(tn.Id, 1))
	h.deliveries(t, tn.Id, 2)
	r := rcv.requests()[1]
	checkSigned(t, r, hookSecret2)
	if controlplane.VerifyWebhookSignature(hookSecret, r.header.Get("X-Sirsi-Timestamp"), string(r.body), r.header.Get("X-Sirsi-Signature")) {
		t.Error("after rotation the old secret still verifies")
	}

	// Removing the URL removes the webhook, secret included.
	up = proto.CloneOf(u.Tenant)
	up.WebhookUrl = ""
	u, err = h.Client.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: up})
	if err != nil {
		t.Fatal(err)
	}
	if u.Tenant.WebhookUrl != "" || u.Tenant.WebhookSecretSet {
		t.Fatalf("after removal %v", u.Tenant)
	}
	// Setting a URL again needs a secret: the old one went with the URL.
	up = proto.CloneOf(u.Tenant)
	up.WebhookUrl = rcv.srv.URL + "/hook"
	_, err = h.Client.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: up})
	wantCode(t, err, codes.InvalidArgument)
	if !strings.Contains(err.Error(), "tenant.webhook_secret") {
		t.Errorf("error %v does not name tenant.webhook_secret", err)
	}
	h.noSecrets(t, tn.Id)
}

func TestTenantWebhookValidation(t *testing.T) {
	env := cptest.Start(t)
	ctx := context.Background()
	long := "https://hooks.example.com/" + strings.Repeat("a", 2048)
	for name, c := range map[string]struct {
		url, secret, field string
	}{
		"URL without secret":     {"https://hooks.example.com/x", "", "tenant.webhook_secret"},
		"secret without URL":     {"", hookSecret, "tenant.webhook_secret"},
		"short secret":           {"https://hooks.example.com/x", "short", "tenant.webhook_secret"},
		"secret with spaces":     {"https://hooks.example.com/x", "has spaces in the secret", "tenant.webhook_secret"},
		"plain http, not local":  {"http://hooks.example.com/x", hookSecret, "tenant.webhook_url"},
		"not a URL":              {"hooks.example.com", hookSecret, "tenant.webhook_url"},
		"user info":              {"https://u:p@hooks.example.com/", hookSecret, "tenant.webhook_url"},
		"longer than 2048 chars": {long, hookSecret, "tenant.webhook_url"},
	} {
		_, err := env.Client.CreateTenant(ctx, &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{Name: "acme", WebhookUrl: c.url, WebhookSecret: c.secret}})
		if code := status.Code(err); code != codes.InvalidArgument || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: error %v, want InvalidArgument naming %s", name, err, c.field)
		}
	}
	tn := env.NewTenant(t, "plain")
	_, err := env.Client.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: &sirsiv1.Tenant{Id: tn.ID, WebhookUrl: "https://hooks.example.com/x"}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "tenant.webhook_secret") {
		t.Errorf("update with a URL and no stored secret: %v", err)
	}
	// A tenant read back and sent unchanged is accepted, output-only
	// webhook_secret_set included.
	withHook, err := env.Client.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: &sirsiv1.Tenant{
		Id: tn.ID, WebhookUrl: "https://hooks.example.com/x", WebhookSecret: hookSecret,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Client.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: withHook.Tenant}); err != nil {
		t.Fatalf("sending a tenant back unchanged: %v", err)
	}
}
