package controlplane_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

func TestCostSummaryAndForecast(t *testing.T) {
	env := cptest.Start(t)
	tn := env.NewTenant(t, "costs")
	ctx := context.Background()
	acct, err := tn.Editor.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: newAccount("")})
	if err != nil {
		t.Fatal(err)
	}
	// March 1..14: EC2 10/day; March 8..14 also S3 5/day (tagged team=web).
	var recs []*sirsiv1.CostRecord
	for d := 1; d <= 14; d++ {
		day := fmt.Sprintf("2026-03-%02d", d)
		recs = append(recs, &sirsiv1.CostRecord{Day: day, AccountId: "123456789012", Service: "AmazonEC2", Region: "us-east-1", Amount: money.USDFromFloat(10)})
		if d >= 8 {
			recs = append(recs, &sirsiv1.CostRecord{Day: day, AccountId: "123456789012", Service: "AmazonS3", Region: "eu-west-1", Amount: money.USDFromFloat(5), Tags: map[string]string{"team": "web"}})
		}
	}
	if _, err := env.Store.Tenant(tn.ID).ApplyCosts(ctx, acct.CloudAccount.Id, "batch-1", recs, nil); err != nil {
		t.Fatal(err)
	}
	env.Clock.Set(time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC))

	daily, err := tn.Viewer.GetCostSummary(ctx, &sirsiv1.GetCostSummaryRequest{Start: "2026-03-01", End: "2026-03-15", GroupBy: "service"})
	if err != nil {
		t.Fatal(err)
	}
	if money.Format(daily.Total) != "175.00 USD" || len(daily.Periods) != 14 {
		t.Fatalf("daily summary = total %s periods %d", money.Format(daily.Total), len(daily.Periods))
	}
	if len(daily.Items) != 2 || daily.Items[0].Key != "AmazonEC2" || money.FloatOr(daily.Items[0].Amount, math.NaN()) != 140 || money.FloatOr(daily.Items[1].Amount, math.NaN()) != 35 {
		t.Fatalf("items = %v, want EC2 140 then S3 35", daily.Items)
	}
	last := daily.Periods[13]
	if last.Start != "2026-03-14" || last.End != "2026-03-15" || money.Format(last.Total) != "15.00 USD" || last.Items[0].Key != "AmazonEC2" {
		t.Fatalf("last period = %v", last)
	}
	// Month-to-date 175 + trailing average 15/day × 17 days left (15..31).
	if got, want := money.Format(daily.ForecastMonthEnd), "430.00 USD"; got != want {
		t.Errorf("forecast = %s, want %s (175 + 15 x 17)", got, want)
	}

	monthly, err := tn.Viewer.GetCostSummary(ctx, &sirsiv1.GetCostSummaryRequest{
		Start: "2026-02-10", End: "2026-03-20", Granularity: sirsiv1.Granularity_GRANULARITY_MONTHLY, GroupBy: "tag:team",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(monthly.Periods) != 1 || monthly.Periods[0].Start != "2026-03-01" || monthly.Periods[0].End != "2026-03-20" || money.Format(monthly.Periods[0].Total) != "175.00 USD" {
		t.Fatalf("monthly periods = %v", monthly.Periods)
	}
	if len(monthly.Items) != 2 || monthly.Items[0].Key != "" || money.FloatOr(monthly.Items[0].Amount, math.NaN()) != 140 || monthly.Items[1].Key != "web" {
		t.Fatalf("tag items = %v", monthly.Items)
	}

	empty, err := tn.Viewer.GetCostSummary(ctx, &sirsiv1.GetCostSummaryRequest{Start: "2025-01-01", End: "2025-02-01"})
	if err != nil {
		t.Fatal(err)
	}
	// No records: the total is unknown, not 0 in some currency.
	if empty.Total != nil || len(empty.Periods) != 0 {
		t.Fatalf("empty range = %v", empty)
	}
}

func TestStatusComputedAtReadTime(t *testing.T) {
	env := cptest.Start(t, cptest.WithServerOptions(func(o *controlplane.Options) { o.AgentStaleAfter = 10 * time.Minute }))
	tn := env.NewTenant(t, "status")
	ctx := context.Background()
	acct, err := tn.Editor.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: newAccount("")})
	if err != nil {
		t.Fatal(err)
	}
	if acct.CloudAccount.Status != sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_PENDING {
		t.Fatalf("new account status = %s", acct.CloudAccount.Status)
	}
	ts := env.Store.Tenant(tn.ID)
	ag, err := ts.CreateAgent(ctx, &sirsiv1.Agent{CloudAccountId: acct.CloudAccount.Id, Hostname: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.RecordHeartbeat(ctx, ag.Id, store.Heartbeat{At: time.Now(), Version: "1.0", Hostname: "h"}); err != nil {
		t.Fatal(err)
	}
	check := func(wantAcct sirsiv1.CloudAccountStatus, wantAgent sirsiv1.AgentStatus) {
		t.Helper()
		a, err := tn.Viewer.GetCloudAccount(ctx, &sirsiv1.GetCloudAccountRequest{Id: acct.CloudAccount.Id})
		if err != nil || a.CloudAccount.Status != wantAcct {
			t.Fatalf("account status = %v, %v; want %s", a.GetCloudAccount().GetStatus(), err, wantAcct)
		}
		g, err := tn.Viewer.GetAgent(ctx, &sirsiv1.GetAgentRequest{Id: ag.Id})
		if err != nil || g.Agent.Status != wantAgent {
			t.Fatalf("agent status = %v, %v; want %s", g.GetAgent().GetStatus(), err, wantAgent)
		}
	}
	check(sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CONNECTED, sirsiv1.AgentStatus_AGENT_STATUS_CONNECTED)
	env.Clock.Advance(11 * time.Minute)
	check(sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_STALE, sirsiv1.AgentStatus_AGENT_STATUS_STALE)
	if _, err := tn.Editor.RevokeAgent(ctx, &sirsiv1.RevokeAgentRequest{Id: ag.Id}); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(-11 * time.Minute)
	check(sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CONNECTED, sirsiv1.AgentStatus_AGENT_STATUS_REVOKED)
}

func durationOf(d time.Duration) *durationpb.Duration { return durationpb.New(d) }
