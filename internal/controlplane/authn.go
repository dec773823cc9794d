package controlplane

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/auth"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/oidcverify"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// Principal is who is calling.
type Principal struct {
	Operator bool
	// TenantID and Role are set for tenant API tokens.
	TenantID   string
	Role       sirsiv1.Role
	TokenID    string
	ExpireTime *timestamppb.Timestamp
	// AgentID and CloudAccountID are set for agents, from their verified
	// client certificate (TenantID too).
	AgentID        string
	CloudAccountID string
	// OIDC is set for callers with a token an OIDC trust accepted
	// (TenantID and Role are the trust's).
	OIDC *oidcverify.Identity
}

// Actor is the principal as the audit log names it.
func (p *Principal) Actor() string {
	switch {
	case p == nil:
		return "anonymous"
	case p.Operator:
		return "operator"
	case p.AgentID != "":
		return "agent:" + p.AgentID
	case p.OIDC != nil:
		return "oidc:" + p.OIDC.Trust.Name + ":" + p.OIDC.Subject
	default:
		return "token:" + p.TokenID
	}
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the authenticated caller: a token for
// ManagementService, an agent for AgentService (but Enroll); nil otherwise.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// touchEvery limits last-used writes to one per token per minute: the
// field is informative and a write per request would serialise readers on
// SQLite.
const touchEvery = time.Minute

// authenticate resolves the bearer token. On failure it returns the status
// and, when the token was recognised (expired), the principal it belonged
// to so the audit entry can name it.
func (s *Server) authenticate(ctx context.Context) (*Principal, error) {
	tok, err := bearer(ctx)
	if err != nil {
		return nil, err
	}
	if len(tok) > validation.MaxOIDCTokenBytes {
		// No credential is this long; nothing longer is parsed or hashed.
		return nil, s.oidcRefused(ctx, "", &oidcverify.Refusal{Reason: oidcverify.ReasonTooLong,
			Detail: fmt.Sprintf("the bearer token is %d bytes, at most %d are accepted", len(tok), validation.MaxOIDCTokenBytes)})
	}
	if oidcverify.LooksLikeJWT(tok) {
		return s.authenticateOIDC(ctx, tok)
	}
	kind, perr := auth.Parse(tok)
	switch {
	case perr == nil && kind == auth.KindAPIToken:
		return s.authenticateAPIToken(ctx, tok)
	case perr == nil && kind == auth.KindEnrollment:
		return nil, status.Error(codes.Unauthenticated, "an enrollment token is only good for AgentService.Enroll")
	}
	// Anything else may be the operator token, which can be supplied in
	// any shape by flag or environment.
	want, err := s.st.GetSetting(ctx, operatorHashKey)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, status.Error(codes.Unauthenticated, "invalid token")
		}
		return nil, s.internal(ctx, "read the operator token hash", err)
	}
	if !auth.HashEqual(auth.Hash(tok), want) {
		return nil, status.Error(codes.Unauthenticated, "invalid token")
	}
	return &Principal{Operator: true}, nil
}

func (s *Server) authenticateAPIToken(ctx context.Context, tok string) (*Principal, error) {
	t, err := s.st.LookupAPIToken(ctx, auth.Hash(tok))
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Error(codes.Unauthenticated, "invalid or revoked token")
	}
	if err != nil {
		return nil, s.internal(ctx, "look up API token", err)
	}
	p := &Principal{TenantID: t.TenantId, Role: t.Role, TokenID: t.Id, ExpireTime: t.ExpireTime}
	now := s.now()
	if t.ExpireTime != nil && !now.Before(t.ExpireTime.AsTime()) {
		return p, status.Error(codes.Unauthenticated, "token expired")
	}
	if (t.LastUsedTime == nil || now.Sub(t.LastUsedTime.AsTime()) >= touchEvery) && s.claimTouch(t.Id, now) {
		if err := s.st.TouchAPIToken(ctx, t.TenantId, t.Id, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			// Losing a last-used time is not worth failing the call.
			s.log.Warn("record API token use", "token_id", t.Id, "request_id", requestID(ctx), "error", err)
		}
	}
	return p, nil
}

// claimTouch lets one of this process's concurrent requests with the same
// token write its last-used time; the others, which read the same stale
// time, would otherwise all queue on the database writer. It is only an
// optimisation: the time itself lives in the store.
func (s *Server) claimTouch(tokenID string, now time.Time) bool {
	if prev, loaded := s.touched.LoadOrStore(tokenID, now); loaded {
		if now.Sub(prev.(time.Time)) < touchEvery {
			return false
		}
		return s.touched.CompareAndSwap(tokenID, prev, now)
	}
	return true
}

func bearer(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) == 0 {
		return "", status.Error(codes.Unauthenticated, "missing authorization: Bearer <token> metadata")
	}
	if len(vals) > 1 {
		return "", status.Error(codes.Unauthenticated, "more than one authorization header")
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(tok) == "" {
		return "", status.Error(codes.Unauthenticated, "authorization must be \"Bearer <token>\"")
	}
	return strings.TrimSpace(tok), nil
}
