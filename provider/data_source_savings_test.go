package provider

import (
	"context"
	"fmt"
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

func TestSavingsDataSourceSchema(t *testing.T) {
	checkDataSourceDocs(t, NewSavingsDataSource())
}

// TestAccSavingsDataSource_populated: a seeded ledger history (off-hours
// cycles across a month boundary, a resize still in effect, a rolled-back
// resize, a stop in effect now) reads back as hours x hourly rate in each
// period, by action type, and as the run-rate of what is open now.
func TestAccSavingsDataSource_populated(t *testing.T) {
	env := testAccStart(t)
	account := env.createCloudAccount(t, "111111111111")
	now := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	env.cp.Clock.Set(now)
	monthStart := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	action := func(id, resource, kind string, st sirsiv1.ActionStatus, at time.Time, before, after int64) *sirsiv1.Action {
		a := &sirsiv1.Action{Id: id, PolicyId: "nightly", ResourceId: resource, ResourceType: "aws_ec2_instance", Region: "us-east-1",
			Action: kind, FromSize: "m5.xlarge", ToSize: "m5.large", Status: st, StartTime: timestamppb.New(at), EndTime: timestamppb.New(at)}
		if before >= 0 {
			a.HourlyCostBefore, a.HourlyCostAfter = money.Micros(before, money.USD), money.Micros(after, money.USD)
		}
		return a
	}
	// hours is how many whole hours [a, b) has on or after from.
	hours := func(a, b, from time.Time) int64 {
		if a.Before(from) {
			a = from
		}
		if !b.After(a) {
			return 0
		}
		return int64(b.Sub(a) / time.Hour)
	}
	rates := map[string]int64{"i-a": 192_000, "i-b": 384_000}
	var acts []*sirsiv1.Action
	var stopToDate, stopMonth int64
	for night := range 3 {
		stop := time.Date(2026, 2, 27+night, 19, 0, 0, 0, time.UTC)
		start := stop.Add(time.Duration(11+night) * time.Hour)
		for _, id := range []string{"i-a", "i-b"} {
			acts = append(acts, action(fmt.Sprintf("stop-%s-%d", id, night), id, "stop", sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, stop, rates[id], 0),
				action(fmt.Sprintf("start-%s-%d", id, night), id, "start", sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, start, -1, 0))
			stopToDate += hours(stop, start, time.Time{}) * rates[id]
			stopMonth += hours(stop, start, monthStart) * rates[id]
		}
	}
	// i-b is stopped again two hours before now and stays stopped.
	lastStop := now.Add(-2 * time.Hour)
	acts = append(acts, action("stop-i-b-now", "i-b", "stop", sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, lastStop, rates["i-b"], 0),
		action("resize-d", "i-d", "resize", sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, now.Add(-24*time.Hour), 192_000, 96_000),
		action("resize-c", "i-c", "resize", sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK, now.Add(-30*time.Hour), 192_000, 96_000))
	stopToDate += 2 * rates["i-b"]
	stopMonth += 2 * rates["i-b"]
	resized := int64(24 * 96_000)
	if _, err := env.tenantStore().ApplyActions(context.Background(), account, "actions-1", acts); err != nil {
		t.Fatalf("seeding actions: %v", err)
	}
	// Cost Explorer has no resource-level data for the account: every
	// entry but the rolled-back one stays an estimate, and says why.
	if _, err := env.tenantStore().ApplyResourceCosts(context.Background(), account, "resource-costs-1", nil, "DataUnavailableException: not opted in"); err != nil {
		t.Fatalf("reporting no resource-level costs: %v", err)
	}
	if stopMonth == stopToDate {
		t.Fatal("the fixture must put part of the off-hours savings in February")
	}
	dollars := func(micros int64) knownvalue.Check {
		v, _ := money.CentsFloat(money.Micros(micros, money.USD))
		return knownvalue.Float64Exact(v)
	}
	runRate := rates["i-b"] + 96_000
	addr := "data.sirsi_savings.test"
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config:      env.tenantProvider() + "\ndata \"sirsi_savings\" \"test\" {\n  tenant_id = \"\"\n}\n",
				ExpectError: expectErr(`Invalid Attribute Value Length`),
			},
			{
				Config: env.tenantProvider() + "\ndata \"sirsi_savings\" \"test\" {}\n",
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("as_of"), knownvalue.StringExact("2026-03-05T12:00:00Z")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("actions_taken"), knownvalue.Int64Exact(int64(len(acts)))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("actions_rolled_back"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("to_date").AtMapKey("accrued_savings"), dollars(stopToDate+resized)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("to_date").AtMapKey("start"), knownvalue.StringExact("2026-02-27T19:00:00Z")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("to_date").AtMapKey("by_action_type"), knownvalue.MapExact(map[string]knownvalue.Check{
						"stop": dollars(stopToDate), "resize": dollars(resized)})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("to_date").AtMapKey("by_policy"), knownvalue.MapExact(map[string]knownvalue.Check{
						"nightly": dollars(stopToDate + resized)})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("to_date").AtMapKey("by_cloud_account").AtMapKey(account), dollars(stopToDate+resized)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("to_date").AtMapKey("verified_savings"), knownvalue.Float64Exact(0)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("to_date").AtMapKey("estimated_savings"), dollars(stopToDate+resized)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("verified_entries"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("estimate_reasons"), knownvalue.MapExact(map[string]knownvalue.Check{
						"Cost Explorer has no resource-level data: DataUnavailableException: not opted in": knownvalue.Int64Exact(8)})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("last_30_days").AtMapKey("accrued_savings"), dollars(stopToDate+resized)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("this_month").AtMapKey("accrued_savings"), dollars(stopMonth+resized)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("this_month").AtMapKey("start"), knownvalue.StringExact("2026-03-01T00:00:00Z")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("annualized_run_rate"), dollars(runRate*8760)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("monthly_run_rate"), dollars(runRate*730)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("open_entries"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("unknown_entries"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("currency"), knownvalue.StringExact("USD")),
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
				statecheck.ExpectKnownValue("data.sirsi_savings.test", tfjsonpath.New("to_date").AtMapKey("accrued_savings"), knownvalue.Float64Exact(0)),
				statecheck.ExpectKnownValue("data.sirsi_savings.test", tfjsonpath.New("annualized_run_rate"), knownvalue.Float64Exact(0)),
			},
		}},
	})
}
