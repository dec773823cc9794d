package provider

import (
	"context"
	"math"
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

func TestSavingsDataSourceSchema(t *testing.T) {
	checkDataSourceDocs(t, NewSavingsDataSource())
}

func TestValidateDateRangeUnbounded(t *testing.T) {
	if d := validateDateRange(types.StringValue("2000-01-01"), types.StringValue("2026-01-01"), math.MaxInt32); d.HasError() {
		t.Errorf("a long savings period was refused: %v", d)
	}
	if d := validateDateRange(types.StringValue("2026-01-01"), types.StringNull(), math.MaxInt32); d.HasError() {
		t.Errorf("an open-ended period was refused: %v", d)
	}
	if d := validateDateRange(types.StringValue("2026-02-01"), types.StringValue("2026-01-01"), math.MaxInt32); !d.HasError() {
		t.Error("end before start was accepted")
	}
}

func TestAccSavingsDataSource_populated(t *testing.T) {
	env := testAccStart(t)
	account := env.createCloudAccount(t, "111111111111")
	at := func(day string) *timestamppb.Timestamp {
		d, err := time.Parse("2006-01-02", day)
		if err != nil {
			t.Fatal(err)
		}
		return timestamppb.New(d.Add(3 * time.Hour))
	}
	action := func(id, day string, st sirsiv1.ActionStatus, saved float64) *sirsiv1.Action {
		return &sirsiv1.Action{Id: id, ResourceId: "i-" + id, ResourceType: "aws_ec2_instance", Region: "us-east-1",
			Action: "resize", FromSize: "m5.2xlarge", ToSize: "m5.large", Status: st, RealizedMonthlySavings: money.USDFromFloat(saved),
			StartTime: at(day), EndTime: at(day)}
	}
	_, err := env.tenantStore().ApplyActions(context.Background(), account, "actions-1", []*sirsiv1.Action{
		action("a1", "2026-02-10", sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, 210.24),
		action("a2", "2026-02-11", sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK, 0),
		action("a3", "2026-02-12", sirsiv1.ActionStatus_ACTION_STATUS_FAILED, 0),
		action("a4", "2026-03-02", sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, 50),
	})
	if err != nil {
		t.Fatalf("seeding actions: %v", err)
	}
	addr := "data.sirsi_savings.test"
	config := func(period string) string {
		return env.tenantProvider() + "\ndata \"sirsi_savings\" \"test\" {\n" + period + "\n}\n"
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config: config(`  start = "2026-03-01"
  end   = "2026-02-01"`),
				ExpectError: expectErr(`Invalid period.*must be after start`),
			},
			{
				Config: config(""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("actions_taken"), knownvalue.Int64Exact(4)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("actions_succeeded"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("actions_rolled_back"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("actions_failed"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("realized_monthly_savings"), knownvalue.Float64Exact(260.24)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("currency"), knownvalue.StringExact("USD")),
				},
			},
			{
				Config: config(`  start = "2026-02-01"
  end   = "2026-03-01"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("actions_taken"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("realized_monthly_savings"), knownvalue.Float64Exact(210.24)),
				},
			},
		},
	})
}

func TestAccSavingsDataSource_empty(t *testing.T) {
	env := testAccStart(t)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config: env.tenantProvider() + "\ndata \"sirsi_savings\" \"test\" {}\n",
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.sirsi_savings.test", tfjsonpath.New("actions_taken"), knownvalue.Int64Exact(0)),
				statecheck.ExpectKnownValue("data.sirsi_savings.test", tfjsonpath.New("realized_monthly_savings"), knownvalue.Float64Exact(0)),
			},
		}},
	})
}
