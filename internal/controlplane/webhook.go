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
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/crashpoint"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// Tenant webhooks: the control plane POSTs a tenant's events to each of
// the tenant's enabled webhook endpoints whose filter takes them
// (webhook_endpoints.go), one CloudEvents 1.0 event per request; every
// endpoint has its own deliveries, attempts and dead letters.
//
// Events come from the store's outbox (sqlstore/outbox.go): each is
// written in the transaction of the change it reports, so an event exists
// exactly when its change is stored, and survives restarts. The types
// are listed in internal/validation (events.go) and described, with when
// each fires and its data, in docs/webhooks.md. Workers on every replica
// claim due events (replicas on
// PostgreSQL with FOR UPDATE SKIP LOCKED, so none waits for another) and
// record each attempt's outcome.
//
// The body is a CloudEvents structured-mode JSON event:
//
//	{"specversion":"1.0","id":"<event id>","source":"/sirsi/tenants/<tenant id>",
//	 "type":"cost.anomaly","subject":"...","time":"RFC 3339",
//	 "datacontenttype":"application/json","data":{...}}
//
// where data is the sirsi.v1 message (Recommendation, ActionPlan, Action,
// Agent, CostAnomaly, SavingsVerification) in protobuf's JSON mapping, and these headers:
//
//	Content-Type:      application/cloudevents+json
//	X-Sirsi-Event:     the event type
//	X-Sirsi-Delivery:  the delivery id (also the CloudEvents id), one per
//	                   endpoint and event, the same on every attempt: the
//	                   idempotency key a receiver drops repeats by
//	X-Sirsi-Timestamp: Unix seconds when this attempt was sent
//	X-Sirsi-Signature: sha256=<hex HMAC-SHA256(endpoint secret, timestamp + "." + body)>
//
// To verify a delivery, a receiver computes HMAC-SHA256 keyed with its
// endpoint's secret over the X-Sirsi-Timestamp value, a ".", and the
// raw body bytes exactly as received (before any JSON parsing), hex-encodes
// it in lower case, and compares "sha256=" + that with X-Sirsi-Signature
// in constant time (VerifyWebhookSignature does this). It should also
// refuse a timestamp more than a few minutes from its own clock.
//
// docs/webhooks.md is the receiver's guide to all of this.
//
// Deliveries answered with 2xx succeed. 5xx answers and network errors
// (timeouts included) are retried with exponential backoff (backoff,
// 2*backoff, 4*backoff...), up to webhookMaxAttempts in all; any other
// answer (4xx, and 3xx because redirects are never followed), and an
// endpoint resolving to a loopback, link-local or unspecified address
// while the operator has not allowed that, dead-letter the event at once.
// Dead events stay listable (ListWebhookEvents) with their last error.
// Delivery is at least once: an attempt whose answer was lost to a crash
// is made again, with the same id.

const (
	// webhookWorkers deliver in parallel so one slow receiver, which
	// holds a worker for up to the attempt timeout, does not stall
	// every other tenant's deliveries.
	webhookWorkers     = 4
	webhookMaxAttempts = 5
	webhookBackoff     = time.Second
	// webhookPoll is how often an idle worker looks for due events (a
	// retry coming due, another replica's report); a report on this
	// replica wakes the workers at once.
	webhookPoll = 2 * time.Second
	// webhookClaim is how many events a worker claims at a time; they
	// stay hidden from other claimers for webhookLeaseFactor attempt
	// timeouts, longer than the attempts of a whole claim can take.
	webhookClaim       = 8
	webhookLeaseFactor = 2 * webhookClaim
	// webhookDrainLimit caps how much of a receiver's answer is read so the
	// connection can be reused without trusting the receiver's size.
	webhookDrainLimit = 64 << 10

	webhookAuditAct = "webhook.deliver"
	// webhookActor is the audit actor of deliveries: nobody called the
	// API, the control plane acted on its own.
	webhookActor = "control-plane"
)

// errRefusedAddress: the endpoint resolved to an address deliveries may
// not go to.
var errRefusedAddress = errors.New("refused address")

// webhooks is the delivery machinery: the HTTP client, the wake-up
// signal and the outcome counter.
type webhooks struct {
	client *http.Client
	// allowLoopback is the operator's webhook_allow_loopback: endpoints
	// are checked against it when written and when dialled.
	allowLoopback bool
	lease         time.Duration
	backoff       time.Duration
	poll          time.Duration
	wakeup        chan struct{}
	deliveries    *prometheus.CounterVec
}

func newWebhooks(r prometheus.Registerer, allowLoopback bool, timeout time.Duration) (*webhooks, error) {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	deliveries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sirsi_webhook_deliveries_total",
		Help: "Tenant webhook delivery attempts by outcome: ok, retry (to be tried again) or dead (dead-lettered).",
	}, []string{"outcome"})
	if err := r.Register(deliveries); err != nil {
		return nil, fmt.Errorf("register webhook metrics: %w", err)
	}
	dialer := &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		return checkWebhookAddress(address, allowLoopback)
	}}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Through a proxy the address check would judge the proxy, not the
	// receiver.
	transport.Proxy = nil
	transport.DialContext = dialer.DialContext
	return &webhooks{
		client: &http.Client{
			Transport: transport,
			Timeout:   timeout,
			// A redirect could send the signed body somewhere the tenant
			// never configured; the 3xx answer fails the delivery instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		allowLoopback: allowLoopback,
		lease:         webhookLeaseFactor * timeout,
		backoff:       webhookBackoff,
		poll:          webhookPoll,
		wakeup:        make(chan struct{}, 1),
		deliveries:    deliveries,
	}, nil
}

// checkWebhookAddress refuses, unless allowed, the addresses a tenant's
// URL must not reach on the control plane's side: loopback, link-local
// (the cloud's instance metadata service is there) and unspecified.
// It runs on the address actually dialled, after DNS.
func checkWebhookAddress(address string, allowLoopback bool) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("webhook address %q: %w", address, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || allowLoopback {
		return nil
	}
	if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() {
		return fmt.Errorf("%w: %s is loopback, link-local or unspecified (the server's webhook_allow_loopback allows it)", errRefusedAddress, ip)
	}
	return nil
}

// wake tells the workers that events may be due, without waiting.
func (h *webhooks) wake() {
	select {
	case h.wakeup <- struct{}{}:
	default:
	}
}

// startWebhookDelivery starts the delivery workers; they stop when ctx
// ends, and the returned function waits for them.
func (s *Server) startWebhookDelivery(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	for range webhookWorkers {
		wg.Go(func() {
			t := time.NewTicker(s.hooks.poll)
			defer t.Stop()
			for {
				if n := s.deliverDue(ctx); n > 0 {
					continue
				}
				select {
				case <-ctx.Done():
					return
				case <-s.hooks.wakeup:
				case <-t.C:
				}
			}
		})
	}
	return wg.Wait
}

// deliverDue claims due events and delivers them; it returns how many it
// claimed.
func (s *Server) deliverDue(ctx context.Context) int {
	if ctx.Err() != nil {
		return 0
	}
	events, err := s.st.ClaimEvents(ctx, s.now(), s.hooks.lease, webhookClaim)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("webhook: claim events", "error", err)
		}
		return 0
	}
	// The claimed deliveries are attempted side by side: one endpoint
	// that is slow to answer holds up its own attempt only, not the
	// others' of the same claim.
	var wg sync.WaitGroup
	defer wg.Wait()
	for i, ev := range events {
		if ctx.Err() != nil {
			// Not attempted: the lease runs out and a worker (here after a
			// restart, or another replica) takes them.
			s.log.Debug("webhook: stopping with claimed events unattempted", "events", len(events)-i)
			return 0
		}
		crashpoint.Hit(crashpoint.ServerWebhookAfterClaim)
		wg.Go(func() { s.deliverEvent(ctx, ev) })
	}
	return len(events)
}

type delivery struct {
	id, tenantID, webhookID, url, secret, typ string
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

// deliverEvent makes one attempt at a claimed delivery and records it. The
// attempt runs to its end even when ctx ends (it is bounded by the
// attempt timeout): a stop between a receiver's 2xx and its record would
// send the event again after the restart.
func (s *Server) deliverEvent(ctx context.Context, ev *store.OutboxEvent) {
	ctx = context.WithoutCancel(ctx)
	e := ev.Event
	d := delivery{id: e.Id, tenantID: e.TenantId, webhookID: e.WebhookId, typ: e.Type}
	w, err := s.st.Tenant(e.TenantId).GetWebhook(ctx, e.WebhookId)
	switch {
	case isNotFound(err):
		// Deleted with its tenant (and its outbox), or deleted on its own
		// after this delivery was claimed (DeleteWebhook dead-letters the
		// rest).
		s.finishEvent(ctx, d, int(e.Attempts), errors.New("the webhook endpoint was deleted"), false)
		return
	case err != nil:
		s.log.Error("webhook: read endpoint", "tenant_id", e.TenantId, "webhook_id", e.WebhookId, "event_id", e.Id, "error", err)
		return // the lease runs out and the event is tried again
	case !w.GetEnabled():
		s.finishEvent(ctx, d, int(e.Attempts), errors.New("the webhook endpoint was disabled"), false)
		return
	}
	d.url, d.secret = w.Url, w.Secret
	body, err := cloudEvent(e, ev.Data)
	if err != nil {
		s.finishEvent(ctx, d, int(e.Attempts), fmt.Errorf("encode event: %w", err), false)
		return
	}
	err = s.send(ctx, d, body)
	if err == nil {
		crashpoint.Hit(crashpoint.ServerWebhookAfterSend)
	}
	var ae *attemptError
	s.finishEvent(ctx, d, int(e.Attempts), err, errors.As(err, &ae) && ae.retry)
}

// cloudEvent is the structured-mode CloudEvents 1.0 JSON of a delivery;
// its id is the delivery's (one per endpoint and event).
func cloudEvent(e *sirsiv1.WebhookEvent, data []byte) ([]byte, error) {
	if !json.Valid(data) {
		return nil, errors.New("stored data is not JSON")
	}
	return json.Marshal(struct {
		SpecVersion     string          `json:"specversion"`
		ID              string          `json:"id"`
		Source          string          `json:"source"`
		Type            string          `json:"type"`
		Subject         string          `json:"subject,omitempty"`
		Time            string          `json:"time"`
		DataContentType string          `json:"datacontenttype"`
		Data            json.RawMessage `json:"data"`
	}{"1.0", e.Id, "/sirsi/tenants/" + e.TenantId, e.Type, e.Subject, e.CreateTime.AsTime().UTC().Format(time.RFC3339Nano), "application/json", data})
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

// send makes one signed attempt.
func (s *Server) send(ctx context.Context, d delivery, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/cloudevents+json")
	req.Header.Set("User-Agent", "sirsi-webhook/1")
	req.Header.Set("X-Sirsi-Event", d.typ)
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
		return &attemptError{err: err, retry: !errors.Is(err, errRefusedAddress)}
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

// finishEvent records an attempt (prior attempts before it): delivered
// when err is nil; else retried after the backoff while retry allows and
// attempts remain, or dead-lettered. Final outcomes are counted, logged
// and audited; the audit event names the event, never the secret or the
// URL.
func (s *Server) finishEvent(ctx context.Context, d delivery, prior int, err error, retry bool) {
	now := s.now()
	attempts := prior + 1
	o := store.EventOutcome{At: now, Delivered: err == nil}
	outcome := "ok"
	if err != nil {
		o.Err = err.Error()
		outcome = "dead"
		if retry && attempts < webhookMaxAttempts {
			outcome = "retry"
			o.RetryAt = now.Add(s.hooks.backoff << (attempts - 1))
		}
	}
	if ferr := s.st.FinishEvent(ctx, d.tenantID, d.id, o); ferr != nil {
		// The lease runs out and the event is tried again.
		s.log.Error("webhook: record attempt", "tenant_id", d.tenantID, "event_id", d.id, "error", ferr)
		return
	}
	s.hooks.deliveries.WithLabelValues(outcome).Inc()
	switch outcome {
	case "retry":
		s.log.Warn("webhook delivery attempt failed; retrying", "tenant_id", d.tenantID, "webhook_id", d.webhookID, "event_id", d.id, "type", d.typ,
			"host", d.host(), "attempt", attempts, "retry_at", o.RetryAt, "error", err)
		return
	case "dead":
		s.log.Warn("webhook event dead-lettered", "tenant_id", d.tenantID, "webhook_id", d.webhookID, "event_id", d.id, "type", d.typ, "host", d.host(),
			"attempts", attempts, "error", err)
	}
	detail := fmt.Sprintf("%s delivered in %d attempt(s) to webhook %s", d.typ, attempts, d.webhookID)
	if err != nil {
		detail = fmt.Sprintf("%s dead-lettered after %d attempt(s) to webhook %s: %v", d.typ, attempts, d.webhookID, err)
	}
	ev := &sirsiv1.AuditEvent{
		TenantId: d.tenantID,
		Time:     timestamppb.New(now),
		Actor:    webhookActor,
		Action:   webhookAuditAct,
		Target:   "webhook/" + d.id,
		Outcome:  map[bool]string{true: "ok", false: "failed"}[err == nil],
		Detail:   detail,
	}
	actx, cancel := context.WithTimeout(ctx, auditTimeout)
	defer cancel()
	if _, err := s.st.AppendAudit(actx, ev); err != nil {
		s.log.Error("append audit event", "action", ev.Action, "event_id", d.id, "outcome", ev.Outcome, "error", err)
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
