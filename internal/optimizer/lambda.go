package optimizer

import (
	"fmt"
	"math"
	"strconv"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

var (
	metricMemUtilMax = Metric{"memory_utilization", "Maximum"}
	metricDurAvg     = Metric{"duration_ms", "Average"}
	metricInvSum     = Metric{"invocations", "Sum"}
)

// Lambda memory bounds and the step proposals are made in, MB.
const (
	lambdaMinMB  = validation.LambdaMinMemoryMB
	lambdaMaxMB  = validation.LambdaMaxMemoryMB
	lambdaStepMB = 128
)

// lambdaDurationDiscount scales confidence for memory right-sizing:
// Lambda gives CPU in proportion to memory, so a CPU-bound function runs
// longer with less memory, which the estimate (duration unchanged) does
// not see.
const lambdaDurationDiscount = 0.6

// decideLambda proposes the smallest memory, in 128 MB steps and at least
// 128 MB, that holds the peak memory used (Lambda Insights
// memory_utilization Maximum × configured memory) with headroom. Cost is
// GB-seconds (average duration × invocations × memory) at the catalogue's
// per GB-second price plus requests, scaled from the window to 730 hours.
func (o *Optimizer) decideLambda(p *sirsiv1.OptimizationPolicy, in Input) (*sirsiv1.Recommendation, skip) {
	r := in.Resource
	if p.GetRightsizing() == nil {
		return nil, skipf("the policy has no rightsizing settings")
	}
	memMB, err := strconv.Atoi(r.GetSize())
	if err != nil || memMB <= 0 {
		return nil, skipf("memory size %q is not a number of MB", r.GetSize())
	}
	arch := r.GetAttributes()["architecture"]
	if arch == "" {
		arch = pricing.ArchX86
	}
	price, err := o.cat.LambdaPrice(r.GetRegion(), arch)
	if err != nil {
		return nil, skipf("no price: %v", err)
	}
	days := policy.LookbackDays(p)
	mem, why := usable(in, metricMemUtilMax, days, MinCoverage)
	if why.isSet() {
		return nil, why
	}
	dur, why := usable(in, metricDurAvg, days, 0)
	if why.isSet() {
		return nil, why
	}
	inv, why := usable(in, metricInvSum, days, 0)
	if why.isSet() {
		return nil, why
	}
	h := headroom(p)
	usedMB := float64(memMB) * clamp01(mem.Value/100)
	proposed := int(math.Ceil(math.Round(usedMB*h*1e6)/1e6/lambdaStepMB)) * lambdaStepMB
	proposed = min(max(proposed, lambdaMinMB), lambdaMaxMB)
	if proposed >= memMB {
		return nil, skipf("peak memory %.0f MB with %.0f%% headroom needs %d MB, not less than the configured %d MB", usedMB, (h-1)*100, proposed, memMB)
	}
	scale := float64(pricing.HoursPerMonth) / inv.Window.Hours()
	monthly := func(mb int) float64 {
		gbs := dur.Value / 1000 * inv.Value * float64(mb) / 1024
		return (gbs*price.USDPerGBSecond + inv.Value*price.USDPerRequest) * scale
	}
	cur, prop := monthly(memMB), monthly(proposed)
	conf := clamp01(mem.Coverage) * lambdaDurationDiscount
	reason := fmt.Sprintf("Peak memory use %.1f%% of %d MB over %d days is %.0f MB; with %.0f%% headroom %d MB is enough: $%.2f to $%.2f a month at %.0f invocations of %.0f ms on average per %.1f days. Assumes the duration stays the same; Lambda gives less CPU to less memory, so confidence %.2f is the data coverage (%.0f%%) times %.1f.",
		mem.Value, memMB, days, usedMB, (h-1)*100, proposed, money.RoundCents(cur), money.RoundCents(prop), inv.Value, dur.Value, inv.Window.Hours()/24, money.RoundCents(conf), mem.Coverage*100, lambdaDurationDiscount)
	return newRec(p, r, ActionSetMemory, strconv.Itoa(memMB), strconv.Itoa(proposed), cur, prop, conf, reason,
		evidence(metricMemUtilMax, mem), evidence(metricDurAvg, dur), evidence(metricInvSum, inv)), skip{}
}
