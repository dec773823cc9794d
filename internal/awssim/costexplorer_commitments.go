package awssim

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Commitments: the Savings Plans and RDS reservations an account owns,
// the simulator's rates for them, and the hour-by-hour usage they cover.
// GetSavingsPlansCoverage reports that cover; the purchase recommendations
// (costexplorer_recommendations.go) are computed on what is left.

// Term and payment option values as Cost Explorer spells them.
const (
	termOneYear       = "ONE_YEAR"
	termThreeYears    = "THREE_YEARS"
	payNoUpfront      = "NO_UPFRONT"
	payPartialUpfront = "PARTIAL_UPFRONT"
	payAllUpfront     = "ALL_UPFRONT"
	spCompute         = "COMPUTE_SP"
	spEC2Instance     = "EC2_INSTANCE_SP"
)

// spDiscounts is the fraction of on-demand EC2 spend a Savings Plan saves,
// by plan type, term and payment option. These are the simulator's rates,
// inside the ranges AWS publishes (Compute Savings Plans up to 66 %, EC2
// Instance Savings Plans up to 72 %); AWS's own differ by family and
// region. One rate per plan keeps every recommendation figure computable
// by hand.
var spDiscounts = map[string]map[string]map[string]float64{
	spCompute: {
		termOneYear:    {payNoUpfront: 0.27, payPartialUpfront: 0.30, payAllUpfront: 0.32},
		termThreeYears: {payNoUpfront: 0.46, payPartialUpfront: 0.50, payAllUpfront: 0.52},
	},
	spEC2Instance: {
		termOneYear:    {payNoUpfront: 0.35, payPartialUpfront: 0.38, payAllUpfront: 0.40},
		termThreeYears: {payNoUpfront: 0.55, payPartialUpfront: 0.58, payAllUpfront: 0.60},
	},
}

// rdsReservationDiscounts is the fraction of the on-demand price an RDS
// reserved instance saves, by term and payment option (the simulator's
// rates, like spDiscounts).
var rdsReservationDiscounts = map[string]map[string]float64{
	termOneYear:    {payNoUpfront: 0.31, payPartialUpfront: 0.35, payAllUpfront: 0.37},
	termThreeYears: {payNoUpfront: 0.50, payPartialUpfront: 0.54, payAllUpfront: 0.57},
}

// upfrontShare is the part of a commitment's total paid at purchase.
var upfrontShare = map[string]float64{payNoUpfront: 0, payPartialUpfront: 0.5, payAllUpfront: 1}

func termYears(term string) int {
	if term == termThreeYears {
		return 3
	}
	return 1
}

// SavingsPlan is a Savings Plan an account owns.
type SavingsPlan struct {
	// Type is COMPUTE_SP or EC2_INSTANCE_SP.
	Type string
	// Region and InstanceFamily limit an EC2 Instance Savings Plan.
	Region, InstanceFamily string
	Term, PaymentOption    string
	// HourlyCommitment is USD per hour at Savings Plan rates.
	HourlyCommitment float64
	Start            time.Time
}

// DBReservation is a number of RDS reserved instances an account owns.
type DBReservation struct {
	Region, Class, Engine string
	MultiAZ               bool
	Count                 int
	Term, PaymentOption   string
	Start                 time.Time
}

func (p SavingsPlan) discount() float64 { return spDiscounts[p.Type][p.Term][p.PaymentOption] }

func (p SavingsPlan) active(t time.Time) bool {
	return !t.Before(p.Start) && t.Before(p.Start.AddDate(termYears(p.Term), 0, 0))
}

func (r DBReservation) active(t time.Time) bool {
	return !t.Before(r.Start) && t.Before(r.Start.AddDate(termYears(r.Term), 0, 0))
}

// AddSavingsPlan gives account (the default account when "") a Savings
// Plan; Cost Explorer's coverage and recommendations take it into account.
func (s *Sim) AddSavingsPlan(account string, p SavingsPlan) error {
	if _, ok := spDiscounts[p.Type][p.Term][p.PaymentOption]; !ok {
		return fmt.Errorf("savings plan: type %q, term %q, payment option %q: not a plan the simulator sells", p.Type, p.Term, p.PaymentOption)
	}
	if p.HourlyCommitment <= 0 {
		return fmt.Errorf("savings plan: hourly commitment %v: must be positive", p.HourlyCommitment)
	}
	if p.Type == spEC2Instance && (p.Region == "" || p.InstanceFamily == "") {
		return fmt.Errorf("savings plan: an EC2 Instance Savings Plan needs a region and an instance family")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(orDefault(account, s.opts.AccountID))
	a.SavingsPlans = append(a.SavingsPlans, p)
	return nil
}

// AddDBReservation gives account (the default account when "") RDS
// reserved instances.
func (s *Sim) AddDBReservation(account string, r DBReservation) error {
	if _, ok := rdsReservationDiscounts[r.Term][r.PaymentOption]; !ok {
		return fmt.Errorf("DB reservation: term %q, payment option %q: not a reservation the simulator sells", r.Term, r.PaymentOption)
	}
	if r.Count < 1 || r.Region == "" || r.Class == "" || r.Engine == "" {
		return fmt.Errorf("DB reservation: region, class, engine and a positive count are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(orDefault(account, s.opts.AccountID))
	a.DBReservations = append(a.DBReservations, r)
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ec2Key is the usage a Savings Plan can cover, in one account.
type ec2Key struct{ account, region, family string }

// rdsKey is the usage an RDS reservation can cover, in one account.
type rdsKey struct {
	account, region, class, engine string
	multiAZ                        bool
}

// hourlyUsage is the usage of hours [from, from+n h), before and after the
// account's commitments: EC2 on-demand spend in USD, RDS instances running.
type hourlyUsage struct {
	from time.Time
	n    int
	// ec2Covered is the on-demand equivalent of the EC2 spend Savings
	// Plans paid for; ec2OnDemand what was left at on-demand rates.
	ec2Covered, ec2OnDemand map[ec2Key][]float64
	// rdsPrice is the on-demand price of one instance of the group.
	rdsPrice map[rdsKey]float64
	// rdsOnDemand counts the instances no reservation covered.
	rdsOnDemand map[rdsKey][]float64
}

func instanceFamily(t string) string {
	if i := strings.LastIndexByte(t, '.'); i > 0 {
		return t[:i]
	}
	return t
}

// usageHours measures the usage of the caller's accounts over [from, to)
// (whole hours) and applies their commitments hour by hour: EC2 Instance
// Savings Plans first, to their family and region, then Compute Savings
// Plans to whatever EC2 spend is left (the order AWS applies them in);
// a plan covers at most its commitment divided by its rate (1 -
// discount) of on-demand spend an hour, and what it does not use that hour
// is lost. Reserved DB instances cover as many running instances of their
// class, engine and deployment.
func (s *Sim) usageHours(rc *Request, from, to time.Time) (*hourlyUsage, *APIError) {
	cs, apiErr := s.ceCharges(rc, nil)
	if apiErr != nil {
		return nil, apiErr
	}
	n := int(to.Sub(from) / time.Hour)
	u := &hourlyUsage{from: from, n: n, ec2Covered: map[ec2Key][]float64{}, ec2OnDemand: map[ec2Key][]float64{},
		rdsPrice: map[rdsKey]float64{}, rdsOnDemand: map[rdsKey][]float64{}}
	for i := range cs {
		c := &cs[i]
		if c.lump || !c.start.Before(to) || !c.end.After(from) {
			continue
		}
		var series []float64
		var perHour float64
		switch c.service {
		case ceServiceEC2Compute:
			k := ec2Key{c.account, c.region, instanceFamily(c.instanceType)}
			if u.ec2OnDemand[k] == nil {
				u.ec2OnDemand[k], u.ec2Covered[k] = make([]float64, n), make([]float64, n)
			}
			series, perHour = u.ec2OnDemand[k], c.usdPerHour
		case ceServiceRDS:
			k := rdsKey{c.account, c.region, c.instanceType, c.engine, c.multiAZ}
			if u.rdsOnDemand[k] == nil {
				u.rdsOnDemand[k] = make([]float64, n)
			}
			u.rdsPrice[k] = c.usdPerHour
			series, perHour = u.rdsOnDemand[k], 1
		default:
			continue
		}
		first := max(0, int(c.start.Sub(from)/time.Hour))
		for h := first; h < n; h++ {
			hs := from.Add(time.Duration(h) * time.Hour)
			if !hs.Before(c.end) {
				break
			}
			on := minTime(c.end, hs.Add(time.Hour)).Sub(maxTime(c.start, hs))
			series[h] += max(0, on.Hours()) * perHour
		}
	}
	s.mu.Lock()
	plans := map[string][]SavingsPlan{}
	reservations := map[string][]DBReservation{}
	for _, id := range s.ceAccounts(rc.Account) {
		if a := s.accounts[id]; a != nil {
			plans[id], reservations[id] = slices.Clone(a.SavingsPlans), slices.Clone(a.DBReservations)
		}
	}
	s.mu.Unlock()
	keys := sortedEC2Keys(u.ec2OnDemand)
	for h := 0; h < n; h++ {
		t := from.Add(time.Duration(h) * time.Hour)
		for _, typ := range []string{spEC2Instance, spCompute} {
			for _, acct := range slices.Sorted(maps.Keys(plans)) {
				for _, p := range plans[acct] {
					if p.Type != typ || !p.active(t) {
						continue
					}
					room := p.HourlyCommitment / (1 - p.discount())
					for _, k := range keys {
						if k.account != acct || (typ == spEC2Instance && (k.region != p.Region || k.family != p.InstanceFamily)) {
							continue
						}
						take := min(room, u.ec2OnDemand[k][h])
						u.ec2OnDemand[k][h] -= take
						u.ec2Covered[k][h] += take
						room -= take
					}
				}
			}
		}
		for k, series := range u.rdsOnDemand {
			for _, r := range reservations[k.account] {
				if r.active(t) && r.Region == k.region && r.Class == k.class && r.Engine == k.engine && r.MultiAZ == k.multiAZ {
					series[h] = max(0, series[h]-float64(r.Count))
				}
			}
		}
	}
	return u, nil
}

func mapKeys[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sortedEC2Keys[V any](m map[ec2Key]V) []ec2Key {
	keys := mapKeys(m)
	slices.SortFunc(keys, func(a, b ec2Key) int {
		return strings.Compare(a.account+"/"+a.region+"/"+a.family, b.account+"/"+b.region+"/"+b.family)
	})
	return keys
}

type ceCoverageInput struct {
	TimePeriod  *ceDateInterval `json:"TimePeriod"`
	Granularity string          `json:"Granularity"`
	GroupBy     []ceGroupDef    `json:"GroupBy"`
	Metrics     []string        `json:"Metrics"`
	Filter      *ceExpression   `json:"Filter"`
	MaxResults  *int            `json:"MaxResults"`
	NextToken   string          `json:"NextToken"`
}

type ceCoverageData struct {
	CoveragePercentage         string `json:"CoveragePercentage"`
	OnDemandCost               string `json:"OnDemandCost"`
	SpendCoveredBySavingsPlans string `json:"SpendCoveredBySavingsPlans"`
	TotalCost                  string `json:"TotalCost"`
}

type ceCoverage struct {
	Attributes map[string]string `json:"Attributes"`
	Coverage   ceCoverageData    `json:"Coverage"`
	TimePeriod ceDateInterval    `json:"TimePeriod"`
}

// coverageDimensions are what GetSavingsPlansCoverage groups by here.
var coverageDimensions = map[string]func(ec2Key) string{
	"REGION":          func(k ec2Key) string { return k.region },
	"INSTANCE_FAMILY": func(k ec2Key) string { return k.family },
	"LINKED_ACCOUNT":  func(k ec2Key) string { return k.account },
}

// ceGetSavingsPlansCoverage reports, per day or month, the EC2 spend the
// caller's Savings Plans covered (at on-demand rates) and what was paid on
// demand.
func (s *Sim) ceGetSavingsPlansCoverage(rc *Request) *APIError {
	var in ceCoverageInput
	if err := decodeCE(rc, &in); err != nil {
		return err
	}
	start, end, apiErr := parsePeriod(in.TimePeriod)
	if apiErr != nil {
		return apiErr
	}
	if end.After(rc.Now.Truncate(24*time.Hour).AddDate(0, 0, 1)) {
		return ceValidation("TimePeriod.End %s: coverage is reported up to today", in.TimePeriod.End)
	}
	if in.Granularity == "" {
		in.Granularity = "DAILY"
	}
	bks, apiErr := buckets(start, end, in.Granularity)
	if apiErr != nil {
		return apiErr
	}
	for _, m := range in.Metrics {
		if m != "SpendCoveredBySavingsPlans" {
			return ceValidation("Metrics %q: the only metric is SpendCoveredBySavingsPlans", m)
		}
	}
	if in.Filter != nil {
		return ceValidation("Filter: filtering coverage is not simulated")
	}
	if in.MaxResults != nil && *in.MaxResults < 1 {
		return ceValidation("MaxResults %d: must be at least 1", *in.MaxResults)
	}
	if in.NextToken != "" {
		return Errorf("InvalidNextTokenException", "The NextToken is invalid: every coverage answer is one page here.")
	}
	for i, g := range in.GroupBy {
		if _, ok := coverageDimensions[g.Key]; g.Type != "DIMENSION" || !ok {
			return ceValidation("GroupBy[%d] %s %q: the simulator groups coverage by the dimensions INSTANCE_FAMILY, LINKED_ACCOUNT and REGION", i, g.Type, g.Key)
		}
	}
	u, apiErr := s.usageHours(rc, start, end)
	if apiErr != nil {
		return apiErr
	}
	out := []ceCoverage{}
	for _, b := range bks {
		type sums struct{ covered, onDemand float64 }
		groups := map[string]*sums{}
		attrs := map[string]map[string]string{}
		for _, k := range sortedEC2Keys(u.ec2OnDemand) {
			a := map[string]string{}
			for _, g := range in.GroupBy {
				a[g.Key] = coverageDimensions[g.Key](k)
			}
			id := fmt.Sprint(a)
			if groups[id] == nil {
				groups[id], attrs[id] = &sums{}, a
			}
			for h := int(b[0].Sub(start) / time.Hour); h < int(b[1].Sub(start)/time.Hour); h++ {
				groups[id].covered += u.ec2Covered[k][h]
				groups[id].onDemand += u.ec2OnDemand[k][h]
			}
		}
		for _, id := range slices.Sorted(maps.Keys(groups)) {
			g := groups[id]
			total := g.covered + g.onDemand
			pct := 0.0
			if total > 0 {
				pct = g.covered / total * 100
			}
			out = append(out, ceCoverage{Attributes: attrs[id], TimePeriod: ceDateInterval{Start: b[0].Format(time.DateOnly), End: b[1].Format(time.DateOnly)},
				Coverage: ceCoverageData{CoveragePercentage: ceAmount(pct), OnDemandCost: ceAmount(g.onDemand),
					SpendCoveredBySavingsPlans: ceAmount(g.covered), TotalCost: ceAmount(total)}})
		}
	}
	rc.WriteJSON(http.StatusOK, "application/x-amz-json-1.1", map[string]any{"SavingsPlansCoverages": out})
	return nil
}

func init() {
	ceOperations["GetSavingsPlansCoverage"] = (*Sim).ceGetSavingsPlansCoverage
	ceOperations["GetSavingsPlansPurchaseRecommendation"] = (*Sim).ceGetSavingsPlansPurchaseRecommendation
	ceOperations["GetReservationPurchaseRecommendation"] = (*Sim).ceGetReservationPurchaseRecommendation
}
