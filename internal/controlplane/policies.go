package controlplane

import (
	"context"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

func (s *Server) CreateOptimizationPolicy(ctx context.Context, req *sirsiv1.CreateOptimizationPolicyRequest) (*sirsiv1.CreateOptimizationPolicyResponse, error) {
	var e validation.Errors
	validPolicy(&e, "optimization_policy", req.OptimizationPolicy, false)
	if err := errOrInvalid(&e); err != nil {
		return nil, err
	}
	in := req.OptimizationPolicy
	policy.ApplyDefaults(in)
	p, err := s.st.Tenant(in.TenantId).CreatePolicy(ctx, in)
	if err != nil {
		return nil, s.storeError(ctx, "create optimization policy", err)
	}
	return &sirsiv1.CreateOptimizationPolicyResponse{OptimizationPolicy: p}, nil
}

func (s *Server) GetOptimizationPolicy(ctx context.Context, req *sirsiv1.GetOptimizationPolicyRequest) (*sirsiv1.GetOptimizationPolicyResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	p, err := s.st.Tenant(req.TenantId).GetPolicy(ctx, req.Id)
	if err != nil {
		return nil, s.storeError(ctx, "get optimization policy", err)
	}
	return &sirsiv1.GetOptimizationPolicyResponse{OptimizationPolicy: p}, nil
}

func (s *Server) UpdateOptimizationPolicy(ctx context.Context, req *sirsiv1.UpdateOptimizationPolicyRequest) (*sirsiv1.UpdateOptimizationPolicyResponse, error) {
	var e validation.Errors
	validPolicy(&e, "optimization_policy", req.OptimizationPolicy, true)
	if err := errOrInvalid(&e); err != nil {
		return nil, err
	}
	in := req.OptimizationPolicy
	policy.ApplyDefaults(in)
	p, err := s.st.Tenant(in.TenantId).UpdatePolicy(ctx, in)
	if err != nil {
		return nil, s.storeError(ctx, "update optimization policy", err)
	}
	return &sirsiv1.UpdateOptimizationPolicyResponse{OptimizationPolicy: p}, nil
}

func (s *Server) DeleteOptimizationPolicy(ctx context.Context, req *sirsiv1.DeleteOptimizationPolicyRequest) (*sirsiv1.DeleteOptimizationPolicyResponse, error) {
	if err := validDelete(req.TenantId, req.Id, req.Version); err != nil {
		return nil, err
	}
	if err := s.st.Tenant(req.TenantId).DeletePolicy(ctx, req.Id, req.Version); err != nil {
		return nil, s.storeError(ctx, "delete optimization policy", err)
	}
	return &sirsiv1.DeleteOptimizationPolicyResponse{}, nil
}

func (s *Server) ListOptimizationPolicies(ctx context.Context, req *sirsiv1.ListOptimizationPoliciesRequest) (*sirsiv1.ListOptimizationPoliciesResponse, error) {
	if err := validList(req.TenantId, req.PageSize); err != nil {
		return nil, err
	}
	list, next, err := s.st.Tenant(req.TenantId).ListPolicies(ctx, store.Page{Size: int(req.PageSize), Token: req.PageToken})
	if err != nil {
		return nil, s.storeError(ctx, "list optimization policies", err)
	}
	return &sirsiv1.ListOptimizationPoliciesResponse{OptimizationPolicies: list, NextPageToken: next}, nil
}
