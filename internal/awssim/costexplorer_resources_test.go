package awssim

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"
)

func ec2ComputeFilter() *cetypes.Expression {
	return &cetypes.Expression{Dimensions: &cetypes.DimensionValues{Key: cetypes.DimensionService, Values: []string{ceServiceEC2Compute}}}
}

// TestCostAndUsageWithResourcesByResourceID: each instance's daily cost is
// its running hours x its price (seedBill), and the resources of a day add
// up to GetCostAndUsage's EC2 compute total for it.
func TestCostAndUsageWithResourcesByResourceID(t *testing.T) {
	h := newHarness(t, 0)
	seedBill(h.sim)
	period := &cetypes.DateInterval{Start: aws.String(day(-3).Format(time.DateOnly)), End: aws.String(day(0).Format(time.DateOnly))}
	out, err := ceClient(h).GetCostAndUsageWithResources(context.Background(), &costexplorer.GetCostAndUsageWithResourcesInput{
		TimePeriod: period, Granularity: cetypes.GranularityDaily, Metrics: []string{"UnblendedCost"}, Filter: ec2ComputeFilter(),
		GroupBy: []cetypes.GroupDefinition{{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("RESOURCE_ID")}},
	})
	if err != nil {
		t.Fatalf("GetCostAndUsageWithResources: %v", err)
	}
	h.checkLast(t, "ce", "GetCostAndUsageWithResources")
	want := []map[string]float64{
		{"i-0aaaaaaaaaaaaaaaa": 24 * 0.096},
		{"i-0aaaaaaaaaaaaaaaa": 24 * 0.096, "i-0bbbbbbbbbbbbbbbb": 24 * 0.096},
		{"i-0aaaaaaaaaaaaaaaa": 12 * 0.096},
	}
	totals, err := ceClient(h).GetCostAndUsage(context.Background(), &costexplorer.GetCostAndUsageInput{
		TimePeriod: period, Granularity: cetypes.GranularityDaily, Metrics: []string{"UnblendedCost"}, Filter: ec2ComputeFilter(),
	})
	if err != nil {
		t.Fatalf("GetCostAndUsage: %v", err)
	}
	if len(out.ResultsByTime) != len(want) || len(totals.ResultsByTime) != len(want) {
		t.Fatalf("%d and %d days, want %d", len(out.ResultsByTime), len(totals.ResultsByTime), len(want))
	}
	for i, r := range out.ResultsByTime {
		if len(r.Groups) != len(want[i]) {
			t.Errorf("day %d: groups %+v, want %v", i, r.Groups, want[i])
			continue
		}
		var sum float64
		for _, g := range r.Groups {
			got := amount(t, g.Metrics, "UnblendedCost")
			sum += got
			if !near6(got, want[i][g.Keys[0]]) {
				t.Errorf("day %d %s: %v, want %v", i, g.Keys[0], got, want[i][g.Keys[0]])
			}
		}
		if total := amount(t, totals.ResultsByTime[i].Total, "UnblendedCost"); !near6(sum, total) {
			t.Errorf("day %d: resources add up to %v, the service total is %v", i, sum, total)
		}
	}
}

// TestCostAndUsageWithResourcesRules: the operation's own refusals, each
// in the service model's error shapes, and GetCostAndUsage refusing
// RESOURCE_ID.
func TestCostAndUsageWithResourcesRules(t *testing.T) {
	h := newHarness(t, 0)
	seedBill(h.sim)
	ctx := context.Background()
	byID := []cetypes.GroupDefinition{{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("RESOURCE_ID")}}
	recent := &cetypes.DateInterval{Start: aws.String(day(-3).Format(time.DateOnly)), End: aws.String(day(0).Format(time.DateOnly))}
	withResources := func(h *harness, period *cetypes.DateInterval, filter *cetypes.Expression) error {
		_, err := ceClient(h).GetCostAndUsageWithResources(ctx, &costexplorer.GetCostAndUsageWithResourcesInput{
			TimePeriod: period, Granularity: cetypes.GranularityDaily, Metrics: []string{"UnblendedCost"}, Filter: filter, GroupBy: byID})
		return err
	}
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"filter without the EC2 service", func() error {
			return withResources(h, recent, &cetypes.Expression{Dimensions: &cetypes.DimensionValues{Key: cetypes.DimensionRegion, Values: []string{"us-east-1"}}})
		}, "ValidationException"},
		{"older than 14 days", func() error {
			return withResources(h, &cetypes.DateInterval{Start: aws.String(day(-15).Format(time.DateOnly)), End: aws.String(day(0).Format(time.DateOnly))}, ec2ComputeFilter())
		}, "ValidationException"},
		{"RESOURCE_ID in GetCostAndUsage", func() error {
			_, err := ceClient(h).GetCostAndUsage(ctx, &costexplorer.GetCostAndUsageInput{TimePeriod: recent, Granularity: cetypes.GranularityDaily,
				Metrics: []string{"UnblendedCost"}, GroupBy: byID})
			return err
		}, "ValidationException"},
	} {
		if got := apiCode(t, tc.call()); got != tc.code {
			t.Errorf("%s: error code %q, want %s", tc.name, got, tc.code)
		}
		h.checkLast(t, "ce", "")
	}
	// An account that has not opted in.
	off := newHarnessWith(t, Options{NoResourceLevelCosts: true})
	seedBill(off.sim)
	if got := apiCode(t, withResources(off, recent, ec2ComputeFilter())); got != "DataUnavailableException" {
		t.Errorf("without resource-level data: error code %q, want DataUnavailableException", got)
	}
	off.checkLast(t, "ce", "")
}
