package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

// The examples of docs/guides/cost-gating.md, as the guide includes them.
func costGatingExample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "guides", "cost-gating", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// replaceOnce fails the test unless old occurs exactly once: an example
// edited out from under the test must not silently test something else.
func replaceOnce(t *testing.T, s, old, repl string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("%q occurs %d times in the example, want 1", old, n)
	}
	return strings.Replace(s, old, repl, 1)
}

// expectCheckStatus is a plan check on a check block's result in the plan:
// "fail" (or "pass") means Terraform evaluated the assertion while
// planning; "unknown" means it left it for apply.
type expectCheckStatus struct {
	address, status string
}

func (c expectCheckStatus) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	var seen []string
	for _, r := range req.Plan.Checks {
		if r.Address.ToDisplay == c.address {
			if string(r.Status) != c.status {
				resp.Error = fmt.Errorf("%s has status %q in the plan, want %q", c.address, r.Status, c.status)
			}
			return
		}
		seen = append(seen, r.Address.ToDisplay)
	}
	resp.Error = fmt.Errorf("no result for %s in the plan (results for %v)", c.address, seen)
}

// seedDailyCosts records amount a day for the days from..to (inclusive)
// around now: the examples' periods come from plantimestamp(), the wall
// clock, and a run across midnight still finds costs in its period.
func (e *accEnv) seedDailyCosts(t *testing.T, account string, from, to int, amount float64) {
	t.Helper()
	now := time.Now().UTC()
	var records []*sirsiv1.CostRecord
	for d := from; d <= to; d++ {
		records = append(records, &sirsiv1.CostRecord{
			Day: now.AddDate(0, 0, d).Format(time.DateOnly), AccountId: "111111111111", Service: "AmazonEC2", Region: "us-east-1", Amount: money.USDFromFloat(amount),
		})
	}
	if _, err := e.tenantStore().ApplyCosts(context.Background(), account, "costs-gate", records, nil); err != nil {
		t.Fatalf("seeding costs: %v", err)
	}
}

// The forecast check fails during plan (a warning: check blocks do not stop
// the run) when the month is forecast over budget, and passes under a
// budget above it. With timestamp() in its place the check is left unknown
// at plan, which is what the guide used to do.
func TestAccCostGatingGuide_forecastCheck(t *testing.T) {
	env := testAccStart(t)
	account := env.createCloudAccount(t, "111111111111")
	env.seedDailyCosts(t, account, -3, 1, 1000)
	example := costGatingExample(t, "forecast-check.tf")
	budget := func(b float64) string {
		return env.tenantProvider() + replaceOnce(t, example, "default = 5000", fmt.Sprintf("default = %g", b))
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config: budget(1),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectCheckStatus{"check.monthly_budget", "fail"},
				}},
			},
			{
				Config: budget(1e12),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectCheckStatus{"check.monthly_budget", "pass"},
				}},
			},
			{
				Config: strings.ReplaceAll(budget(1), "plantimestamp()", "timestamp()"),
				// timestamp() also makes every later plan read the data again.
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectCheckStatus{"check.monthly_budget", "unknown"},
				}},
			},
		},
	})
}

// The precondition over open recommendations fails the plan while more than
// 500 a month are open, and lets it through below that. The autoscaling
// group stands in as terraform_data (no AWS provider here).
func TestAccCostGatingGuide_recommendationsPrecondition(t *testing.T) {
	example := costGatingExample(t, "recommendations-precondition.tf")
	example = replaceOnce(t, example, `resource "aws_autoscaling_group" "web" {`, `resource "terraform_data" "web" {`)
	example = replaceOnce(t, example, "  # ...\n  max_size = var.web_max_size\n", "  input = var.web_max_size\n")
	for _, tc := range []struct {
		name    string
		savings []float64
		fail    bool
	}{
		{"over", []float64{310.5, 250}, true},
		{"under", []float64{310.5, 150}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testAccStart(t)
			account := env.createCloudAccount(t, "111111111111")
			policy := env.createPolicyForData(t, "gate")
			var recs []*sirsiv1.Recommendation
			for i, s := range tc.savings {
				recs = append(recs, &sirsiv1.Recommendation{
					ResourceId: fmt.Sprintf("i-0%03d", i), ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize",
					CurrentSize: "m5.2xlarge", ProposedSize: "m5.large", EstimatedMonthlySavings: money.USDFromFloat(s), Confidence: 0.9, Reason: "idle",
				})
			}
			if _, _, err := env.tenantStore().ApplyRecommendations(context.Background(), account, "recs-gate", policy, nil, recs); err != nil {
				t.Fatalf("seeding recommendations: %v", err)
			}
			t.Setenv("TF_VAR_web_max_size", "12")
			step := tfresource.TestStep{Config: env.tenantProvider() + example}
			if tc.fail {
				step.PlanOnly = true
				step.ExpectError = regexp.MustCompile(`(?s)Resource precondition failed.*Open recommendations would save 560.5 a month \(2\s+items\)`)
			}
			tfresource.Test(t, tfresource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps:                    []tfresource.TestStep{step},
			})
		})
	}
}

// The output precondition fails the plan when the last 7 days cost more
// than the limit, and passes under a higher one. With timestamp() the same
// plan passes (the data source is read only at apply): the gate the guide
// used to show did not act at plan time.
func TestAccCostGatingGuide_outputPrecondition(t *testing.T) {
	env := testAccStart(t)
	account := env.createCloudAccount(t, "111111111111")
	env.seedDailyCosts(t, account, -3, 1, 100)
	config := env.tenantProvider() + costGatingExample(t, "output-precondition.tf")
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				PreConfig:   func() { t.Setenv("TF_VAR_weekly_limit", "50") },
				Config:      config,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Module output value precondition failed.*Spend over the last 7 days \(\d+\) is above\s+50`),
			},
			{
				PreConfig:          func() { t.Setenv("TF_VAR_weekly_limit", "50") },
				Config:             strings.ReplaceAll(config, "plantimestamp()", "timestamp()"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				PreConfig: func() { t.Setenv("TF_VAR_weekly_limit", "100000") },
				Config:    config,
			},
		},
	})
}
