package controlplane_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// The query RPCs pass their filters through and page correctly over data
// the agent side wrote.
func TestQueries(t *testing.T) {
	env := cptest.Start(t)
	tn := env.NewTenant(t, "queries")
	ctx := context.Background()
	acct, err := tn.Editor.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: newAccount("")})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{Name: "qp"}})
	if err != nil {
		t.Fatal(err)
	}
	ts := env.Store.Tenant(tn.ID)
	aid, pid := acct.CloudAccount.Id, pol.OptimizationPolicy.Id
	now := time.Now()

	var res []*sirsiv1.Resource
	for i := 0; i < 25; i++ {
		typ, region := "aws_ec2_instance", "us-east-1"
		if i%5 == 0 {
			typ, region = "aws_ebs_volume", "eu-west-1"
		}
		res = append(res, &sirsiv1.Resource{ResourceId: fmt.Sprintf("r-%02d", i), AccountId: "123456789012", Region: region, Type: typ,
			Tags: map[string]string{"team": fmt.Sprintf("t%d", i%2)}})
	}
	if _, err := ts.ApplyInventory(ctx, aid, "inv-1", store.InventoryBatch{Upserts: res, ObservedAt: now}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	tok := ""
	for pages := 0; ; pages++ {
		r, err := tn.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{Type: "aws_ec2_instance", PageSize: 7, PageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range r.Resources {
			if x.Type != "aws_ec2_instance" || seen[x.ResourceId] {
				t.Fatalf("unexpected or repeated resource %v", x)
			}
			seen[x.ResourceId] = true
		}
		if tok = r.NextPageToken; tok == "" {
			break
		}
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 20 {
		t.Fatalf("listed %d EC2 instances, want 20", len(seen))
	}
	r, err := tn.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{Region: "eu-west-1", Tags: map[string]string{"team": "t0"}})
	if err != nil || len(r.Resources) != 3 {
		t.Fatalf("region+tag filter = %d resources, %v; want 3 (r-00, r-10, r-20)", len(r.GetResources()), err)
	}

	sums := []*sirsiv1.UtilizationSummary{
		{ResourceId: "r-01", Region: "us-east-1", Metric: "cpu_utilization", Statistic: "p95", Value: 3, WindowStart: timestamppb.New(now.Add(-24 * time.Hour)), WindowEnd: timestamppb.New(now), Coverage: 1},
		{ResourceId: "r-01", Region: "us-east-1", Metric: "network_in_bytes", Statistic: "Average", Value: 100, WindowStart: timestamppb.New(now.Add(-24 * time.Hour)), WindowEnd: timestamppb.New(now), Coverage: 1},
	}
	if _, err := ts.ApplyUtilization(ctx, aid, "util-1", sums); err != nil {
		t.Fatal(err)
	}
	u, err := tn.Viewer.ListUtilization(ctx, &sirsiv1.ListUtilizationRequest{ResourceId: "r-01", Metric: "cpu_utilization"})
	if err != nil || len(u.Summaries) != 1 || u.Summaries[0].Value != 3 {
		t.Fatalf("utilization = %v, %v", u, err)
	}

	recs := []*sirsiv1.Recommendation{
		{ResourceId: "r-01", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", CurrentSize: "m5.xlarge", ProposedSize: "m5.large", EstimatedMonthlySavings: money.USDFromFloat(70), Confidence: 0.9},
		{ResourceId: "r-00", ResourceType: "aws_ebs_volume", Region: "eu-west-1", Action: "migrate_gp3", EstimatedMonthlySavings: money.USDFromFloat(4), Confidence: 0.99},
	}
	if _, _, err := ts.ApplyRecommendations(ctx, aid, "rec-1", pid, nil, recs); err != nil {
		t.Fatal(err)
	}
	lr, err := tn.Viewer.ListRecommendations(ctx, &sirsiv1.ListRecommendationsRequest{MinMonthlySavings: money.USDFromFloat(10)})
	if err != nil || len(lr.Recommendations) != 1 || lr.Recommendations[0].ResourceId != "r-01" || money.FloatOr(lr.TotalMonthlySavings, math.NaN()) != 70 {
		t.Fatalf("recommendations >= 10 = %v, %v", lr, err)
	}
	lr, err = tn.Viewer.ListRecommendations(ctx, &sirsiv1.ListRecommendationsRequest{ResourceType: "aws_ebs_volume"})
	if err != nil || len(lr.Recommendations) != 1 || money.FloatOr(lr.TotalMonthlySavings, math.NaN()) != 4 {
		t.Fatalf("EBS recommendations = %v, %v", lr, err)
	}

	acts := []*sirsiv1.Action{
		{Id: "act-1", PolicyId: pid, ResourceId: "r-01", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", FromSize: "m5.xlarge", ToSize: "m5.large",
			Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, RealizedMonthlySavings: money.USDFromFloat(70), StartTime: timestamppb.New(now.Add(-time.Hour)), EndTime: timestamppb.New(now),
			HourlyCostBefore: money.USDFromFloat(0.192), HourlyCostAfter: money.USDFromFloat(0.096)},
		{Id: "act-2", PolicyId: pid, ResourceId: "r-02", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "stop",
			Status: sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK, StartTime: timestamppb.New(now.Add(-time.Hour)), EndTime: timestamppb.New(now)},
	}
	if _, err := ts.ApplyActions(ctx, aid, "act-batch-1", acts); err != nil {
		t.Fatal(err)
	}
	la, err := tn.Viewer.ListActions(ctx, &sirsiv1.ListActionsRequest{Status: sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK})
	if err != nil || len(la.Actions) != 1 || la.Actions[0].Id != "act-2" {
		t.Fatalf("rolled-back actions = %v, %v", la, err)
	}
	// The resize is open in the ledger at $0.096 an hour; the rolled-back
	// stop opened nothing.
	sv, err := tn.Viewer.GetSavingsSummary(ctx, &sirsiv1.GetSavingsSummaryRequest{})
	if err != nil || sv.ActionsTaken != 2 || sv.ActionsSucceeded != 1 || sv.ActionsRolledBack != 1 || sv.OpenEntries != 1 ||
		sv.AnnualizedRunRate.GetMicros() != 96_000*8760 || sv.MonthlyRunRate.GetMicros() != 96_000*730 || sv.ToDate == nil || sv.AsOfTime == nil {
		t.Fatalf("savings = %v, %v", sv, err)
	}

	if _, err := ts.ApplyCosts(ctx, aid, "cost-1", nil, []*sirsiv1.CostAnomaly{{Day: "2026-03-01", Service: "AmazonEC2", ExpectedAmount: money.USDFromFloat(10), ActualAmount: money.USDFromFloat(50), Score: 4}}); err != nil {
		t.Fatal(err)
	}
	an, err := tn.Viewer.ListCostAnomalies(ctx, &sirsiv1.ListCostAnomaliesRequest{})
	if err != nil || len(an.Anomalies) != 1 || money.FloatOr(an.Anomalies[0].ActualAmount, math.NaN()) != 50 {
		t.Fatalf("anomalies = %v, %v", an, err)
	}
}
