package controlplane

import (
	"context"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

func (s *Server) ListAgents(ctx context.Context, req *sirsiv1.ListAgentsRequest) (*sirsiv1.ListAgentsResponse, error) {
	var e validation.Errors
	validTenantScoped(&e, req.TenantId)
	e.Check("cloud_account_id", validation.OptionalID(req.CloudAccountId))
	validPage(&e, req.PageSize)
	if err := errOrInvalid(&e); err != nil {
		return nil, err
	}
	list, next, err := s.st.Tenant(req.TenantId).ListAgents(ctx, req.CloudAccountId, store.Page{Size: int(req.PageSize), Token: req.PageToken})
	if err != nil {
		return nil, s.storeError(ctx, "list agents", err)
	}
	for _, a := range list {
		s.presentAgent(a)
	}
	return &sirsiv1.ListAgentsResponse{Agents: list, NextPageToken: next}, nil
}

func (s *Server) GetAgent(ctx context.Context, req *sirsiv1.GetAgentRequest) (*sirsiv1.GetAgentResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	a, err := s.st.Tenant(req.TenantId).GetAgent(ctx, req.Id)
	if err != nil {
		return nil, s.storeError(ctx, "get agent", err)
	}
	return &sirsiv1.GetAgentResponse{Agent: s.presentAgent(a)}, nil
}

func (s *Server) RevokeAgent(ctx context.Context, req *sirsiv1.RevokeAgentRequest) (*sirsiv1.RevokeAgentResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	a, err := s.st.Tenant(req.TenantId).RevokeAgent(ctx, req.Id)
	if err != nil {
		return nil, s.storeError(ctx, "revoke agent", err)
	}
	return &sirsiv1.RevokeAgentResponse{Agent: s.presentAgent(a)}, nil
}

// presentAgent computes connected/stale at read time; revoked and a
// failed credentials check are stored.
// An agent that never sent a heartbeat counts from its enrollment.
func (s *Server) presentAgent(a *sirsiv1.Agent) *sirsiv1.Agent {
	if a.Status == sirsiv1.AgentStatus_AGENT_STATUS_REVOKED {
		return a
	}
	seen := a.LastSeenTime
	if seen == nil {
		seen = a.EnrollTime
	}
	switch {
	case seen == nil || s.now().Sub(seen.AsTime()) > s.staleAfter:
		a.Status = sirsiv1.AgentStatus_AGENT_STATUS_STALE
		a.StatusDetail = ""
	case a.Status == sirsiv1.AgentStatus_AGENT_STATUS_CREDENTIALS_MISMATCH, a.Status == sirsiv1.AgentStatus_AGENT_STATUS_ASSUME_ROLE_FAILED:
		// Stored by the agent's last heartbeat, with status_detail.
	default:
		a.Status = sirsiv1.AgentStatus_AGENT_STATUS_CONNECTED
	}
	return a
}
