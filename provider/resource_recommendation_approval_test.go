package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

func TestRecommendationApprovalResourceSchema(t *testing.T) {
	checkResourceSchema(t, NewRecommendationApprovalResource())
}

func TestRecommendationApprovalFromAPI(t *testing.T) {
	var m recommendationApprovalModel
	m.fromAPI(&sirsiv1.Recommendation{
		Id: "rec-1", TenantId: "ten-1", ResourceId: "i-1", Action: "stop", CurrentSize: "m5.large",
		EstimatedMonthlySavings: money.USDFromFloat(70.08), Status: sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED,
		ApprovedBy: "token:tok-1", ApproveTime: timestamppb.New(timestamppb.Now().AsTime().Truncate(1e9)),
	})
	if m.ID.ValueString() != "rec-1" || m.RecommendationID.ValueString() != "rec-1" || m.TenantID.ValueString() != "ten-1" {
		t.Errorf("ids: %+v", m)
	}
	if !m.ProposedSize.IsNull() || m.Status.ValueString() != "approved" || m.ApprovedBy.ValueString() != "token:tok-1" || m.ApproveTime.IsNull() {
		t.Errorf("mapping: %+v", m)
	}
}

func TestApprovalHolds(t *testing.T) {
	holds := map[sirsiv1.RecommendationStatus]bool{
		sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN:       false,
		sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED:   true,
		sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_DISMISSED:  false,
		sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED:   true,
		sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_SUPERSEDED: false,
	}
	for s, want := range holds {
		if got := approvalHolds(s); got != want {
			t.Errorf("approvalHolds(%s) = %v, want %v", s, got, want)
		}
	}
}

func TestApprovalFailure(t *testing.T) {
	p, summary, detail := approvalFailure("recommendation", "an open recommendation", "rec-1", status.Error(codes.FailedPrecondition, "it is dismissed"))
	if p.String() != "recommendation_id" || summary != "Cannot approve recommendation rec-1" ||
		!strings.Contains(detail, "it is dismissed") || !strings.Contains(detail, "Only an open recommendation") {
		t.Errorf("failed precondition: %s / %q / %q", p, summary, detail)
	}
	p, summary, detail = approvalFailure("plan", "a pending plan", "plan-1", status.Error(codes.PermissionDenied, "viewer"))
	if p.String() != "plan_id" || summary != "Approving plan plan-1 failed" || !strings.Contains(detail, "viewer") {
		t.Errorf("other error: %s / %q / %q", p, summary, detail)
	}
}

// seedRecommendations stores open recommendations for a new cloud account
// and policy, as an agent's report would, and returns their ids.
func (e *accEnv) seedRecommendations(t *testing.T, awsAccount, policyName string, recs ...*sirsiv1.Recommendation) (account, policy string, ids []string) {
	t.Helper()
	account = e.createCloudAccount(t, awsAccount)
	policy = e.createPolicyForData(t, policyName)
	ids, _, err := e.tenantStore().ApplyRecommendations(context.Background(), account, "seed-"+policyName, policy, nil, recs)
	if err != nil {
		t.Fatalf("seeding recommendations: %v", err)
	}
	return account, policy, ids
}

func resizeRecommendation(resource, from, to string, savings float64) *sirsiv1.Recommendation {
	return &sirsiv1.Recommendation{
		ResourceId: resource, ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize",
		CurrentSize: from, ProposedSize: to, EstimatedMonthlySavings: money.USDFromFloat(savings), Confidence: 0.9, Reason: "p95 CPU 9% over 14 days",
	}
}

func (e *accEnv) recommendationStatus(t *testing.T, id string) sirsiv1.RecommendationStatus {
	t.Helper()
	out, err := e.admin.GetRecommendation(context.Background(), &sirsiv1.GetRecommendationRequest{TenantId: e.tenantID, Id: id})
	if err != nil {
		t.Fatalf("reading recommendation %s: %v", id, err)
	}
	return out.GetRecommendation().GetStatus()
}

func (e *accEnv) expectRecommendationStatus(t *testing.T, id string, want sirsiv1.RecommendationStatus) tfresource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := e.recommendationStatus(t, id); got != want {
			return fmt.Errorf("recommendation %s is %s in the control plane, want %s", id, got, want)
		}
		return nil
	}
}

// checkApprovalsRevoked is the CheckDestroy of sirsi_recommendation_approval:
// no recommendation in the final state may still be approved.
func (e *accEnv) checkApprovalsRevoked(s *terraform.State) error {
	for _, rs := range s.RootModule().Resources {
		if rs.Type != "sirsi_recommendation_approval" {
			continue
		}
		out, err := e.admin.GetRecommendation(context.Background(), &sirsiv1.GetRecommendationRequest{TenantId: e.tenantID, Id: rs.Primary.ID})
		if err != nil {
			return fmt.Errorf("reading recommendation %s: %w", rs.Primary.ID, err)
		}
		if st := out.GetRecommendation().GetStatus(); st == sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED {
			return fmt.Errorf("recommendation %s is still approved after destroy", rs.Primary.ID)
		}
	}
	return nil
}

func approvalConfig(env *accEnv, recID string) string {
	return env.tenantProvider() + fmt.Sprintf("\nresource \"sirsi_recommendation_approval\" \"test\" {\n  recommendation_id = %q\n}\n", recID)
}

func TestAccRecommendationApproval_lifecycle(t *testing.T) {
	env := testAccStart(t)
	_, _, ids := env.seedRecommendations(t, "111111111111", "acc-approve",
		resizeRecommendation("i-0aaa", "m5.2xlarge", "m5.large", 210.24),
		resizeRecommendation("i-0bbb", "m5.xlarge", "m5.large", 70.08),
	)
	addr := "sirsi_recommendation_approval.test"
	approved := sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED
	open := sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkApprovalsRevoked,
		Steps: []tfresource.TestStep{
			{
				Config: approvalConfig(env, ids[0]),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(ids[0])),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact("approved")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("resource_id"), knownvalue.StringExact("i-0aaa")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("action"), knownvalue.StringExact("resize")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("current_size"), knownvalue.StringExact("m5.2xlarge")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("proposed_size"), knownvalue.StringExact("m5.large")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("estimated_monthly_savings"), knownvalue.Float64Exact(210.24)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("approved_by"), knownvalue.StringRegexp(regexp.MustCompile(`^token:.+`))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("approve_time"), rfc3339Check{}),
				},
				Check: env.expectRecommendationStatus(t, ids[0], approved),
			},
			{
				// By the recommendation id alone: the provider has a tenant_id.
				ResourceName:      addr,
				ImportState:       true,
				ImportStateId:     ids[0],
				ImportStateVerify: true,
			},
			{
				// Another recommendation replaces the approval: the first is
				// revoked (open again), the second approved.
				Config: approvalConfig(env, ids[1]),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: tfresource.ComposeTestCheckFunc(
					env.expectRecommendationStatus(t, ids[0], open),
					env.expectRecommendationStatus(t, ids[1], approved),
				),
			},
			{
				// Revoked outside Terraform: the plan approves it again.
				PreConfig: func() {
					if _, err := env.admin.RevokeRecommendationApproval(context.Background(), &sirsiv1.RevokeRecommendationApprovalRequest{TenantId: env.tenantID, Id: ids[1]}); err != nil {
						t.Fatalf("revoking out of band: %v", err)
					}
				},
				Config: approvalConfig(env, ids[1]),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
				Check: env.expectRecommendationStatus(t, ids[1], approved),
			},
			{
				// The agent carried it out: the approval stays in state,
				// executed, and nothing is planned. Destroying it afterwards
				// succeeds although an executed change cannot be revoked.
				PreConfig: func() {
					if _, err := env.tenantStore().SetRecommendationStatus(context.Background(), ids[1], sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED); err != nil {
						t.Fatalf("marking the recommendation executed: %v", err)
					}
				},
				Config: approvalConfig(env, ids[1]),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact("executed")),
				},
			},
		},
	})
}

func TestAccRecommendationApproval_notOpen(t *testing.T) {
	env := testAccStart(t)
	_, _, ids := env.seedRecommendations(t, "222222222222", "acc-dismissed",
		resizeRecommendation("i-0ccc", "m5.2xlarge", "m5.large", 210.24),
		resizeRecommendation("i-0ddd", "m5.xlarge", "m5.large", 70.08),
	)
	if _, err := env.admin.DismissRecommendation(context.Background(), &sirsiv1.DismissRecommendationRequest{TenantId: env.tenantID, Id: ids[0]}); err != nil {
		t.Fatalf("dismissing: %v", err)
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkApprovalsRevoked,
		Steps: []tfresource.TestStep{
			{
				Config:      approvalConfig(env, ids[0]),
				ExpectError: expectErr(`Cannot approve recommendation ` + ids[0] + `.*dismissed.*Only an open recommendation can be approved`),
			},
			{
				Config:      approvalConfig(env, "00000000-0000-7000-8000-000000000000"),
				ExpectError: expectErr(`Approving recommendation 00000000-0000-7000-8000-000000000000 failed.*NotFound`),
			},
			{Config: approvalConfig(env, ids[1])},
			{
				// Dismissed after approval: Terraform forgets the approval
				// and plans a new one, which the control plane refuses.
				PreConfig: func() {
					if _, err := env.admin.DismissRecommendation(context.Background(), &sirsiv1.DismissRecommendationRequest{TenantId: env.tenantID, Id: ids[1]}); err != nil {
						t.Fatalf("dismissing: %v", err)
					}
				},
				Config:      approvalConfig(env, ids[1]),
				ExpectError: expectErr(`Cannot approve recommendation ` + ids[1] + `.*dismissed`),
			},
		},
	})
}
