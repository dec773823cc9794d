package optimizer

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// ComputeSP1YNoUpfrontDiscount is the fraction of on-demand EC2 spend a
// 1-year, no-upfront Compute Savings Plan saves, used for the
// commit_savings_plan suggestion. AWS publishes "up to 66%" for Compute
// Savings Plans (https://aws.amazon.com/savingsplans/compute-pricing/);
// the 1-year no-upfront rate for current m/c/r families is typically
// 25-30%, so 0.27 is a conservative ASSUMPTION, not a price list figure.
// SuggestCommitment takes the rate as an argument for callers that know
// better (e.g. from the Savings Plans pricing API).
const ComputeSP1YNoUpfrontDiscount = 0.27

// SavingsPlanResourcePrefix starts the ResourceId of commit_savings_plan
// suggestions ("compute-savings-plan:us-east-1"), which are about a
// region's EC2 spend, not one instance; their ResourceType is
// aws_ec2_instance because the control plane accepts only resource types
// it discovers. Nothing acts on them: the action is read-only.
const SavingsPlanResourcePrefix = "compute-savings-plan:"

// Commitment is a suggested Savings Plan commitment.
type Commitment struct {
	// Hourly is the commitment, USD/hour at Savings Plan rates.
	Hourly float64
	// OnDemandCovered is the on-demand spend per hour it pays for:
	// Hourly / (1 - discount).
	OnDemandCovered float64
	// Coverage is the fraction of the on-demand spend it covers.
	Coverage float64
	// Utilization is the fraction of the commitment used.
	Utilization float64
	// MonthlySaving is the net saving over on-demand, USD/month (730 h).
	MonthlySaving float64
}

// SuggestCommitment takes hourly on-demand EC2 spend (USD/h, oldest first,
// e.g. 14 days × 24) and a discount rate (fraction saved by the
// commitment, e.g. 0.27) and returns the hourly commitment that
// maximises the net saving over that history, with the coverage it
// achieves and the monthly saving.
//
// A commitment covering e of on-demand spend per hour costs e × (1 -
// discount) every hour, used or not, and saves min(spend, e) of on-demand
// charges; the total is concave in e and peaks where the share of hours
// with spend above e falls to 1 - discount, so the optimum is one of the
// observed spends. Every one is tried (sorted, with prefix sums); a tie
// goes to the smaller commitment. Hourly rates are kept to 1/1000 cent,
// money figures are rounded to cents.
func SuggestCommitment(hourly []float64, discount float64) Commitment {
	n := len(hourly)
	if n == 0 || discount <= 0 || discount >= 1 {
		return Commitment{}
	}
	v := slices.Clone(hourly)
	for i := range v {
		v[i] = math.Max(0, v[i])
	}
	slices.Sort(v)
	var total float64
	for _, x := range v {
		total += x
	}
	bestE, bestSave, bestUsed := 0.0, 0.0, 0.0
	var below float64
	for k := 0; k < n; k++ {
		if k > 0 && v[k] == v[k-1] {
			below += v[k-1]
			continue
		}
		if k > 0 {
			below += v[k-1]
		}
		e := v[k]
		used := below + float64(n-k)*e
		save := used - float64(n)*e*(1-discount)
		if save > bestSave+1e-12 {
			bestE, bestSave, bestUsed = e, save, used
		}
	}
	if bestE == 0 {
		return Commitment{}
	}
	c := Commitment{
		Hourly:          math.Round(bestE*(1-discount)*1e5) / 1e5,
		OnDemandCovered: math.Round(bestE*1e5) / 1e5,
		Utilization:     bestUsed / (float64(n) * bestE),
		MonthlySaving:   money.RoundCents(bestSave / float64(n) * pricing.HoursPerMonth),
	}
	if total > 0 {
		c.Coverage = bestUsed / total
	}
	return c
}

// spendBaseline is a region's running on-demand instances: when each
// started and what it costs per hour.
type spendBaseline struct {
	start  []time.Time
	hourly []float64
}

// series is the summed hourly spend over the hours ending at end, an
// instance counting from its first whole hour.
func (b *spendBaseline) series(end time.Time, hours int) []float64 {
	out := make([]float64, hours)
	from := end.Add(-time.Duration(hours) * time.Hour)
	for i, st := range b.start {
		first := 0
		if st.After(from) {
			first = int(math.Ceil(st.Sub(from).Hours()))
		}
		for h := first; h < hours; h++ {
			out[h] += b.hourly[i]
		}
	}
	return out
}

// HourlySpend builds, per region, the on-demand spend of the running EC2
// instances among resources for each of the hours before end: the steady
// baseline SuggestCommitment reads. Only instances the catalogue prices
// (Linux, shared tenancy, on-demand) count; an instance counts from its
// launch time.
func (o *Optimizer) HourlySpend(resources []*sirsiv1.Resource, end time.Time, hours int) map[string][]float64 {
	by := map[string]*spendBaseline{}
	for _, r := range resources {
		if h, ok := o.onDemandHourly(r); ok {
			add(by, r, h)
		}
	}
	out := make(map[string][]float64, len(by))
	for region, b := range by {
		out[region] = b.series(end, hours)
	}
	return out
}

func add(by map[string]*spendBaseline, r *sirsiv1.Resource, hourly float64) {
	b := by[r.GetRegion()]
	if b == nil {
		b = &spendBaseline{}
		by[r.GetRegion()] = b
	}
	var st time.Time
	if r.GetLaunchTime() != nil {
		st = r.GetLaunchTime().AsTime()
	}
	b.start = append(b.start, st)
	b.hourly = append(b.hourly, hourly)
}

// onDemandHourly is the price of a running, catalogue-priced instance.
func (o *Optimizer) onDemandHourly(r *sirsiv1.Resource) (float64, bool) {
	a := r.GetAttributes()
	if r.GetState() != "running" || (a["lifecycle"] != "" && a["lifecycle"] != "on-demand") ||
		(a["platform"] != "" && a["platform"] != "Linux/UNIX") || (a["tenancy"] != "" && a["tenancy"] != "default") {
		return 0, false
	}
	h, err := o.cat.EC2Hourly(r.GetRegion(), r.GetSize())
	return h, err == nil
}

// addBaseline counts an instance in its region's baseline at the price it
// will have once rec is carried out: a commitment sized on spend the
// policy is about to cut would go unused.
func (o *Optimizer) addBaseline(by map[string]*spendBaseline, r *sirsiv1.Resource, rec *sirsiv1.Recommendation) {
	h, ok := o.onDemandHourly(r)
	if !ok {
		return
	}
	switch rec.GetAction() {
	case ActionStop:
		return
	case ActionResize:
		if ph, err := o.cat.EC2Hourly(r.GetRegion(), rec.GetProposedSize()); err == nil {
			h = ph
		}
	}
	add(by, r, h)
}

// commitments is the fallback for Cost Explorer's Savings Plans
// recommendation: one Compute Savings Plan per region with a saving of at
// least the policy's minimum, sized on list prices. What the account's
// Savings Plans already pay for (advice.Coverage, when Cost Explorer told
// it) comes off every hour of the baseline, spread over the regions in
// proportion to their spend.
func (o *Optimizer) commitments(p *sirsiv1.OptimizationPolicy, by map[string]*spendBaseline, now time.Time, advice *CommitmentAdvice) []*sirsiv1.Recommendation {
	var out []*sirsiv1.Recommendation
	days := policy.LookbackDays(p)
	var cov *SavingsPlansCoverage
	why := "Cost Explorer was not asked"
	if advice != nil {
		cov = advice.Coverage
		why = "Cost Explorer could not answer: " + truncate(advice.SavingsPlansErr.Error(), 160)
	}
	all := map[string][]float64{}
	var total float64
	for region, b := range by {
		all[region] = b.series(now, days*24)
		total += sum(all[region])
	}
	covNote := "not known"
	if cov != nil {
		covNote = fmt.Sprintf("$%.3f/h, taken off the baseline", cov.coveredPerHour())
	}
	for _, region := range slices.Sorted(maps.Keys(by)) {
		series := all[region]
		if off := cov.coveredPerHour(); off > 0 && total > 0 {
			off *= sum(series) / total
			for i := range series {
				series[i] = math.Max(0, series[i]-off)
			}
		}
		c := SuggestCommitment(series, ComputeSP1YNoUpfrontDiscount)
		if c.MonthlySaving <= 0 || c.MonthlySaving < money.FloatOr(p.GetRightsizing().GetMinMonthlySavings(), 0) {
			continue
		}
		current := sum(series) / float64(len(series)) * pricing.HoursPerMonth
		conf := c.Utilization * 0.8
		reason := fmt.Sprintf("Fallback estimate, not a Cost Explorer recommendation (%s): the EC2 on-demand spend this policy leaves running in %s (after its other recommendations, at list prices, less what existing Savings Plans cover: %s) averages $%.2f a month over %d days. A 1-year no-upfront Compute Savings Plan of $%.3f/h covers $%.3f/h of it (%.0f%% of the spend) and saves $%.2f a month, assuming a %.0f%% discount (an assumption: AWS's rates vary by family and region; the policy's term and payment option are not applied). Read-only suggestion. Confidence %.2f: the commitment would be used %.0f%% of the hours, times 0.8 for the assumed rate.",
			why, region, covNote, money.RoundCents(current), days, c.Hourly, c.OnDemandCovered, c.Coverage*100, c.MonthlySaving, ComputeSP1YNoUpfrontDiscount*100, money.RoundCents(conf), c.Utilization*100)
		r := &sirsiv1.Resource{ResourceId: SavingsPlanResourcePrefix + region, Type: validation.ResourceEC2Instance, Region: region}
		rec := newRec(p, r, ActionCommitSavingsPlan, "on-demand", fmt.Sprintf("%.5f/h", c.Hourly), current, current-c.MonthlySaving, conf, reason,
			&sirsiv1.Evidence{Metric: EvidenceCommitmentUtilization, Statistic: StatisticFallbackEstimate, Value: c.Utilization, WindowDays: int32(days), Coverage: cov.Fraction()})
		rec.EstimatedMonthlySavings = money.USDFromFloat(c.MonthlySaving)
		out = append(out, rec)
	}
	return out
}

func sum(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
