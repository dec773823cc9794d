package controlplane

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// DefaultMaxActionsPerHour is the tenant-wide cap when the tenant sets no
// max_actions_per_hour.
const DefaultMaxActionsPerHour = 20

// auditReserve is the audit action of ReserveActions.
const auditReserve = "agent.reserve_actions"

// ReserveActions grants the agent up to count actions under its tenant's
// cap on actions started in any trailing hour, counted over every agent of
// the tenant (store.ReserveActions serialises them). The grant may be 0;
// below count, retry_time says when the window has room again. Asking
// again with the same reservation_id returns the same answer and counts
// nothing twice. The policy must exist in the caller's tenant (NotFound).
func (a *AgentServer) ReserveActions(ctx context.Context, req *sirsiv1.ReserveActionsRequest) (*sirsiv1.ReserveActionsResponse, error) {
	s := a.s
	c := callerFrom(ctx)
	ev := &sirsiv1.AuditEvent{TenantId: c.id.TenantID, Actor: c.principal.Actor(), Action: auditReserve, Target: "reservation"}
	resp, err := s.reserveActions(ctx, c, req, ev)
	s.auditAgent(ctx, ev, err)
	return resp, err
}

func (s *Server) reserveActions(ctx context.Context, c *agentCaller, req *sirsiv1.ReserveActionsRequest, ev *sirsiv1.AuditEvent) (*sirsiv1.ReserveActionsResponse, error) {
	if err := validateReserveActions(req); err != nil {
		return nil, err
	}
	ev.Target = "reservation/" + req.ReservationId
	g, err := s.st.Tenant(c.id.TenantID).ReserveActions(ctx, store.Reservation{
		ID: req.ReservationId, CloudAccountID: c.id.CloudAccountID, PolicyID: req.PolicyId, Count: int(req.Count),
		At: s.now(), DefaultLimit: DefaultMaxActionsPerHour,
	})
	if isNotFound(err) {
		return nil, status.Errorf(codes.NotFound, "optimization policy %q does not exist in this tenant", req.PolicyId)
	}
	if err != nil {
		return nil, s.storeError(ctx, "reserve actions", err)
	}
	ev.Detail = fmt.Sprintf("policy %s: asked %d, granted %d", req.PolicyId, req.Count, g.Granted)
	resp := &sirsiv1.ReserveActionsResponse{Granted: int32(g.Granted)}
	if !g.RetryAt.IsZero() {
		resp.RetryTime = timestamppb.New(g.RetryAt)
	}
	return resp, nil
}
