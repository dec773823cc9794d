package provider

import (
	"context"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

func TestRecommendationsDataSourceSchema(t *testing.T) {
	checkDataSourceDocs(t, NewRecommendationsDataSource())
}

func TestRecommendationItemFromProto(t *testing.T) {
	for _, name := range enumNames(sirsiv1.RecommendationStatus(0)) {
		st := sirsiv1.RecommendationStatus(parseEnum(sirsiv1.RecommendationStatus(0).Descriptor(), types.StringValue(name)))
		it := recommendationItemFromProto(&sirsiv1.Recommendation{
			Id: "rec-1", PolicyId: "pol-1", ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1",
			Action: "resize", CurrentSize: "m5.2xlarge", ProposedSize: "m5.large", EstimatedMonthlySavings: money.USDFromFloat(210.24),
			Confidence: 0.9, Reason: "p95 CPU 12%", Status: st,
		})
		if it.Status.ValueString() != name || !it.ApprovedBy.IsNull() || !it.ApproveTime.IsNull() {
			t.Errorf("status %v mapped to %q, want %q", st, it.Status.ValueString(), name)
		}
		if it.ProposedSize.ValueString() != "m5.large" || it.EstimatedMonthlySavings.ValueFloat64() != 210.24 ||
			it.Confidence.ValueFloat64() != 0.9 || it.PolicyID.ValueString() != "pol-1" {
			t.Fatalf("mapping lost a field: %+v", it)
		}
	}
}

func TestRecommendationItemApproval(t *testing.T) {
	at := time.Date(2026, 11, 24, 3, 4, 5, 0, time.UTC)
	it := recommendationItemFromProto(&sirsiv1.Recommendation{
		Id: "rec-1", Status: sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED,
		ApprovedBy: "token:tok-1", ApproveTime: timestamppb.New(at),
	})
	if it.ApprovedBy.ValueString() != "token:tok-1" || it.ApproveTime.ValueString() != "2026-11-24T03:04:05Z" {
		t.Errorf("approval mapped to %v at %v", it.ApprovedBy, it.ApproveTime)
	}
}

func TestAccRecommendationsDataSource_populated(t *testing.T) {
	env := testAccStart(t)
	account := env.createCloudAccount(t, "111111111111")
	policy := env.createPolicyForData(t, "acc-recs")
	ids, _, err := env.tenantStore().ApplyRecommendations(context.Background(), account, "recs-1", policy, nil, []*sirsiv1.Recommendation{
		{ResourceId: "i-0aaa", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize",
			CurrentSize: "m5.2xlarge", ProposedSize: "m5.large", CurrentMonthlyCost: money.USDFromFloat(280.32), ProposedMonthlyCost: money.USDFromFloat(70.08),
			EstimatedMonthlySavings: money.USDFromFloat(210.24), Confidence: 0.92, Reason: "p95 CPU 11% over 14 days"},
		{ResourceId: "vol-0ccc", ResourceType: "aws_ebs_volume", Region: "us-east-1", Action: "migrate_gp3",
			CurrentSize: "gp2 100GiB", ProposedSize: "gp3 100GiB", EstimatedMonthlySavings: money.USDFromFloat(2), Confidence: 1, Reason: "gp3 is cheaper"},
	})
	if err != nil {
		t.Fatalf("seeding recommendations: %v", err)
	}
	if _, err := env.tenantStore().SetRecommendationStatus(context.Background(), ids[1], sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_DISMISSED); err != nil {
		t.Fatalf("dismissing a recommendation: %v", err)
	}
	addr := "data.sirsi_recommendations.test"
	config := func(filters string) string {
		return env.tenantProvider() + "\ndata \"sirsi_recommendations\" \"test\" {\n" + filters + "\n}\n"
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config:      config(`  status = "pending"`),
				ExpectError: expectErr(`status.*value must be one of`),
			},
			{
				// Open by default: the dismissed one is left out.
				Config: config(`  policy_id = "` + policy + `"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact("open")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("total_monthly_savings"), knownvalue.Float64Exact(210.24)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{
							"id":                        knownvalue.StringExact(ids[0]),
							"policy_id":                 knownvalue.StringExact(policy),
							"cloud_account_id":          knownvalue.StringExact(account),
							"resource_id":               knownvalue.StringExact("i-0aaa"),
							"resource_type":             knownvalue.StringExact("aws_ec2_instance"),
							"region":                    knownvalue.StringExact("us-east-1"),
							"action":                    knownvalue.StringExact("resize"),
							"current_size":              knownvalue.StringExact("m5.2xlarge"),
							"proposed_size":             knownvalue.StringExact("m5.large"),
							"estimated_monthly_savings": knownvalue.Float64Exact(210.24),
							"confidence":                knownvalue.Float64Exact(0.92),
							"reason":                    knownvalue.StringExact("p95 CPU 11% over 14 days"),
							"status":                    knownvalue.StringExact("open"),
							"approved_by":               knownvalue.Null(),
							"approve_time":              knownvalue.Null(),
							"skip_reason":               knownvalue.Null(),
							"skip_detail":               knownvalue.Null(),
						}),
					})),
				},
			},
			{
				Config: config(`  status = "dismissed"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items").AtSliceIndex(0).AtMapKey("resource_id"), knownvalue.StringExact("vol-0ccc")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("total_monthly_savings"), knownvalue.Float64Exact(2)),
				},
			},
			{
				// Approved through the API: who and when come with it.
				PreConfig: func() {
					if _, err := env.admin.ApproveRecommendation(context.Background(), &sirsiv1.ApproveRecommendationRequest{TenantId: env.tenantID, Id: ids[0]}); err != nil {
						t.Fatalf("approving: %v", err)
					}
				},
				Config: config(`  status = "approved"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items").AtSliceIndex(0).AtMapKey("id"), knownvalue.StringExact(ids[0])),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items").AtSliceIndex(0).AtMapKey("status"), knownvalue.StringExact("approved")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items").AtSliceIndex(0).AtMapKey("approved_by"), knownvalue.StringRegexp(regexp.MustCompile(`^token:.+`))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items").AtSliceIndex(0).AtMapKey("approve_time"), rfc3339Check{}),
				},
			},
			{
				Config: config(`  min_monthly_savings = 500`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("total_monthly_savings"), knownvalue.Float64Exact(0)),
				},
			},
		},
	})
}

func TestAccRecommendationsDataSource_empty(t *testing.T) {
	env := testAccStart(t)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config: env.tenantProvider() + "\ndata \"sirsi_recommendations\" \"test\" {}\n",
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.sirsi_recommendations.test", tfjsonpath.New("items"), knownvalue.ListSizeExact(0)),
				statecheck.ExpectKnownValue("data.sirsi_recommendations.test", tfjsonpath.New("total_monthly_savings"), knownvalue.Float64Exact(0)),
			},
		}},
	})
}

// TestAccRecommendationsDataSource_skipReason: the skip reason and its
// detail the agent reported read back through Terraform for each
// recommendation, null where there is none; the next report, where the
// instance left its Auto Scaling group, clears them.
func TestAccRecommendationsDataSource_skipReason(t *testing.T) {
	env := testAccStart(t)
	account := env.createCloudAccount(t, "111111111111")
	policy := env.createPolicyForData(t, "acc-skips")
	const (
		asgDetail  = "never stopped or resized by the agent: a member of Auto Scaling group web-asg: the group would replace a stopped instance"
		exclDetail = "excluded: carries the policy's exclude tag team=payments: a person excluded it"
	)
	report := func(batch string, asgSkip sirsiv1.SkipReason, asgWhy string) []string {
		t.Helper()
		recs := []*sirsiv1.Recommendation{
			{ResourceId: "i-0asg", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", CurrentSize: "m5.2xlarge", ProposedSize: "m5.large",
				EstimatedMonthlySavings: money.USDFromFloat(210.24), SkipReason: asgSkip, SkipDetail: asgWhy},
			{ResourceId: "i-0exc", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", CurrentSize: "m5.2xlarge", ProposedSize: "m5.large",
				EstimatedMonthlySavings: money.USDFromFloat(210.24), SkipReason: sirsiv1.SkipReason_SKIP_REASON_EXCLUDED, SkipDetail: exclDetail},
			{ResourceId: "i-0run", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", CurrentSize: "m5.2xlarge", ProposedSize: "m5.large",
				EstimatedMonthlySavings: money.USDFromFloat(210.24)},
		}
		ids, _, err := env.tenantStore().ApplyRecommendations(context.Background(), account, batch, policy, nil, recs)
		if err != nil {
			t.Fatalf("reporting recommendations: %v", err)
		}
		return ids
	}
	ids := report("skips-1", sirsiv1.SkipReason_SKIP_REASON_AUTO_SCALING_GROUP, asgDetail)
	addr := "data.sirsi_recommendations.test"
	config := env.tenantProvider() + "\ndata \"sirsi_recommendations\" \"test\" {\n  policy_id = \"" + policy + "\"\n}\n"
	// Items are in id order; find each resource's index.
	item := func(resourceID string) int {
		sorted := slices.Clone(ids)
		slices.Sort(sorted)
		return slices.Index(sorted, ids[map[string]int{"i-0asg": 0, "i-0exc": 1, "i-0run": 2}[resourceID]])
	}
	skip := func(resourceID string, reason, detail knownvalue.Check) []statecheck.StateCheck {
		at := tfjsonpath.New("items").AtSliceIndex(item(resourceID))
		return []statecheck.StateCheck{
			statecheck.ExpectKnownValue(addr, at.AtMapKey("resource_id"), knownvalue.StringExact(resourceID)),
			statecheck.ExpectKnownValue(addr, at.AtMapKey("skip_reason"), reason),
			statecheck.ExpectKnownValue(addr, at.AtMapKey("skip_detail"), detail),
		}
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config: config,
				ConfigStateChecks: slices.Concat(
					[]statecheck.StateCheck{statecheck.ExpectKnownValue(addr, tfjsonpath.New("items"), knownvalue.ListSizeExact(3))},
					skip("i-0asg", knownvalue.StringExact("auto_scaling_group"), knownvalue.StringExact(asgDetail)),
					skip("i-0exc", knownvalue.StringExact("excluded"), knownvalue.StringExact(exclDetail)),
					skip("i-0run", knownvalue.Null(), knownvalue.Null()),
				),
			},
			{
				// The instance left its group: the next report clears it.
				PreConfig: func() {
					if again := report("skips-2", 0, ""); !slices.Equal(again, ids) {
						t.Fatalf("the second report gave ids %v, the first %v", again, ids)
					}
				},
				Config: config,
				ConfigStateChecks: slices.Concat(
					skip("i-0asg", knownvalue.Null(), knownvalue.Null()),
					skip("i-0exc", knownvalue.StringExact("excluded"), knownvalue.StringExact(exclDetail)),
					skip("i-0run", knownvalue.Null(), knownvalue.Null()),
				),
			},
		},
	})
}
