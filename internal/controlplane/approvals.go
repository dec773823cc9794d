package controlplane

import (
	"context"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// Recommendation approvals. The state machine lives in the store, in one
// transaction per change:
//
//	open     --approve--> approved (approved_by = the caller, approve_time)
//	approved --revoke---> open     (approver cleared; revoking an open one is a no-op)
//	open, approved --dismiss--> dismissed (dismissing again is a no-op)
//	open, approved --an action reported finished--> executed
//	open, approved --re-reported with other sizes, or not at all--> superseded
//
// Any other move is FailedPrecondition naming the current status. An
// approval is for exactly the change proposed: when the agent proposes a
// different size for the resource, the approved recommendation is
// superseded and the new proposal is open.

func (s *Server) GetRecommendation(ctx context.Context, req *sirsiv1.GetRecommendationRequest) (*sirsiv1.GetRecommendationResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	r, err := s.st.Tenant(req.TenantId).GetRecommendation(ctx, req.Id)
	if err != nil {
		return nil, s.storeError(ctx, "get recommendation", err)
	}
	return &sirsiv1.GetRecommendationResponse{Recommendation: r}, nil
}

func (s *Server) ApproveRecommendation(ctx context.Context, req *sirsiv1.ApproveRecommendationRequest) (*sirsiv1.ApproveRecommendationResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	r, err := s.st.Tenant(req.TenantId).ApproveRecommendation(ctx, req.Id, PrincipalFrom(ctx).Actor(), s.now())
	if err != nil {
		return nil, s.storeError(ctx, "approve recommendation", err)
	}
	return &sirsiv1.ApproveRecommendationResponse{Recommendation: r}, nil
}

func (s *Server) RevokeRecommendationApproval(ctx context.Context, req *sirsiv1.RevokeRecommendationApprovalRequest) (*sirsiv1.RevokeRecommendationApprovalResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	r, err := s.st.Tenant(req.TenantId).RevokeRecommendationApproval(ctx, req.Id)
	if err != nil {
		return nil, s.storeError(ctx, "revoke recommendation approval", err)
	}
	return &sirsiv1.RevokeRecommendationApprovalResponse{Recommendation: r}, nil
}

func (s *Server) DismissRecommendation(ctx context.Context, req *sirsiv1.DismissRecommendationRequest) (*sirsiv1.DismissRecommendationResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	r, err := s.st.Tenant(req.TenantId).DismissRecommendation(ctx, req.Id)
	if err != nil {
		return nil, s.storeError(ctx, "dismiss recommendation", err)
	}
	return &sirsiv1.DismissRecommendationResponse{Recommendation: r}, nil
}
