package controlplane

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// RateLimits are per-minute call budgets. Each is a token bucket holding a
// minute's worth of calls and refilling evenly, so a client may burst its
// whole budget and then gets one call every 60/N seconds. Replicas on one
// PostgreSQL also count every budget in the database, per minute, so they
// enforce one budget together (sharedlimits.go); on SQLite, which one
// process owns, the buckets are the whole story.
//
// A zero field means no limit, so embedding the server (tests, tools)
// takes no budget by surprise; agentd always passes its configured
// values, whose defaults are the Default*PerMinute constants.
type RateLimits struct {
	// ManagementPerMinute is each tenant API token's budget for
	// ManagementService; Tenant.rate_limit_per_minute overrides it for
	// the tenant's tokens.
	ManagementPerMinute int
	// OperatorPerMinute is the operator token's budget.
	OperatorPerMinute int
	// AgentPerMinute is each agent's AgentService budget, keyed by the
	// agent id of its certificate.
	AgentPerMinute int
	// UnauthenticatedPerMinute is each source address's budget of calls
	// that carry no valid credential: failed ManagementService
	// authentications and every Enroll.
	UnauthenticatedPerMinute int
	// TenantPerMinute is each tenant's ManagementService budget over all
	// its API tokens together, spent with the token's own in one step:
	// minting more tokens buys no more calls.
	TenantPerMinute int
}

// Defaults of agentd's rate limits and of the server-side call deadlines.
const (
	DefaultManagementPerMinute      = 100
	DefaultOperatorPerMinute        = 600
	DefaultAgentPerMinute           = 600
	DefaultUnauthenticatedPerMinute = 60
	DefaultTenantPerMinute          = 300

	DefaultCallTimeout      = 30 * time.Second
	DefaultAgentCallTimeout = 60 * time.Second
)

// MaxManagementMessageBytes is the largest request the management listener
// accepts (grpc.MaxRecvMsgSize). It is gRPC's own default, stated so that a
// library upgrade cannot silently raise it.
const MaxManagementMessageBytes = 4 << 20

// tenantLimitTTL is how long a tenant's rate_limit_per_minute is cached:
// a change applies within it, and a busy token costs no store read per
// call.
const tenantLimitTTL = 30 * time.Second

// Kinds of sirsi_ratelimited_total.
const (
	limitToken           = "token"
	limitOperator        = "operator"
	limitAgent           = "agent"
	limitUnauthenticated = "unauthenticated"
	limitTenant          = "tenant"
	limitLockout         = "lockout"
)

func (r RateLimits) check() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"ManagementPerMinute", r.ManagementPerMinute},
		{"OperatorPerMinute", r.OperatorPerMinute},
		{"AgentPerMinute", r.AgentPerMinute},
		{"UnauthenticatedPerMinute", r.UnauthenticatedPerMinute},
		{"TenantPerMinute", r.TenantPerMinute},
	} {
		if f.v < 0 {
			return fmt.Errorf("controlplane: Options.RateLimits.%s: must not be negative (0 is no limit), is %d", f.name, f.v)
		}
	}
	return nil
}

// abuseGuard holds the rate limit buckets, the lockout table and the call
// deadlines.
type abuseGuard struct {
	limits       RateLimits
	callTimeout  time.Duration
	agentTimeout time.Duration
	buckets      buckets
	lock         *lockout
	// shared counts the budgets and the lockout across replicas; nil when
	// the store is one process's (sharedlimits.go).
	shared *sharedLimits

	mu      sync.Mutex
	tenants map[string]tenantLimit
	// tenantsSwept is when expired tenants entries were last dropped.
	tenantsSwept time.Time
}

// tenantLimit is a tenant's two management budgets as last read: each
// token's, and all its tokens' together.
type tenantLimit struct {
	perMinute       int
	tenantPerMinute int
	at              time.Time
}

func newAbuseGuard(o Options) (*abuseGuard, error) {
	if err := o.RateLimits.check(); err != nil {
		return nil, err
	}
	lock, err := newLockout(o.Lockout)
	if err != nil {
		return nil, err
	}
	g := &abuseGuard{
		limits: o.RateLimits, callTimeout: o.CallTimeout, agentTimeout: o.AgentCallTimeout,
		buckets: buckets{m: map[string]*bucket{}}, lock: lock, tenants: map[string]tenantLimit{},
		shared: newSharedLimits(o.Store),
	}
	if g.callTimeout < 0 || g.agentTimeout < 0 {
		return nil, fmt.Errorf("controlplane: Options.CallTimeout and AgentCallTimeout must not be negative, are %s and %s", g.callTimeout, g.agentTimeout)
	}
	if g.callTimeout == 0 {
		g.callTimeout = DefaultCallTimeout
	}
	if g.agentTimeout == 0 {
		g.agentTimeout = DefaultAgentCallTimeout
	}
	return g, nil
}

// buckets are token buckets by key. A bucket idle for a minute is full
// whatever its budget, so dropping it then loses nothing; sweeping once a
// minute bounds the map by the keys seen in the last two minutes.
type buckets struct {
	mu      sync.Mutex
	m       map[string]*bucket
	sweptAt time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// spend is one budget a call draws on: key's limit of calls per minute
// (per lockout window for attempts; 0: no limit).
type spend struct {
	key   string
	limit int
}

// take spends one call of key's budget of perMinute (0: no limit) in this
// process. When none is left it says how long until one is.
func (b *buckets) take(key string, perMinute int, now time.Time) (time.Duration, bool) {
	wait, refused := b.takeAll(now, spend{key, perMinute})
	return wait, refused < 0
}

// takeAll spends one call of every budget or of none, in one step, so
// concurrent calls cannot overdraw one budget while another refuses them.
// refused is the index of the first budget without a call left (with the
// wait until it has one), -1 when all were spent.
func (b *buckets) takeAll(now time.Time, budgets ...spend) (wait time.Duration, refused int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.sweptAt) >= time.Minute {
		for k, v := range b.m {
			if now.Sub(v.at) >= time.Minute {
				delete(b.m, k)
			}
		}
		b.sweptAt = now
	}
	ks := make([]*bucket, len(budgets))
	for i, sp := range budgets {
		if sp.limit <= 0 {
			continue
		}
		capacity := float64(sp.limit)
		k, ok := b.m[sp.key]
		if !ok {
			k = &bucket{tokens: capacity, at: now}
			b.m[sp.key] = k
		}
		// A clock stepping back refills nothing rather than going negative.
		if elapsed := now.Sub(k.at); elapsed > 0 {
			k.tokens += elapsed.Seconds() * capacity / 60
			k.at = now
		}
		// A lowered budget (a tenant override) applies at once.
		k.tokens = min(k.tokens, capacity)
		if k.tokens < 1 {
			w := time.Duration((1 - k.tokens) / (capacity / 60) * float64(time.Second))
			return w.Round(time.Millisecond) + time.Millisecond, i
		}
		ks[i] = k
	}
	for _, k := range ks {
		if k != nil {
			k.tokens--
		}
	}
	return 0, -1
}

// giveBack returns the call takeAll spent of each budget: the replicas'
// shared budget refused it.
func (b *buckets) giveBack(budgets ...spend) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, sp := range budgets {
		if k, ok := b.m[sp.key]; ok && sp.limit > 0 {
			k.tokens = min(k.tokens+1, float64(sp.limit))
		}
	}
}

// takeBudgets spends one call of every budget or of none: this process's
// buckets first, then, with replicas sharing the store, the budgets' shared
// minute, giving the local spend back when that is used up. refused is the
// index of the first budget without a call left (with the wait until it
// has one), -1 when all were spent.
func (s *Server) takeBudgets(ctx context.Context, budgets ...spend) (wait time.Duration, refused int) {
	g := s.abuse
	now := s.now()
	if wait, refused = g.buckets.takeAll(now, budgets...); refused >= 0 || g.shared == nil {
		return wait, refused
	}
	refused, err := g.shared.take(ctx, now, time.Minute, budgets...)
	if err != nil {
		s.log.Warn("spend the replicas' shared rate budget; admitting on this replica's", "request_id", requestID(ctx), "error", err)
		return 0, -1
	}
	if refused >= 0 {
		g.buckets.giveBack(budgets...)
		return windowEnd(now, time.Minute).Sub(now), refused
	}
	return 0, -1
}

// exhausted is ResourceExhausted with a RetryInfo detail, which the
// provider's client honours.
func exhausted(wait time.Duration, msg string) error {
	st := status.New(codes.ResourceExhausted, msg)
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)}); err == nil {
		st = d
	}
	return st.Err()
}

func (s *Server) refuseRate(kind string, perMinute int, wait time.Duration) error {
	s.metrics.ratelimited.WithLabelValues(kind).Inc()
	return exhausted(wait, fmt.Sprintf("rate limit exceeded: at most %d calls per minute for this %s; retry in %s", perMinute, limitSubject(kind), wait))
}

func limitSubject(kind string) string {
	switch kind {
	case limitToken:
		return "API token"
	case limitOperator:
		return "operator token"
	case limitAgent:
		return "agent"
	case limitTenant:
		return "tenant (all its API tokens together)"
	default:
		return "source address without valid credentials"
	}
}

// limitPrincipal spends one call of an authenticated caller's budget.
// It runs before the handler, so a refused call has done nothing and may
// be retried whatever it is.
func (s *Server) limitPrincipal(ctx context.Context, p *Principal) error {
	g := s.abuse
	var kind, key string
	var per int
	switch {
	case p.Operator:
		kind, key, per = limitOperator, "", g.limits.OperatorPerMinute
	case p.AgentID != "":
		kind, key, per = limitAgent, p.AgentID, g.limits.AgentPerMinute
	default:
		l := s.tenantLimits(ctx, p.TenantID)
		per, tenantPer := l.perMinute, l.tenantPerMinute
		wait, refused := s.takeBudgets(ctx, spend{limitToken + "/" + p.TokenID, per}, spend{limitTenant + "/" + p.TenantID, tenantPer})
		switch refused {
		case 0:
			return s.refuseRate(limitToken, per, wait)
		case 1:
			return s.refuseRate(limitTenant, tenantPer, wait)
		}
		return nil
	}
	if wait, refused := s.takeBudgets(ctx, spend{kind + "/" + key, per}); refused >= 0 {
		return s.refuseRate(kind, per, wait)
	}
	return nil
}

// limitSource spends one call of a source address's unauthenticated
// budget.
func (s *Server) limitSource(ctx context.Context, src string) error {
	per := s.abuse.limits.UnauthenticatedPerMinute
	if wait, refused := s.takeBudgets(ctx, spend{limitUnauthenticated + "/" + src, per}); refused >= 0 {
		return s.refuseRate(limitUnauthenticated, per, wait)
	}
	return nil
}

// limitsOf are a tenant's budgets: its rate_limit_per_minute, else the
// server's per-token budget; its tenant_rate_limit_per_minute, else the
// server's tenant budget, raised to the per-token one when that is higher
// (a tenant whose tokens were each given more than the aggregate gets that
// much in total unless the operator set the aggregate itself).
func (g *abuseGuard) limitsOf(t *sirsiv1.Tenant) tenantLimit {
	l := tenantLimit{perMinute: g.limits.ManagementPerMinute, tenantPerMinute: g.limits.TenantPerMinute}
	if v := t.GetRateLimitPerMinute(); v > 0 {
		l.perMinute = int(v)
	}
	switch v := t.GetTenantRateLimitPerMinute(); {
	case v > 0:
		l.tenantPerMinute = int(v)
	case l.tenantPerMinute > 0 && l.perMinute > l.tenantPerMinute:
		l.tenantPerMinute = l.perMinute
	}
	return l
}

// tenantLimits are the tenant's budgets (limitsOf), cached for
// tenantLimitTTL. A failed read keeps the last known values (or the
// server's) instead of failing the call: the guard already read the store
// successfully for this caller.
func (s *Server) tenantLimits(ctx context.Context, tenantID string) tenantLimit {
	g := s.abuse
	now := s.now()
	g.mu.Lock()
	c, cached := g.tenants[tenantID]
	g.mu.Unlock()
	if cached && now.Sub(c.at) < tenantLimitTTL {
		return c
	}
	t, err := s.st.GetTenant(ctx, tenantID)
	if err != nil {
		s.log.Warn("read the tenant's rate limits", "tenant_id", tenantID, "request_id", requestID(ctx), "error", err)
		if cached {
			return c
		}
		return g.limitsOf(&sirsiv1.Tenant{})
	}
	l := g.limitsOf(t)
	l.at = now
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.Sub(g.tenantsSwept) >= tenantLimitTTL {
		for id, e := range g.tenants {
			if now.Sub(e.at) >= tenantLimitTTL {
				delete(g.tenants, id)
			}
		}
		g.tenantsSwept = now
	}
	g.tenants[tenantID] = l
	return l
}

// sourceHost is the caller's address without the port, which changes
// with every connection; "unknown" for transports without addresses.
func sourceHost(ctx context.Context) string {
	return hostOf(sourceAddress(ctx))
}

// hostOf is addr without its port.
func hostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	if addr == "" {
		return "unknown"
	}
	return addr
}

// boundDeadline gives a call the server's maximum duration when the
// client sent no deadline or a longer one, so no call holds a handler
// (and its store transaction) open for ever.
func boundDeadline(ctx context.Context, limit time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= limit {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, limit)
}

// unaryAbuse runs before the guard: it bounds the call's deadline, refuses
// sources locked out for guessing tokens (before any store read), slows
// sources close to a lockout, and for Enroll spends the source's
// unauthenticated budget and counts failed enrollment tokens.
func (s *Server) unaryAbuse(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	agent := strings.HasPrefix(info.FullMethod, agentPrefix)
	if !agent && !strings.HasPrefix(info.FullMethod, managementPrefix) {
		return h(ctx, req)
	}
	timeout := s.abuse.callTimeout
	if agent {
		timeout = s.abuse.agentTimeout
	}
	ctx, cancel := boundDeadline(ctx, timeout)
	defer cancel()
	enroll := info.FullMethod == sirsiv1.AgentService_Enroll_FullMethodName
	if agent && !enroll {
		return h(ctx, req)
	}
	src := sourceHost(ctx)
	ctx, err := s.reserveAttempt(ctx, src)
	if err != nil {
		return nil, err
	}
	defer s.settleAttempt(ctx)
	if !enroll {
		return h(ctx, req)
	}
	if err := s.limitSource(ctx, src); err != nil {
		return nil, err
	}
	resp, err := h(ctx, req)
	if reason := enrollFailure(err); reason != "" {
		s.tokenFailed(ctx, src, reason)
	}
	return resp, err
}

// enrollFailure names a refusal of the enrollment token itself (see
// AgentServer: unknown, expired, used up); a bad CSR or a server error is
// not a guess.
func enrollFailure(err error) string {
	switch status.Code(err) {
	case codes.Unauthenticated:
		return "enroll_invalid"
	case codes.FailedPrecondition:
		return "enroll_expired"
	case codes.PermissionDenied:
		return "enroll_used"
	}
	return ""
}

// unaryAgentLimit runs after the guard, which has authenticated the agent
// by its certificate, and spends one call of that agent's budget.
func (s *Server) unaryAgentLimit(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if p := PrincipalFrom(ctx); p != nil && p.AgentID != "" && strings.HasPrefix(info.FullMethod, agentPrefix) {
		if err := s.limitPrincipal(ctx, p); err != nil {
			return nil, err
		}
	}
	return h(ctx, req)
}
