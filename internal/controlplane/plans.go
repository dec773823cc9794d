package controlplane

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// Saved action plans: an agent reports a dry run (ReportActionPlan) and it
// is pending; a newer plan of the same policy and cloud account supersedes
// a pending one; an editor approves a pending plan as a whole
// (ApproveActionPlan); GetAssignment hands approved plans to the agent of
// their cloud account; once the agent has reported a finished action with
// the plan's id for every action of the plan, the plan is executed.

// auditActionPlan is the audit action of a reported plan.
const auditActionPlan = "agent.action_plan"

func (s *Server) ListActionPlans(ctx context.Context, req *sirsiv1.ListActionPlansRequest) (*sirsiv1.ListActionPlansResponse, error) {
	if err := validateListActionPlans(req); err != nil {
		return nil, err
	}
	f := store.ActionPlanFilter{PolicyID: req.PolicyId, Status: req.Status}
	list, next, err := s.st.Tenant(req.TenantId).ListActionPlans(ctx, f, store.Page{Size: int(req.PageSize), Token: req.PageToken})
	if err != nil {
		return nil, s.storeError(ctx, "list action plans", err)
	}
	return &sirsiv1.ListActionPlansResponse{Plans: list, NextPageToken: next}, nil
}

func (s *Server) GetActionPlan(ctx context.Context, req *sirsiv1.GetActionPlanRequest) (*sirsiv1.GetActionPlanResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	p, err := s.st.Tenant(req.TenantId).GetActionPlan(ctx, req.Id)
	if err != nil {
		return nil, s.storeError(ctx, "get action plan", err)
	}
	return &sirsiv1.GetActionPlanResponse{Plan: p}, nil
}

func (s *Server) ApproveActionPlan(ctx context.Context, req *sirsiv1.ApproveActionPlanRequest) (*sirsiv1.ApproveActionPlanResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	p, err := s.st.Tenant(req.TenantId).ApproveActionPlan(ctx, req.Id, PrincipalFrom(ctx).Actor(), s.now())
	if err != nil {
		return nil, s.storeError(ctx, "approve action plan", err)
	}
	return &sirsiv1.ApproveActionPlanResponse{Plan: p}, nil
}

// ReportActionPlan saves the plan under the caller's tenant and cloud
// account (ids in the payload are overwritten), pending. The policy must
// exist in the tenant (NotFound) and every action must carry out a
// recommendation of the caller's cloud account (InvalidArgument naming
// the action). A plan id another cloud account already used is
// AlreadyExists. Idempotent per batch id; a new batch naming a plan already
// saved for this account changes nothing and answers duplicate.
func (a *AgentServer) ReportActionPlan(ctx context.Context, req *sirsiv1.ReportActionPlanRequest) (*sirsiv1.ReportActionPlanResponse, error) {
	s := a.s
	c := callerFrom(ctx)
	ev := &sirsiv1.AuditEvent{TenantId: c.id.TenantID, Actor: c.principal.Actor(), Action: auditActionPlan, Target: "action_plan"}
	resp, err := s.reportActionPlan(ctx, c, req, ev)
	s.auditAgent(ctx, ev, err)
	return resp, err
}

func (s *Server) reportActionPlan(ctx context.Context, c *agentCaller, req *sirsiv1.ReportActionPlanRequest, ev *sirsiv1.AuditEvent) (*sirsiv1.ReportActionPlanResponse, error) {
	if err := validateReportActionPlan(req); err != nil {
		return nil, err
	}
	pl := req.Plan
	ev.Target = "action_plan/" + pl.Id
	ts := s.st.Tenant(c.id.TenantID)
	if _, err := ts.GetPolicy(ctx, pl.PolicyId); err != nil {
		if isNotFound(err) {
			return nil, status.Errorf(codes.NotFound, "optimization policy %q does not exist in this tenant", pl.PolicyId)
		}
		return nil, s.storeError(ctx, "get optimization policy", err)
	}
	if err := s.checkActionRecommendations(ctx, ts, c, pl.Actions, "plan.actions"); err != nil {
		return nil, err
	}
	pl.TenantId, pl.CloudAccountId = c.id.TenantID, c.id.CloudAccountID
	pl.Status, pl.ApprovedBy, pl.ApproveTime, pl.CreateTime = sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_PENDING, "", nil, timestamppb.New(s.now())
	for _, act := range pl.Actions {
		act.PolicyId = pl.PolicyId
	}
	dup, err := ts.SaveActionPlan(ctx, c.id.CloudAccountID, req.BatchId, pl)
	if err != nil {
		return nil, s.storeError(ctx, "save action plan", err)
	}
	ev.Detail = fmt.Sprintf("policy %s: %d planned actions, %s estimated monthly savings, duplicate=%t", pl.PolicyId, len(pl.Actions), money.Format(pl.EstimatedMonthlySavings), dup)
	return &sirsiv1.ReportActionPlanResponse{Duplicate: dup}, nil
}

// checkActionPlans refuses actions naming a plan that is not of the
// caller's cloud account.
func (s *Server) checkActionPlans(ctx context.Context, ts store.TenantStore, c *agentCaller, actions []*sirsiv1.Action) error {
	var e validation.Errors
	ok := map[string]bool{}
	for i, act := range actions {
		id := act.PlanId
		if id == "" {
			continue
		}
		if _, seen := ok[id]; !seen {
			p, err := ts.GetActionPlan(ctx, id)
			if err != nil && !isNotFound(err) {
				return s.storeError(ctx, "get action plan", err)
			}
			ok[id] = err == nil && p.CloudAccountId == c.id.CloudAccountID
		}
		if !ok[id] {
			e.Add(fmt.Sprintf("actions[%d].plan_id", i), fmt.Sprintf("%q is not an action plan of this agent's cloud account", id))
		}
	}
	return errOrInvalid(&e)
}
