package controlplane

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// GetIdentity tells the caller who it is.
func (s *Server) GetIdentity(ctx context.Context, _ *sirsiv1.GetIdentityRequest) (*sirsiv1.GetIdentityResponse, error) {
	p := PrincipalFrom(ctx)
	if p == nil {
		return nil, status.Error(codes.Unauthenticated, "not authenticated")
	}
	return &sirsiv1.GetIdentityResponse{
		Actor: p.Actor(), Operator: p.Operator, TenantId: p.TenantID, Role: p.Role, ExpireTime: p.ExpireTime,
	}, nil
}

// defaultTier is what a tenant created without a tier gets.
const defaultTier = sirsiv1.Tier_TIER_STANDARD

func (s *Server) CreateTenant(ctx context.Context, req *sirsiv1.CreateTenantRequest) (*sirsiv1.CreateTenantResponse, error) {
	var e validation.Errors
	validTenant(&e, "tenant", req.Tenant, false)
	s.validTenantWebhookAddress(&e, req.Tenant)
	if err := errOrInvalid(&e); err != nil {
		return nil, err
	}
	if req.Tenant.Tier == sirsiv1.Tier_TIER_UNSPECIFIED {
		req.Tenant.Tier = defaultTier
	}
	t, err := s.st.CreateTenant(ctx, req.Tenant)
	if err != nil {
		return nil, s.storeError(ctx, "create tenant", err)
	}
	return &sirsiv1.CreateTenantResponse{Tenant: publicTenant(t)}, nil
}

func (s *Server) GetTenant(ctx context.Context, req *sirsiv1.GetTenantRequest) (*sirsiv1.GetTenantResponse, error) {
	if err := validateGetTenant(req); err != nil {
		return nil, err
	}
	p := PrincipalFrom(ctx)
	if req.Name != "" {
		t, err := s.tenantByName(ctx, p, req.Name)
		if err != nil {
			return nil, err
		}
		return &sirsiv1.GetTenantResponse{Tenant: publicTenant(t)}, nil
	}
	t, err := s.st.GetTenant(ctx, req.Id)
	if err != nil {
		return nil, s.storeError(ctx, "get tenant", err)
	}
	return &sirsiv1.GetTenantResponse{Tenant: publicTenant(t)}, nil
}

// tenantByName resolves a name. A tenant token only ever gets its own
// tenant: any other name is refused the same way whether it exists or not.
func (s *Server) tenantByName(ctx context.Context, p *Principal, name string) (*sirsiv1.Tenant, error) {
	if p.Operator {
		t, err := s.st.GetTenantByName(ctx, name)
		if err != nil {
			return nil, s.storeError(ctx, "get tenant", err)
		}
		return t, nil
	}
	t, err := s.st.GetTenant(ctx, p.TenantID)
	if err != nil {
		return nil, s.storeError(ctx, "get tenant", err)
	}
	if t.Name != name {
		return nil, status.Error(codes.PermissionDenied, "this token belongs to another tenant")
	}
	return t, nil
}

func (s *Server) UpdateTenant(ctx context.Context, req *sirsiv1.UpdateTenantRequest) (*sirsiv1.UpdateTenantResponse, error) {
	var e validation.Errors
	validTenant(&e, "tenant", req.Tenant, true)
	s.validTenantWebhookAddress(&e, req.Tenant)
	if err := errOrInvalid(&e); err != nil {
		return nil, err
	}
	in := req.Tenant
	if in.Name != "" {
		cur, err := s.st.GetTenant(ctx, in.Id)
		if err != nil {
			return nil, s.storeError(ctx, "update tenant", err)
		}
		if cur.Name != in.Name {
			return nil, invalidField("tenant.name", "is immutable; create a new tenant to rename")
		}
	}
	if in.Tier == sirsiv1.Tier_TIER_UNSPECIFIED {
		in.Tier = defaultTier
	}
	t, err := s.st.UpdateTenant(ctx, in)
	if errors.Is(err, store.ErrInvalidArgument) && in.WebhookUrl != "" && in.WebhookSecret == "" {
		return nil, invalidField("tenant.webhook_secret", "is required when webhook_url is set and the tenant has no stored secret to keep")
	}
	if err != nil {
		return nil, s.storeError(ctx, "update tenant", err)
	}
	return &sirsiv1.UpdateTenantResponse{Tenant: publicTenant(t)}, nil
}

func (s *Server) DeleteTenant(ctx context.Context, req *sirsiv1.DeleteTenantRequest) (*sirsiv1.DeleteTenantResponse, error) {
	var e validation.Errors
	e.Check("id", validation.ID(req.Id))
	e.Check("version", validVersion(req.Version))
	if err := errOrInvalid(&e); err != nil {
		return nil, err
	}
	if err := s.st.DeleteTenant(ctx, req.Id, req.Version, req.Force); err != nil {
		return nil, s.storeError(ctx, "delete tenant", err)
	}
	return &sirsiv1.DeleteTenantResponse{}, nil
}

func (s *Server) ListTenants(ctx context.Context, req *sirsiv1.ListTenantsRequest) (*sirsiv1.ListTenantsResponse, error) {
	var e validation.Errors
	validPage(&e, req.PageSize)
	if err := errOrInvalid(&e); err != nil {
		return nil, err
	}
	ts, next, err := s.st.ListTenants(ctx, store.Page{Size: int(req.PageSize), Token: req.PageToken})
	if err != nil {
		return nil, s.storeError(ctx, "list tenants", err)
	}
	for _, t := range ts {
		publicTenant(t)
	}
	return &sirsiv1.ListTenantsResponse{Tenants: ts, NextPageToken: next}, nil
}

// publicTenant makes a stored tenant fit for a response: the webhook secret
// is input only and never leaves the control plane, webhook_secret_set
// says whether one is stored. It changes t in place and returns it.
func publicTenant(t *sirsiv1.Tenant) *sirsiv1.Tenant {
	t.WebhookSecretSet = t.WebhookSecret != ""
	t.WebhookSecret = ""
	return t
}
