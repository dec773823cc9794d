package controlplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// Refused credentials are sampled, not written one audit row each: a
// stranger must not be able to grow the audit log (and its hash chain)
// with every call. Per tenant and source address, the first refusal in an
// interval is audited as it is; the ones after it in the same interval are
// only counted, and one AuditAuthFailures entry carrying the count closes
// the interval (written by the next refusal from anywhere after it, by the
// periodic flush in Run, or when Run ends).

// AuditAuthFailures is the audit action of the summary of an interval's
// refused calls from one source; the detail holds the count by outcome.
// The entry is in the tenant's log when the refused credential named one
// (an expired token, a revoked agent), else in the operator-level log.
const AuditAuthFailures = "auth.failures_sampled"

// AuditTLSHandshake is the audit action of a client certificate refused
// during the agent listener's TLS handshake (forged, expired, another
// CA's); sampled like every other refused credential.
const AuditTLSHandshake = "agent.tls_handshake"

// DefaultAuthFailureAuditInterval is how long one source's refused calls
// are summed into one audit entry, unless Options.AuthFailureAuditInterval
// says otherwise.
const DefaultAuthFailureAuditInterval = time.Minute

type sampleKey struct{ tenant, source string }

// sample is one key's current interval.
type sample struct {
	start time.Time
	// counts are the refusals after the first, by outcome.
	counts map[string]int
	last   *sirsiv1.AuditEvent
}

type failureSampler struct {
	interval time.Duration
	mu       sync.Mutex
	m        map[sampleKey]*sample
	sweptAt  time.Time
}

func newFailureSampler(interval time.Duration) (*failureSampler, error) {
	if interval < 0 {
		return nil, fmt.Errorf("controlplane: Options.AuthFailureAuditInterval must not be negative, is %s", interval)
	}
	if interval == 0 {
		interval = DefaultAuthFailureAuditInterval
	}
	return &failureSampler{interval: interval, m: map[sampleKey]*sample{}}, nil
}

// record takes a refusal of source (host) and says whether it opens an
// interval, so is to be written; due are the summaries of intervals that
// ended, to be written too.
func (f *failureSampler) record(source string, ev *sirsiv1.AuditEvent, now time.Time) (first bool, due []*sirsiv1.AuditEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now.Sub(f.sweptAt) >= f.interval {
		due = f.sweepLocked(now, false)
		f.sweptAt = now
	}
	k := sampleKey{ev.TenantId, source}
	s, ok := f.m[k]
	if ok && now.Sub(s.start) >= f.interval {
		if sum := s.summary(k, now); sum != nil {
			due = append(due, sum)
		}
		ok = false
	}
	if !ok {
		f.m[k] = &sample{start: now, counts: map[string]int{}}
		return true, due
	}
	s.counts[ev.Outcome]++
	s.last = ev
	return false, due
}

// sweepLocked drops the intervals that ended (all of them when all is
// set) and returns their summaries.
func (f *failureSampler) sweepLocked(now time.Time, all bool) []*sirsiv1.AuditEvent {
	var due []*sirsiv1.AuditEvent
	for k, s := range f.m {
		if !all && now.Sub(s.start) < f.interval {
			continue
		}
		if sum := s.summary(k, now); sum != nil {
			due = append(due, sum)
		}
		delete(f.m, k)
	}
	return due
}

func (f *failureSampler) flush(now time.Time, all bool) []*sirsiv1.AuditEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sweptAt = now
	return f.sweepLocked(now, all)
}

// summary is the entry counting the interval's refusals after its first,
// nil when there were none.
func (s *sample) summary(k sampleKey, now time.Time) *sirsiv1.AuditEvent {
	if s.last == nil {
		return nil
	}
	outcomes := make([]string, 0, len(s.counts))
	total := 0
	for o, n := range s.counts {
		outcomes = append(outcomes, fmt.Sprintf("%s %d", o, n))
		total += n
	}
	sort.Strings(outcomes)
	return &sirsiv1.AuditEvent{
		TenantId:      k.tenant,
		Time:          timestamppb.New(now),
		Actor:         s.last.Actor,
		SourceAddress: k.source,
		Action:        AuditAuthFailures,
		Target:        "source/" + k.source,
		Outcome:       s.last.Outcome,
		Detail: fmt.Sprintf("%d further refused calls from %s between %s and %s (%s); last: %s",
			total, k.source, s.start.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), strings.Join(outcomes, ", "), s.last.Action),
	}
}

// refusalLogsPerMinute bounds the log lines one source's refused
// credentials may cause; the metrics and the audit summary count them all.
const refusalLogsPerMinute = 10

// logAllowed spends one of src's refusal log lines, so a stranger cannot
// flood the log either.
func (s *Server) logAllowed(src string) bool {
	_, ok := s.abuse.buckets.take("log/"+src, refusalLogsPerMinute, s.now())
	return ok
}

// auditRefusal audits a call refused for its credentials through the
// sampler, reporting whether it opened an interval (and was written).
func (s *Server) auditRefusal(ctx context.Context, source string, ev *sirsiv1.AuditEvent) bool {
	first, due := s.sampler.record(source, ev, s.now())
	for _, sum := range due {
		s.appendAudit(ctx, sum)
	}
	if first {
		s.appendAudit(ctx, ev)
	}
	return first
}

// flushRefusals writes the summaries of ended intervals (all of them when
// all is set).
func (s *Server) flushRefusals(ctx context.Context, all bool) {
	for _, sum := range s.sampler.flush(s.now(), all) {
		s.appendAudit(ctx, sum)
	}
}

// startRefusalFlush writes ended intervals' summaries once an interval
// until ctx ends, then the open ones; wait returns after that last write.
func (s *Server) startRefusalFlush(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.sampler.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				s.flushRefusals(context.WithoutCancel(ctx), true)
				return
			case <-t.C:
				s.flushRefusals(ctx, false)
			}
		}
	}()
	return func() { <-done }
}

// ObserveHandshakes wraps the agent listener's TLS credentials so that a
// client certificate refused during the handshake (forged, expired,
// another CA's), which never reaches an interceptor, is still counted in
// sirsi_agent_auth_failures_total, audited (sampled per source) and
// logged (once per source and interval). Other handshake failures (a
// port probe, a client without TLS) are not about credentials and are
// left alone.
func (s *Server) ObserveHandshakes(tc credentials.TransportCredentials) credentials.TransportCredentials {
	return &observedCreds{TransportCredentials: tc, s: s}
}

type observedCreds struct {
	credentials.TransportCredentials
	s *Server
}

func (c *observedCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ServerHandshake(raw)
	if err != nil {
		c.s.handshakeFailed(raw.RemoteAddr(), err)
	}
	return conn, info, err
}

func (c *observedCreds) Clone() credentials.TransportCredentials {
	return &observedCreds{TransportCredentials: c.TransportCredentials.Clone(), s: c.s}
}

// handshakeReason names a certificate refused by the TLS layer with the
// reasons of authenticateAgent; "" for failures that are not about the
// certificate.
func handshakeReason(err error) string {
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &cve) {
		return ""
	}
	var inv x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	switch {
	case errors.As(cve.Err, &inv) && inv.Reason == x509.Expired:
		return "expired_certificate"
	case errors.As(cve.Err, &ua):
		return "untrusted_certificate"
	default:
		return "bad_certificate"
	}
}

func (s *Server) handshakeFailed(addr net.Addr, err error) {
	reason := handshakeReason(err)
	if reason == "" {
		return
	}
	full := ""
	if addr != nil {
		full = addr.String()
	}
	host := hostOf(full)
	ev := &sirsiv1.AuditEvent{
		Time:          timestamppb.New(s.now()),
		Actor:         (*Principal)(nil).Actor(),
		SourceAddress: full,
		Action:        AuditTLSHandshake,
		Target:        "source/" + host,
		Outcome:       codes.Unauthenticated.String(),
		Detail:        "client certificate refused at the TLS handshake: " + reason,
	}
	if s.auditRefusal(context.Background(), host, ev) {
		s.log.Warn("refused a client certificate at the TLS handshake (further refusals from this source are counted, not logged, for the audit interval)",
			"source", full, "reason", reason, "interval", s.sampler.interval, "error", err)
	}
	// Counted last, so whoever sees the count also finds the audit entry.
	s.agent.authFailures.WithLabelValues(reason).Inc()
}
