package awssim

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

// seedCommitmentFleet runs, in us-east-1, two m5.large instances through
// the whole week before day 0 and a third for its first four days, one
// db.m5.large MySQL all week, and gives the account a 1-year no-upfront
// Compute Savings Plan of $0.0365/h and nothing reserved for RDS.
func seedCommitmentFleet(t *testing.T, s *Sim) {
	t.Helper()
	run := func(id, typ string, from, to time.Time) {
		e := Event{Region: "us-east-1", Service: "ec2", ResourceType: "instance", ResourceID: id, Type: typ, Time: from, Kind: EventCreated, State: "running"}
		record(s, e)
		e.Time, e.Kind, e.State = to, EventState, "stopped"
		record(s, e)
	}
	run("i-0c0000000000000a1", "m5.large", day(-7), day(0))
	run("i-0c0000000000000a2", "m5.large", day(-7), day(0))
	run("i-0c0000000000000a3", "m5.large", day(-7), day(-3))
	db := Event{Time: day(-7), Region: "us-east-1", Service: "rds", ResourceType: "db-instance", ResourceID: "orders", Type: "db.m5.large",
		Kind: EventCreated, State: "available", Attrs: map[string]string{"engine": "mysql", "multi-az": "false"}}
	record(s, db)
	if err := s.AddSavingsPlan("", SavingsPlan{Type: spCompute, Term: termOneYear, PaymentOption: payNoUpfront, HourlyCommitment: 0.0365, Start: day(-30)}); err != nil {
		t.Fatal(err)
	}
}

func dec(t *testing.T, field string, s *string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(aws.ToString(s), 64)
	if err != nil {
		t.Fatalf("%s %q: %v", field, aws.ToString(s), err)
	}
	return v
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(b)) }

// The Compute Savings Plan recommendation, worked out by hand: the owned
// plan ($0.0365/h at a 27 % discount) pays for $0.05 of on-demand spend an
// hour, so the week's uncovered spend is 3 × $0.096 - $0.05 = $0.238 an hour
// for 96 hours and $0.142 for 72. Committing $0.142 of on-demand spend
// saves 168 × 0.142 × 0.27, more than committing $0.238 (which goes unused
// 72 hours), so the commitment is 0.142 × 0.73 = $0.10366/h, quoted as
// $0.104; it covers 0.104 / 0.73 of on-demand spend an hour.
func TestSavingsPlansRecommendationNetOfOwnedPlans(t *testing.T) {
	h := newHarness(t, 0)
	seedCommitmentFleet(t, h.sim)
	p, err := mustCatalogue(t).EC2Hourly("us-east-1", "m5.large")
	if err != nil {
		t.Fatal(err)
	}
	out, err := ceClient(h).GetSavingsPlansPurchaseRecommendation(context.Background(), &costexplorer.GetSavingsPlansPurchaseRecommendationInput{
		SavingsPlansType: cetypes.SupportedSavingsPlansTypeComputeSp, TermInYears: cetypes.TermInYearsOneYear,
		PaymentOption: cetypes.PaymentOptionNoUpfront, LookbackPeriodInDays: cetypes.LookbackPeriodInDaysSevenDays,
	})
	if err != nil {
		t.Fatalf("GetSavingsPlansPurchaseRecommendation: %v", err)
	}
	h.checkLast(t, "ce", "GetSavingsPlansPurchaseRecommendation")
	rec := out.SavingsPlansPurchaseRecommendation
	if rec == nil || len(rec.SavingsPlansPurchaseRecommendationDetails) != 1 {
		t.Fatalf("recommendation %+v, want one detail", rec)
	}
	d := rec.SavingsPlansPurchaseRecommendationDetails[0]
	owned := 0.0365 / (1 - 0.27)
	high, low := 3*p-owned, 2*p-owned
	commit := math.Round(low*0.73*1000) / 1000
	room := commit / 0.73
	od := 96*high + 72*low
	used := 96*room + 72*min(low, room)
	saving := used - 168*commit
	for _, c := range []struct {
		field string
		got   *string
		want  float64
	}{
		{"HourlyCommitmentToPurchase", d.HourlyCommitmentToPurchase, commit},
		{"EstimatedOnDemandCostWithCurrentCommitment", d.EstimatedOnDemandCostWithCurrentCommitment, od},
		{"EstimatedSPCost", d.EstimatedSPCost, 168 * commit},
		{"EstimatedOnDemandCost", d.EstimatedOnDemandCost, od - used},
		{"EstimatedSavingsAmount", d.EstimatedSavingsAmount, saving},
		{"EstimatedMonthlySavingsAmount", d.EstimatedMonthlySavingsAmount, saving / 168 * 730},
		{"CurrentMaximumHourlyOnDemandSpend", d.CurrentMaximumHourlyOnDemandSpend, high},
		{"CurrentMinimumHourlyOnDemandSpend", d.CurrentMinimumHourlyOnDemandSpend, low},
		{"EstimatedAverageUtilization", d.EstimatedAverageUtilization, used * 0.73 / (168 * commit) * 100},
		{"UpfrontCost", d.UpfrontCost, 0},
		{"Summary.EstimatedMonthlySavingsAmount", rec.SavingsPlansPurchaseRecommendationSummary.EstimatedMonthlySavingsAmount, saving / 168 * 730},
		{"Summary.CurrentOnDemandSpend", rec.SavingsPlansPurchaseRecommendationSummary.CurrentOnDemandSpend, od},
	} {
		if got := dec(t, c.field, c.got); !near(got, c.want) {
			t.Errorf("%s = %v, want %v", c.field, got, c.want)
		}
	}
	if aws.ToString(d.HourlyCommitmentToPurchase) != "0.104" {
		t.Errorf("commitment quoted as %q, want 0.104 (a tenth of a cent)", aws.ToString(d.HourlyCommitmentToPurchase))
	}

	// Partial upfront over three years: half of three years of the
	// commitment is paid at purchase.
	out, err = ceClient(h).GetSavingsPlansPurchaseRecommendation(context.Background(), &costexplorer.GetSavingsPlansPurchaseRecommendationInput{
		SavingsPlansType: cetypes.SupportedSavingsPlansTypeEc2InstanceSp, TermInYears: cetypes.TermInYearsThreeYears,
		PaymentOption: cetypes.PaymentOptionPartialUpfront, LookbackPeriodInDays: cetypes.LookbackPeriodInDaysSevenDays,
	})
	if err != nil {
		t.Fatalf("EC2 Instance SP: %v", err)
	}
	ds := out.SavingsPlansPurchaseRecommendation.SavingsPlansPurchaseRecommendationDetails
	if len(ds) != 1 || aws.ToString(ds[0].SavingsPlansDetails.InstanceFamily) != "m5" || aws.ToString(ds[0].SavingsPlansDetails.Region) != "us-east-1" {
		t.Fatalf("EC2 Instance SP details %+v, want one for m5 in us-east-1", ds)
	}
	c3 := dec(t, "HourlyCommitmentToPurchase", ds[0].HourlyCommitmentToPurchase)
	if up := dec(t, "UpfrontCost", ds[0].UpfrontCost); !near(up, c3*3*8760*0.5) {
		t.Errorf("upfront %v, want %v", up, c3*3*8760*0.5)
	}
}

// Coverage per day: the owned plan covers $0.05 of on-demand spend every
// hour there is that much.
func TestSavingsPlansCoverage(t *testing.T) {
	h := newHarness(t, 0)
	seedCommitmentFleet(t, h.sim)
	p, _ := mustCatalogue(t).EC2Hourly("us-east-1", "m5.large")
	out, err := ceClient(h).GetSavingsPlansCoverage(context.Background(), &costexplorer.GetSavingsPlansCoverageInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(day(-4).Format(time.DateOnly)), End: aws.String(day(-2).Format(time.DateOnly))},
		Granularity: cetypes.GranularityDaily,
		GroupBy:     []cetypes.GroupDefinition{{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("REGION")}},
	})
	if err != nil {
		t.Fatalf("GetSavingsPlansCoverage: %v", err)
	}
	if len(out.SavingsPlansCoverages) != 2 {
		t.Fatalf("%d coverages, want 2 days", len(out.SavingsPlansCoverages))
	}
	covered := 24 * 0.0365 / 0.73
	for i, running := range []float64{3, 2} {
		c := out.SavingsPlansCoverages[i]
		total := 24 * running * p
		if c.Attributes["REGION"] != "us-east-1" {
			t.Errorf("day %d attributes %v", i, c.Attributes)
		}
		if got := dec(t, "SpendCoveredBySavingsPlans", c.Coverage.SpendCoveredBySavingsPlans); !near(got, covered) {
			t.Errorf("day %d covered %v, want %v", i, got, covered)
		}
		if got := dec(t, "OnDemandCost", c.Coverage.OnDemandCost); !near(got, total-covered) {
			t.Errorf("day %d on demand %v, want %v", i, got, total-covered)
		}
		if got := dec(t, "CoveragePercentage", c.Coverage.CoveragePercentage); !near(got, covered/total*100) {
			t.Errorf("day %d coverage %v%%, want %v", i, got, covered/total*100)
		}
	}
}

func mustCatalogue(t *testing.T) *pricing.Catalogue {
	t.Helper()
	cat, err := pricing.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// One db.m5.large ran every hour: one reserved instance is recommended,
// fully used; with one already reserved, nothing is.
func TestRDSReservationRecommendation(t *testing.T) {
	h := newHarness(t, 0)
	seedCommitmentFleet(t, h.sim)
	p, err := mustCatalogue(t).RDSPrice("us-east-1", "db.m5.large", "mysql")
	if err != nil {
		t.Fatal(err)
	}
	in := &costexplorer.GetReservationPurchaseRecommendationInput{
		Service: aws.String(ceServiceRDS), TermInYears: cetypes.TermInYearsOneYear, PaymentOption: cetypes.PaymentOptionAllUpfront,
		LookbackPeriodInDays: cetypes.LookbackPeriodInDaysSevenDays,
	}
	out, err := ceClient(h).GetReservationPurchaseRecommendation(context.Background(), in)
	if err != nil {
		t.Fatalf("GetReservationPurchaseRecommendation: %v", err)
	}
	if len(out.Recommendations) != 1 || len(out.Recommendations[0].RecommendationDetails) != 1 {
		t.Fatalf("recommendations %+v, want one detail", out.Recommendations)
	}
	d := out.Recommendations[0].RecommendationDetails[0]
	rds := d.InstanceDetails.RDSInstanceDetails
	if aws.ToString(rds.InstanceType) != "db.m5.large" || aws.ToString(rds.DatabaseEngine) != "MySQL" || aws.ToString(rds.DeploymentOption) != "Single-AZ" {
		t.Errorf("instance details %+v", rds)
	}
	riHourly := p.USD * (1 - 0.37)
	for _, c := range []struct {
		field string
		got   *string
		want  float64
	}{
		{"RecommendedNumberOfInstancesToPurchase", d.RecommendedNumberOfInstancesToPurchase, 1},
		{"EstimatedMonthlySavingsAmount", d.EstimatedMonthlySavingsAmount, (p.USD - riHourly) * 730},
		{"EstimatedMonthlyOnDemandCost", d.EstimatedMonthlyOnDemandCost, p.USD * 730},
		{"UpfrontCost", d.UpfrontCost, riHourly * 8760},
		{"RecurringStandardMonthlyCost", d.RecurringStandardMonthlyCost, 0},
		{"AverageUtilization", d.AverageUtilization, 100},
	} {
		if got := dec(t, c.field, c.got); !near(got, c.want) {
			t.Errorf("%s = %v, want %v", c.field, got, c.want)
		}
	}
	if err := h.sim.AddDBReservation("", DBReservation{Region: "us-east-1", Class: "db.m5.large", Engine: "mysql", Count: 1,
		Term: termOneYear, PaymentOption: payAllUpfront, Start: day(-60)}); err != nil {
		t.Fatal(err)
	}
	out, err = ceClient(h).GetReservationPurchaseRecommendation(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Recommendations) != 0 {
		t.Errorf("with the instance reserved: %+v, want no recommendation", out.Recommendations)
	}
}

func TestCommitmentOperationsRefuseBadInput(t *testing.T) {
	h := newHarness(t, 0)
	seedCommitmentFleet(t, h.sim)
	ce := ceClient(h)
	ctx := context.Background()
	_, err := ce.GetSavingsPlansPurchaseRecommendation(ctx, &costexplorer.GetSavingsPlansPurchaseRecommendationInput{
		SavingsPlansType: cetypes.SupportedSavingsPlansTypeComputeSp, TermInYears: "TWO_YEARS",
		PaymentOption: cetypes.PaymentOptionNoUpfront, LookbackPeriodInDays: cetypes.LookbackPeriodInDaysSevenDays,
	})
	if err == nil || !strings.Contains(err.Error(), "TermInYears") {
		t.Errorf("a two-year term: %v", err)
	}
	_, err = ce.GetReservationPurchaseRecommendation(ctx, &costexplorer.GetReservationPurchaseRecommendationInput{Service: aws.String("Amazon Redshift")})
	if err == nil || !strings.Contains(err.Error(), "Service") {
		t.Errorf("Redshift: %v", err)
	}
	_, err = ce.GetSavingsPlansCoverage(ctx, &costexplorer.GetSavingsPlansCoverageInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(day(-2).Format(time.DateOnly)), End: aws.String(day(-1).Format(time.DateOnly))},
		Granularity: cetypes.GranularityHourly,
	})
	if err == nil || !strings.Contains(err.Error(), "HOURLY") {
		t.Errorf("hourly coverage: %v", err)
	}
}
