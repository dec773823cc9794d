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
	"path/filepath"
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
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
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
	log      *lockedBuffer
	accounts map[string]string // tenant id -> cloud account id
	batch    int
}

// startHooks starts a control plane logging everything, with a short
// retry backoff and poll, allowed to deliver to the loopback receivers of
// these tests; run starts its background work (the delivery workers).
func startHooks(t *testing.T, run bool, opts ...cptest.Option) *hookEnv {
	log := &lockedBuffer{}
	opts = append([]cptest.Option{
		cptest.WithLogger(hclog.New(&hclog.LoggerOptions{Output: log, Level: hclog.Trace})),
		cptest.WithServerOptions(func(o *controlplane.Options) { o.WebhookAllowLoopback = true }),
	}, opts...)
	env := cptest.Start(t, opts...)
	env.Server.SetWebhookTiming(time.Millisecond, 10*time.Millisecond)
	h := &hookEnv{Env: env, log: log, accounts: map[string]string{}}
	if run {
		h.run(t)
	}
	return h
}

func (h *hookEnv) run(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Server.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run = %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// report stores anomalies as an agent's cost report does, in a batch of
// their own, under a cloud account of the tenant made on first use.
func (h *hookEnv) report(t *testing.T, tenantID string, list ...*sirsiv1.CostAnomaly) {
	t.Helper()
	acct, ok := h.accounts[tenantID]
	if !ok {
		acct = h.NewCloudAccount(t, tenantID, fmt.Sprintf("1234567890%02d", len(h.accounts))).Id
		h.accounts[tenantID] = acct
	}
	h.batch++
	if _, err := h.Store.Tenant(tenantID).ApplyCosts(context.Background(), acct, fmt.Sprintf("batch-%d", h.batch), nil, list); err != nil {
		t.Fatalf("store cost anomalies: %v", err)
	}
}

// events lists the tenant's outbox through the API.
func (h *hookEnv) events(t *testing.T, tenantID string, state sirsiv1.WebhookEventState) []*sirsiv1.WebhookEvent {
	t.Helper()
	resp, err := h.Client.ListWebhookEvents(context.Background(), &sirsiv1.ListWebhookEventsRequest{TenantId: tenantID, State: state, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Events
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

// anomaly is the i-th test anomaly (one service each); extra changes its
// actual amount, as a later cost pull revising the day would.
func anomaly(i int, extra float64) *sirsiv1.CostAnomaly {
	return &sirsiv1.CostAnomaly{
		Day: "2026-11-20", Service: fmt.Sprintf("Service %d", i), ExpectedAmount: money.USDFromFloat(100),
		ActualAmount: money.USDFromFloat(340.5 + float64(i) + extra), Score: 4.2,
		DetectTime: timestamppb.New(time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)),
	}
}

func anomalies(n int) []*sirsiv1.CostAnomaly {
	out := make([]*sirsiv1.CostAnomaly, n)
	for i := range out {
		out[i] = anomaly(i, 0)
	}
	return out
}

// cloudEventBody is the CloudEvents JSON of a delivery.
type cloudEventBody struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
}

// checkSigned checks one request is a correctly signed CloudEvents
// delivery under secret and returns its body.
func checkSigned(t *testing.T, r received, secret string) cloudEventBody {
	t.Helper()
	if r.method != http.MethodPost || r.path != "/hook" {
		t.Fatalf("request %s %s, want POST /hook", r.method, r.path)
	}
	var ev cloudEventBody
	if err := json.Unmarshal(r.body, &ev); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	if got := r.header.Get("Content-Type"); got != "application/cloudevents+json" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := r.header.Get("X-Sirsi-Event"); got != ev.Type {
		t.Errorf("X-Sirsi-Event %q, the event's type %q", got, ev.Type)
	}
	ts := r.header.Get("X-Sirsi-Timestamp")
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		t.Errorf("X-Sirsi-Timestamp %q is not Unix seconds", ts)
	}
	if !controlplane.VerifyWebhookSignature(secret, ts, string(r.body), r.header.Get("X-Sirsi-Signature")) {
		t.Errorf("signature %q does not verify", r.header.Get("X-Sirsi-Signature"))
	}
	if id := r.header.Get("X-Sirsi-Delivery"); len(id) != 36 || id != ev.ID {
		t.Errorf("X-Sirsi-Delivery %q: want the event's id %q, a UUID", id, ev.ID)
	}
	if ev.SpecVersion != "1.0" || ev.DataContentType != "application/json" || !strings.HasPrefix(ev.Source, "/sirsi/tenants/") || ev.Time.IsZero() {
		t.Errorf("CloudEvents attributes: %s", r.body)
	}
	return ev
}

// TestWebhookEachAnomalyOnce: every anomaly is one signed CloudEvents
// delivery carrying the anomaly as stored; the same anomalies reported
// again by the next cost pull make no event, a changed one makes one.
func TestWebhookEachAnomalyOnce(t *testing.T) {
	h := startHooks(t, true)
	rcv := newReceiver(t, http.StatusNoContent)
	tn := h.hookedTenant(t, "acme", rcv.srv.URL+"/hook")
	want := anomalies(2)
	h.report(t, tn.Id, want...)
	h.report(t, tn.Id, anomalies(2)...) // the next pull finds the same
	if n := len(h.events(t, tn.Id, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_UNSPECIFIED)); n != 2 {
		t.Fatalf("%d events in the outbox after the same two anomalies twice, want 2", n)
	}
	audits := h.deliveries(t, tn.Id, 2)
	stored, err := h.Client.ListCostAnomalies(context.Background(), &sirsiv1.ListCostAnomaliesRequest{TenantId: tn.Id})
	if err != nil {
		t.Fatal(err)
	}
	byService := map[string]*sirsiv1.CostAnomaly{}
	for _, a := range stored.Anomalies {
		byService[a.Service] = a
	}
	reqs := rcv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	ids := map[string]bool{}
	for _, r := range reqs {
		ev := checkSigned(t, r, hookSecret)
		ids[ev.ID] = true
		var got sirsiv1.CostAnomaly
		if err := protojson.Unmarshal(ev.Data, &got); err != nil {
			t.Fatalf("data %s: %v", ev.Data, err)
		}
		if ev.Type != "cost.anomaly" || ev.Source != "/sirsi/tenants/"+tn.Id || ev.Subject != got.CloudAccountId+"/"+got.Day+"/"+got.Service {
			t.Errorf("event %s %s %s", ev.Type, ev.Source, ev.Subject)
		}
		if !proto.Equal(&got, byService[got.Service]) {
			t.Errorf("event data %v, the anomaly as stored %v", &got, byService[got.Service])
		}
	}
	for _, a := range audits {
		if a.Outcome != "ok" || a.Actor != "control-plane" || !ids[strings.TrimPrefix(a.Target, "webhook/")] || !strings.Contains(a.Detail, "cost.anomaly delivered in 1 attempt") {
			t.Errorf("audit event = %v", a)
		}
	}

	// A revised figure is an update: one more event, same subject.
	h.report(t, tn.Id, anomaly(1, 10), anomaly(0, 0))
	h.deliveries(t, tn.Id, 3)
	reqs = rcv.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	if ev := checkSigned(t, reqs[2], hookSecret); ev.Subject != h.accounts[tn.Id]+"/2026-11-20/Service 1" || ids[ev.ID] {
		t.Errorf("update event %s %s", ev.ID, ev.Subject)
	}
	if n := h.deliveryCount(t, "ok"); n != 3 {
		t.Errorf("ok deliveries counted %v, want 3", n)
	}
	h.noSecrets(t, tn.Id)
}

// TestWebhookExactlyOnceAcrossRestart: events stored while the control
// plane is down, and events whose receiver failed before the stop, are
// delivered after the restart by a new server on the same database, each
// exactly once; those delivered before the stop are not sent again.
func TestWebhookExactlyOnceAcrossRestart(t *testing.T) {
	const restartOperatorToken = "webhook-restart-operator-token"
	path := filepath.Join(t.TempDir(), "sirsi.db")
	open := func() store.Store {
		st, err := sqlite.Open(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	rcv := newReceiver(t, http.StatusOK)
	first := startHooks(t, false, cptest.WithStore(open()), cptest.WithOperatorToken(restartOperatorToken))
	stop := first.run(t)
	tn := first.hookedTenant(t, "acme", rcv.srv.URL+"/hook")
	first.report(t, tn.Id, anomalies(2)...)
	first.deliveries(t, tn.Id, 2)
	stop()
	// Reported while no server runs.
	first.report(t, tn.Id, anomaly(2, 0), anomaly(3, 0))
	acct := first.accounts[tn.Id]
	if err := first.Store.Close(); err != nil {
		t.Fatal(err)
	}

	second := startHooks(t, false, cptest.WithStore(open()), cptest.WithOperatorToken(restartOperatorToken))
	second.accounts[tn.Id], second.batch = acct, first.batch
	second.run(t)
	// The same four again, as the next pull after the restart finds them.
	second.report(t, tn.Id, anomalies(4)...)
	second.deliveries(t, tn.Id, 4)
	delivered := second.events(t, tn.Id, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_DELIVERED)
	if len(delivered) != 4 {
		t.Fatalf("%d events delivered, want 4: %v", len(delivered), delivered)
	}
	seen := map[string]int{}
	for _, r := range rcv.requests() {
		seen[checkSigned(t, r, hookSecret).Subject]++
	}
	for i := range 4 {
		if subject := acct + "/2026-11-20/" + fmt.Sprintf("Service %d", i); seen[subject] != 1 {
			t.Errorf("%s received %d times, want exactly once (all: %v)", subject, seen[subject], seen)
		}
	}
	if len(seen) != 4 {
		t.Errorf("received %v, want the 4 anomalies", seen)
	}
}

func TestWebhookRetriesServerErrors(t *testing.T) {
	h := startHooks(t, true)
	rcv := newReceiver(t, http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusOK)
	tn := h.hookedTenant(t, "acme", rcv.srv.URL+"/hook")
	h.report(t, tn.Id, anomaly(0, 0))

	ev := h.deliveries(t, tn.Id, 1)[0]
	reqs := rcv.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (two 5xx, then success)", len(reqs))
	}
	first := checkSigned(t, reqs[0], hookSecret).ID
	for _, r := range reqs[1:] {
		if id := checkSigned(t, r, hookSecret).ID; id != first {
			t.Errorf("retry has event id %s, the first attempt %s", id, first)
		}
	}
	if ev.Outcome != "ok" || !strings.Contains(ev.Detail, "in 3 attempt(s)") {
		t.Errorf("audit event = %v", ev)
	}
	if ok, retried, dead := h.deliveryCount(t, "ok"), h.deliveryCount(t, "retry"), h.deliveryCount(t, "dead"); ok != 1 || retried != 2 || dead != 0 {
		t.Errorf("counted ok=%v retry=%v dead=%v, want 1, 2 and 0", ok, retried, dead)
	}
	h.noSecrets(t, tn.Id)
}

// deadLetter waits for the tenant's one event to be dead-lettered and
// checks what the API shows of it.
func (h *hookEnv) deadLetter(t *testing.T, tenantID string, attempts int32, reason string) {
	t.Helper()
	ev := h.deliveries(t, tenantID, 1)[0]
	if ev.Outcome != "failed" || !strings.Contains(ev.Detail, reason) {
		t.Errorf("audit event = %v", ev)
	}
	dead := h.events(t, tenantID, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_DEAD)
	if len(dead) != 1 || dead[0].Attempts != attempts || !strings.Contains(dead[0].LastError, reason) || dead[0].FinishTime == nil || dead[0].NextAttemptTime != nil {
		t.Fatalf("dead letters %v, want one after %d attempt(s) with %q", dead, attempts, reason)
	}
	if n := len(h.events(t, tenantID, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_PENDING)); n != 0 {
		t.Errorf("%d events still pending", n)
	}
	if n := h.deliveryCount(t, "dead"); n != 1 {
		t.Errorf("dead deliveries counted %v, want 1", n)
	}
	h.noSecrets(t, tenantID)
}

func TestWebhookDeadLettersAfterMaxAttempts(t *testing.T) {
	h := startHooks(t, true)
	rcv := newReceiver(t, http.StatusBadGateway)
	tn := h.hookedTenant(t, "acme", rcv.srv.URL+"/hook")
	h.report(t, tn.Id, anomaly(0, 0))
	h.deadLetter(t, tn.Id, controlplane.WebhookMaxAttempts, "HTTP 502")
	if n := len(rcv.requests()); n != controlplane.WebhookMaxAttempts {
		t.Fatalf("%d requests, want %d", n, controlplane.WebhookMaxAttempts)
	}
}

func TestWebhookNoRetryOnClientError(t *testing.T) {
	h := startHooks(t, true)
	rcv := newReceiver(t, http.StatusBadRequest, http.StatusOK)
	tn := h.hookedTenant(t, "acme", rcv.srv.URL+"/hook")
	h.report(t, tn.Id, anomaly(0, 0))
	h.deadLetter(t, tn.Id, 1, "HTTP 400")
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("%d requests, want 1: a 4xx is not retried", n)
	}
}

func TestWebhookDoesNotFollowRedirects(t *testing.T) {
	h := startHooks(t, true)
	rcv := newReceiver(t, http.StatusFound, http.StatusOK)
	tn := h.hookedTenant(t, "acme", rcv.srv.URL+"/hook")
	h.report(t, tn.Id, anomaly(0, 0))
	h.deadLetter(t, tn.Id, 1, "HTTP 302")
	if reqs := rcv.requests(); len(reqs) != 1 || reqs[0].path != "/hook" {
		t.Fatalf("requests %v, want only the one to /hook", reqs)
	}
}

// TestWebhookRefusesLoopbackUnlessAllowed: without the operator's allow,
// an endpoint naming a loopback address is refused when written (the
// tenant's webhook_url and a webhook alike), and one that reaches a
// loopback address at delivery (a name that resolved elsewhere when it was
// written, stored here behind the API's back) is never contacted.
func TestWebhookRefusesLoopbackUnlessAllowed(t *testing.T) {
	h := startHooks(t, true, cptest.WithServerOptions(func(o *controlplane.Options) { o.WebhookAllowLoopback = false }))
	ctx := context.Background()
	rcv := newReceiver(t, http.StatusOK)
	_, err := h.Client.CreateTenant(ctx, &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{Name: "acme", WebhookUrl: rcv.srv.URL + "/hook", WebhookSecret: hookSecret}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "tenant.webhook_url") || !strings.Contains(err.Error(), "127.0.0.1 is loopback") {
		t.Fatalf("create tenant with a loopback webhook_url: %v, want InvalidArgument naming the field", err)
	}
	tn := h.NewTenant(t, "acme")
	for _, u := range []string{rcv.srv.URL + "/hook", "http://localhost:9/hook", "https://[::1]/hook", "https://169.254.169.254/latest"} {
		_, err = tn.Editor.CreateWebhook(ctx, &sirsiv1.CreateWebhookRequest{Webhook: &sirsiv1.Webhook{TenantId: tn.ID, Url: u, Secret: hookSecret}})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "webhook.url") {
			t.Errorf("create webhook %s: %v, want InvalidArgument naming webhook.url", u, err)
		}
	}
	w, err := h.Store.Tenant(tn.ID).CreateWebhook(ctx, &sirsiv1.Webhook{Url: rcv.srv.URL + "/hook", Secret: hookSecret})
	if err != nil {
		t.Fatal(err)
	}
	h.report(t, tn.ID, anomaly(0, 0))
	h.deadLetter(t, tn.ID, 1, "127.0.0.1 is loopback")
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("the loopback receiver got %d requests", n)
	}
	if dead := h.events(t, tn.ID, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_DEAD); dead[0].WebhookId != w.Id {
		t.Fatalf("dead letter %v, want it for webhook %s", dead[0], w.Id)
	}
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
	h.report(t, tn.Id, anomalies(1)...)
	h.deliveries(t, tn.Id, 1)
	checkSigned(t, rcv.requests()[0], hookSecret)

	// Rotation: the next delivery is signed with the new secret only.
	up = proto.CloneOf(u.Tenant)
	up.WebhookSecret = hookSecret2
	u, err = h.Client.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: up})
	if err != nil {
		t.Fatal(err)
	}
	h.report(t, tn.Id, anomaly(1, 1))
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
