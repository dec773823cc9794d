package controlplane

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// Tenant webhooks: the control plane POSTs a tenant's cost anomalies to the
// tenant's webhook_url as they are reported.
//
// Each delivery is one HTTP POST with a JSON body
//
//	{"type":"cost_anomaly","tenant_id":"...","anomalies":[...],"sent_at":"RFC 3339"}
//
// where every anomaly is a sirsi.v1.CostAnomaly in protobuf's JSON mapping,
// and these headers:
//
//	Content-Type:      application/json
//	X-Sirsi-Event:     cost_anomaly
//	X-Sirsi-Delivery:  a UUID, the same on every retry of one delivery
//	X-Sirsi-Timestamp: Unix seconds when this attempt was sent
//	X-Sirsi-Signature: sha256=<hex HMAC-SHA256(webhook_secret, timestamp + "." + body)>
//
// To verify a delivery, a receiver computes HMAC-SHA256 keyed with the
// tenant's webhook_secret over the X-Sirsi-Timestamp value, a ".", and the
// raw body bytes exactly as received (before any JSON parsing), hex-encodes
// it in lower case, and compares "sha256=" + that with X-Sirsi-Signature
// in constant time (VerifyWebhookSignature does this). It should also
// refuse a timestamp more than a few minutes from its own clock, so a
// recorded delivery cannot be replayed later, and may use X-Sirsi-Delivery
// to drop a retry it has already processed.
//
// Deliveries answered with 2xx succeed. 5xx answers and network errors
// (timeouts included) are retried with exponential backoff, up to
// webhookMaxAttempts in all; any other answer (4xx, and 3xx because
// redirects are never followed) fails the delivery at once. The queue is
// in memory: deliveries still queued when the process stops are lost, and
// a full queue drops new ones with a warning and the "dropped" outcome of
// sirsi_webhook_deliveries_total.

const (
	// webhookQueueSize bounds the anomaly reports waiting for delivery.
	webhookQueueSize = 1024
	// webhookWorkers deliver in parallel so one slow receiver, which can
	// hold a worker for about a minute of timeouts and backoff, does not
	// stall every other tenant's deliveries.
	webhookWorkers     = 4
	webhookTimeout     = 10 * time.Second
	webhookMaxAttempts = 5
	webhookBackoff     = time.Second
	// webhookDrainLimit caps how much of a receiver's answer is read so the
	// connection can be reused without trusting the receiver's size.
	webhookDrainLimit = 64 << 10

	webhookEvent    = "cost_anomaly"
	webhookAuditAct = "webhook.deliver"
	// webhookActor is the audit actor of deliveries: nobody called the
	// API, the control plane acted on its own.
	webhookActor = "control-plane"
)

type webhookJob struct {
	tenantID  string
	anomalies []*sirsiv1.CostAnomaly
}

// webhooks is the delivery machinery: the queue, the HTTP client and the
// outcome counter.
type webhooks struct {
	queue      chan webhookJob
	client     *http.Client
	backoff    time.Duration
	deliveries *prometheus.CounterVec
}

func newWebhooks(r prometheus.Registerer) (*webhooks, error) {
	deliveries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sirsi_webhook_deliveries_total",
		Help: "Tenant webhook deliveries by outcome: ok, failed (after retries, or refused by the receiver) or dropped (queue full).",
	}, []string{"outcome"})
	if err := r.Register(deliveries); err != nil {
		return nil, fmt.Errorf("register webhook metrics: %w", err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	return &webhooks{
		queue: make(chan webhookJob, webhookQueueSize),
		client: &http.Client{
			Transport: transport,
			Timeout:   webhookTimeout,
			// A redirect could send the signed body somewhere the tenant
			// never configured; the 3xx answer fails the delivery instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		backoff:    webhookBackoff,
		deliveries: deliveries,
	}, nil
}

// deliverAnomalies queues anomalies for delivery to the tenant's webhook
// and returns at once: the caller is an agent's report, which must not wait
// for a tenant's receiver. When the queue is full the anomalies are dropped
// (logged and counted); they stay stored and listable either way. Whether
// the tenant has a webhook is looked up at delivery time, so a URL or
// secret changed in between is honoured.
func (s *Server) deliverAnomalies(ctx context.Context, tenantID string, anomalies []*sirsiv1.CostAnomaly) {
	if len(anomalies) == 0 {
		return
	}
	job := webhookJob{tenantID: tenantID, anomalies: make([]*sirsiv1.CostAnomaly, len(anomalies))}
	for i, a := range anomalies {
		job.anomalies[i] = proto.CloneOf(a)
	}
	select {
	case s.hooks.queue <- job:
	default:
		s.hooks.deliveries.WithLabelValues("dropped").Inc()
		s.log.Warn("webhook queue full: cost anomalies not delivered", "tenant_id", tenantID,
			"anomalies", len(anomalies), "queue_size", cap(s.hooks.queue), "request_id", requestID(ctx))
	}
}

// startWebhookDelivery starts the delivery workers; they stop when ctx
// ends, and the returned function waits for them.
func (s *Server) startWebhookDelivery(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	for range webhookWorkers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case job := <-s.hooks.queue:
					s.deliverJob(ctx, job)
				}
			}
		})
	}
	return wg.Wait
}

// deliverJob delivers one anomaly report if the tenant has a webhook.
func (s *Server) deliverJob(ctx context.Context, job webhookJob) {
	t, err := s.st.GetTenant(ctx, job.tenantID)
	if isNotFound(err) {
		return
	}
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("webhook: read tenant", "tenant_id", job.tenantID, "error", err)
			s.hooks.deliveries.WithLabelValues("failed").Inc()
		}
		return
	}
	if t.WebhookUrl == "" || t.WebhookSecret == "" {
		return
	}
	d := delivery{id: uuid.NewString(), tenantID: t.Id, url: t.WebhookUrl, secret: t.WebhookSecret, count: len(job.anomalies)}
	body, err := webhookBody(t.Id, job.anomalies, s.now())
	if err != nil {
		s.finishDelivery(ctx, d, fmt.Errorf("encode anomalies: %w", err), 0)
		return
	}
	attempts, err := s.sendWithRetries(ctx, d, body)
	s.finishDelivery(ctx, d, err, attempts)
}

type delivery struct {
	id, tenantID, url, secret string
	count                     int
}

// host names the receiver in logs: the path and query of a webhook URL
// often carry a token of the receiving service, so they are left out.
func (d delivery) host() string {
	u, err := url.Parse(d.url)
	if err != nil {
		return ""
	}
	return u.Host
}

func webhookBody(tenantID string, anomalies []*sirsiv1.CostAnomaly, now time.Time) ([]byte, error) {
	list := make([]json.RawMessage, len(anomalies))
	for i, a := range anomalies {
		b, err := protojson.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("anomaly %s: %w", a.GetId(), err)
		}
		list[i] = b
	}
	return json.Marshal(struct {
		Type      string            `json:"type"`
		TenantID  string            `json:"tenant_id"`
		Anomalies []json.RawMessage `json:"anomalies"`
		SentAt    string            `json:"sent_at"`
	}{webhookEvent, tenantID, list, now.UTC().Format(time.RFC3339)})
}

// attemptError is a failed attempt; retry says whether another may help.
type attemptError struct {
	status int
	err    error
	retry  bool
}

func (e *attemptError) Error() string {
	if e.status != 0 {
		return "HTTP " + strconv.Itoa(e.status)
	}
	return e.err.Error()
}

func (e *attemptError) Unwrap() error { return e.err }

// sendWithRetries makes up to webhookMaxAttempts attempts, waiting
// backoff, 2*backoff, 4*backoff... between them; it returns how many it
// made and the last attempt's error.
func (s *Server) sendWithRetries(ctx context.Context, d delivery, body []byte) (int, error) {
	wait := s.hooks.backoff
	for attempt := 1; ; attempt++ {
		err := s.send(ctx, d, body)
		if err == nil {
			return attempt, nil
		}
		var ae *attemptError
		if !errors.As(err, &ae) || !ae.retry || attempt == webhookMaxAttempts || ctx.Err() != nil {
			return attempt, err
		}
		s.log.Warn("webhook delivery attempt failed; retrying", "tenant_id", d.tenantID, "delivery_id", d.id,
			"host", d.host(), "attempt", attempt, "retry_in", wait, "error", err)
		select {
		case <-ctx.Done():
			return attempt, fmt.Errorf("control plane stopping: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// send makes one signed attempt.
func (s *Server) send(ctx context.Context, d delivery, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sirsi-webhook/1")
	req.Header.Set("X-Sirsi-Event", webhookEvent)
	req.Header.Set("X-Sirsi-Delivery", d.id)
	req.Header.Set("X-Sirsi-Timestamp", ts)
	req.Header.Set("X-Sirsi-Signature", webhookSignature(d.secret, ts, body))
	resp, err := s.hooks.client.Do(req)
	if err != nil {
		// url.Error repeats the whole URL, which may hold a token of the
		// receiving service; keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &attemptError{err: err, retry: true}
	}
	_, _ = io.CopyN(io.Discard, resp.Body, webhookDrainLimit)
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 500:
		return &attemptError{status: resp.StatusCode, retry: true}
	default:
		return &attemptError{status: resp.StatusCode}
	}
}

// finishDelivery counts, logs and audits the outcome of a delivery. The
// audit event names the delivery, never the secret or the URL.
func (s *Server) finishDelivery(ctx context.Context, d delivery, err error, attempts int) {
	outcome, detail := "ok", fmt.Sprintf("%d anomalies delivered in %d attempt(s)", d.count, attempts)
	if err != nil {
		outcome, detail = "failed", fmt.Sprintf("%d anomalies not delivered after %d attempt(s): %v", d.count, attempts, err)
		s.log.Warn("webhook delivery failed", "tenant_id", d.tenantID, "delivery_id", d.id, "host", d.host(),
			"attempts", attempts, "error", err)
	}
	s.hooks.deliveries.WithLabelValues(outcome).Inc()
	ev := &sirsiv1.AuditEvent{
		TenantId: d.tenantID,
		Time:     timestamppb.New(s.now()),
		Actor:    webhookActor,
		Action:   webhookAuditAct,
		Target:   "webhook/" + d.id,
		Outcome:  outcome,
		Detail:   detail,
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if _, err := s.st.AppendAudit(actx, ev); err != nil {
		s.log.Error("append audit event", "action", ev.Action, "delivery_id", d.id, "outcome", outcome, "error", err)
	}
}

// webhookSignature is the X-Sirsi-Signature value for one attempt.
func webhookSignature(secret, timestamp string, body []byte) string {
	return "sha256=" + hex.EncodeToString(webhookMAC(secret, timestamp, body))
}

func webhookMAC(secret, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// VerifyWebhookSignature reports whether header, a delivery's
// X-Sirsi-Signature, is the signature of body (the raw request body) sent
// with timestamp (its X-Sirsi-Timestamp) under secret, comparing in
// constant time. It does not judge the timestamp's age: receivers should
// also refuse deliveries whose timestamp is more than a few minutes off
// their clock.
func VerifyWebhookSignature(secret, timestamp, body, header string) bool {
	hexMAC, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexMAC)
	if err != nil {
		return false
	}
	return hmac.Equal(got, webhookMAC(secret, timestamp, []byte(body)))
}
