package controlplane

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/auth"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/oidcverify"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
)

// Options configure a Server. Store is required; everything else has a
// default.
type Options struct {
	Store store.Store
	// Logger defaults to a null logger.
	Logger hclog.Logger
	// Registerer receives the server's metrics; nil means a private
	// registry nobody scrapes.
	Registerer prometheus.Registerer
	// Clock defaults to time.Now.
	Clock func() time.Time
	// AgentStaleAfter is how long an agent may stay silent before it and
	// its cloud account are reported stale. Default 10m.
	AgentStaleAfter time.Duration
	// OperatorToken, when set (flag or environment), becomes the operator
	// token, replacing any stored one. Empty: keep the stored one, or make
	// one on first start (see InitialOperatorToken).
	OperatorToken string
	// WebhookAllowLoopback lets webhook deliveries reach loopback,
	// link-local and unspecified addresses, which are refused otherwise
	// (a tenant's URL must not reach the control plane's own services or
	// the cloud's metadata endpoint). For tests and single-machine setups.
	WebhookAllowLoopback bool
	// WebhookTimeout bounds one delivery attempt (connect, send, answer);
	// a claimed event's lease is derived from it (webhook.go). Default 10s.
	WebhookTimeout time.Duration
	// JobInterval is how often the background jobs run. Default 1h.
	JobInterval time.Duration
	// EnrollmentTokenRetention is how long expired or used-up enrollment
	// tokens stay listable before the prune job deletes them. Default 7d.
	EnrollmentTokenRetention time.Duration
	// AgentCA signs agent certificates and is the only CA whose client
	// certificates AgentService accepts; nil means AgentService is not
	// served (RegisterAgentService does nothing).
	AgentCA *pki.CA
	// TrustDomain is the SPIFFE trust domain of agent certificates.
	// Default sirsi.local.
	TrustDomain string
	// AgentCertTTL is the lifetime of agent certificates. Default 24h, at
	// most pki.MaxClientTTL.
	AgentCertTTL time.Duration
	// HeartbeatInterval is how often agents are told to call Heartbeat.
	// Default 30s.
	HeartbeatInterval time.Duration
	// RateLimits are the per-minute call budgets (ratelimit.go).
	RateLimits RateLimits
	// MaxAPITokensPerTenant caps a tenant's live (unexpired) API tokens;
	// CreateApiToken beyond it is FailedPrecondition. 0 is no cap
	// (agentd's default is DefaultMaxAPITokensPerTenant).
	MaxAPITokensPerTenant int
	// Lockout is the brute-force protection for tokens (lockout.go).
	Lockout LockoutPolicy
	// CallTimeout and AgentCallTimeout cap how long a ManagementService
	// or AgentService call may run, whatever deadline the client sent.
	// Defaults DefaultCallTimeout and DefaultAgentCallTimeout.
	CallTimeout      time.Duration
	AgentCallTimeout time.Duration
	// AuthFailureAuditInterval is how long one source's calls refused
	// for their credentials are summed into one audit entry
	// (authsample.go). Default DefaultAuthFailureAuditInterval.
	AuthFailureAuditInterval time.Duration
	// Sealer, when set, seals the page-token signing key in the store
	// (pagetoken.go); without one the key is stored in clear.
	Sealer secrets.Sealer
	// ListCacheBytes bounds the cache of encoded ListResources pages
	// (pagecache.go). 0 is DefaultListCacheBytes; negative turns the
	// cache off.
	ListCacheBytes int64
}

// Server implements sirsiv1.ManagementServiceServer.
type Server struct {
	sirsiv1.UnimplementedManagementServiceServer

	st         store.Store
	log        hclog.Logger
	now        func() time.Time
	staleAfter time.Duration
	metrics    *metrics
	initialTok string
	jobs       []job
	jobEvery   time.Duration
	retention  time.Duration
	// touched: token id -> when this process last wrote its last-used time.
	touched sync.Map
	// hooks delivers the outbox's events to tenant webhooks (webhook.go).
	hooks *webhooks
	// agent is AgentService's configuration (agent.go).
	agent agentConfig
	// abuse holds rate limits, lockouts and deadlines (ratelimit.go).
	abuse *abuseGuard
	// maxTokens is Options.MaxAPITokensPerTenant (tokens.go).
	maxTokens int
	// decodeErrors are requests the codec could not unmarshal (codec.go).
	decodeErrors sync.Map
	// sampler sums refused credentials per source (authsample.go).
	sampler *failureSampler
	// oidc verifies OIDC bearer tokens and caches issuers' keys
	// (authn_oidc.go).
	oidc *oidcverify.Verifier
	// pageKey signs page tokens; every replica reads the same one from
	// the store (pagetoken.go).
	pageKey []byte
	// pages caches encoded ListResources responses; nil when off
	// (pagecache.go).
	pages *pageCache
}

var _ sirsiv1.ManagementServiceServer = (*Server)(nil)

const startTimeout = 30 * time.Second

// operatorHashKey is the store setting holding the operator token's hash.
const operatorHashKey = "operator_token_sha256"

// New builds a server and makes sure an operator token exists (one store
// round trip, bounded by startTimeout).
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("controlplane: Options.Store is required")
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.AgentStaleAfter <= 0 {
		o.AgentStaleAfter = 10 * time.Minute
	}
	if o.JobInterval <= 0 {
		o.JobInterval = time.Hour
	}
	if o.EnrollmentTokenRetention <= 0 {
		o.EnrollmentTokenRetention = 7 * 24 * time.Hour
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{
		st:         timedStore{s: o.Store, m: m},
		log:        o.Logger,
		now:        o.Clock,
		staleAfter: o.AgentStaleAfter,
		metrics:    m,
		jobEvery:   o.JobInterval,
		retention:  o.EnrollmentTokenRetention,
		maxTokens:  o.MaxAPITokensPerTenant,
	}
	if o.MaxAPITokensPerTenant < 0 {
		return nil, fmt.Errorf("controlplane: Options.MaxAPITokensPerTenant must not be negative (0 is no cap), is %d", o.MaxAPITokensPerTenant)
	}
	if s.hooks, err = newWebhooks(o.Registerer, o.WebhookAllowLoopback, o.WebhookTimeout); err != nil {
		return nil, err
	}
	if s.agent, err = newAgentConfig(o); err != nil {
		return nil, err
	}
	if s.abuse, err = newAbuseGuard(o); err != nil {
		return nil, err
	}
	if s.pages, err = newPageCache(o.ListCacheBytes, o.Registerer); err != nil {
		return nil, err
	}
	if s.sampler, err = newFailureSampler(o.AuthFailureAuditInterval); err != nil {
		return nil, err
	}
	s.oidc = oidcverify.New(oidcverify.Options{Now: o.Clock, Logger: o.Logger})
	s.jobs = []job{{name: "prune-enrollment-tokens", run: s.pruneEnrollmentTokens}}
	if s.abuse.shared != nil {
		s.jobs = append(s.jobs, job{name: "prune-limit-windows", run: s.pruneLimitWindows})
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := s.initOperatorToken(ctx, o.OperatorToken); err != nil {
		return nil, err
	}
	if s.pageKey, err = loadPageKey(ctx, o.Store, o.Sealer); err != nil {
		return nil, err
	}
	return s, nil
}

// MinOperatorTokenLen keeps supplied operator tokens out of guessing range
// while still allowing a memorable dev token.
const MinOperatorTokenLen = 8

func (s *Server) initOperatorToken(ctx context.Context, supplied string) error {
	if supplied != "" {
		if err := checkSuppliedOperatorToken(supplied); err != nil {
			return err
		}
		if err := s.st.PutSetting(ctx, operatorHashKey, auth.Hash(supplied)); err != nil {
			return fmt.Errorf("store the operator token hash: %w", err)
		}
		return nil
	}
	tok, err := auth.Generate(auth.KindOperator)
	if err != nil {
		return err
	}
	h := auth.Hash(tok)
	stored, err := s.st.PutSettingIfAbsent(ctx, operatorHashKey, h)
	if err != nil {
		return fmt.Errorf("initialise the operator token: %w", err)
	}
	// Another start (or replica) got there first: its token stands and
	// ours was never valid.
	if auth.HashEqual(stored, h) {
		s.initialTok = tok
	}
	return nil
}

func checkSuppliedOperatorToken(t string) error {
	if len(t) < MinOperatorTokenLen || len(t) > 256 {
		return fmt.Errorf("operator token: must be %d..256 characters long, is %d", MinOperatorTokenLen, len(t))
	}
	for _, r := range t {
		if r < 0x21 || r > 0x7e {
			return errors.New("operator token: may contain only printable ASCII without spaces")
		}
	}
	// The server routes API- and enrollment-token shapes to their own
	// lookups, so such a string could never authenticate as the operator.
	if k, err := auth.Parse(t); err == nil && k != auth.KindOperator {
		return fmt.Errorf("operator token: has the shape of an %s; use an sxo_ token or any other string", k)
	}
	return nil
}

// InitialOperatorToken is the operator token made by this start, or "" if
// one was supplied or already existed. The daemon writes it once to the
// data dir; it is not kept anywhere else.
func (s *Server) InitialOperatorToken() string { return s.initialTok }

// ServerOptions are the tracing stats handler, codec and interceptor
// chains to pass to grpc.NewServer.
func (s *Server) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		tracing.ServerOption(),
		grpc.ForceServerCodecV2(s.codec()),
		grpc.ChainUnaryInterceptor(s.UnaryInterceptors()...),
		grpc.ChainStreamInterceptor(s.StreamInterceptors()...),
	}
}

// Register adds ManagementService to g; RegisterAgentService adds
// AgentService, usually to a server of its own (the agent listener).
func (s *Server) Register(g *grpc.Server) {
	sirsiv1.RegisterManagementServiceServer(g, s)
}
