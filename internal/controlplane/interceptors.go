package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"runtime/debug"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// RequestIDHeader carries the request id in both directions.
const RequestIDHeader = "x-request-id"

const managementPrefix = "/sirsi.v1.ManagementService/"

// UnaryInterceptors are, outermost first: request id, metrics, the
// refusal of requests that did not unmarshal (codec.go), panic recovery, deadlines and source lockouts (ratelimit.go), for
// ManagementService authentication, rate limit, authorisation and audit
// (for AgentService client-certificate authentication, agent_auth.go),
// the agent's rate limit, and recovery again so a handler's panic is
// audited as Internal.
func (s *Server) UnaryInterceptors() []grpc.UnaryServerInterceptor {
	return []grpc.UnaryServerInterceptor{s.unaryRequestID, s.unaryMetrics, s.unaryDecodeCheck, s.unaryRecover, s.unaryAbuse, s.unaryGuard, s.unaryAgentLimit, s.unaryPageTokens, s.unaryRecover}
}

// StreamInterceptors mirror UnaryInterceptors. ManagementService's only
// streams are server-streaming (one request): the guard authorises that
// request when the handler receives it.
func (s *Server) StreamInterceptors() []grpc.StreamServerInterceptor {
	return []grpc.StreamServerInterceptor{s.streamRequestID, s.streamMetrics, s.streamDecodeCheck, s.streamRecover, s.streamGuard, s.streamRecover}
}

type requestIDKey struct{}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// newRequestContext takes the caller's request id when it is sane (so one
// id follows a request through the provider and the server's logs) or
// makes one, and echoes it in the response header.
func newRequestContext(ctx context.Context) context.Context {
	id := ""
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(RequestIDHeader); len(v) == 1 && validRequestID(v[0]) {
			id = v[0]
		}
	}
	if id == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
		id = hex.EncodeToString(b)
	}
	// The header is best-effort: a failure only means the caller misses it.
	_ = grpc.SetHeader(ctx, metadata.Pairs(RequestIDHeader, id))
	return context.WithValue(ctx, requestIDKey{}, id)
}

func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

func (s *Server) unaryRequestID(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	return h(newRequestContext(ctx), req)
}

func (s *Server) streamRequestID(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return h(srv, &wrappedStream{ServerStream: ss, ctx: newRequestContext(ss.Context())})
}

type wrappedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w *wrappedStream) Context() context.Context { return w.ctx }

func (s *Server) observe(ctx context.Context, method string, start time.Time, err error) {
	code := status.Code(err)
	elapsed := time.Since(start)
	s.metrics.requests.WithLabelValues(method, code.String()).Inc()
	s.metrics.duration.WithLabelValues(method).Observe(elapsed.Seconds())
	if s.log.IsDebug() {
		s.log.Debug("rpc", "method", method, "code", code.String(), "duration", elapsed, "request_id", requestID(ctx))
	}
}

func (s *Server) unaryMetrics(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := h(ctx, req)
	s.observe(ctx, info.FullMethod, start, err)
	return resp, err
}

func (s *Server) streamMetrics(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	start := time.Now()
	err := h(srv, ss)
	s.observe(ss.Context(), info.FullMethod, start, err)
	return err
}

func (s *Server) recovered(ctx context.Context, method string, p any) error {
	id := requestID(ctx)
	s.log.Error("panic in handler", "method", method, "request_id", id, "panic", p, "stack", string(debug.Stack()))
	return status.Errorf(codes.Internal, "internal error (request id %s)", id)
}

func (s *Server) unaryRecover(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, s.recovered(ctx, info.FullMethod, p)
		}
	}()
	return h(ctx, req)
}

func (s *Server) streamRecover(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = s.recovered(ss.Context(), info.FullMethod, p)
		}
	}()
	return h(srv, ss)
}

// unaryGuard authenticates and authorises ManagementService calls and
// writes the audit log: every auth failure, and every mutation whatever
// its outcome.
func (s *Server) unaryGuard(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if strings.HasPrefix(info.FullMethod, agentPrefix) {
		return s.agentGuard(ctx, req, info, h)
	}
	if !strings.HasPrefix(info.FullMethod, managementPrefix) {
		return h(ctx, req)
	}
	p, err := s.authenticate(ctx)
	if err != nil {
		err = s.authFailed(ctx, p, err)
		tenant := ""
		if p != nil {
			tenant = p.TenantID
		}
		s.auditRefused(ctx, auditEntry{principal: p, tenant: tenant, method: info.FullMethod, err: err})
		return nil, err
	}
	// The credential was good: its attempt goes back at once, so callers
	// with valid tokens from one address hold none while their calls run.
	s.settleAttempt(ctx)
	tenant, err := authorize(info.FullMethod, p, req)
	if err != nil {
		// Failures land in the caller's own log, where its admins look,
		// naming only the kind of object: ids aimed at another tenant
		// stay out of this one's log.
		s.audit(ctx, auditEntry{principal: p, tenant: p.TenantID, method: info.FullMethod, err: err})
		return nil, err
	}
	// Limited after authorisation and before the audit, so a refused call
	// costs no store write.
	if err := s.limitPrincipal(ctx, p); err != nil {
		return nil, err
	}
	ctx = withPrincipal(ctx, p)
	resp, err := h(ctx, req)
	if rules[info.FullMethod].mutation {
		s.audit(ctx, auditEntry{principal: p, tenant: tenant, method: info.FullMethod, req: req, resp: resp, err: err})
	}
	return resp, err
}

func (s *Server) streamGuard(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if !strings.HasPrefix(info.FullMethod, managementPrefix) {
		return h(srv, ss)
	}
	ctx := ss.Context()
	p, err := s.authenticate(ctx)
	if err != nil {
		err = s.authFailed(ctx, p, err)
		s.auditRefused(ctx, auditEntry{principal: p, method: info.FullMethod, err: err})
		return err
	}
	if _, ok := rules[info.FullMethod]; !ok || info.IsClientStream {
		err = status.Errorf(codes.PermissionDenied, "%s is not a ManagementService method", info.FullMethod)
		s.audit(ctx, auditEntry{principal: p, method: info.FullMethod, err: err})
		return err
	}
	s.settleAttempt(ctx)
	g := &guardedStream{ServerStream: ss, s: s, p: p, method: info.FullMethod}
	err = h(srv, g)
	if g.req == nil {
		// Refused before the handler saw a request: audited there.
		return err
	}
	if rules[info.FullMethod].mutation {
		s.audit(g.Context(), auditEntry{principal: p, tenant: g.tenant, method: info.FullMethod, req: g.req, err: err})
	}
	return err
}

// guardedStream authorises a server-streaming call's one request as
// unaryGuard does a unary call's, when the handler receives it: the
// request is what names the tenant.
type guardedStream struct {
	grpc.ServerStream
	s      *Server
	p      *Principal
	method string
	ctx    context.Context
	req    any
	tenant string
}

func (g *guardedStream) Context() context.Context {
	if g.ctx != nil {
		return g.ctx
	}
	return g.ServerStream.Context()
}

func (g *guardedStream) RecvMsg(m any) error {
	if err := g.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	ctx := g.ServerStream.Context()
	tenant, err := authorize(g.method, g.p, m)
	if err != nil {
		g.s.audit(ctx, auditEntry{principal: g.p, tenant: g.p.TenantID, method: g.method, err: err})
		return err
	}
	if err := g.s.limitPrincipal(ctx, g.p); err != nil {
		return err
	}
	g.req, g.tenant, g.ctx = m, tenant, withPrincipal(ctx, g.p)
	return nil
}

func sourceAddress(ctx context.Context) string {
	if pr, ok := peer.FromContext(ctx); ok && pr.Addr != nil {
		return pr.Addr.String()
	}
	return ""
}
