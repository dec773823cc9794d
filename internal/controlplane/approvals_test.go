package controlplane_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

// The approval state machine's every move is in the store conformance
// suite; this is what the API adds: who approved, the codes, the audit.
func TestRecommendationApprovalThroughTheAPI(t *testing.T) {
	e := startAgentEnv(t)
	ctx := context.Background()
	ag := e.EnrollAgent(t, e.tn.ID, e.acct.Id)
	pol, err := e.tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{TenantId: e.tn.ID, Name: "rs"}})
	if err != nil {
		t.Fatal(err)
	}
	policyID := pol.OptimizationPolicy.Id
	report := func(batch, proposed string) []string {
		t.Helper()
		resp, err := ag.Client.ReportRecommendations(ctx, &sirsiv1.ReportRecommendationsRequest{BatchId: batch, PolicyId: policyID, Recommendations: []*sirsiv1.Recommendation{
			{ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", CurrentSize: "m5.xlarge", ProposedSize: proposed, Confidence: 0.9},
			{ResourceId: "i-2", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "stop", CurrentSize: "m5.large", Confidence: 0.9},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return resp.RecommendationIds
	}
	ids := report("r1", "m5.large")

	_, err = e.tn.Viewer.ApproveRecommendation(ctx, &sirsiv1.ApproveRecommendationRequest{Id: ids[0]})
	wantAgentCode(t, err, codes.PermissionDenied, "viewer approves")
	approveAt := e.Clock.Now().Truncate(time.Second).Add(time.Minute)
	e.Clock.Set(approveAt)
	ap, err := e.tn.Editor.ApproveRecommendation(ctx, &sirsiv1.ApproveRecommendationRequest{Id: ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	r := ap.Recommendation
	if r.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED || !strings.HasPrefix(r.ApprovedBy, "token:") || r.ApproveTime == nil ||
		!r.ApproveTime.AsTime().Equal(approveAt) {
		t.Fatalf("approved = %v, want approve time %v", r, approveAt)
	}
	_, err = e.tn.Editor.ApproveRecommendation(ctx, &sirsiv1.ApproveRecommendationRequest{Id: ids[0]})
	wantAgentCode(t, err, codes.FailedPrecondition, "approve twice")
	if !strings.Contains(err.Error(), "approved") {
		t.Errorf("refusal does not name the status: %v", err)
	}
	_, err = e.tn.Editor.ApproveRecommendation(ctx, &sirsiv1.ApproveRecommendationRequest{Id: "nope"})
	wantAgentCode(t, err, codes.NotFound, "approve unknown")

	// The agent sees it; re-reporting the same proposal keeps it.
	if got := report("r2", "m5.large"); got[0] != ids[0] {
		t.Fatalf("re-reported ids %v, want %s first", got, ids[0])
	}
	asg, err := ag.Client.GetAssignment(ctx, &sirsiv1.GetAssignmentRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(asg.ApprovedRecommendations) != 1 || asg.ApprovedRecommendations[0].Id != ids[0] {
		t.Fatalf("approved recommendations in the assignment = %v", asg.ApprovedRecommendations)
	}
	// A different proposal for the resource does not inherit the approval.
	changed := report("r3", "m5.medium")
	if changed[0] == ids[0] {
		t.Fatal("a new proposal kept the approved recommendation's id")
	}
	got, err := e.tn.Viewer.GetRecommendation(ctx, &sirsiv1.GetRecommendationRequest{Id: ids[0]})
	if err != nil || got.Recommendation.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_SUPERSEDED {
		t.Fatalf("approved recommendation after a new proposal: %v, %v", got, err)
	}
	asg, err = ag.Client.GetAssignment(ctx, &sirsiv1.GetAssignmentRequest{})
	if err != nil || len(asg.ApprovedRecommendations) != 0 {
		t.Fatalf("assignment after the new proposal: %v, %v", asg, err)
	}

	if _, err := e.tn.Editor.ApproveRecommendation(ctx, &sirsiv1.ApproveRecommendationRequest{Id: changed[0]}); err != nil {
		t.Fatal(err)
	}
	rv, err := e.tn.Editor.RevokeRecommendationApproval(ctx, &sirsiv1.RevokeRecommendationApprovalRequest{Id: changed[0]})
	if err != nil || rv.Recommendation.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN || rv.Recommendation.ApprovedBy != "" || rv.Recommendation.ApproveTime != nil {
		t.Fatalf("revoked: %v, %v", rv, err)
	}
	ds, err := e.tn.Editor.DismissRecommendation(ctx, &sirsiv1.DismissRecommendationRequest{Id: changed[1]})
	if err != nil || ds.Recommendation.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_DISMISSED {
		t.Fatalf("dismissed: %v, %v", ds, err)
	}

	// Executed: revoking is refused.
	if _, err := e.tn.Editor.ApproveRecommendation(ctx, &sirsiv1.ApproveRecommendationRequest{Id: changed[0]}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.Client.ReportActions(ctx, &sirsiv1.ReportActionsRequest{BatchId: "a1", Actions: []*sirsiv1.Action{{
		Id: "act-1", PolicyId: policyID, RecommendationId: changed[0], ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1",
		Action: "resize", FromSize: "m5.xlarge", ToSize: "m5.medium", Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, RealizedMonthlySavings: money.USDFromFloat(70.08),
	}}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.tn.Editor.RevokeRecommendationApproval(ctx, &sirsiv1.RevokeRecommendationApprovalRequest{Id: changed[0]})
	wantAgentCode(t, err, codes.FailedPrecondition, "revoke executed")
	sum, err := e.tn.Viewer.GetSavingsSummary(ctx, &sirsiv1.GetSavingsSummaryRequest{})
	// Neither the action nor its recommendation priced the resize: its
	// ledger entry is unknown, counted as such and absent from amounts.
	if err != nil || sum.OpenEntries != 0 || sum.UnknownEntries != 1 || sum.MonthlyRunRate.GetMicros() != 0 || sum.ActionsSucceeded != 1 {
		t.Fatalf("savings: %v, %v", sum, err)
	}

	// Every approval, revocation and dismissal is audited, refusals too.
	for _, tc := range []struct {
		method string
		want   map[string]int
	}{
		{sirsiv1.ManagementService_ApproveRecommendation_FullMethodName, map[string]int{"ok": 3, "FailedPrecondition": 1, "NotFound": 1, "PermissionDenied": 1}},
		{sirsiv1.ManagementService_RevokeRecommendationApproval_FullMethodName, map[string]int{"ok": 1, "FailedPrecondition": 1}},
		{sirsiv1.ManagementService_DismissRecommendation_FullMethodName, map[string]int{"ok": 1}},
	} {
		got := map[string]int{}
		for _, ev := range auditEvents(t, e.Env, e.tn.ID, tc.method) {
			got[ev.Outcome]++
			if ev.Outcome == "ok" && (!strings.HasPrefix(ev.Actor, "token:") || !strings.HasPrefix(ev.Target, "recommendation/")) {
				t.Errorf("%s audited with actor %q target %q", tc.method, ev.Actor, ev.Target)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s audit outcomes %v, want %v", tc.method, got, tc.want)
		}
	}
}
