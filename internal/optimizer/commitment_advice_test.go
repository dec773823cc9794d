package optimizer

import (
	"errors"
	"math"
	"strings"
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
)

func threeInstances() []Input {
	return []Input{
		{ec2("i-c", "m5.xlarge"), cpu("p95", 20)},
		{ec2("i-a", "m5.xlarge"), cpu("p95", 20)},
		{ec2("i-b", "m5.large"), cpu("p95", 40)},
	}
}

func decideWith(o *Optimizer, p *sirsiv1.OptimizationPolicy, a *CommitmentAdvice) []*sirsiv1.Recommendation {
	d := o.Start(p, now)
	d.Add(threeInstances())
	d.UseCommitmentAdvice(a)
	return d.Finish()
}

func byAction(recs []*sirsiv1.Recommendation, action string) []*sirsiv1.Recommendation {
	var out []*sirsiv1.Recommendation
	for _, r := range recs {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

// Cost Explorer's answer replaces the estimate: its commitment, its
// monthly saving rounded to cents, the current cost from its average
// hourly on-demand spend; RDS reservations are suggested only for a
// policy covering RDS.
func TestCommitmentsFromCostExplorerAdvice(t *testing.T) {
	o := newOptimizer(t)
	p := testPolicy(func(p *sirsiv1.OptimizationPolicy) { p.ResourceTypes = []string{"aws_ec2_instance"} })
	a := &CommitmentAdvice{
		Settings: policy.Commitments(p), LookbackDays: 30,
		SavingsPlans: []SavingsPlanOffer{{AccountID: "123456789012", HourlyCommitment: 104_000, CurrentHourlyOnDemand: 196_857,
			MonthlySavings: 27_934_286, Utilization: 0.9986}},
		Reservations: []ReservationOffer{{AccountID: "123456789012", Region: "us-east-1", InstanceType: "db.m5.large", Engine: "MySQL",
			Deployment: "Single-AZ", Count: 1, MonthlyOnDemand: 124_830_000, MonthlySavings: 46_187_100, Utilization: 1}},
		Coverage: &SavingsPlansCoverage{Covered: 8_400_000, OnDemand: 33_072_000, Hours: 168},
	}
	recs := decideWith(o, p, a)
	sps := byAction(recs, ActionCommitSavingsPlan)
	if len(sps) != 1 {
		t.Fatalf("%d Savings Plans suggestions, want Cost Explorer's one", len(sps))
	}
	sp := sps[0]
	if sp.ProposedSize != "0.104/h" || sp.EstimatedMonthlySavings.GetMicros() != 27_930_000 || sp.CurrentMonthlyCost.GetMicros() != 143_710_000 ||
		sp.ProposedMonthlyCost.GetMicros() != 143_710_000-27_930_000 {
		t.Errorf("suggestion %q saving %s current %s proposed %s", sp.ProposedSize, money.Format(sp.EstimatedMonthlySavings),
			money.Format(sp.CurrentMonthlyCost), money.Format(sp.ProposedMonthlyCost))
	}
	if ev := sp.Evidence; len(ev) != 1 || ev[0].Statistic != StatisticCostExplorer || math.Abs(ev[0].Coverage-8.4/(8.4+33.072)) > 1e-12 {
		t.Errorf("evidence %v", sp.Evidence)
	}
	if strings.Contains(sp.Reason, "Fallback") {
		t.Errorf("Cost Explorer's suggestion labelled a fallback: %s", sp.Reason)
	}
	if ris := byAction(recs, ActionCommitReservedInstances); len(ris) != 0 {
		t.Errorf("an EC2-only policy got RDS reservations: %v", ris)
	}
	p.ResourceTypes = append(p.ResourceTypes, "aws_rds_instance")
	ris := byAction(decideWith(o, p, a), ActionCommitReservedInstances)
	if len(ris) != 1 || ris[0].EstimatedMonthlySavings.GetMicros() != 46_190_000 || ris[0].ResourceType != "aws_rds_instance" {
		t.Fatalf("RDS reservations %v", ris)
	}
}

// When Cost Explorer refuses, the list-price estimate stands in, labelled
// as a fallback in its reason and evidence, and what the owned Savings
// Plans cover comes off the baseline first: $0.288/h less $0.05/h
// covered, at 27 %, saves 0.238 × 0.27 × 730 a month.
func TestFallbackCommitmentNetOfCoverage(t *testing.T) {
	o := newOptimizer(t)
	p := testPolicy()
	a := &CommitmentAdvice{Settings: policy.Commitments(p), LookbackDays: 14, SavingsPlansErr: errors.New("AccessDeniedException: not authorized"),
		Coverage: &SavingsPlansCoverage{Covered: 50_000 * 14 * 24, OnDemand: 238_000 * 14 * 24, Hours: 14 * 24}}
	sps := byAction(decideWith(o, p, a), ActionCommitSavingsPlan)
	if len(sps) != 1 {
		t.Fatalf("%d suggestions, want the fallback", len(sps))
	}
	sp := sps[0]
	if want := money.RoundCents(0.238 * 0.27 * 730); money.FloatOr(sp.EstimatedMonthlySavings, 0) != want {
		t.Errorf("fallback saves %s, want %.2f (net of the owned plan's $0.05/h)", money.Format(sp.EstimatedMonthlySavings), want)
	}
	if !strings.HasPrefix(sp.Reason, "Fallback estimate") || !strings.Contains(sp.Reason, "AccessDeniedException") {
		t.Errorf("reason does not say it is a fallback and why: %s", sp.Reason)
	}
	if ev := sp.Evidence; len(ev) != 1 || ev[0].Statistic != StatisticFallbackEstimate {
		t.Errorf("evidence %v, want the fallback label", sp.Evidence)
	}
	// Without coverage the whole baseline counts: the figure of
	// TestDecideOrderAndCommitment.
	a.Coverage = nil
	if sp := byAction(decideWith(o, p, a), ActionCommitSavingsPlan); len(sp) != 1 || money.FloatOr(sp[0].EstimatedMonthlySavings, 0) != 56.76 {
		t.Errorf("without coverage: %v", sp)
	}
}
