package controlplane_test

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

// plannedActions are the dry-run actions carrying out recIDs, as an agent
// would report them in a plan.
func plannedActions(prefix string, recIDs ...string) []*sirsiv1.Action {
	var out []*sirsiv1.Action
	for i, r := range recIDs {
		out = append(out, &sirsiv1.Action{Id: fmt.Sprintf("%s-%d", prefix, i), RecommendationId: r, ResourceId: fmt.Sprintf("i-%d", i),
			ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", FromSize: "m5.xlarge", ToSize: "m5.large",
			Status: sirsiv1.ActionStatus_ACTION_STATUS_PLANNED, DryRun: true})
	}
	return out
}

// planSetup is an agent with a policy and two open recommendations.
func planSetup(t *testing.T, e *agentEnv, ag *cptest.Agent, name string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	pol, err := e.tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{
		TenantId: e.tn.ID, Name: name, Mode: sirsiv1.PolicyMode_POLICY_MODE_APPROVE, Schedule: "0 2 * * *",
	}})
	if err != nil {
		t.Fatal(err)
	}
	var recs []*sirsiv1.Recommendation
	for i := range 2 {
		recs = append(recs, &sirsiv1.Recommendation{ResourceId: fmt.Sprintf("i-%d", i), ResourceType: "aws_ec2_instance", Region: "us-east-1",
			Action: "resize", CurrentSize: "m5.xlarge", ProposedSize: "m5.large", Confidence: 0.9})
	}
	resp, err := ag.Client.ReportRecommendations(ctx, &sirsiv1.ReportRecommendationsRequest{BatchId: name + "-recs", PolicyId: pol.OptimizationPolicy.Id, Recommendations: recs})
	if err != nil {
		t.Fatal(err)
	}
	return pol.OptimizationPolicy.Id, resp.RecommendationIds
}

func TestActionPlanLifecycle(t *testing.T) {
	e := startAgentEnv(t)
	ctx := context.Background()
	ag := e.EnrollAgent(t, e.tn.ID, e.acct.Id)
	policyID, recs := planSetup(t, e, ag, "plans")

	asgSkip := &sirsiv1.PlanSkip{ResourceId: "i-asg", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "stop",
		Reason: "a member of Auto Scaling group web: the group would replace a stopped instance"}
	reportPlan := func(batch, id string, actions []*sirsiv1.Action) (*sirsiv1.ReportActionPlanResponse, error) {
		return ag.Client.ReportActionPlan(ctx, &sirsiv1.ReportActionPlanRequest{BatchId: batch, Plan: &sirsiv1.ActionPlan{
			Id: id, PolicyId: policyID, Actions: actions, EstimatedMonthlySavings: money.USDFromFloat(140.16), Skipped: []*sirsiv1.PlanSkip{asgSkip},
			// Ids and statuses in the payload are the server's to set.
			TenantId: "someone-else", CloudAccountId: "elsewhere", Status: sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_PENDING,
		}})
	}
	if r, err := reportPlan("p1", "plan-1", plannedActions("p1", recs...)); err != nil || r.Duplicate {
		t.Fatalf("first plan: %v, %v", r, err)
	}
	if r, err := reportPlan("p1", "plan-1", plannedActions("p1", recs...)); err != nil || !r.Duplicate {
		t.Fatalf("the same batch again: %v, %v", r, err)
	}
	got, err := e.tn.Viewer.GetActionPlan(ctx, &sirsiv1.GetActionPlanRequest{Id: "plan-1"})
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Plan; p.Status != sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_PENDING || p.TenantId != e.tn.ID || p.CloudAccountId != e.acct.Id ||
		len(p.Actions) != 2 || p.Actions[0].PlanId != "plan-1" || p.Actions[0].PolicyId != policyID || p.ApprovedBy != "" {
		t.Fatalf("saved plan = %v", p)
	}
	if k := got.Plan.GetSkipped(); len(k) != 1 || !proto.Equal(k[0], asgSkip) {
		t.Errorf("saved plan's skipped = %v, want %v", k, asgSkip)
	}
	// A newer dry run supersedes the pending plan.
	if _, err := reportPlan("p2", "plan-2", plannedActions("p2", recs...)); err != nil {
		t.Fatal(err)
	}
	list, err := e.tn.Viewer.ListActionPlans(ctx, &sirsiv1.ListActionPlansRequest{PolicyId: policyID, Status: sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_SUPERSEDED})
	if err != nil || len(list.Plans) != 1 || list.Plans[0].Id != "plan-1" {
		t.Fatalf("superseded plans: %v, %v", list, err)
	}
	_, err = e.tn.Editor.ApproveActionPlan(ctx, &sirsiv1.ApproveActionPlanRequest{Id: "plan-1"})
	wantAgentCode(t, err, codes.FailedPrecondition, "approve a superseded plan")
	_, err = e.tn.Viewer.ApproveActionPlan(ctx, &sirsiv1.ApproveActionPlanRequest{Id: "plan-2"})
	wantAgentCode(t, err, codes.PermissionDenied, "viewer approves a plan")

	asg, err := ag.Client.GetAssignment(ctx, &sirsiv1.GetAssignmentRequest{})
	if err != nil || len(asg.ApprovedPlans) != 0 {
		t.Fatalf("assignment before approval: %v, %v", asg.GetApprovedPlans(), err)
	}
	ap, err := e.tn.Editor.ApproveActionPlan(ctx, &sirsiv1.ApproveActionPlanRequest{Id: "plan-2"})
	if err != nil || ap.Plan.Status != sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_APPROVED || ap.Plan.ApprovedBy == "" || ap.Plan.ApproveTime == nil {
		t.Fatalf("approved plan: %v, %v", ap, err)
	}
	asg, err = ag.Client.GetAssignment(ctx, &sirsiv1.GetAssignmentRequest{})
	if err != nil || len(asg.ApprovedPlans) != 1 || asg.ApprovedPlans[0].Id != "plan-2" || len(asg.ApprovedPlans[0].Actions) != 2 {
		t.Fatalf("assignment after approval: %v, %v", asg.GetApprovedPlans(), err)
	}
	// Another account of the tenant does not get the plan.
	other := e.NewCloudAccount(t, e.tn.ID, "333333333333")
	agOther := e.EnrollAgent(t, e.tn.ID, other.Id)
	if asg, err := agOther.Client.GetAssignment(ctx, &sirsiv1.GetAssignmentRequest{}); err != nil || len(asg.ApprovedPlans) != 0 {
		t.Fatalf("other account's assignment: %v, %v", asg.GetApprovedPlans(), err)
	}
	// Nor may its agent report actions from it, or reuse its id.
	_, err = agOther.Client.ReportActions(ctx, &sirsiv1.ReportActionsRequest{BatchId: "oa", Actions: []*sirsiv1.Action{{
		Id: "o-1", PlanId: "plan-2", ResourceId: "i-9", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "stop", Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED,
	}}})
	wantAgentCode(t, err, codes.InvalidArgument, "action from another account's plan")
	if v := violations(err); len(v) != 1 || v[0] != "actions[0].plan_id" {
		t.Errorf("violations = %v", v)
	}
	_, err = agOther.Client.ReportActionPlan(ctx, &sirsiv1.ReportActionPlanRequest{BatchId: "op", Plan: &sirsiv1.ActionPlan{Id: "plan-2", PolicyId: policyID}})
	wantAgentCode(t, err, codes.AlreadyExists, "plan id of another account")

	// Carrying it out: executed once every planned action has finished.
	executed := func(batch string, i int, st sirsiv1.ActionStatus) {
		t.Helper()
		if _, err := ag.Client.ReportActions(ctx, &sirsiv1.ReportActionsRequest{BatchId: batch, Actions: []*sirsiv1.Action{{
			Id: fmt.Sprintf("run-%d", i), PlanId: "plan-2", PolicyId: policyID, RecommendationId: recs[i], ResourceId: fmt.Sprintf("i-%d", i),
			ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", FromSize: "m5.xlarge", ToSize: "m5.large", Status: st,
		}}}); err != nil {
			t.Fatal(err)
		}
	}
	planStatus := func() sirsiv1.ActionPlanStatus {
		t.Helper()
		got, err := e.tn.Viewer.GetActionPlan(ctx, &sirsiv1.GetActionPlanRequest{Id: "plan-2"})
		if err != nil {
			t.Fatal(err)
		}
		return got.Plan.Status
	}
	executed("x1", 0, sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED)
	executed("x2", 1, sirsiv1.ActionStatus_ACTION_STATUS_RUNNING)
	if s := planStatus(); s != sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_APPROVED {
		t.Fatalf("plan with an action running = %v", s)
	}
	executed("x3", 1, sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK)
	if s := planStatus(); s != sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_EXECUTED {
		t.Fatalf("plan with every action finished = %v", s)
	}
	if asg, err := ag.Client.GetAssignment(ctx, &sirsiv1.GetAssignmentRequest{}); err != nil || len(asg.ApprovedPlans) != 0 {
		t.Fatalf("assignment after execution: %v, %v", asg.GetApprovedPlans(), err)
	}
	acts, err := e.tn.Viewer.ListActions(ctx, &sirsiv1.ListActionsRequest{})
	if err != nil || len(acts.Actions) != 2 || acts.Actions[0].PlanId != "plan-2" {
		t.Fatalf("actions: %v, %v", acts, err)
	}

	plans := auditEvents(t, e.Env, e.tn.ID, "agent.action_plan")
	outcomes := map[string]int{}
	for _, ev := range plans {
		outcomes[ev.Target+" "+ev.Outcome]++
	}
	want := map[string]int{"action_plan/plan-1 ok": 2, "action_plan/plan-2 ok": 1, "action_plan/plan-2 AlreadyExists": 1}
	if fmt.Sprint(outcomes) != fmt.Sprint(want) {
		t.Errorf("plan reports audited %v, want %v", outcomes, want)
	}
	approvals := auditEvents(t, e.Env, e.tn.ID, sirsiv1.ManagementService_ApproveActionPlan_FullMethodName)
	if len(approvals) != 3 {
		t.Errorf("plan approvals audited %d times, want 3 (one approved, two refused)", len(approvals))
	}
}

func TestReportActionPlanValidation(t *testing.T) {
	e := startAgentEnv(t)
	ctx := context.Background()
	ag := e.EnrollAgent(t, e.tn.ID, e.acct.Id)
	policyID, recs := planSetup(t, e, ag, "valid")
	many := make([]*sirsiv1.Action, 1001)
	for i := range many {
		many[i] = plannedActions(fmt.Sprint(i), recs[0])[0]
	}
	tests := []struct {
		name string
		edit func(p *sirsiv1.ActionPlan)
		want string
	}{
		{"plan id", func(p *sirsiv1.ActionPlan) { p.Id = "" }, "plan.id"},
		{"policy id", func(p *sirsiv1.ActionPlan) { p.PolicyId = "bad id" }, "plan.policy_id"},
		{"status", func(p *sirsiv1.ActionPlan) { p.Status = sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_APPROVED }, "plan.status"},
		{"too many actions", func(p *sirsiv1.ActionPlan) { p.Actions = many }, "plan.actions"},
		{"action not planned", func(p *sirsiv1.ActionPlan) { p.Actions[1].Status = sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED }, "plan.actions[1].status"},
		{"action not a dry run", func(p *sirsiv1.ActionPlan) { p.Actions[0].DryRun = false }, "plan.actions[0].dry_run"},
		{"no recommendation", func(p *sirsiv1.ActionPlan) { p.Actions[0].RecommendationId = "" }, "plan.actions[0].recommendation_id"},
		{"recommendation twice", func(p *sirsiv1.ActionPlan) { p.Actions[1].RecommendationId = p.Actions[0].RecommendationId }, "plan.actions[1].recommendation_id"},
		{"unknown recommendation", func(p *sirsiv1.ActionPlan) { p.Actions[1].RecommendationId = "nope" }, "plan.actions[1].recommendation_id"},
		{"action id twice", func(p *sirsiv1.ActionPlan) { p.Actions[1].Id = p.Actions[0].Id }, "plan.actions[1].id"},
		{"size", func(p *sirsiv1.ActionPlan) { p.Actions[0].ToSize = string(make([]byte, 200)) }, "plan.actions[0].to_size"},
		{"region", func(p *sirsiv1.ActionPlan) { p.Actions[0].Region = "Mars" }, "plan.actions[0].region"},
		{"other policy", func(p *sirsiv1.ActionPlan) { p.Actions[0].PolicyId = "other" }, "plan.actions[0].policy_id"},
		{"skip without reason", func(p *sirsiv1.ActionPlan) {
			p.Skipped = []*sirsiv1.PlanSkip{{ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "stop"}}
		}, "plan.skipped[0].reason"},
		{"skip of an unknown type", func(p *sirsiv1.ActionPlan) {
			p.Skipped = []*sirsiv1.PlanSkip{{ResourceId: "i-1", ResourceType: "aws_bogus", Region: "us-east-1", Action: "stop", Reason: "x"}}
		}, "plan.skipped[0].resource_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &sirsiv1.ActionPlan{Id: "plan-v", PolicyId: policyID, Actions: plannedActions("v", recs...)}
			tt.edit(p)
			_, err := ag.Client.ReportActionPlan(ctx, &sirsiv1.ReportActionPlanRequest{BatchId: "v", Plan: p})
			wantAgentCode(t, err, codes.InvalidArgument, tt.name)
			if v := violations(err); len(v) != 1 || v[0] != tt.want {
				t.Fatalf("violations %v, want [%s]", v, tt.want)
			}
		})
	}
	_, err := ag.Client.ReportActionPlan(ctx, &sirsiv1.ReportActionPlanRequest{BatchId: "v"})
	wantAgentCode(t, err, codes.InvalidArgument, "no plan")
	_, err = ag.Client.ReportActionPlan(ctx, &sirsiv1.ReportActionPlanRequest{BatchId: "v", Plan: &sirsiv1.ActionPlan{Id: "p", PolicyId: "missing"}})
	wantAgentCode(t, err, codes.NotFound, "plan of a missing policy")
	// Nothing refused was stored, and the batch id is still free.
	if r, err := ag.Client.ReportActionPlan(ctx, &sirsiv1.ReportActionPlanRequest{BatchId: "v", Plan: &sirsiv1.ActionPlan{Id: "plan-v", PolicyId: policyID}}); err != nil || r.Duplicate {
		t.Fatalf("valid plan after refusals: %v, %v", r, err)
	}
}
