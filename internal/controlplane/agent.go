package controlplane

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/auth"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/crashpoint"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/version"
)

// AgentService, what agentd agents call.
//
// Enroll is the only call without a client certificate. It takes a
// single-use enrollment token and a CSR (ECDSA P-256/P-384, Ed25519 or RSA
// of at least 2048 bits) and answers with a certificate whose only
// identity is the URI SAN
// spiffe://<trust-domain>/tenant/<t>/account/<cloud-account-id>/agent/<id>,
// valid for AgentCertTTL. A refused enrollment says why, with distinct
// codes: a malformed token or CSR is InvalidArgument (naming the field),
// an unknown token (never issued, deleted, or another deployment's) is
// Unauthenticated, an expired token is FailedPrecondition and a used-up one
// PermissionDenied. The token and CSR are checked before the token's use is
// counted, so a bad CSR does not burn it. The agent's id is derived from
// the token and the CSR's key, and its creation and the token's use are one
// transaction: the same key presenting the same token again (its answer
// was lost) gets the same agent and a new certificate, without a use.
//
// Every other call is authenticated by the client certificate: it must
// chain to AgentCA (checked again here against the server clock, whatever
// the TLS layer accepted), carry an identity in TrustDomain, name an agent
// that exists and is not revoked (PermissionDenied once revoked, on the
// very next call), and have the agent's current serial or, until it
// expires, the serial it replaced (so a renewal whose answer was lost does
// not lock the agent out). Anything else is Unauthenticated, counted in
// sirsi_agent_auth_failures_total{reason} and audited. The tenant and
// cloud account come from the certificate only: tenant, cloud account and
// provider account ids inside report payloads are overwritten.
//
// Reports are idempotent per batch_id (1..64 printable ASCII characters,
// unique per tenant): a batch sent again answers duplicate = true and
// changes nothing. Their sizes are bounded (MaxReport* constants) and every
// field with a domain is checked; a violation is InvalidArgument with a
// BadRequest detail naming the field path, e.g. upserts[3].region.
//
// Audit: agent.enroll and agent.renew_certificate (target agent/<id>,
// failures included), agent.action for every reported action (target the
// resource id, outcome the action's status), agent.action_plan for every
// reported plan (target action_plan/<id>) and agent.reserve_actions for
// every reservation (target reservation/<id>, the grant in the detail),
// failures included, and every failed authentication under the RPC's full
// method name.
type AgentServer struct {
	sirsiv1.UnimplementedAgentServiceServer
	s *Server
}

var _ sirsiv1.AgentServiceServer = (*AgentServer)(nil)

const agentPrefix = "/sirsi.v1.AgentService/"

// Defaults of the AgentService options.
const (
	DefaultAgentCertTTL      = 24 * time.Hour
	DefaultHeartbeatInterval = 30 * time.Second
	DefaultTrustDomain       = "sirsi.local"
)

// MaxAgentMessageBytes is the largest request the agent listener should
// accept (grpc.MaxRecvMsgSize): a full inventory batch of MaxReportUpserts
// resources with their tags fits, while an unauthenticated caller cannot
// make the server buffer more than this before Enroll rejects it.
const MaxAgentMessageBytes = 16 << 20

type agentConfig struct {
	ca           *pki.CA
	pool         *x509.CertPool
	trustDomain  string
	certTTL      time.Duration
	heartbeat    time.Duration
	authFailures *prometheus.CounterVec
}

func newAgentConfig(o Options) (agentConfig, error) {
	c := agentConfig{ca: o.AgentCA, trustDomain: o.TrustDomain, certTTL: o.AgentCertTTL, heartbeat: o.HeartbeatInterval}
	if c.trustDomain == "" {
		c.trustDomain = DefaultTrustDomain
	}
	if c.certTTL <= 0 {
		c.certTTL = DefaultAgentCertTTL
	}
	if c.heartbeat <= 0 {
		c.heartbeat = DefaultHeartbeatInterval
	}
	if c.certTTL > pki.MaxClientTTL {
		return c, fmt.Errorf("controlplane: Options.AgentCertTTL %s is longer than the %s pki allows", c.certTTL, pki.MaxClientTTL)
	}
	if _, err := (pki.AgentIdentity{TrustDomain: c.trustDomain, TenantID: "t", CloudAccountID: "a", AgentID: "g"}).URI(); err != nil {
		return c, fmt.Errorf("controlplane: Options.TrustDomain: %w", err)
	}
	if c.ca != nil {
		c.pool = c.ca.Pool()
	}
	c.authFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sirsi_agent_auth_failures_total",
		Help: "AgentService calls refused for their credentials (enrollment token or client certificate), by reason.",
	}, []string{"reason"})
	if err := o.Registerer.Register(c.authFailures); err != nil {
		return c, fmt.Errorf("register agent metrics: %w", err)
	}
	return c, nil
}

// RegisterAgentService adds AgentService to g when Options.AgentCA is set.
// g needs the interceptors of ServerOptions (they authenticate agents) and
// TLS that asks for client certificates (tls.VerifyClientCertIfGiven with
// the CA's pool, so Enroll works without one).
func (s *Server) RegisterAgentService(g *grpc.Server) {
	if s.agent.ca == nil {
		return
	}
	sirsiv1.RegisterAgentServiceServer(g, &AgentServer{s: s})
}

// Audit actions of AgentService.
const (
	auditEnroll = "agent.enroll"
	auditRenew  = "agent.renew_certificate"
	auditAction = "agent.action"
)

// denied counts and reports a refused credential.
func (s *Server) denied(reason string, err error) error {
	s.agent.authFailures.WithLabelValues(reason).Inc()
	return err
}

func (a *AgentServer) Enroll(ctx context.Context, req *sirsiv1.EnrollRequest) (*sirsiv1.EnrollResponse, error) {
	s := a.s
	resp, ev, err := s.enroll(ctx, req)
	s.auditAgent(ctx, ev, err)
	return resp, err
}

// enroll does the work of Enroll and describes it in an audit event whose
// actor, tenant and target are as much as is known when it stops.
func (s *Server) enroll(ctx context.Context, req *sirsiv1.EnrollRequest) (*sirsiv1.EnrollResponse, *sirsiv1.AuditEvent, error) {
	ev := &sirsiv1.AuditEvent{Action: auditEnroll, Actor: (*Principal)(nil).Actor(), Target: "enrollment_token"}
	var e validation.Errors
	if err := auth.ParseKind(req.EnrollmentToken, auth.KindEnrollment); err != nil {
		e.Add("enrollment_token", "is not an enrollment token (sxe_...): "+err.Error())
	}
	csr := checkCSR(&e, "csr_pem", req.CsrPem)
	e.Check("hostname", hostname(req.Hostname))
	e.Check("version", validation.Text(req.Version, maxVersionLen, false))
	if err := errOrInvalid(&e); err != nil {
		if e.Fields()[0].Field == "enrollment_token" {
			return nil, ev, s.denied("malformed_enrollment_token", err)
		}
		return nil, ev, err
	}
	now := s.now()
	hash := auth.Hash(req.EnrollmentToken)
	tok, err := s.st.LookupEnrollmentToken(ctx, hash)
	if isNotFound(err) {
		return nil, ev, s.denied("unknown_enrollment_token", status.Error(codes.Unauthenticated, "unknown enrollment token: it was never issued here or has been deleted"))
	}
	if err != nil {
		return nil, ev, s.storeError(ctx, "look up enrollment token", err)
	}
	ev.TenantId, ev.Target = tok.TenantId, "enrollment_token/"+tok.Id
	if tok.ExpireTime != nil && !now.Before(tok.ExpireTime.AsTime()) {
		return nil, ev, s.denied("expired_enrollment_token", status.Errorf(codes.FailedPrecondition,
			"enrollment token %s expired at %s; create a new one", tok.Id, tok.ExpireTime.AsTime().UTC().Format(time.RFC3339)))
	}
	// Checked once the token is known to be real (the refusal names the
	// server's version) and before it is used up, so the agent can retry
	// with the same token once it or the server is upgraded.
	if err := version.CheckAgent(req.Version, version.Version); err != nil {
		return nil, ev, status.Error(codes.FailedPrecondition, err.Error())
	}
	// The agent's id follows from the token and its key: an agent whose
	// enrollment committed here but whose answer it never saved presents
	// the same key and token again and gets its agent back, not a second
	// one, and the token is not used again.
	id := pki.AgentIdentity{TrustDomain: s.agent.trustDomain, TenantID: tok.TenantId, CloudAccountID: tok.CloudAccountId, AgentID: enrolledAgentID(tok.Id, csr)}
	cert, certPEM, err := s.issueAgentCert(ctx, id, csr)
	if err != nil {
		return nil, ev, err
	}
	res, err := s.st.EnrollAgent(ctx, store.Enrollment{
		SecretHash: hash, TokenID: tok.Id, At: now, AgentID: id.AgentID, Hostname: req.Hostname, Version: req.Version,
		CertSerial: pki.SerialHex(cert), CertExpire: cert.NotAfter,
	})
	switch {
	case isNotFound(err):
		return nil, ev, s.denied("unknown_enrollment_token", status.Error(codes.Unauthenticated, "unknown enrollment token: it was deleted"))
	case errors.Is(err, store.ErrRevoked):
		return nil, ev, s.denied("revoked", status.Errorf(codes.PermissionDenied,
			"agent %s, which this key enrolled with this token, is revoked; enroll again into an empty data dir with a new enrollment token", id.AgentID))
	case errors.Is(err, store.ErrFailedPrecondition):
		// Not expired at now (checked above, and expiry never moves),
		// so the token ran out of uses.
		return nil, ev, s.denied("used_enrollment_token", status.Errorf(codes.PermissionDenied, "enrollment token %s is used up; create a new one", tok.Id))
	case err != nil:
		return nil, ev, s.storeError(ctx, "enroll agent", err)
	}
	crashpoint.Hit(crashpoint.ServerEnrollAfterCommit)
	ev.Target = "agent/" + id.AgentID
	ev.Actor = (&Principal{AgentID: id.AgentID}).Actor()
	if res.Replayed {
		ev.Detail = "enrolled again with the same key and token after an unanswered enrollment; no use of the token counted"
	}
	return &sirsiv1.EnrollResponse{
		AgentId: id.AgentID, TenantId: id.TenantID, CloudAccountId: id.CloudAccountID,
		CertificatePem: string(certPEM), CaBundlePem: string(s.agent.ca.CertPEM), ExpireTime: timestamppb.New(cert.NotAfter),
	}, ev, nil
}

func (s *Server) issueAgentCert(ctx context.Context, id pki.AgentIdentity, csr *x509.CertificateRequest) (*x509.Certificate, []byte, error) {
	uri, err := id.URI()
	if err != nil {
		return nil, nil, s.internal(ctx, "build agent identity", err)
	}
	cert, certPEM, err := s.agent.ca.SignCSR(csr, uri, s.agent.certTTL)
	if err != nil {
		return nil, nil, s.internal(ctx, "sign agent certificate", err)
	}
	return cert, certPEM, nil
}

// auditAgent completes ev with what every event carries and appends it.
func (s *Server) auditAgent(ctx context.Context, ev *sirsiv1.AuditEvent, err error) {
	ev.Time = timestamppb.New(s.now())
	ev.RequestId = requestID(ctx)
	ev.SourceAddress = sourceAddress(ctx)
	if ev.Outcome == "" {
		ev.Outcome = "ok"
	}
	if err != nil {
		st := status.Convert(err)
		ev.Outcome = st.Code().String()
		if st.Code() != codes.Internal {
			ev.Detail = st.Message()
		}
	}
	s.appendAudit(ctx, ev)
}

func (a *AgentServer) RenewCertificate(ctx context.Context, req *sirsiv1.RenewCertificateRequest) (*sirsiv1.RenewCertificateResponse, error) {
	s := a.s
	c := callerFrom(ctx)
	ev := &sirsiv1.AuditEvent{TenantId: c.id.TenantID, Actor: c.principal.Actor(), Action: auditRenew, Target: "agent/" + c.id.AgentID}
	resp, err := s.renew(ctx, c, req)
	s.auditAgent(ctx, ev, err)
	return resp, err
}

func (s *Server) renew(ctx context.Context, c *agentCaller, req *sirsiv1.RenewCertificateRequest) (*sirsiv1.RenewCertificateResponse, error) {
	var e validation.Errors
	csr := checkCSR(&e, "csr_pem", req.CsrPem)
	if err := errOrInvalid(&e); err != nil {
		return nil, err
	}
	cert, certPEM, err := s.issueAgentCert(ctx, c.id, csr)
	if err != nil {
		return nil, err
	}
	if err := s.st.Tenant(c.id.TenantID).UpdateAgentCertificate(ctx, c.id.AgentID, pki.SerialHex(cert), cert.NotAfter); err != nil {
		return nil, s.storeError(ctx, "record agent certificate", err)
	}
	return &sirsiv1.RenewCertificateResponse{
		CertificatePem: string(certPEM), CaBundlePem: string(s.agent.ca.CertPEM), ExpireTime: timestamppb.New(cert.NotAfter),
	}, nil
}

func (a *AgentServer) Heartbeat(ctx context.Context, req *sirsiv1.HeartbeatRequest) (*sirsiv1.HeartbeatResponse, error) {
	s := a.s
	c := callerFrom(ctx)
	hb, err := validateHeartbeat(req)
	if err != nil {
		return nil, err
	}
	// An agent enrolled before the server's upgrade is told here; it shows
	// as stale until it is upgraded.
	if err := version.CheckAgent(req.Version, version.Version); err != nil {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	now := s.now()
	hb.At = now
	if _, err := s.st.Tenant(c.id.TenantID).RecordHeartbeat(ctx, c.id.AgentID, hb); err != nil {
		return nil, s.storeError(ctx, "record heartbeat", err)
	}
	return &sirsiv1.HeartbeatResponse{ServerTime: timestamppb.New(now), Interval: durationpb.New(s.agent.heartbeat)}, nil
}

// GetAssignment lists the agent's cloud account (external id included:
// the agent needs it to assume the role), the tenant's policies whose
// selector names the account's provider account id or no account at all,
// the recommendations approved for the cloud account and its approved
// action plans not yet executed.
func (a *AgentServer) GetAssignment(ctx context.Context, _ *sirsiv1.GetAssignmentRequest) (*sirsiv1.GetAssignmentResponse, error) {
	s := a.s
	c := callerFrom(ctx)
	ts := s.st.Tenant(c.id.TenantID)
	acct, err := ts.GetCloudAccount(ctx, c.id.CloudAccountID)
	if err != nil {
		return nil, s.storeError(ctx, "get cloud account", err)
	}
	externalID := acct.ExternalId
	s.presentAccount(ctx, acct)
	acct.ExternalId = externalID
	resp := &sirsiv1.GetAssignmentResponse{CloudAccount: acct}
	err = eachPage(func(p store.Page) (string, error) {
		list, next, err := ts.ListPolicies(ctx, p)
		for _, pol := range list {
			if policyCovers(pol, acct.AccountId) {
				resp.Policies = append(resp.Policies, pol)
			}
		}
		return next, err
	})
	if err != nil {
		return nil, s.storeError(ctx, "list optimization policies", err)
	}
	err = eachPage(func(p store.Page) (string, error) {
		list, next, _, err := ts.ListRecommendations(ctx, store.RecommendationFilter{Status: sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED}, p)
		for _, r := range list {
			if r.CloudAccountId == c.id.CloudAccountID {
				resp.ApprovedRecommendations = append(resp.ApprovedRecommendations, r)
			}
		}
		return next, err
	})
	if err != nil {
		return nil, s.storeError(ctx, "list approved recommendations", err)
	}
	err = eachPage(func(p store.Page) (string, error) {
		list, next, err := ts.ListActionPlans(ctx, store.ActionPlanFilter{
			CloudAccountID: c.id.CloudAccountID, Status: sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_APPROVED,
		}, p)
		resp.ApprovedPlans = append(resp.ApprovedPlans, list...)
		return next, err
	})
	if err != nil {
		return nil, s.storeError(ctx, "list approved action plans", err)
	}
	return resp, nil
}

// eachPage calls list with every page of a store list, largest pages
// first to last.
func eachPage(list func(store.Page) (string, error)) error {
	p := store.Page{Size: store.MaxPageSize}
	for {
		next, err := list(p)
		if err != nil || next == "" {
			return err
		}
		p.Token = next
	}
}

func policyCovers(p *sirsiv1.OptimizationPolicy, accountID string) bool {
	if p.Selector == nil || len(p.Selector.AccountIds) == 0 {
		return true
	}
	for _, id := range p.Selector.AccountIds {
		if id == accountID {
			return true
		}
	}
	return false
}
