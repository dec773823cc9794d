package optimizer

import (
	"fmt"
	"math"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/stopguard"
)

var (
	metricCPUMax  = Metric{"cpu_utilization", "Maximum"}
	metricCPUP99  = Metric{"cpu_utilization", "p99"}
	metricNetIn   = Metric{"network_in_bytes", "Sum"}
	metricNetOut  = Metric{"network_out_bytes", "Sum"}
	metricConnMax = Metric{"database_connections", "Maximum"}
	metricFreeMin = Metric{"freeable_memory_bytes", "Minimum"}
)

func (o *Optimizer) decideEC2(p *sirsiv1.OptimizationPolicy, in Input, now time.Time) (*sirsiv1.Recommendation, skip) {
	r := in.Resource
	if r.GetState() != "running" {
		return nil, skipf("instance is %s, not running", orDash(r.GetState()))
	}
	rec, why := o.decideRunningEC2(p, in, now)
	// Both EC2 actions (stop, resize) stop the instance. One that must
	// never be stopped keeps its recommendation, which says why the agent
	// leaves it to a person (who changes the group or launch template).
	if guard := stopguard.Reason(stopguard.Of(r)); guard.Applies() {
		if rec == nil {
			return nil, skipf("never stopped or resized: %s (and %s)", guard.Detail, why)
		}
		rec.SkipReason, rec.SkipDetail = guard.Code, "never stopped or resized by the agent: "+guard.Detail
	}
	return rec, why
}

// decideRunningEC2 decides for a running instance, stopguard aside.
func (o *Optimizer) decideRunningEC2(p *sirsiv1.OptimizationPolicy, in Input, now time.Time) (*sirsiv1.Recommendation, skip) {
	r := in.Resource
	a := r.GetAttributes()
	// The catalogue holds on-demand, shared-tenancy Linux prices only; any
	// other instance would be priced wrong.
	switch {
	case a["platform"] != "" && a["platform"] != "Linux/UNIX":
		return nil, skipf("platform %s is not priced by the catalogue (Linux only)", a["platform"])
	case a["lifecycle"] != "" && a["lifecycle"] != "on-demand":
		return nil, skipf("%s instances are not priced by the catalogue (on-demand only)", a["lifecycle"])
	case a["tenancy"] != "" && a["tenancy"] != "default":
		return nil, skipf("%s tenancy is not priced by the catalogue (shared only)", a["tenancy"])
	}
	spec, ok := o.cat.InstanceType(r.GetSize())
	if !ok {
		return nil, skipf("instance type %q is not in the catalogue", r.GetSize())
	}
	hourly, err := o.cat.EC2Hourly(r.GetRegion(), r.GetSize())
	if err != nil {
		return nil, skipf("no price: %v", err)
	}
	var idleWhy skip
	if p.GetIdle() != nil {
		var rec *sirsiv1.Recommendation
		if rec, idleWhy = idleEC2(p, in, hourly); rec != nil {
			return rec, skip{}
		}
	}
	if p.GetRightsizing() == nil {
		if idleWhy.isSet() {
			return nil, skipf("not idle (%s) and the policy has no rightsizing settings", idleWhy)
		}
		return nil, skipf("the policy has neither idle nor rightsizing settings")
	}
	return o.rightsize(p, in, spec, hourly, "", func(c candidate, cur, prop float64, conf float64, why string, ev []*sirsiv1.Evidence) *sirsiv1.Recommendation {
		return newRec(p, r, ActionResize, r.GetSize(), c.name, cur, prop, conf, why, ev...)
	}, 1)
}

// idleEC2 applies the idle rule: over the whole idle lookback, CPU
// Maximum (p99 when Maximum is missing) below cpu_below_percent and the
// daily network traffic (in + out) below network_below_bytes_per_day
// (0: no network floor). It returns why the instance is not idle
// otherwise.
func idleEC2(p *sirsiv1.OptimizationPolicy, in Input, hourly float64) (*sirsiv1.Recommendation, skip) {
	idle := p.GetIdle()
	if idle.GetCpuBelowPercent() <= 0 {
		return nil, skipf("idle.cpu_below_percent is not set")
	}
	days := policy.IdleLookbackDays(p)
	cpuM := metricCPUMax
	if _, ok := in.Metrics[cpuM]; !ok {
		cpuM = metricCPUP99
	}
	cpu, why := usable(in, cpuM, days, IdleMinCoverage)
	if why.isSet() {
		return nil, why
	}
	if cpu.Value >= idle.GetCpuBelowPercent() {
		return nil, skipf("CPU %s %.1f%% is not below %.1f%%", cpuM.Statistic, cpu.Value, idle.GetCpuBelowPercent())
	}
	ev := []*sirsiv1.Evidence{evidence(cpuM, cpu)}
	netWhy := ""
	if floor := idle.GetNetworkBelowBytesPerDay(); floor > 0 {
		nin, why := usable(in, metricNetIn, days, IdleMinCoverage)
		if why.isSet() {
			return nil, why
		}
		nout, why := usable(in, metricNetOut, days, IdleMinCoverage)
		if why.isSet() {
			return nil, why
		}
		// The sums cover the observations' window, which may be longer
		// than the idle lookback; per day is over that window.
		windowDays := math.Max(nin.Window.Hours()/24, 1)
		perDay := (nin.Value + nout.Value) / windowDays
		if perDay >= float64(floor) {
			return nil, skipf("network %.0f bytes/day is not below %d", perDay, floor)
		}
		ev = append(ev, evidence(metricNetIn, nin), evidence(metricNetOut, nout))
		netWhy = fmt.Sprintf(" and network traffic %.0f bytes/day below %d", perDay, floor)
	}
	conf := cpu.Coverage
	reason := fmt.Sprintf("Idle for %d days: CPU %s %.1f%% below %.1f%%%s. Stopping saves the whole compute price; its EBS volumes are still billed while it is stopped. Confidence %.2f is the data coverage of the window.",
		days, cpuM.Statistic, cpu.Value, idle.GetCpuBelowPercent(), netWhy, conf)
	r := in.Resource
	return newRec(p, r, ActionStop, r.GetSize(), "", pricing.MonthlyFromHourly(hourly), 0, conf, reason, ev...), skip{}
}

// build makes the recommendation for a chosen candidate.
type build func(c candidate, current, proposed, confidence float64, reason string, ev []*sirsiv1.Evidence) *sirsiv1.Recommendation

// rightsize picks a type for an EC2 instance (engine "") or RDS class.
// costFactor multiplies hourly prices (2 for Multi-AZ RDS); memGiB is an
// extra memory floor (RDS connections and used memory) on top of the
// CPU-fraction rule.
func (o *Optimizer) rightsize(p *sirsiv1.OptimizationPolicy, in Input, cur pricing.InstanceSpec, curHourly float64, engine string, mk build, costFactor float64, memFloors ...float64) (*sirsiv1.Recommendation, skip) {
	r := in.Resource
	days := policy.LookbackDays(p)
	m := Metric{"cpu_utilization", statistic(p)}
	ob, why := usable(in, m, days, MinCoverage)
	if why.isSet() {
		return nil, why
	}
	h := headroom(p)
	frac := clamp01(ob.Value / 100)
	n := need{
		load:         float64(cur.VCPU) * frac,
		headroom:     h,
		memGiB:       max(cur.MemoryGiB*frac*h, cur.MemoryGiB*minMemoryFraction),
		downsizeOnly: p.GetRightsizing().GetDownsizeOnly(),
		curVCPU:      cur.VCPU,
		curHourly:    curHourly,
	}
	n.vcpu = requiredVCPU(n.load, h)
	for _, f := range memFloors {
		n.memGiB = math.Max(n.memGiB, f)
	}
	fams := o.families(p.GetRightsizing().GetAllowedFamilies(), cur)
	c, ok := pick(o.candidateList(r.GetRegion(), engine, cur.Architecture, fams), n, cur)
	if !ok {
		return nil, skipf("no type in families %v (%s) has %d vCPU and %.2f GiB%s", fams, cur.Architecture, n.vcpu, n.memGiB, downsizeNote(n))
	}
	if c.name == r.GetSize() {
		return nil, skipf("%s is already the cheapest type that fits %d vCPU and %.2f GiB", c.name, n.vcpu, n.memGiB)
	}
	curM, propM := pricing.MonthlyFromHourly(curHourly*costFactor), pricing.MonthlyFromHourly(c.hourly*costFactor)
	conf, used := fitConfidence(ob.Coverage, n.load*h, capacity(c.spec))
	reason := fmt.Sprintf("CPU %s %.1f%% of %d vCPU over %d days is %.2f busy vCPU; with %.0f%% headroom it needs %d vCPU and at least %.2f GiB. %s is the cheapest fitting type in %v: $%.2f to $%.2f a month. Confidence %.2f: data covers %.0f%% of the window and the load with headroom would use %.0f%% of the new type's sustained CPU.",
		m.Statistic, ob.Value, cur.VCPU, days, n.load, (h-1)*100, n.vcpu, n.memGiB, describe(c.spec, c.name), fams, money.RoundCents(curM), money.RoundCents(propM), money.RoundCents(conf), ob.Coverage*100, used*100)
	return mk(c, curM, propM, conf, reason, []*sirsiv1.Evidence{evidence(m, ob)}), skip{}
}

func downsizeNote(n need) string {
	if n.downsizeOnly {
		return fmt.Sprintf(", costs at most $%.4f/h and has at most %d vCPU (downsize_only)", n.curHourly, n.curVCPU)
	}
	return ""
}
