package policyrun

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/actuator"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/optimizer"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

// offHours stops and starts the policy's instances at the off-hours
// firings since the last check. Acting on firings only, not on a desired
// state, is what leaves an instance someone started by hand alone until
// the next stop time.
func (r *Runner) offHours(ctx context.Context, p *sirsiv1.OptimizationPolicy, now time.Time) error {
	oh := p.GetOffhours()
	if oh.GetStopCron() == "" && oh.GetStartCron() == "" {
		return nil
	}
	sched, err := optimizer.ParseOffHours(oh)
	if err != nil {
		return err
	}
	r.mu.Lock()
	from, seen := r.state.OffHoursChecked[p.GetId()]
	r.mu.Unlock()
	if !seen {
		// A new policy (or agent) starts counting now: firings from
		// before it existed are history, not instructions.
		from = now
	}
	due := sched.Due(from, now)
	r.mu.Lock()
	r.state.OffHoursChecked[p.GetId()] = now
	err = r.save()
	r.mu.Unlock()
	if err != nil {
		return err
	}
	if len(due) == 0 {
		return nil
	}
	// Only the latest firing counts: a stop followed by a start that both
	// passed while the agent was down leaves instances as they are meant
	// to be now.
	last := due[len(due)-1]
	action, want := optimizer.ActionStop, "running"
	if !last.Stop {
		action, want = actuator.ActionStart, "stopped"
	}
	inv := r.cfg.Inventory()
	if inv == nil {
		return errors.New("no inventory yet for the off-hours firing")
	}
	var reqs []actuator.Request
	for res := range inv {
		if res.GetType() != actuator.ResourceEC2Instance || res.GetState() != want {
			continue
		}
		if applies, excluded := optimizer.Selects(p, res); !applies || excluded {
			continue
		}
		hourly, perr := r.cfg.Prices.EC2Hourly(res.GetRegion(), res.GetSize())
		saving := 0.0
		if perr == nil && last.Stop {
			saving = optimizer.Cents(pricing.MonthlyFromHourly(hourly) * offFraction(sched, last.At))
		}
		reqs = append(reqs, actuator.Request{
			ID:       uuid.NewSHA1(idNamespace, []byte(fmt.Sprintf("offhours/%s/%s/%d", p.GetId(), res.GetResourceId(), last.At.Unix()))).String(),
			PolicyID: p.GetId(), ResourceID: res.GetResourceId(), ResourceType: res.GetType(), Region: res.GetRegion(),
			Action: action, FromSize: res.GetSize(), ToSize: res.GetSize(), EstimatedMonthlySavings: saving,
			RollbackOnFailure: true, ExcludeTags: p.GetSelector().GetExcludeTags(),
		})
	}
	return r.execute(ctx, p, last.At, reqs)
}

// offFraction is the share of the week from the firing at from that the
// schedule keeps instances stopped: what an off-hours stop saves of a
// month's price. The firing itself counts, so the night it begins is in.
func offFraction(sched *optimizer.OffHours, from time.Time) float64 {
	const week = 7 * 24 * time.Hour
	var off time.Duration
	var stoppedAt time.Time
	stopped := false
	end := from.Add(week)
	for _, t := range sched.Due(from.Add(-time.Nanosecond), end) {
		switch {
		case t.Stop && !stopped:
			stopped, stoppedAt = true, t.At
		case !t.Stop && stopped:
			stopped = false
			off += t.At.Sub(stoppedAt)
		}
	}
	if stopped {
		off += end.Sub(stoppedAt)
	}
	return off.Hours() / week.Hours()
}
