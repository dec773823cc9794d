package optimizer

import (
	"fmt"
	"strconv"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// Commitment suggestions from Cost Explorer. The agent asks Cost Explorer
// (monitor.Commitments) with the policy's term and payment option and
// hands the answer to the Decision; the figures of each suggestion are
// Cost Explorer's, rounded to cents. Only where Cost Explorer could not
// answer does the list-price estimate of commitment.go stand in, labelled
// as a fallback.

// ActionCommitReservedInstances suggests buying RDS reserved instances;
// like commit_savings_plan it is advice only.
const ActionCommitReservedInstances = "commit_reserved_instances"

// ReservationResourcePrefix starts the ResourceId of
// commit_reserved_instances suggestions ("rds-reservation:db.m5.large/mysql/single-az").
const ReservationResourcePrefix = "rds-reservation:"

// Evidence metric and statistics of commitment suggestions: the
// utilisation the commitment would have, and whose figure it is.
const (
	EvidenceCommitmentUtilization = "commitment_utilization"
	StatisticCostExplorer         = "cost_explorer"
	StatisticFallbackEstimate     = "fallback_estimate"
)

// CommitmentAdvice is Cost Explorer's answer for one set of commitment
// settings over a lookback period.
type CommitmentAdvice struct {
	Settings     *sirsiv1.CommitmentSettings
	LookbackDays int
	// SavingsPlans are the Savings Plans Cost Explorer recommends; when
	// SavingsPlansErr is set it could not answer and the fallback
	// estimate is made instead.
	SavingsPlans    []SavingsPlanOffer
	SavingsPlansErr error
	// Reservations are the RDS reserved instances it recommends; none
	// are suggested when ReservationsErr is set (there is no fallback).
	Reservations    []ReservationOffer
	ReservationsErr error
	// Coverage is what the account's Savings Plans already pay for, nil
	// when unknown.
	Coverage *SavingsPlansCoverage
}

// SavingsPlanOffer is one recommended Savings Plan. Amounts are USD
// micro-units as Cost Explorer gave them.
type SavingsPlanOffer struct {
	AccountID string
	// Region and InstanceFamily are set for EC2 Instance Savings Plans.
	Region, InstanceFamily string
	HourlyCommitment       int64
	// CurrentHourlyOnDemand is the average hourly on-demand spend the
	// plan is sized on.
	CurrentHourlyOnDemand int64
	MonthlySavings        int64
	Upfront               int64
	// Utilization is the expected use of the commitment, 0..1.
	Utilization float64
}

// ReservationOffer is one recommended purchase of RDS reserved instances.
type ReservationOffer struct {
	AccountID, Region, InstanceType, Engine, Deployment string
	Count                                               int
	MonthlyOnDemand, MonthlySavings, Upfront, Recurring int64
	Utilization                                         float64
}

// SavingsPlansCoverage is the eligible EC2 spend over the lookback period
// at on-demand rates: the part Savings Plans paid for and the rest.
type SavingsPlansCoverage struct {
	Covered, OnDemand int64
	Hours             int
}

// Fraction is the share of the spend covered, 0..1.
func (c *SavingsPlansCoverage) Fraction() float64 {
	if c == nil || c.Covered+c.OnDemand <= 0 {
		return 0
	}
	return float64(c.Covered) / float64(c.Covered+c.OnDemand)
}

// coveredPerHour is the average on-demand spend an hour the account's
// Savings Plans pay for, USD.
func (c *SavingsPlansCoverage) coveredPerHour() float64 {
	if c == nil || c.Hours <= 0 {
		return 0
	}
	return float64(c.Covered) / money.MicrosPerUnit / float64(c.Hours)
}

func usd(micros int64) float64 { return float64(money.Cents(micros)) / 100 }

// fromCostExplorer turns Cost Explorer's recommendations into suggestions
// with its figures: the monthly saving is Cost Explorer's estimate, the
// current cost the on-demand spend the commitment is sized on.
func fromCostExplorer(p *sirsiv1.OptimizationPolicy, a *CommitmentAdvice, coversEC2, coversRDS bool) []*sirsiv1.Recommendation {
	var out []*sirsiv1.Recommendation
	term := validation.EnumName(a.Settings.GetTerm())
	payment := validation.EnumName(a.Settings.GetPaymentOption())
	coverage := a.Coverage.Fraction()
	covNote := "unknown"
	if a.Coverage != nil {
		covNote = fmt.Sprintf("%.1f%%", coverage*100)
	}
	if coversEC2 && a.SavingsPlansErr == nil {
		for _, o := range a.SavingsPlans {
			kind, scope, region := "Compute Savings Plan", "any region and instance family", "us-east-1"
			id := SavingsPlanResourcePrefix + o.AccountID
			if o.InstanceFamily != "" {
				kind, scope, region = "EC2 Instance Savings Plan", o.InstanceFamily+" instances in "+o.Region, o.Region
				id = "ec2-instance-savings-plan:" + o.Region + "/" + o.InstanceFamily
			}
			current := usd(o.CurrentHourlyOnDemand * pricing.HoursPerMonth)
			saving := usd(o.MonthlySavings)
			reason := fmt.Sprintf("Cost Explorer recommends a %s-term, %s %s of $%s/h for %s in account %s: sized on the on-demand spend "+
				"existing Savings Plans left over the last %d days (they cover %s of it); saves $%.2f a month at an expected %.1f%% utilisation, "+
				"$%.2f upfront. Cost Explorer's estimate, from past usage: it does not anticipate this policy's other recommendations. Read-only suggestion.",
				term, payment, kind, decimal(o.HourlyCommitment), scope, o.AccountID, a.LookbackDays, covNote, saving, o.Utilization*100, usd(o.Upfront))
			r := &sirsiv1.Resource{ResourceId: id, Type: validation.ResourceEC2Instance, Region: region}
			rec := newRec(p, r, ActionCommitSavingsPlan, "on-demand", decimal(o.HourlyCommitment)+"/h", current, current-saving, o.Utilization, reason,
				&sirsiv1.Evidence{Metric: EvidenceCommitmentUtilization, Statistic: StatisticCostExplorer, Value: o.Utilization, WindowDays: int32(a.LookbackDays), Coverage: coverage})
			setFigures(rec, o.CurrentHourlyOnDemand*pricing.HoursPerMonth, o.MonthlySavings)
			out = append(out, rec)
		}
	}
	if coversRDS && a.ReservationsErr == nil {
		for _, o := range a.Reservations {
			reason := fmt.Sprintf("Cost Explorer recommends %d %s-term, %s reserved %s %s (%s) instance(s) in %s for account %s, sized on the "+
				"instance-hours existing reservations left over the last %d days: saves $%.2f a month at an expected %.1f%% utilisation, "+
				"$%.2f upfront and $%.2f a month. Read-only suggestion.",
				o.Count, term, payment, o.Engine, o.InstanceType, o.Deployment, o.Region, o.AccountID, a.LookbackDays, usd(o.MonthlySavings),
				o.Utilization*100, usd(o.Upfront), usd(o.Recurring))
			r := &sirsiv1.Resource{ResourceId: fmt.Sprintf("%s%s/%s/%s", ReservationResourcePrefix, o.InstanceType, o.Engine, o.Deployment),
				Type: validation.ResourceRDSInstance, Region: o.Region}
			current, saving := usd(o.MonthlyOnDemand), usd(o.MonthlySavings)
			rec := newRec(p, r, ActionCommitReservedInstances, "on-demand", fmt.Sprintf("%d reserved", o.Count), current, current-saving, o.Utilization, reason,
				&sirsiv1.Evidence{Metric: EvidenceCommitmentUtilization, Statistic: StatisticCostExplorer, Value: o.Utilization, WindowDays: int32(a.LookbackDays)})
			setFigures(rec, o.MonthlyOnDemand, o.MonthlySavings)
			out = append(out, rec)
		}
	}
	return out
}

// setFigures puts Cost Explorer's amounts on rec, rounded to cents, the
// proposed cost being the difference so that the three always add up.
func setFigures(rec *sirsiv1.Recommendation, current, saving int64) {
	c, s := money.Cents(current)*10_000, money.Cents(saving)*10_000
	rec.CurrentMonthlyCost, rec.EstimatedMonthlySavings = money.Micros(c, money.USD), money.Micros(s, money.USD)
	rec.ProposedMonthlyCost = nil
	if c >= s {
		rec.ProposedMonthlyCost = money.Micros(c-s, money.USD)
	}
}

// decimal writes micro-units as a plain decimal ("0.104").
func decimal(micros int64) string {
	return strconv.FormatFloat(float64(micros)/money.MicrosPerUnit, 'f', -1, 64)
}
