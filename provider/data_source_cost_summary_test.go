package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

func TestCostSummaryDataSourceSchema(t *testing.T) {
	checkDataSourceDocs(t, NewCostSummaryDataSource())
}

func TestValidateDateRange(t *testing.T) {
	for _, tc := range []struct {
		start, end types.String
		wantErr    string
	}{
		{types.StringValue("2026-01-01"), types.StringValue("2026-02-01"), ""},
		{types.StringValue("2026-01-01"), types.StringValue("2026-01-01"), "must be after start"},
		{types.StringValue("2026-02-01"), types.StringValue("2026-01-01"), "must be after start"},
		{types.StringValue("2024-01-01"), types.StringValue("2026-01-01"), "at most 366"},
		{types.StringUnknown(), types.StringValue("2026-01-01"), ""},
		{types.StringValue("2026-01-01"), types.StringNull(), ""},
		// Malformed dates are the attribute validators' business.
		{types.StringValue("01/01/2026"), types.StringValue("2026-01-01"), ""},
	} {
		diags := validateDateRange(tc.start, tc.end, 366)
		if tc.wantErr == "" {
			if diags.HasError() {
				t.Errorf("%s..%s: unexpected %v", tc.start, tc.end, diags)
			}
			continue
		}
		if !diags.HasError() || !strings.Contains(diags[0].Detail(), tc.wantErr) {
			t.Errorf("%s..%s: got %v, want an error containing %q", tc.start, tc.end, diags, tc.wantErr)
		}
	}
}

func costSummaryConfig(env *accEnv, extra string) string {
	return env.tenantProvider() + `
data "sirsi_cost_summary" "test" {
  start    = "2026-03-01"
  end      = "2026-03-04"
  group_by = "service"
` + extra + `
}
`
}

func TestAccCostSummaryDataSource_populated(t *testing.T) {
	env := testAccStart(t)
	account := env.createCloudAccount(t, "111111111111")
	records := []*sirsiv1.CostRecord{
		{Day: "2026-03-01", AccountId: "111111111111", Service: "AmazonEC2", Region: "us-east-1", Amount: money.USDFromFloat(10)},
		{Day: "2026-03-02", AccountId: "111111111111", Service: "AmazonEC2", Region: "us-east-1", Amount: money.USDFromFloat(12.5)},
		{Day: "2026-03-02", AccountId: "111111111111", Service: "AmazonRDS", Region: "eu-west-1", Amount: money.USDFromFloat(4)},
		// An amount Cost Explorer gave unreadably: unknown, counted, in no
		// total.
		{Day: "2026-03-02", AccountId: "111111111111", Service: "AmazonS3", Region: "us-east-1"},
		// Outside the period (end is exclusive).
		{Day: "2026-03-04", AccountId: "111111111111", Service: "AmazonRDS", Region: "eu-west-1", Amount: money.USDFromFloat(1000)},
	}
	if _, err := env.tenantStore().ApplyCosts(context.Background(), account, "costs-1", records, nil); err != nil {
		t.Fatalf("seeding costs: %v", err)
	}
	addr := "data.sirsi_cost_summary.test"
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config:      costSummaryConfig(env, `  granularity = "hourly"`),
				ExpectError: expectErr(`granularity.*value must be one of`),
			},
			{
				Config: env.tenantProvider() + `
data "sirsi_cost_summary" "test" {
  start    = "2026-03-01"
  end      = "2026-03-04"
  group_by = "colour"
}
`,
				ExpectError: expectErr(`Invalid grouping`),
			},
			{
				Config: costSummaryConfig(env, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("total"), knownvalue.Float64Exact(26.5)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("unknown_records"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("currency"), knownvalue.StringExact("USD")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("granularity"), knownvalue.StringExact("daily")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{"key": knownvalue.StringExact("AmazonEC2"), "amount": knownvalue.Float64Exact(22.5)}),
						knownvalue.ObjectExact(map[string]knownvalue.Check{"key": knownvalue.StringExact("AmazonRDS"), "amount": knownvalue.Float64Exact(4)}),
					})),
					// Only periods with cost records are listed.
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("periods"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("periods").AtSliceIndex(1).AtMapKey("total"), knownvalue.Float64Exact(16.5)),
				},
			},
			{
				Config: costSummaryConfig(env, `  granularity = "monthly"
  cloud_account_id = "`+account+`"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("total"), knownvalue.Float64Exact(26.5)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("periods"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{
							"start": knownvalue.StringExact("2026-03-01"), "end": knownvalue.StringExact("2026-03-04"), "total": knownvalue.Float64Exact(26.5),
						}),
					})),
				},
			},
		},
	})
}

func TestAccCostSummaryDataSource_empty(t *testing.T) {
	env := testAccStart(t)
	addr := "data.sirsi_cost_summary.test"
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config: env.tenantProvider() + `
data "sirsi_cost_summary" "test" {
  start = "2026-03-04"
  end   = "2026-03-01"
}
`,
				ExpectError: expectErr(`Invalid period.*must be after start`),
			},
			{
				Config: costSummaryConfig(env, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					// No cost records: the total is unknown (null), not 0.
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("total"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("currency"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("forecast_month_end"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("unknown_records"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items"), knownvalue.ListSizeExact(0)),
				},
			},
		},
	})
}
