package controlplane

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/oidcverify"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// LockoutPolicy is the brute-force protection for bearer and enrollment
// tokens, per source address: after DelayAfter failed tokens within
// Window every further call from the source waits Delay before it is
// handled, and after BlockAfter failures every ManagementService call and
// Enroll from it is refused with ResourceExhausted (with RetryInfo) for
// BlockFor, valid token or not, without a store read. Agents calling with
// their certificates are not affected: a certificate cannot be guessed.
// BlockAfter 0 turns the protection off, so embedding the server takes
// no lockout by surprise (agentd always sets it); any other zero field
// takes its default. Replicas on one PostgreSQL also count attempts,
// failures and blocks there, so guesses spread over them are cut at the
// same BlockAfter (sharedlimits.go).
type LockoutPolicy struct {
	// Window is how far back failures count. Default 5m.
	Window time.Duration
	// DelayAfter failures start the slow-down. Default 10.
	DelayAfter int
	// Delay is the slow-down of each call. Default 1s.
	Delay time.Duration
	// BlockAfter failures start the block; 0 is off. agentd's default
	// is DefaultLockoutBlockAfter.
	BlockAfter int
	// BlockFor is how long a block lasts. Default 15m.
	BlockFor time.Duration
}

// Defaults of LockoutPolicy (DefaultLockoutBlockAfter is agentd's).
const (
	DefaultLockoutWindow     = 5 * time.Minute
	DefaultLockoutDelayAfter = 10
	DefaultLockoutDelay      = time.Second
	DefaultLockoutBlockAfter = 20
	DefaultLockoutBlockFor   = 15 * time.Minute
)

// AuditLockout is the audit action of a source being blocked; the event
// is in the operator-level log, actor anonymous, target source/<address>.
const AuditLockout = "auth.lockout"

func (p *LockoutPolicy) setDefaults() error {
	if p.Window < 0 || p.Delay < 0 || p.BlockFor < 0 || p.DelayAfter < 0 || p.BlockAfter < 0 {
		return fmt.Errorf("controlplane: Options.Lockout: no field may be negative (%+v)", *p)
	}
	if p.Window == 0 {
		p.Window = DefaultLockoutWindow
	}
	if p.DelayAfter == 0 {
		p.DelayAfter = DefaultLockoutDelayAfter
	}
	if p.Delay == 0 {
		p.Delay = DefaultLockoutDelay
	}
	if p.BlockFor == 0 {
		p.BlockFor = DefaultLockoutBlockFor
	}
	if p.BlockAfter > 0 && p.DelayAfter > p.BlockAfter {
		return fmt.Errorf("controlplane: Options.Lockout.DelayAfter (%d) must not exceed BlockAfter (%d)", p.DelayAfter, p.BlockAfter)
	}
	return nil
}

// lockout is the failure table by source address. Entries with no
// failure inside the window and no running block are dropped once a
// window, so memory follows the sources that failed recently.
type lockout struct {
	p       LockoutPolicy
	mu      sync.Mutex
	m       map[string]*failures
	sweptAt time.Time
	// settled is closed, and replaced, whenever an attempt settles, to
	// wake the calls waiting for a budget held by attempts in flight.
	settled chan struct{}
}

type failures struct {
	// times are the failures inside the window, oldest first.
	times []time.Time
	// pending are the attempts reserved and not yet settled: credentials
	// being checked right now.
	pending      int
	blockedUntil time.Time
}

func newLockout(p LockoutPolicy) (*lockout, error) {
	if err := p.setDefaults(); err != nil {
		return nil, err
	}
	return &lockout{p: p, m: map[string]*failures{}, settled: make(chan struct{})}, nil
}

func (f *failures) prune(since time.Time) {
	i := 0
	for i < len(f.times) && !f.times[i].After(since) {
		i++
	}
	f.times = f.times[i:]
}

// sweepLocked drops, once a window, the sources with no failure inside
// it, no attempt in flight and no running block.
func (l *lockout) sweepLocked(now time.Time) {
	if now.Sub(l.sweptAt) < l.p.Window {
		return
	}
	for k, f := range l.m {
		f.prune(now.Add(-l.p.Window))
		if len(f.times) == 0 && f.pending == 0 && !now.Before(f.blockedUntil) {
			delete(l.m, k)
		}
	}
	l.sweptAt = now
}

// state says how long src is still blocked, or else how long its call is
// to be delayed.
func (l *lockout) state(src string, now time.Time) (blocked, delay time.Duration) {
	if l.p.BlockAfter == 0 {
		return 0, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.m[src]
	if !ok {
		return 0, 0
	}
	if now.Before(f.blockedUntil) {
		return f.blockedUntil.Sub(now), 0
	}
	f.prune(now.Add(-l.p.Window))
	if len(f.times) >= l.p.DelayAfter {
		return 0, l.p.Delay
	}
	return 0, 0
}

// attempt is one reserved credential check of a source; settle it once.
type attempt struct {
	l       *lockout
	src     string
	settled bool
	// shared is set when the attempt also came from the replicas' lease of
	// the source's window starting at window.
	shared *sharedLimits
	window time.Time
}

// reserve takes one attempt of src's budget before its credential is
// checked, so that concurrent guesses cannot all be evaluated before the
// first of them is counted: failures inside the window plus attempts in
// flight never exceed BlockAfter. A blocked source is refused for the rest
// of its block. When attempts in flight fill the budget, full is closed
// once one of them settles: most are good credentials (many users behind
// one NAT address), so the caller waits and tries again rather than
// refusing them. Otherwise it says how long to slow the call down.
func (l *lockout) reserve(src string, now time.Time) (a *attempt, refuse, delay time.Duration, full <-chan struct{}) {
	if l.p.BlockAfter == 0 {
		return nil, 0, 0, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked(now)
	f, ok := l.m[src]
	if !ok {
		f = &failures{}
		l.m[src] = f
	}
	if now.Before(f.blockedUntil) {
		return nil, f.blockedUntil.Sub(now), 0, nil
	}
	f.prune(now.Add(-l.p.Window))
	if len(f.times)+f.pending >= l.p.BlockAfter {
		return nil, 0, 0, l.settled
	}
	f.pending++
	if len(f.times) >= l.p.DelayAfter {
		delay = l.p.Delay
	}
	return &attempt{l: l, src: src}, 0, delay, nil
}

// changed is closed when an attempt settles after this call.
func (l *lockout) changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.settled
}

// settle ends the attempt: a failure is counted (and may start a block,
// reported as by fail), anything else gives the attempt back.
func (a *attempt) settle(failed bool, now time.Time) (bool, int) {
	if a == nil || a.settled {
		return false, 0
	}
	a.settled = true
	if !failed && a.shared != nil {
		a.shared.giveBack(scopeAttempts+a.src, a.window)
	}
	l := a.l
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.m[a.src] // kept by the sweep while pending
	f.pending--
	close(l.settled)
	l.settled = make(chan struct{})
	if !failed {
		return false, 0
	}
	return l.failLocked(f, now)
}

// fail records a failure of src that had no reserved attempt and reports
// whether it started a block, and how many failures led to it.
func (l *lockout) fail(src string, now time.Time) (bool, int) {
	if l.p.BlockAfter == 0 {
		return false, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked(now)
	f, ok := l.m[src]
	if !ok {
		f = &failures{}
		l.m[src] = f
	}
	return l.failLocked(f, now)
}

// block blocks src until until, a block another replica started, and
// reports whether src was not blocked here already.
func (l *lockout) block(src string, until time.Time, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.m[src]
	if !ok {
		f = &failures{}
		l.m[src] = f
	}
	if now.Before(f.blockedUntil) {
		return false
	}
	f.blockedUntil = until
	f.times = nil
	return true
}

func (l *lockout) failLocked(f *failures, now time.Time) (bool, int) {
	if now.Before(f.blockedUntil) {
		return false, 0
	}
	f.prune(now.Add(-l.p.Window))
	f.times = append(f.times, now)
	if n := len(f.times); n >= l.p.BlockAfter {
		f.blockedUntil = now.Add(l.p.BlockFor)
		f.times = nil
		return true, n
	}
	return false, 0
}

type attemptKey struct{}

// reserveAttempt refuses a blocked source, delays one close to a block,
// and otherwise reserves an attempt for the credential the call carries;
// settleAttempt (or a failure through tokenFailed) ends it. A source whose
// failures and attempts in flight fill the block waits up to Delay for an
// attempt of this replica to settle and tries again; it is refused if the
// budget is still full then.
func (s *Server) reserveAttempt(ctx context.Context, src string) (context.Context, error) {
	var give *time.Timer // started by the first wait
	defer func() {
		if give != nil {
			give.Stop()
		}
	}()
	var a *attempt
	var refuse, delay time.Duration
	for {
		now := s.now()
		var full <-chan struct{}
		a, refuse, delay, full = s.abuse.lock.reserve(src, now)
		if a != nil && s.abuse.shared != nil {
			var sharedFull bool
			refuse, sharedFull = s.reserveShared(ctx, a, now)
			if refuse > 0 || sharedFull {
				a.settle(false, now)
				a = nil
			}
			if sharedFull {
				// Read after giving a's attempt back, which closed the
				// channel before.
				full = s.abuse.lock.changed()
			}
		}
		if full == nil {
			break
		}
		if give == nil {
			give = time.NewTimer(s.abuse.lock.p.Delay)
		}
		select {
		case <-full:
			continue
		case <-give.C:
			s.metrics.ratelimited.WithLabelValues(limitLockout).Inc()
			return ctx, exhausted(s.abuse.lock.p.Delay, fmt.Sprintf("too many failed authentications and authentications being checked from %s: try again in %s", src, s.abuse.lock.p.Delay))
		case <-ctx.Done():
			return ctx, status.FromContextError(ctx.Err()).Err()
		}
	}
	if refuse > 0 {
		s.metrics.ratelimited.WithLabelValues(limitLockout).Inc()
		return ctx, exhausted(refuse, fmt.Sprintf("too many failed authentications from %s: blocked for another %s", src, refuse.Round(time.Millisecond)))
	}
	ctx = context.WithValue(ctx, attemptKey{}, a)
	if delay <= 0 {
		return ctx, nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		s.settleAttempt(ctx)
		return ctx, status.FromContextError(ctx.Err()).Err()
	case <-t.C:
		return ctx, nil
	}
}

// reserveShared takes a's attempt also from this replica's lease of the
// source's shared window, reading the shared block before reserving a new
// lease. It says how long to refuse the call (the rest of a block another
// replica started), or that the failures and attempts of every replica
// fill BlockAfter (full). A store error admits the call on this replica's
// lockout alone.
func (s *Server) reserveShared(ctx context.Context, a *attempt, now time.Time) (refuse time.Duration, full bool) {
	sl, p := s.abuse.shared, s.abuse.lock.p
	key, w := scopeAttempts+a.src, now.Truncate(p.Window)
	sl.mu.Lock()
	leased := sl.leaseLocked(key, w, p.Window, now).left >= 1
	sl.mu.Unlock()
	if !leased {
		until, err := sl.st.MarkedUntil(ctx, scopeBlock+a.src)
		if err != nil {
			s.log.Warn("read the replicas' block of a source; checking this replica's lockout only", "source", a.src, "request_id", requestID(ctx), "error", err)
			return 0, false
		}
		if until.After(now) {
			s.abuse.lock.block(a.src, until, now)
			return until.Sub(now), false
		}
	}
	refused, err := sl.take(ctx, now, p.Window, spend{key, p.BlockAfter})
	switch {
	case err != nil:
		s.log.Warn("reserve an attempt from the replicas' lockout; checking this replica's only", "source", a.src, "request_id", requestID(ctx), "error", err)
		return 0, false
	case refused >= 0:
		return 0, true
	}
	a.shared, a.window = sl, w
	return 0, false
}

// sharedFailure counts a failure of src for every replica and, when it is
// the one that reaches BlockAfter, or this replica started a block
// (started), records the block for the others. It reports whether a block
// started that this replica has not reported yet, and the failure count.
func (s *Server) sharedFailure(ctx context.Context, src string, now time.Time, started bool) (bool, int) {
	sl, p := s.abuse.shared, s.abuse.lock.p
	n, err := sl.countFailure(ctx, src, now, p.Window)
	if err != nil {
		s.log.Warn("count a failed authentication for every replica", "source", src, "request_id", requestID(ctx), "error", err)
		return false, 0
	}
	if !started && n != int64(p.BlockAfter) {
		return false, int(n)
	}
	until := now.Add(p.BlockFor)
	if err := sl.st.MarkUntil(ctx, scopeBlock+src, until); err != nil {
		s.log.Warn("record a block for every replica", "source", src, "request_id", requestID(ctx), "error", err)
	}
	return s.abuse.lock.block(src, until, now), int(n)
}

// settleAttempt gives back the call's attempt if no failure used it: the
// credential was good, or the call failed for another reason.
func (s *Server) settleAttempt(ctx context.Context) {
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	a.settle(false, s.now())
}

// authFailed accounts for a failed ManagementService authentication: the
// metric by reason, the lockout (for a token that was presented and
// refused), and the source's unauthenticated budget, which once spent
// turns the refusal into ResourceExhausted. p is the token's principal
// when it was recognised (expired).
func (s *Server) authFailed(ctx context.Context, p *Principal, err error) error {
	if status.Code(err) != codes.Unauthenticated {
		return err
	}
	src := sourceHost(ctx)
	md, _ := metadata.FromIncomingContext(ctx)
	switch {
	case len(md.Get("authorization")) == 0:
		s.metrics.authFailures.WithLabelValues("missing").Inc()
	case p != nil:
		s.tokenFailed(ctx, src, "expired")
	default:
		switch tok, berr := bearer(ctx); {
		case berr != nil:
			s.metrics.authFailures.WithLabelValues("malformed").Inc()
		case oidcverify.LooksLikeJWT(tok) || len(tok) > validation.MaxOIDCTokenBytes:
			// Counted like any refused token: OIDC callers share the
			// source's lockout and budget.
			s.tokenFailed(ctx, src, "oidc")
		default:
			s.tokenFailed(ctx, src, "invalid")
		}
	}
	if lerr := s.limitSource(ctx, src); lerr != nil {
		return lerr
	}
	return err
}

// tokenFailed counts a refused token from src and, when that starts a
// block, logs it once (no token text: it may be a real token mistyped)
// and audits it.
func (s *Server) tokenFailed(ctx context.Context, src, reason string) {
	s.metrics.authFailures.WithLabelValues(reason).Inc()
	now := s.now()
	var started bool
	var n int
	if a, _ := ctx.Value(attemptKey{}).(*attempt); a != nil && !a.settled {
		started, n = a.settle(true, now)
	} else {
		started, n = s.abuse.lock.fail(src, now)
	}
	if s.abuse.shared != nil && s.abuse.lock.p.BlockAfter > 0 {
		sharedStarted, total := s.sharedFailure(ctx, src, now, started)
		started, n = started || sharedStarted, max(n, total)
	}
	if !started {
		return
	}
	pol := s.abuse.lock.p
	s.metrics.lockouts.Inc()
	s.log.Warn("blocking a source after repeated failed authentications", "source", src, "failures", n, "window", pol.Window, "blocked_for", pol.BlockFor, "request_id", requestID(ctx))
	s.appendAudit(ctx, &sirsiv1.AuditEvent{
		Time:          timestamppb.New(now),
		RequestId:     requestID(ctx),
		Actor:         (*Principal)(nil).Actor(),
		SourceAddress: src,
		Action:        AuditLockout,
		Target:        "source/" + src,
		Outcome:       codes.ResourceExhausted.String(),
		Detail:        fmt.Sprintf("%d failed authentications within %s; blocked for %s", n, pol.Window, pol.BlockFor),
	})
}
