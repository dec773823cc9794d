package policyrun

import (
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// A policy whose right-sizing Terraform carries out leaves every resize
// and memory change to it, approved or not; its other actions stay the
// agent's.
func TestTerraformExecutionLeavesRightsizing(t *testing.T) {
	agent := &sirsiv1.OptimizationPolicy{Id: "p", Mode: sirsiv1.PolicyMode_POLICY_MODE_APPROVE}
	tf := &sirsiv1.OptimizationPolicy{Id: "p", Mode: sirsiv1.PolicyMode_POLICY_MODE_APPROVE, Execution: sirsiv1.Execution_EXECUTION_TERRAFORM}
	recs := []*sirsiv1.Recommendation{
		{Id: "r1", PolicyId: "p", ResourceType: "aws_ec2_instance", Action: "resize", CurrentSize: "m5.xlarge", ProposedSize: "m5.large"},
		{Id: "r2", PolicyId: "p", ResourceType: "aws_lambda_function", Action: "set_memory", CurrentSize: "1024", ProposedSize: "512"},
		{Id: "r3", PolicyId: "p", ResourceType: "aws_ec2_instance", Action: "stop"},
	}
	asg := &sirsiv1.GetAssignmentResponse{ApprovedRecommendations: recs, ApprovedPlans: []*sirsiv1.ActionPlan{{Id: "plan", PolicyId: "p", Actions: []*sirsiv1.Action{
		{Id: "a1", RecommendationId: "r9", ResourceId: "i-9", ResourceType: "aws_ec2_instance", Action: "resize", FromSize: "m5.xlarge", ToSize: "m5.large"},
	}}}}
	ids := func(p *sirsiv1.OptimizationPolicy) (out []string) {
		for _, r := range approvedRequests(p, asg) {
			out = append(out, r.RecommendationID)
		}
		return out
	}
	if got := ids(agent); len(got) != 4 {
		t.Errorf("agent execution carries out %v, want r9, r1, r2, r3", got)
	}
	if got := ids(tf); len(got) != 1 || got[0] != "r3" {
		t.Errorf("terraform execution has the agent carry out %v, want only the stop r3", got)
	}
	if got := candidates(tf, recs); len(got) != 1 || got[0].GetId() != "r3" {
		t.Errorf("terraform execution's auto candidates %v, want only the stop", got)
	}
}
