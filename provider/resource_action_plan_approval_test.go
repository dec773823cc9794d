package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

func TestActionPlanApprovalResourceSchema(t *testing.T) {
	checkResourceSchema(t, NewActionPlanApprovalResource())
}

func TestActionPlanApprovalFromAPI(t *testing.T) {
	m := actionPlanApprovalModel{TenantID: types.StringValue("ten-1")}
	m.fromAPI(&sirsiv1.ActionPlan{
		Id: "plan-1", PolicyId: "pol-1", CloudAccountId: "ca-1", Status: sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_EXECUTED,
		Actions: []*sirsiv1.Action{{Id: "a"}, {Id: "b"}}, EstimatedMonthlySavings: money.USDFromFloat(280.32),
	})
	if m.TenantID.ValueString() != "ten-1" || m.ID.ValueString() != "plan-1" || m.PlanID.ValueString() != "plan-1" ||
		m.Status.ValueString() != "executed" || m.ActionCount.ValueInt64() != 2 || m.EstimatedMonthlySavings.ValueFloat64() != 280.32 ||
		!m.ApprovedBy.IsNull() || !m.ApproveTime.IsNull() {
		t.Errorf("mapping: %+v", m)
	}
	for _, name := range enumNames(sirsiv1.ActionPlanStatus(0)) {
		s := sirsiv1.ActionPlanStatus(parseEnum(sirsiv1.ActionPlanStatus(0).Descriptor(), types.StringValue(name)))
		if got := planApprovalHolds(s); got != (name == "approved" || name == "executed") {
			t.Errorf("planApprovalHolds(%s) = %v", name, got)
		}
	}
}

// Delete must not pretend to take an approval back: it warns and changes
// nothing, without needing a client.
func TestActionPlanApprovalDeleteWarns(t *testing.T) {
	ctx := context.Background()
	r := NewActionPlanApprovalResource()
	s := resourceSchema(t, r)
	st := tfsdk.State{Schema: s, Raw: tftypes.NewValue(s.Type().TerraformType(ctx), nil)}
	if d := st.Set(ctx, &actionPlanApprovalModel{
		ID: types.StringValue("plan-1"), TenantID: types.StringValue("ten-1"), PlanID: types.StringValue("plan-1"),
		PolicyID: types.StringValue("pol-1"), CloudAccountID: types.StringValue("ca-1"), Status: types.StringValue("approved"),
	}); d.HasError() {
		t.Fatal(d)
	}
	resp := &resource.DeleteResponse{State: st}
	r.Delete(ctx, resource.DeleteRequest{State: st}, resp)
	if resp.Diagnostics.HasError() || resp.Diagnostics.WarningsCount() != 1 {
		t.Fatalf("diagnostics %v, want exactly one warning", resp.Diagnostics)
	}
	w := resp.Diagnostics.Warnings()[0]
	if w.Summary() != "The action plan stays approved" || !regexp.MustCompile(`cannot be un-approved.*plan-1`).MatchString(w.Detail()) {
		t.Errorf("warning %q: %q", w.Summary(), w.Detail())
	}
}

// seedPlan saves a pending plan of the policy in the account, as an agent's
// dry run would, with one resize per recommendation.
func (e *accEnv) seedPlan(t *testing.T, account, policy string, savings float64, recs map[string]*sirsiv1.Recommendation, skipped ...*sirsiv1.PlanSkip) string {
	t.Helper()
	id := uuid.NewString()
	plan := &sirsiv1.ActionPlan{Id: id, PolicyId: policy, EstimatedMonthlySavings: money.USDFromFloat(savings), Skipped: skipped}
	for recID, r := range recs {
		plan.Actions = append(plan.Actions, &sirsiv1.Action{
			Id: uuid.NewString(), PolicyId: policy, RecommendationId: recID, ResourceId: r.GetResourceId(), ResourceType: r.GetResourceType(),
			Region: r.GetRegion(), Action: r.GetAction(), FromSize: r.GetCurrentSize(), ToSize: r.GetProposedSize(),
			Status: sirsiv1.ActionStatus_ACTION_STATUS_PLANNED, DryRun: true,
		})
	}
	if _, err := e.tenantStore().SaveActionPlan(context.Background(), account, "plan-"+id, plan); err != nil {
		t.Fatalf("saving plan: %v", err)
	}
	return id
}

func (e *accEnv) planStatus(id string) (sirsiv1.ActionPlanStatus, error) {
	out, err := e.admin.GetActionPlan(context.Background(), &sirsiv1.GetActionPlanRequest{TenantId: e.tenantID, Id: id})
	if err != nil {
		return 0, fmt.Errorf("reading plan %s: %w", id, err)
	}
	return out.GetPlan().GetStatus(), nil
}

func (e *accEnv) expectPlanStatus(id string, want sirsiv1.ActionPlanStatus) tfresource.TestCheckFunc {
	return func(*terraform.State) error {
		got, err := e.planStatus(id)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("plan %s is %s in the control plane, want %s", id, got, want)
		}
		return nil
	}
}

// checkPlansStillApproved is the CheckDestroy of sirsi_action_plan_approval:
// destroying the resource must leave every plan it approved in status
// approved (or executed), as documented.
func (e *accEnv) checkPlansStillApproved(s *terraform.State) error {
	for _, rs := range s.RootModule().Resources {
		if rs.Type != "sirsi_action_plan_approval" {
			continue
		}
		st, err := e.planStatus(rs.Primary.ID)
		if err != nil {
			return err
		}
		if !planApprovalHolds(st) {
			return fmt.Errorf("plan %s is %s after destroy, want it still approved", rs.Primary.ID, st)
		}
	}
	return nil
}

func planApprovalConfig(env *accEnv, planID string) string {
	return env.tenantProvider() + fmt.Sprintf("\nresource \"sirsi_action_plan_approval\" \"test\" {\n  plan_id = %q\n}\n", planID)
}

func TestAccActionPlanApproval_lifecycle(t *testing.T) {
	env := testAccStart(t)
	recs := []*sirsiv1.Recommendation{
		resizeRecommendation("i-0aaa", "m5.2xlarge", "m5.large", 210.24),
		resizeRecommendation("i-0bbb", "m5.xlarge", "m5.large", 70.08),
	}
	account, policy, ids := env.seedRecommendations(t, "333333333333", "acc-plans", recs...)
	superseded := env.seedPlan(t, account, policy, 210.24, map[string]*sirsiv1.Recommendation{ids[0]: recs[0]})
	current := env.seedPlan(t, account, policy, 280.32, map[string]*sirsiv1.Recommendation{ids[0]: recs[0], ids[1]: recs[1]})
	addr := "sirsi_action_plan_approval.test"
	approved := sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_APPROVED
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkPlansStillApproved,
		Steps: []tfresource.TestStep{
			{
				// A newer plan of the same policy and account replaced it.
				Config:      planApprovalConfig(env, superseded),
				ExpectError: expectErr(`Cannot approve plan ` + superseded + `.*superseded.*Only a pending plan can be approved`),
			},
			{
				Config: planApprovalConfig(env, current),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(current)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("policy_id"), knownvalue.StringExact(policy)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("cloud_account_id"), knownvalue.StringExact(account)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact("approved")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("action_count"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("estimated_monthly_savings"), knownvalue.Float64Exact(280.32)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("approved_by"), knownvalue.StringRegexp(regexp.MustCompile(`^token:.+`))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("approve_time"), rfc3339Check{}),
				},
				Check: env.expectPlanStatus(current, approved),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateId:     current,
				ImportStateVerify: true,
			},
			{
				// Importing a plan that was never approved finds no approval.
				ResourceName:  addr,
				ImportState:   true,
				ImportStateId: superseded,
				ExpectError:   expectErr(`Cannot import non-existent remote object`),
			},
			{
				// The agent ran the plan: the approval stays, executed.
				PreConfig: func() {
					var done []*sirsiv1.Action
					for i, id := range ids {
						done = append(done, &sirsiv1.Action{
							Id: uuid.NewString(), PolicyId: policy, PlanId: current, RecommendationId: id, ResourceId: recs[i].GetResourceId(),
							ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", FromSize: recs[i].GetCurrentSize(), ToSize: recs[i].GetProposedSize(),
							Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED,
						})
					}
					if _, err := env.tenantStore().ApplyActions(context.Background(), account, "done-"+current, done); err != nil {
						t.Fatalf("reporting the plan's actions: %v", err)
					}
				},
				Config: planApprovalConfig(env, current),
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

func TestAccActionPlanApproval_unknownPlan(t *testing.T) {
	env := testAccStart(t)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config:      planApprovalConfig(env, "00000000-0000-7000-8000-000000000000"),
				ExpectError: expectErr(`Approving plan 00000000-0000-7000-8000-000000000000 failed.*NotFound`),
			},
			{
				Config:      planApprovalConfig(env, ""),
				ExpectError: expectErr(`plan_id.*string length must be between 1 and 128`),
				PlanOnly:    true,
			},
		},
	})
}
