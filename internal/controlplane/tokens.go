package controlplane

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/auth"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

const defaultEnrollmentUses = 1

// CreateEnrollmentToken makes a secret for one cloud account; the response
// is the only place the secret ever appears.
func (s *Server) CreateEnrollmentToken(ctx context.Context, req *sirsiv1.CreateEnrollmentTokenRequest) (*sirsiv1.CreateEnrollmentTokenResponse, error) {
	if err := validateCreateEnrollmentToken(req); err != nil {
		return nil, err
	}
	ttl := req.Ttl
	if ttl == nil {
		ttl = durationpb.New(validation.DefaultEnrollmentTTL)
	}
	uses := req.MaxUses
	if uses == 0 {
		uses = defaultEnrollmentUses
	}
	secret, err := auth.Generate(auth.KindEnrollment)
	if err != nil {
		return nil, s.internal(ctx, "create enrollment token", err)
	}
	t, err := s.st.Tenant(req.TenantId).CreateEnrollmentToken(ctx, &sirsiv1.EnrollmentToken{
		CloudAccountId: req.CloudAccountId, Ttl: ttl, MaxUses: uses,
	}, auth.Hash(secret))
	if err != nil {
		return nil, s.storeError(ctx, "create enrollment token", err)
	}
	t.Token = secret
	return &sirsiv1.CreateEnrollmentTokenResponse{EnrollmentToken: t}, nil
}

func (s *Server) GetEnrollmentToken(ctx context.Context, req *sirsiv1.GetEnrollmentTokenRequest) (*sirsiv1.GetEnrollmentTokenResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	t, err := s.st.Tenant(req.TenantId).GetEnrollmentToken(ctx, req.Id)
	if err != nil {
		return nil, s.storeError(ctx, "get enrollment token", err)
	}
	t.Token = ""
	return &sirsiv1.GetEnrollmentTokenResponse{EnrollmentToken: t}, nil
}

func (s *Server) DeleteEnrollmentToken(ctx context.Context, req *sirsiv1.DeleteEnrollmentTokenRequest) (*sirsiv1.DeleteEnrollmentTokenResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	if err := s.st.Tenant(req.TenantId).DeleteEnrollmentToken(ctx, req.Id); err != nil {
		return nil, s.storeError(ctx, "delete enrollment token", err)
	}
	return &sirsiv1.DeleteEnrollmentTokenResponse{}, nil
}

func (s *Server) ListEnrollmentTokens(ctx context.Context, req *sirsiv1.ListEnrollmentTokensRequest) (*sirsiv1.ListEnrollmentTokensResponse, error) {
	if err := validList(req.TenantId, req.PageSize); err != nil {
		return nil, err
	}
	list, next, err := s.st.Tenant(req.TenantId).ListEnrollmentTokens(ctx, store.Page{Size: int(req.PageSize), Token: req.PageToken})
	if err != nil {
		return nil, s.storeError(ctx, "list enrollment tokens", err)
	}
	for _, t := range list {
		t.Token = ""
	}
	return &sirsiv1.ListEnrollmentTokensResponse{EnrollmentTokens: list, NextPageToken: next}, nil
}

// CreateApiToken makes a tenant API token; the response is the only place
// the secret ever appears.
func (s *Server) CreateApiToken(ctx context.Context, req *sirsiv1.CreateApiTokenRequest) (*sirsiv1.CreateApiTokenResponse, error) {
	if err := validateCreateApiToken(req); err != nil {
		return nil, err
	}
	secret, err := auth.Generate(auth.KindAPIToken)
	if err != nil {
		return nil, s.internal(ctx, "create API token", err)
	}
	limit, setting, err := s.tokenCap(ctx, req.TenantId)
	if err != nil {
		return nil, err
	}
	in := &sirsiv1.ApiToken{Role: req.Role, Description: req.Description}
	if req.Ttl != nil && req.Ttl.AsDuration() != 0 {
		in.Ttl = req.Ttl
	}
	t, err := s.st.Tenant(req.TenantId).CreateAPIToken(ctx, in, auth.Hash(secret), store.TokenCap{Max: limit, Now: s.now()})
	if errors.Is(err, store.ErrLimitReached) {
		return nil, status.Errorf(codes.FailedPrecondition, "tenant %s already has as many live API tokens as it may hold: at most %d (%s); delete one first", req.TenantId, limit, setting)
	}
	if err != nil {
		return nil, s.storeError(ctx, "create API token", err)
	}
	t.Token = secret
	return &sirsiv1.CreateApiTokenResponse{ApiToken: t}, nil
}

func (s *Server) GetApiToken(ctx context.Context, req *sirsiv1.GetApiTokenRequest) (*sirsiv1.GetApiTokenResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	t, err := s.st.Tenant(req.TenantId).GetAPIToken(ctx, req.Id)
	if err != nil {
		return nil, s.storeError(ctx, "get API token", err)
	}
	t.Token = ""
	return &sirsiv1.GetApiTokenResponse{ApiToken: t}, nil
}

func (s *Server) UpdateApiToken(ctx context.Context, req *sirsiv1.UpdateApiTokenRequest) (*sirsiv1.UpdateApiTokenResponse, error) {
	var e validation.Errors
	validTenantScoped(&e, req.TenantId)
	e.Check("id", validation.ID(req.Id))
	e.Check("description", validation.Description(req.Description))
	e.Check("version", validVersion(req.Version))
	if err := errOrInvalid(&e); err != nil {
		return nil, err
	}
	t, err := s.st.Tenant(req.TenantId).UpdateAPIToken(ctx, req.Id, req.Description, req.Version)
	if err != nil {
		return nil, s.storeError(ctx, "update API token", err)
	}
	t.Token = ""
	return &sirsiv1.UpdateApiTokenResponse{ApiToken: t}, nil
}

func (s *Server) DeleteApiToken(ctx context.Context, req *sirsiv1.DeleteApiTokenRequest) (*sirsiv1.DeleteApiTokenResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	if err := s.st.Tenant(req.TenantId).DeleteAPIToken(ctx, req.Id); err != nil {
		return nil, s.storeError(ctx, "revoke API token", err)
	}
	return &sirsiv1.DeleteApiTokenResponse{}, nil
}

func (s *Server) ListApiTokens(ctx context.Context, req *sirsiv1.ListApiTokensRequest) (*sirsiv1.ListApiTokensResponse, error) {
	if err := validList(req.TenantId, req.PageSize); err != nil {
		return nil, err
	}
	list, next, err := s.st.Tenant(req.TenantId).ListAPITokens(ctx, store.Page{Size: int(req.PageSize), Token: req.PageToken})
	if err != nil {
		return nil, s.storeError(ctx, "list API tokens", err)
	}
	for _, t := range list {
		t.Token = ""
	}
	return &sirsiv1.ListApiTokensResponse{ApiTokens: list, NextPageToken: next}, nil
}

// DefaultMaxAPITokensPerTenant is agentd's cap on a tenant's live API
// tokens (Options.MaxAPITokensPerTenant).
const DefaultMaxAPITokensPerTenant = 50

// tokenCap is the tenant's cap on live API tokens and the setting it
// comes from: the tenant's max_api_tokens, else MaxAPITokensPerTenant (0:
// no cap). Tokens are what rate budgets are counted by, so an unbounded
// number of them would multiply the budget (the tenant's aggregate budget
// bounds that too) and the guessable set. The store counts and inserts in
// one transaction holding the tenant's row, so the cap holds across
// replicas.
func (s *Server) tokenCap(ctx context.Context, tenantID string) (int, string, error) {
	t, err := s.st.GetTenant(ctx, tenantID)
	if err != nil {
		return 0, "", s.storeError(ctx, "read the tenant's API token cap", err)
	}
	if t.MaxApiTokens != nil {
		return int(t.GetMaxApiTokens()), "the tenant's max_api_tokens", nil
	}
	return s.maxTokens, "the server's rate_limit.max_api_tokens_per_tenant", nil
}
