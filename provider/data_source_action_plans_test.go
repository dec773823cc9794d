package provider

import (
	"testing"
	"time"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

func TestActionPlansDataSourceSchema(t *testing.T) {
	checkDataSourceDocs(t, NewActionPlansDataSource())
}

func TestActionPlanItemFromProto(t *testing.T) {
	created := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	it := actionPlanItemFromProto(&sirsiv1.ActionPlan{
		Id: "plan-1", PolicyId: "pol-1", CloudAccountId: "ca-1", Status: sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_SUPERSEDED,
		EstimatedMonthlySavings: money.USDFromFloat(280.32), CreateTime: timestamppb.New(created),
		Actions: []*sirsiv1.Action{
			{ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", FromSize: "m5.2xlarge", ToSize: "m5.large", RecommendationId: "rec-1"},
			{ResourceId: "eipalloc-1", ResourceType: "aws_eip", Region: "us-east-1", Action: "release", RecommendationId: "rec-gone"},
		},
	}, map[string]*sirsiv1.Money{"rec-1": money.USDFromFloat(210.24)})
	if it.Status.ValueString() != "superseded" || it.CreatedAt.ValueString() != "2026-11-24T02:00:00Z" || !it.ApprovedBy.IsNull() || len(it.Actions) != 2 {
		t.Fatalf("plan mapping: %+v", it)
	}
	if a := it.Actions[0]; a.EstimatedMonthlySavings.ValueFloat64() != 210.24 || a.ToSize.ValueString() != "m5.large" || a.RecommendationID.ValueString() != "rec-1" {
		t.Errorf("first action: %+v", a)
	}
	// A recommendation that is gone has no estimate; a release has no size.
	if a := it.Actions[1]; !a.EstimatedMonthlySavings.IsNull() || !a.FromSize.IsNull() || !a.ToSize.IsNull() {
		t.Errorf("second action: %+v", a)
	}
}

func TestAccActionPlansDataSource_populated(t *testing.T) {
	env := testAccStart(t)
	recs := []*sirsiv1.Recommendation{
		resizeRecommendation("i-0aaa", "m5.2xlarge", "m5.large", 210.24),
		resizeRecommendation("i-0bbb", "m5.xlarge", "m5.large", 70.08),
	}
	account, policy, ids := env.seedRecommendations(t, "444444444444", "acc-plan-list", recs...)
	old := env.seedPlan(t, account, policy, 70.08, map[string]*sirsiv1.Recommendation{ids[1]: recs[1]})
	asgWhy := "a member of Auto Scaling group web: the group would replace a stopped instance (change the group's capacity instead)"
	current := env.seedPlan(t, account, policy, 210.24, map[string]*sirsiv1.Recommendation{ids[0]: recs[0]},
		&sirsiv1.PlanSkip{ResourceId: "i-0asg", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "stop", Reason: asgWhy})
	addr := "data.sirsi_action_plans.test"
	config := func(filters string) string {
		return env.tenantProvider() + "\ndata \"sirsi_action_plans\" \"test\" {\n" + filters + "\n}\n"
	}
	plan0 := func(p ...string) tfjsonpath.Path {
		path := tfjsonpath.New("plans").AtSliceIndex(0)
		for _, k := range p {
			path = path.AtMapKey(k)
		}
		return path
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config:      config(`  status = "open"`),
				ExpectError: expectErr(`status.*value must be one of`),
			},
			{
				Config: config(`  status = "pending"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("plans"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{
							"id":                        knownvalue.StringExact(current),
							"policy_id":                 knownvalue.StringExact(policy),
							"cloud_account_id":          knownvalue.StringExact(account),
							"status":                    knownvalue.StringExact("pending"),
							"estimated_monthly_savings": knownvalue.Float64Exact(210.24),
							"currency":                  knownvalue.StringExact("USD"),
							"created_at":                rfc3339Check{},
							"approved_by":               knownvalue.Null(),
							"approve_time":              knownvalue.Null(),
							"actions": knownvalue.ListExact([]knownvalue.Check{
								knownvalue.ObjectExact(map[string]knownvalue.Check{
									"resource_id":               knownvalue.StringExact("i-0aaa"),
									"resource_type":             knownvalue.StringExact("aws_ec2_instance"),
									"region":                    knownvalue.StringExact("us-east-1"),
									"action":                    knownvalue.StringExact("resize"),
									"from_size":                 knownvalue.StringExact("m5.2xlarge"),
									"to_size":                   knownvalue.StringExact("m5.large"),
									"recommendation_id":         knownvalue.StringExact(ids[0]),
									"estimated_monthly_savings": knownvalue.Float64Exact(210.24),
								}),
							}),
							"skipped": knownvalue.ListExact([]knownvalue.Check{
								knownvalue.ObjectExact(map[string]knownvalue.Check{
									"resource_id":   knownvalue.StringExact("i-0asg"),
									"resource_type": knownvalue.StringExact("aws_ec2_instance"),
									"region":        knownvalue.StringExact("us-east-1"),
									"action":        knownvalue.StringExact("stop"),
									"reason":        knownvalue.StringExact(asgWhy),
								}),
							}),
						}),
					})),
				},
			},
			{
				Config: config(`  status = "superseded"
  policy_id = "` + policy + `"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("plans"), knownvalue.ListSizeExact(1)),
					statecheck.ExpectKnownValue(addr, plan0("id"), knownvalue.StringExact(old)),
					statecheck.ExpectKnownValue(addr, plan0("status"), knownvalue.StringExact("superseded")),
					statecheck.ExpectKnownValue(addr, plan0("skipped"), knownvalue.ListSizeExact(0)),
				},
			},
			{
				// Without a status filter: every plan of the policy.
				Config: config(`  policy_id = "` + policy + `"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("plans"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.Null()),
				},
			},
			{
				// A plan approved through Terraform shows as approved.
				Config: config(`  status = "approved"`) + "\nresource \"sirsi_action_plan_approval\" \"a\" {\n  plan_id = \"" + current + "\"\n}\n",
			},
			{
				Config: config(`  status = "approved"`) + "\nresource \"sirsi_action_plan_approval\" \"a\" {\n  plan_id = \"" + current + "\"\n}\n",
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, plan0("id"), knownvalue.StringExact(current)),
					statecheck.ExpectKnownValue(addr, plan0("approve_time"), rfc3339Check{}),
				},
			},
		},
	})
}

func TestAccActionPlansDataSource_empty(t *testing.T) {
	env := testAccStart(t)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config: env.tenantProvider() + "\ndata \"sirsi_action_plans\" \"test\" {}\n",
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.sirsi_action_plans.test", tfjsonpath.New("plans"), knownvalue.ListSizeExact(0)),
			},
		}},
	})
}
