package controlplane

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/crashpoint"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// The Report* handlers validate, overwrite every tenant and account id in
// the payload with the caller's, and apply the batch through the caller's
// tenant store with the caller's cloud account.

func (a *AgentServer) ReportInventory(ctx context.Context, req *sirsiv1.ReportInventoryRequest) (*sirsiv1.ReportInventoryResponse, error) {
	s := a.s
	if err := validateReportInventory(req); err != nil {
		return nil, err
	}
	c := callerFrom(ctx)
	for _, r := range req.Upserts {
		r.TenantId, r.CloudAccountId, r.AccountId = c.id.TenantID, c.id.CloudAccountID, c.accountID
	}
	observed := s.now()
	if req.ObserveTime != nil {
		observed = req.ObserveTime.AsTime()
	}
	crashpoint.Hit(crashpoint.ServerIngestReceived)
	res, err := s.st.Tenant(c.id.TenantID).ApplyInventory(ctx, c.id.CloudAccountID, req.BatchId, store.InventoryBatch{
		Upserts: req.Upserts, Deletions: req.Deletions, ObservedAt: observed, Units: req.Units,
	})
	if err != nil {
		return nil, s.storeError(ctx, "apply inventory batch", err)
	}
	crashpoint.Hit(crashpoint.ServerAfterCommit)
	return &sirsiv1.ReportInventoryResponse{Duplicate: res.Duplicate, Missing: res.Missing}, nil
}

func (a *AgentServer) ReportUtilization(ctx context.Context, req *sirsiv1.ReportUtilizationRequest) (*sirsiv1.ReportUtilizationResponse, error) {
	s := a.s
	if err := validateReportUtilization(req); err != nil {
		return nil, err
	}
	c := callerFrom(ctx)
	for _, u := range req.Summaries {
		u.TenantId, u.CloudAccountId = c.id.TenantID, c.id.CloudAccountID
	}
	dup, err := s.st.Tenant(c.id.TenantID).ApplyUtilization(ctx, c.id.CloudAccountID, req.BatchId, req.Summaries)
	if err != nil {
		return nil, s.storeError(ctx, "apply utilization batch", err)
	}
	return &sirsiv1.ReportUtilizationResponse{Duplicate: dup}, nil
}

// ReportCosts: the store writes an event for each anomaly new or changed
// to the outbox; the webhook workers are woken for them.
func (a *AgentServer) ReportCosts(ctx context.Context, req *sirsiv1.ReportCostsRequest) (*sirsiv1.ReportCostsResponse, error) {
	s := a.s
	if err := validateReportCosts(req); err != nil {
		return nil, err
	}
	c := callerFrom(ctx)
	if len(req.ResourceCosts) > 0 || req.ResourceCostsUnavailable != "" {
		// A management account's agent sees its linked accounts' resources
		// too; the ledger reconciled here is the caller's account's.
		costs := slices.DeleteFunc(req.ResourceCosts, func(rc *sirsiv1.ResourceCost) bool { return rc.AccountId != "" && rc.AccountId != c.accountID })
		dup, err := s.st.Tenant(c.id.TenantID).ApplyResourceCosts(ctx, c.id.CloudAccountID, req.BatchId, costs, req.ResourceCostsUnavailable)
		if err != nil {
			return nil, s.storeError(ctx, "apply resource cost batch", err)
		}
		return &sirsiv1.ReportCostsResponse{Duplicate: dup}, nil
	}
	for _, r := range req.Records {
		r.AccountId = c.accountID
	}
	for _, an := range req.Anomalies {
		// The store names anomalies itself: an id chosen by one account's
		// agent must not collide with another's row.
		an.Id, an.TenantId, an.CloudAccountId = "", c.id.TenantID, c.id.CloudAccountID
	}
	dup, err := s.st.Tenant(c.id.TenantID).ApplyCosts(ctx, c.id.CloudAccountID, req.BatchId, req.Records, req.Anomalies)
	if err != nil {
		return nil, s.storeError(ctx, "apply cost batch", err)
	}
	if !dup && len(req.Anomalies) > 0 {
		s.hooks.wake()
	}
	return &sirsiv1.ReportCostsResponse{Duplicate: dup}, nil
}

// ReportRecommendations needs the policy to exist in the caller's tenant
// (NotFound otherwise). Ids and statuses are the server's: reported ones
// are ignored.
func (a *AgentServer) ReportRecommendations(ctx context.Context, req *sirsiv1.ReportRecommendationsRequest) (*sirsiv1.ReportRecommendationsResponse, error) {
	s := a.s
	if err := validateReportRecommendations(req); err != nil {
		return nil, err
	}
	c := callerFrom(ctx)
	ts := s.st.Tenant(c.id.TenantID)
	if _, err := ts.GetPolicy(ctx, req.PolicyId); err != nil {
		if isNotFound(err) {
			return nil, status.Errorf(codes.NotFound, "optimization policy %q does not exist in this tenant", req.PolicyId)
		}
		return nil, s.storeError(ctx, "get optimization policy", err)
	}
	for _, r := range req.Recommendations {
		r.Id, r.TenantId, r.CloudAccountId, r.PolicyId = "", c.id.TenantID, c.id.CloudAccountID, req.PolicyId
		r.Status, r.CreateTime, r.UpdateTime = sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_UNSPECIFIED, nil, nil
	}
	ids, dup, err := ts.ApplyRecommendations(ctx, c.id.CloudAccountID, req.BatchId, req.PolicyId, req.ResourceTypes, req.Recommendations)
	if err != nil {
		return nil, s.storeError(ctx, "apply recommendation batch", err)
	}
	return &sirsiv1.ReportRecommendationsResponse{Duplicate: dup, RecommendationIds: ids}, nil
}

// ReportActions audits every action of a new batch. An action naming a
// recommendation or a plan must name one of the caller's cloud account,
// since a finished action marks its recommendation executed (whatever the
// outcome: the approval is used up and the action record carries the
// outcome) and completes its approved plan.
func (a *AgentServer) ReportActions(ctx context.Context, req *sirsiv1.ReportActionsRequest) (*sirsiv1.ReportActionsResponse, error) {
	s := a.s
	if err := validateReportActions(req); err != nil {
		return nil, err
	}
	c := callerFrom(ctx)
	ts := s.st.Tenant(c.id.TenantID)
	if err := s.checkActionRecommendations(ctx, ts, c, req.Actions, "actions"); err != nil {
		return nil, err
	}
	if err := s.checkActionPlans(ctx, ts, c, req.Actions); err != nil {
		return nil, err
	}
	for _, act := range req.Actions {
		act.TenantId, act.CloudAccountId = c.id.TenantID, c.id.CloudAccountID
	}
	dup, err := ts.ApplyActions(ctx, c.id.CloudAccountID, req.BatchId, req.Actions)
	if err != nil {
		return nil, s.storeError(ctx, "apply action batch", err)
	}
	crashpoint.Hit(crashpoint.ServerActionsAfterCommit)
	if !dup {
		s.hooks.wake()
	}
	// Audited even when the batch is a duplicate: a replica killed after
	// storing it and before auditing it left the audit to the agent's
	// retry, perhaps on another replica. The event id is the action's and
	// its outcome's, and the store appends an id once.
	for _, act := range req.Actions {
		outcome := validation.EnumName(act.Status)
		s.appendAudit(ctx, &sirsiv1.AuditEvent{
			Id:       actionAuditID(c.id.TenantID, act.Id, outcome),
			TenantId: c.id.TenantID, Time: timestamppb.New(s.now()), RequestId: requestID(ctx), Actor: c.principal.Actor(),
			SourceAddress: sourceAddress(ctx), Action: auditAction, Target: act.ResourceId, Outcome: outcome,
			Detail: fmt.Sprintf("action %s: %s %s (%s -> %s), dry_run=%t", act.Id, act.Action, act.ResourceType, act.FromSize, act.ToSize, act.DryRun),
		})
	}
	return &sirsiv1.ReportActionsResponse{Duplicate: dup}, nil
}

// actionAuditID names the audit event of one outcome of one action: the
// same on every replica and every retry.
func actionAuditID(tenantID, actionID, outcome string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("sirsi:audit:"+auditAction+"/"+tenantID+"/"+actionID+"/"+outcome)).String()
}

func (s *Server) checkActionRecommendations(ctx context.Context, ts store.TenantStore, c *agentCaller, actions []*sirsiv1.Action, path string) error {
	var e validation.Errors
	ok := map[string]bool{}
	for i, act := range actions {
		id := act.RecommendationId
		if id == "" {
			continue
		}
		if _, seen := ok[id]; !seen {
			r, err := ts.GetRecommendation(ctx, id)
			if err != nil && !isNotFound(err) {
				return s.storeError(ctx, "get recommendation", err)
			}
			ok[id] = err == nil && r.CloudAccountId == c.id.CloudAccountID
		}
		if !ok[id] {
			e.Add(fmt.Sprintf("%s[%d].recommendation_id", path, i), fmt.Sprintf("%q is not a recommendation of this agent's cloud account", id))
		}
	}
	return errOrInvalid(&e)
}
