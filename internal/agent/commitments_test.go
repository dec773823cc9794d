package agent

import (
	"context"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/optimizer"
)

// TestCommitmentsFromCostExplorer: an account that already owns a Compute
// Savings Plan gets the commitment suggestions the simulated Cost
// Explorer recommends for the policy's term and payment option (3 years,
// partial upfront), to the cent, with the owned plan's coverage in the
// evidence; and RDS reserved instances likewise.
func TestCommitmentsFromCostExplorer(t *testing.T) {
	day := time.Now().UTC().Truncate(24 * time.Hour)
	sim, simURL, _ := seededSimulator(t, 30)
	if err := sim.AddSavingsPlan("", awssim.SavingsPlan{Type: "COMPUTE_SP", Term: "ONE_YEAR", PaymentOption: "NO_UPFRONT",
		HourlyCommitment: 0.05, Start: time.Now().AddDate(0, -2, 0)}); err != nil {
		t.Fatal(err)
	}
	env := cptest.Start(t, cptest.WithAgentService())
	tn := env.NewTenant(t, "commit")
	acct := env.NewCloudAccount(t, tn.ID, awssim.DefaultAccountID)
	ctx := context.Background()
	pol, err := tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{
		TenantId: tn.ID, Name: "commit", ResourceTypes: []string{"aws_ec2_instance", "aws_rds_instance"},
		Commitments: &sirsiv1.CommitmentSettings{Term: sirsiv1.CommitmentTerm_COMMITMENT_TERM_THREE_YEARS, PaymentOption: sirsiv1.PaymentOption_PAYMENT_OPTION_PARTIAL_UPFRONT},
	}})
	if err != nil {
		t.Fatal(err)
	}
	startAgent(t, agentConfig(env, t.TempDir(), env.AgentEndpoint, env.NewEnrollmentToken(t, tn.ID, acct.Id), simURL))
	byAction := map[string][]*sirsiv1.Recommendation{}
	waitFor(t, "commitment suggestions", 90*time.Second, func() bool {
		resp, err := tn.Viewer.ListRecommendations(ctx, &sirsiv1.ListRecommendationsRequest{TenantId: tn.ID, PolicyId: pol.GetOptimizationPolicy().GetId()})
		if err != nil {
			t.Fatal(err)
		}
		clear(byAction)
		for _, r := range resp.GetRecommendations() {
			byAction[r.GetAction()] = append(byAction[r.GetAction()], r)
		}
		return len(byAction[optimizer.ActionCommitSavingsPlan]) > 0 && len(byAction[optimizer.ActionCommitReservedInstances]) > 0
	})

	// Ask the simulator's Cost Explorer the same questions.
	cfg, err := awsclient.Load(ctx, awsclient.Options{Region: "us-east-1", Endpoint: simURL, Credentials: staticCreds()})
	if err != nil {
		t.Fatal(err)
	}
	ce := costexplorer.NewFromConfig(cfg)
	sp, err := ce.GetSavingsPlansPurchaseRecommendation(ctx, &costexplorer.GetSavingsPlansPurchaseRecommendationInput{
		SavingsPlansType: cetypes.SupportedSavingsPlansTypeComputeSp, TermInYears: cetypes.TermInYearsThreeYears,
		PaymentOption: cetypes.PaymentOptionPartialUpfront, LookbackPeriodInDays: cetypes.LookbackPeriodInDaysThirtyDays,
	})
	if err != nil {
		t.Fatal(err)
	}
	ri, err := ce.GetReservationPurchaseRecommendation(ctx, &costexplorer.GetReservationPurchaseRecommendationInput{
		Service: aws.String("Amazon Relational Database Service"), TermInYears: cetypes.TermInYearsThreeYears,
		PaymentOption: cetypes.PaymentOptionPartialUpfront, LookbackPeriodInDays: cetypes.LookbackPeriodInDaysThirtyDays,
	})
	if err != nil {
		t.Fatal(err)
	}
	cov, err := ce.GetSavingsPlansCoverage(ctx, &costexplorer.GetSavingsPlansCoverageInput{
		TimePeriod: &cetypes.DateInterval{Start: aws.String(day.AddDate(0, 0, -30).Format(time.DateOnly)), End: aws.String(day.Format(time.DateOnly))},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !time.Now().UTC().Truncate(24 * time.Hour).Equal(day) {
		t.Skip("the UTC day changed during the test: Cost Explorer's lookback window moved")
	}
	cents := func(s *string) int64 {
		t.Helper()
		m, err := money.ParseDecimal(aws.ToString(s))
		if err != nil {
			t.Fatal(err)
		}
		return money.Cents(m)
	}
	var covered, onDemand float64
	for _, c := range cov.SavingsPlansCoverages {
		a, _ := strconv.ParseFloat(aws.ToString(c.Coverage.SpendCoveredBySavingsPlans), 64)
		b, _ := strconv.ParseFloat(aws.ToString(c.Coverage.OnDemandCost), 64)
		covered, onDemand = covered+a, onDemand+b
	}
	if covered <= 0 {
		t.Fatalf("the owned plan covered nothing: %+v", cov.SavingsPlansCoverages)
	}

	details := sp.SavingsPlansPurchaseRecommendation.SavingsPlansPurchaseRecommendationDetails
	got := byAction[optimizer.ActionCommitSavingsPlan]
	if len(details) != 1 || len(got) != 1 {
		t.Fatalf("Cost Explorer recommends %d Savings Plans, the agent suggested %d", len(details), len(got))
	}
	d, rec := details[0], got[0]
	if want := cents(d.EstimatedMonthlySavingsAmount); money.Cents(rec.GetEstimatedMonthlySavings().GetMicros()) != want {
		t.Errorf("monthly saving %s, Cost Explorer says %d cents", money.Format(rec.GetEstimatedMonthlySavings()), want)
	}
	if want := aws.ToString(d.HourlyCommitmentToPurchase) + "/h"; rec.GetProposedSize() != want {
		t.Errorf("commitment %q, Cost Explorer says %q", rec.GetProposedSize(), want)
	}
	hourly, _ := money.ParseDecimal(aws.ToString(d.CurrentAverageHourlyOnDemandSpend))
	if want := money.Cents(hourly * 730); money.Cents(rec.GetCurrentMonthlyCost().GetMicros()) != want {
		t.Errorf("current monthly cost %s, want %d cents (Cost Explorer's average hourly on-demand spend × 730)", money.Format(rec.GetCurrentMonthlyCost()), want)
	}
	ev := rec.GetEvidence()
	if len(ev) != 1 || ev[0].GetStatistic() != optimizer.StatisticCostExplorer || math.Abs(ev[0].GetCoverage()-covered/(covered+onDemand)) > 1e-6 {
		t.Errorf("evidence %v, want Cost Explorer's with coverage %v", ev, covered/(covered+onDemand))
	}

	var riDetails []cetypes.ReservationPurchaseRecommendationDetail
	for _, r := range ri.Recommendations {
		riDetails = append(riDetails, r.RecommendationDetails...)
	}
	gotRI := byAction[optimizer.ActionCommitReservedInstances]
	if len(riDetails) != len(gotRI) {
		t.Fatalf("Cost Explorer recommends %d reservations, the agent suggested %d", len(riDetails), len(gotRI))
	}
	var wantSum, gotSum int64
	for i := range riDetails {
		wantSum += cents(riDetails[i].EstimatedMonthlySavingsAmount)
		gotSum += money.Cents(gotRI[i].GetEstimatedMonthlySavings().GetMicros())
	}
	if wantSum != gotSum {
		t.Errorf("RDS reservations save %d cents a month, Cost Explorer says %d", gotSum, wantSum)
	}
}
