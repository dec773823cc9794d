package optimizer

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// Actions a recommendation carries.
const (
	ActionResize            = "resize"
	ActionStop              = "stop"
	ActionSnapshotAndDelete = "snapshot_and_delete"
	ActionMigrateGP3        = "migrate_gp3"
	ActionRelease           = "release"
	ActionSetMemory         = "set_memory"
	ActionCommitSavingsPlan = "commit_savings_plan"
	ActionDeleteSnapshot    = "delete_snapshot"
)

// IsRightsizing reports whether action changes a resource's size (instance
// type, DB class, function memory): what a policy's execution setting
// assigns to the agent or to Terraform.
func IsRightsizing(action string) bool { return action == ActionResize || action == ActionSetMemory }

// ActionStart is not recommended: off-hours asks for it to undo its stop,
// and the savings ledger ends the stop's saving with it.
const ActionStart = "start"

// MetricFreeTypes are the resource types decided from their inventory
// record alone (state, size, age, association), sorted: their decisions
// run after every discovery and never wait for CloudWatch.
var MetricFreeTypes = []string{validation.ResourceEBSSnapshot, validation.ResourceEBSVolume, validation.ResourceEIP}

// OptimizeTag set to "false" on a resource keeps every policy off it.
const OptimizeTag = "sirsi:optimize"

// SnapshotMaxAgeDays is the age from which a snapshot is suggested for
// deletion: a year, past most backup retention rules.
const SnapshotMaxAgeDays = 365

// MinCoverage is the fraction of the lookback a right-sizing statistic
// must cover: a percentile over 90 % of the window is close to the true
// one, over less it may miss the busy days.
const MinCoverage = 0.9

// IdleMinCoverage is "full coverage" for the idle rule, which stops an
// instance: 0.99 tolerates the odd missing datapoint (CloudWatch drops
// a few) but not a missing day in a week.
const IdleMinCoverage = 0.99

// Metric names a utilisation series: the agent's metric name and the
// CloudWatch statistic ("cpu_utilization", "p95").
type Metric struct{ Name, Statistic string }

// Observation is one statistic over a window, with the fraction of the
// window that had data.
type Observation struct {
	Value, Coverage float64
	Window          time.Duration
}

// Input is one resource and its utilisation statistics.
type Input struct {
	Resource *sirsiv1.Resource
	Metrics  map[Metric]Observation
}

// Inputs groups summaries by resource id and joins them to resources,
// in the order of resources. A resource is matched on id and region (ids
// are unique per account and region). Of two summaries of one metric
// statistic, the one with the later window end wins.
func Inputs(resources []*sirsiv1.Resource, sums []*sirsiv1.UtilizationSummary) []Input {
	type key struct{ id, region string }
	type entry struct {
		m   map[Metric]Observation
		end map[Metric]time.Time
	}
	by := make(map[key]*entry, len(resources))
	for _, s := range sums {
		k := key{s.GetResourceId(), s.GetRegion()}
		e := by[k]
		if e == nil {
			e = &entry{m: map[Metric]Observation{}, end: map[Metric]time.Time{}}
			by[k] = e
		}
		m := Metric{s.GetMetric(), s.GetStatistic()}
		end := s.GetWindowEnd().AsTime()
		if prev, ok := e.end[m]; ok && !end.After(prev) {
			continue
		}
		e.end[m] = end
		e.m[m] = Observation{Value: s.GetValue(), Coverage: s.GetCoverage(), Window: end.Sub(s.GetWindowStart().AsTime())}
	}
	out := make([]Input, len(resources))
	for i, r := range resources {
		out[i] = Input{Resource: r}
		if e := by[key{r.GetResourceId(), r.GetRegion()}]; e != nil {
			out[i].Metrics = e.m
		}
	}
	return out
}

// Selects reports whether the policy applies to the resource (its type is
// in resource_types, empty meaning every type, and it matches the
// selector's accounts, regions and tags) and, separately, whether it is
// excluded (see Exclusion). An excluded resource's recommendations carry
// skip_reason EXCLUDED: the agent never acts on them.
func Selects(p *sirsiv1.OptimizationPolicy, r *sirsiv1.Resource) (applies bool, excluded bool) {
	tags := r.GetTags()
	sel := p.GetSelector()
	excluded = Exclusion(p, r) != ""
	if ts := p.GetResourceTypes(); len(ts) > 0 && !slices.Contains(ts, r.GetType()) {
		return false, excluded
	}
	if a := sel.GetAccountIds(); len(a) > 0 && !slices.Contains(a, r.GetAccountId()) {
		return false, excluded
	}
	if rs := sel.GetRegions(); len(rs) > 0 && !slices.Contains(rs, r.GetRegion()) {
		return false, excluded
	}
	for k, v := range sel.GetTags() {
		if got, ok := tags[k]; !ok || (v != "*" && got != v) {
			return false, excluded
		}
	}
	return true, excluded
}

// Exclusion says why the policy keeps off the resource, "" when it does
// not: it carries one of exclude_tags ("*" matching any value), named in
// key order, or sirsi:optimize=false.
func Exclusion(p *sirsiv1.OptimizationPolicy, r *sirsiv1.Resource) string {
	tags := r.GetTags()
	if v, ok := tags[OptimizeTag]; ok && strings.EqualFold(strings.TrimSpace(v), "false") {
		return fmt.Sprintf("carries %s=%s: a person excluded it from every policy", OptimizeTag, v)
	}
	excl := p.GetSelector().GetExcludeTags()
	for _, k := range slices.Sorted(maps.Keys(excl)) {
		if got, ok := tags[k]; ok && (excl[k] == "*" || got == excl[k]) {
			return fmt.Sprintf("carries the policy's exclude tag %s=%s: a person excluded it", k, got)
		}
	}
	return ""
}

// Optimizer decides with one price catalogue. It caches candidate lists
// per region, family set and architecture, so it is meant to live as long
// as its catalogue; it is safe for concurrent use.
type Optimizer struct {
	cat *pricing.Catalogue
	// types is the catalogue's EC2 types, by family, vCPU and memory.
	types []pricing.InstanceSpec
	// classFamilies maps an architecture and a family class letter
	// ("x86_64/m") to the catalogue's families of that class.
	classFamilies map[string][]string

	mu         sync.RWMutex
	candidates map[candidateKey][]candidate
}

// New returns an optimizer over cat.
func New(cat *pricing.Catalogue) *Optimizer {
	o := &Optimizer{cat: cat, classFamilies: map[string][]string{}, candidates: map[candidateKey][]candidate{}}
	o.types = cat.Types(pricing.TypeFilter{})
	for _, t := range o.types {
		k := t.Architecture + "/" + familyClass(t.Family)
		if !slices.Contains(o.classFamilies[k], t.Family) {
			o.classFamilies[k] = append(o.classFamilies[k], t.Family)
		}
	}
	return o
}

// Decide returns the policy's recommendations for these inputs, ordered by
// resource id (then region). Each is OPEN and names the policy;
// CloudAccountId is left for the server to fill. When the policy covers
// EC2 instances, one commit_savings_plan suggestion per region whose
// saving reaches min_monthly_savings is added (see SuggestCommitment).
func (o *Optimizer) Decide(p *sirsiv1.OptimizationPolicy, in []Input, now time.Time) []*sirsiv1.Recommendation {
	d := o.Start(p, now)
	d.Add(in)
	return d.Finish()
}

// Decision is one policy's decisions over a fleet given in parts, so that
// a large fleet's utilisation never has to be in memory at once; the
// Savings Plans suggestion, which spans resources, comes from Finish.
type Decision struct {
	o         *Optimizer
	p         *sirsiv1.OptimizationPolicy
	now       time.Time
	coversEC2 bool
	// types limits the decision to these resource types; nil: every type.
	types    []string
	out      []*sirsiv1.Recommendation
	baseline map[string]*spendBaseline
	// advice is Cost Explorer's commitment recommendation, nil when not
	// asked (the fallback estimate is made then).
	advice *CommitmentAdvice
}

// Start begins a Decision for p at now over every resource type.
func (o *Optimizer) Start(p *sirsiv1.OptimizationPolicy, now time.Time) *Decision {
	return &Decision{o: o, p: p, now: now, baseline: map[string]*spendBaseline{},
		coversEC2: len(p.GetResourceTypes()) == 0 || slices.Contains(p.GetResourceTypes(), validation.ResourceEC2Instance)}
}

// StartMetricFree begins a Decision for p at now over MetricFreeTypes
// only: resources of other types given to Add are passed over, and Finish
// adds no Savings Plans suggestion (which needs the utilisation-based
// decisions about instances).
func (o *Optimizer) StartMetricFree(p *sirsiv1.OptimizationPolicy, now time.Time) *Decision {
	d := o.Start(p, now)
	d.types, d.coversEC2 = MetricFreeTypes, false
	return d
}

// UseCommitmentAdvice gives the decision Cost Explorer's commitment
// recommendations for the policy's commitment settings: Finish suggests
// them instead of the list-price estimate.
func (d *Decision) UseCommitmentAdvice(a *CommitmentAdvice) { d.advice = a }

// ResourceTypes is the scope of the decision: the resource types it
// decides, nil for every type.
func (d *Decision) ResourceTypes() []string { return d.types }

// Add decides for these resources; each resource must be given once.
func (d *Decision) Add(in []Input) {
	for _, x := range in {
		if d.types != nil && !slices.Contains(d.types, x.Resource.GetType()) {
			continue
		}
		rec, _, ok := d.o.explain(d.p, x, d.now)
		if rec != nil {
			d.out = append(d.out, rec)
		}
		if ok && d.coversEC2 && x.Resource.GetType() == validation.ResourceEC2Instance {
			// A recommendation the agent skips does not cut the spend.
			if rec.GetSkipReason() != sirsiv1.SkipReason_SKIP_REASON_UNSPECIFIED {
				d.o.addBaseline(d.baseline, x.Resource, nil)
			} else {
				d.o.addBaseline(d.baseline, x.Resource, rec)
			}
		}
	}
}

// Finish adds the Savings Plans suggestions and returns every
// recommendation, ordered by resource id and region.
func (d *Decision) Finish() []*sirsiv1.Recommendation {
	out := d.out
	if d.types == nil {
		coversRDS := len(d.p.GetResourceTypes()) == 0 || slices.Contains(d.p.GetResourceTypes(), validation.ResourceRDSInstance)
		if d.advice != nil {
			out = append(out, fromCostExplorer(d.p, d.advice, d.coversEC2, coversRDS)...)
		}
		if d.coversEC2 && (d.advice == nil || d.advice.SavingsPlansErr != nil) {
			out = append(out, d.o.commitments(d.p, d.baseline, d.now, d.advice)...)
		}
	}
	slices.SortStableFunc(out, func(a, b *sirsiv1.Recommendation) int {
		if c := strings.Compare(a.GetResourceId(), b.GetResourceId()); c != 0 {
			return c
		}
		return strings.Compare(a.GetRegion(), b.GetRegion())
	})
	return out
}

// Explain decides for one resource and, when there is no recommendation,
// says why (insufficient coverage, no cheaper type, saving below the
// minimum, excluded...): Decide's companion for logs and tests. It never
// returns commit_savings_plan suggestions, which span resources.
func (o *Optimizer) Explain(p *sirsiv1.OptimizationPolicy, in Input, now time.Time) (rec *sirsiv1.Recommendation, skipped string) {
	rec, why, _ := o.explain(p, in, now)
	return rec, why.String()
}

// explain also reports whether the resource is in the policy's scope and
// not excluded, which is what the savings plan baseline counts.
func (o *Optimizer) explain(p *sirsiv1.OptimizationPolicy, in Input, now time.Time) (*sirsiv1.Recommendation, skip, bool) {
	r := in.Resource
	if r == nil {
		return nil, skipf("no resource"), false
	}
	applies, excluded := Selects(p, r)
	if !applies {
		return nil, skipf("not selected by the policy (resource type, account, region or tags)"), false
	}
	var rec *sirsiv1.Recommendation
	var skipped skip
	switch r.GetType() {
	case validation.ResourceEC2Instance:
		rec, skipped = o.decideEC2(p, in, now)
	case validation.ResourceEBSVolume:
		rec, skipped = o.decideEBS(p, in, now)
	case validation.ResourceEIP:
		rec, skipped = o.decideEIP(p, in)
	case validation.ResourceEBSSnapshot:
		rec, skipped = o.decideSnapshot(p, in, now)
	case validation.ResourceRDSInstance:
		rec, skipped = o.decideRDS(p, in)
	case validation.ResourceLambdaFunction:
		rec, skipped = o.decideLambda(p, in)
	default:
		return nil, skipf("no decisions for resource type %q", r.GetType()), !excluded
	}
	if excluded {
		// Recommended all the same, so that what exclusion leaves on the
		// table is visible; the agent never acts on it. An exclusion
		// outranks a guard: it is a person's decision.
		why := Exclusion(p, r)
		if rec == nil {
			return nil, skipf("excluded: %s (and %s)", why, skipped), false
		}
		rec.SkipReason, rec.SkipDetail = sirsiv1.SkipReason_SKIP_REASON_EXCLUDED, "excluded: "+why
	}
	if rec == nil {
		return nil, skipped, !excluded
	}
	saving, known := money.Float(rec.EstimatedMonthlySavings)
	if !known {
		return nil, skipf("%s to %s: the saving is unknown", rec.Action, orDash(rec.ProposedSize)), !excluded
	}
	if saving <= 0 {
		return nil, skipf("%s to %s would not save money ($%.2f/month)", rec.Action, orDash(rec.ProposedSize), saving), !excluded
	}
	if floor := money.FloatOr(p.GetRightsizing().GetMinMonthlySavings(), 0); saving < floor {
		return nil, skipf("%s to %s would save $%.2f/month, below the policy's minimum of $%.2f",
			rec.Action, orDash(rec.ProposedSize), saving, floor), !excluded
	}
	return rec, skip{}, !excluded
}

// newRec fills the fields every recommendation shares; costs are rounded
// to cents and the saving is the difference of the rounded costs, so the
// three figures always add up.
func newRec(p *sirsiv1.OptimizationPolicy, r *sirsiv1.Resource, action, from, to string, current, proposed, confidence float64, reason string, ev ...*sirsiv1.Evidence) *sirsiv1.Recommendation {
	current, proposed = money.RoundCents(current), money.RoundCents(proposed)
	return &sirsiv1.Recommendation{
		PolicyId:                p.GetId(),
		ResourceId:              r.GetResourceId(),
		ResourceType:            r.GetType(),
		Region:                  r.GetRegion(),
		Action:                  action,
		CurrentSize:             from,
		ProposedSize:            to,
		CurrentMonthlyCost:      money.USDFromFloat(current),
		ProposedMonthlyCost:     money.USDFromFloat(proposed),
		EstimatedMonthlySavings: money.USDFromFloat(money.RoundCents(current - proposed)),
		Confidence:              math.Round(clamp01(confidence)*100) / 100,
		Reason:                  reason,
		Status:                  sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN,
		Evidence:                ev,
	}
}

func evidence(m Metric, o Observation) *sirsiv1.Evidence {
	return &sirsiv1.Evidence{Metric: m.Name, Statistic: m.Statistic, Value: o.Value, WindowDays: int32(math.Round(o.Window.Hours() / 24)), Coverage: o.Coverage}
}

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func headroom(p *sirsiv1.OptimizationPolicy) float64 {
	return 1 + math.Max(0, float64(p.GetRightsizing().GetHeadroomPercent()))/100
}

// statistic is the CloudWatch statistic the policy sizes on; unset means
// p95, Compute Optimizer's choice.
func statistic(p *sirsiv1.OptimizationPolicy) string {
	switch p.GetRightsizing().GetStatistic() {
	case sirsiv1.Statistic_STATISTIC_P99:
		return "p99"
	case sirsiv1.Statistic_STATISTIC_MAX:
		return "Maximum"
	}
	return "p95"
}

// usable checks that an observation covers the lookback well enough to
// size on; the reason names the metric when it does not.
func usable(in Input, m Metric, days int, minCoverage float64) (Observation, skip) {
	ob, ok := in.Metrics[m]
	switch {
	case !ok:
		return ob, skipf("no %s %s data", m.Name, m.Statistic)
	case ob.Window < time.Duration(days)*24*time.Hour-time.Minute:
		return ob, skipf("%s %s covers a %.1f-day window, shorter than the %d-day lookback", m.Name, m.Statistic, ob.Window.Hours()/24, days)
	case ob.Coverage < minCoverage:
		return ob, skipf("%s %s has data for %.0f%% of the window, below the %.0f%% needed", m.Name, m.Statistic, ob.Coverage*100, minCoverage*100)
	}
	return ob, skip{}
}

// skip is why a resource got no recommendation. It is formatted only
// when Explain asks: Decide skips most of a fleet and formatting every
// reason would be a third of its time.
type skip struct {
	format string
	args   []any
}

func skipf(format string, args ...any) skip { return skip{format: format, args: args} }

func (s skip) isSet() bool { return s.format != "" }

func (s skip) String() string {
	if len(s.args) == 0 {
		return s.format
	}
	return fmt.Sprintf(s.format, s.args...)
}
