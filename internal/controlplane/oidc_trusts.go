package controlplane

import (
	"context"

	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// CreateOidcTrust stores a trust with its defaults filled in, so what is
// read back is what the verifier applies.
func (s *Server) CreateOidcTrust(ctx context.Context, req *sirsiv1.CreateOidcTrustRequest) (*sirsiv1.CreateOidcTrustResponse, error) {
	var e validation.Errors
	validOIDCTrust(&e, "oidc_trust", req.OidcTrust, false)
	if err := errOrInvalid(&e); err != nil {
		return nil, err
	}
	o, err := s.st.Tenant(req.OidcTrust.TenantId).CreateOIDCTrust(ctx, withOIDCDefaults(req.OidcTrust))
	if err != nil {
		return nil, s.storeError(ctx, "create OIDC trust", err)
	}
	return &sirsiv1.CreateOidcTrustResponse{OidcTrust: o}, nil
}

func (s *Server) GetOidcTrust(ctx context.Context, req *sirsiv1.GetOidcTrustRequest) (*sirsiv1.GetOidcTrustResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	o, err := s.st.Tenant(req.TenantId).GetOIDCTrust(ctx, req.Id)
	if err != nil {
		return nil, s.storeError(ctx, "get OIDC trust", err)
	}
	return &sirsiv1.GetOidcTrustResponse{OidcTrust: o}, nil
}

func (s *Server) UpdateOidcTrust(ctx context.Context, req *sirsiv1.UpdateOidcTrustRequest) (*sirsiv1.UpdateOidcTrustResponse, error) {
	var e validation.Errors
	validOIDCTrust(&e, "oidc_trust", req.OidcTrust, true)
	if err := errOrInvalid(&e); err != nil {
		return nil, err
	}
	o, err := s.st.Tenant(req.OidcTrust.TenantId).UpdateOIDCTrust(ctx, withOIDCDefaults(req.OidcTrust))
	if err != nil {
		return nil, s.storeError(ctx, "update OIDC trust", err)
	}
	return &sirsiv1.UpdateOidcTrustResponse{OidcTrust: o}, nil
}

func (s *Server) DeleteOidcTrust(ctx context.Context, req *sirsiv1.DeleteOidcTrustRequest) (*sirsiv1.DeleteOidcTrustResponse, error) {
	if err := validDelete(req.TenantId, req.Id, req.Version); err != nil {
		return nil, err
	}
	if err := s.st.Tenant(req.TenantId).DeleteOIDCTrust(ctx, req.Id, req.Version); err != nil {
		return nil, s.storeError(ctx, "delete OIDC trust", err)
	}
	return &sirsiv1.DeleteOidcTrustResponse{}, nil
}

func (s *Server) ListOidcTrusts(ctx context.Context, req *sirsiv1.ListOidcTrustsRequest) (*sirsiv1.ListOidcTrustsResponse, error) {
	if err := validList(req.TenantId, req.PageSize); err != nil {
		return nil, err
	}
	list, next, err := s.st.Tenant(req.TenantId).ListOIDCTrusts(ctx, store.Page{Size: int(req.PageSize), Token: req.PageToken})
	if err != nil {
		return nil, s.storeError(ctx, "list OIDC trusts", err)
	}
	return &sirsiv1.ListOidcTrustsResponse{OidcTrusts: list, NextPageToken: next}, nil
}

// withOIDCDefaults fills the subject claim and token age a trust left
// unset with validation's defaults.
func withOIDCDefaults(o *sirsiv1.OidcTrust) *sirsiv1.OidcTrust {
	if o.SubjectClaim == "" {
		o.SubjectClaim = validation.DefaultOIDCSubjectClaim
	}
	if o.MaxTokenAge.AsDuration() == 0 {
		o.MaxTokenAge = durationpb.New(validation.DefaultOIDCMaxTokenAge)
	}
	return o
}
