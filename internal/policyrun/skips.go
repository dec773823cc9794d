package policyrun

import (
	"cmp"
	"slices"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/actuator"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/optimizer"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/stopguard"
)

// neverStopped lists the policy's selected EC2 instances of the inventory
// that its stopping rules (idle and off-hours stops, resizes, which stop
// the instance too) would otherwise consider but that are never stopped,
// each with the reason stopguard or the exclude tags give, so that a plan
// shows what it leaves alone and why. Ordered by resource id.
func (r *Runner) neverStopped(p *sirsiv1.OptimizationPolicy) []*sirsiv1.PlanSkip {
	action := stoppingAction(p)
	inv := r.cfg.Inventory()
	if action == "" || inv == nil {
		return nil
	}
	var out []*sirsiv1.PlanSkip
	for res := range inv {
		if res.GetType() != actuator.ResourceEC2Instance || res.GetState() == "terminated" || res.GetState() == "shutting-down" {
			continue
		}
		if applies, _ := optimizer.Selects(p, res); !applies {
			continue
		}
		why := optimizer.Exclusion(p, res)
		if why == "" {
			why = stopguard.Reason(stopguard.Of(res)).Detail
		}
		if why == "" {
			continue
		}
		out = append(out, &sirsiv1.PlanSkip{ResourceId: res.GetResourceId(), ResourceType: res.GetType(), Region: res.GetRegion(), Action: action, Reason: why})
	}
	slices.SortFunc(out, func(a, b *sirsiv1.PlanSkip) int {
		return cmp.Or(cmp.Compare(a.GetResourceId(), b.GetResourceId()), cmp.Compare(a.GetRegion(), b.GetRegion()))
	})
	return out
}

// stoppingAction is the action by which the policy would stop an
// instance: stop when it has an idle rule or an off-hours stop, resize
// when it only rightsizes; "" when it never stops one.
func stoppingAction(p *sirsiv1.OptimizationPolicy) string {
	switch {
	case len(p.GetResourceTypes()) > 0 && !slices.Contains(p.GetResourceTypes(), actuator.ResourceEC2Instance):
		return ""
	case p.GetIdle() != nil || p.GetOffhours().GetStopCron() != "":
		return actuator.ActionStop
	case p.GetRightsizing() != nil:
		return actuator.ActionResize
	}
	return ""
}
