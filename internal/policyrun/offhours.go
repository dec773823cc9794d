package policyrun

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/actuator"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/optimizer"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/stopguard"
)

// Off-hours is a schedule, not a batch of optimizer actions: a firing is
// carried out for every instance it selects, under these limits of its
// own rather than max_actions_per_run or the tenant-wide cap (which bound
// the optimizer's changes, whose reach nobody listed; a schedule's reach
// is its selector, which a person wrote).
const (
	// offHoursParallel is how many stops or starts run at once.
	offHoursParallel = 10
	// offHoursPerRun is how many instances one optimize run takes on; a
	// larger firing goes on at the next runs within its window.
	offHoursPerRun = 200
	// offHoursAttempts is how often an instance is tried per firing when
	// AWS fails the stop or start (a refusal by a live check is final).
	offHoursAttempts = 5
)

// pendingFiring is the latest off-hours firing of a policy still being
// carried out: retried at every optimize run until every instance is done
// or the window after the firing closes.
type pendingFiring struct {
	At   time.Time `json:"at"`
	Stop bool      `json:"stop"`
	// Done are the instances finished for this firing: stopped or started,
	// or refused by a live check (excluded, never stopped, not running,
	// started by someone since).
	Done map[string]bool `json:"done,omitempty"`
	// Attempts counts the failed tries of the others.
	Attempts map[string]int `json:"attempts,omitempty"`
}

// stoppedInstance is an instance an off-hours stop stopped.
type stoppedInstance struct {
	Region string    `json:"region"`
	Size   string    `json:"size"`
	At     time.Time `json:"at"`
}

// offHours carries out the policy's off-hours firings. A firing since the
// last check becomes the pending one (the latest wins: a stop and a start
// that both passed while the agent was down leave instances as they are
// meant to be now) and is saved before anything else, so a firing that
// comes before the first inventory is carried out once there is one, if
// its window is still open. Acting on firings only, not on a desired
// state, is what leaves an instance someone started by hand alone until
// the next stop firing.
func (r *Runner) offHours(ctx context.Context, p *sirsiv1.OptimizationPolicy, now time.Time) error {
	oh := p.GetOffhours()
	if oh.GetStopCron() == "" && oh.GetStartCron() == "" {
		return nil
	}
	sched, err := optimizer.ParseOffHours(oh)
	if err != nil {
		return err
	}
	id := p.GetId()
	r.mu.Lock()
	from, seen := r.state.OffHoursChecked[id]
	if !seen {
		// A new policy (or agent) starts counting now: firings from
		// before it existed are history, not instructions.
		from = now
	}
	if due := sched.Due(from, now); len(due) > 0 {
		last := due[len(due)-1]
		r.state.OffHoursPending[id] = &pendingFiring{At: last.At, Stop: last.Stop, Done: map[string]bool{}, Attempts: map[string]int{}}
	}
	r.state.OffHoursChecked[id] = now
	pending := r.state.OffHoursPending[id]
	if pending != nil && !now.Before(pending.At.Add(offHoursWindow(p))) {
		r.log.Warn("an off-hours firing's window closed before it was carried out for every instance", "policy_id", id, "firing", pending.At,
			"stop", pending.Stop, "done", len(pending.Done))
		delete(r.state.OffHoursPending, id)
		pending = nil
	}
	err = r.save()
	r.mu.Unlock()
	if err != nil || pending == nil {
		return err
	}
	reqs, err := r.offHoursRequests(p, sched, pending)
	if err != nil {
		return err
	}
	switch {
	case p.GetMode() != sirsiv1.PolicyMode_POLICY_MODE_AUTO:
		r.log.Info("off-hours firing not carried out: only auto mode runs schedules", "policy_id", id, "mode", p.GetMode().String(),
			"firing", pending.At, "stop", pending.Stop, "instances", len(reqs))
		r.finishFiring(id)
		return nil
	case p.GetDryRun():
		r.dryRunFiring(ctx, p, pending, reqs)
		r.finishFiring(id)
		return nil
	}
	return r.carryOut(ctx, p, pending, reqs)
}

// offHoursWindow is how long after a firing it is carried out: the
// policy's window_minutes.
func offHoursWindow(p *sirsiv1.OptimizationPolicy) time.Duration {
	return time.Duration(policy.WindowMinutes(p)) * time.Minute
}

// offHoursRequests are the firing's instances not done yet: at a stop,
// every selected running instance of the inventory that may be stopped;
// at a start, exactly the instances the policy's off-hours stops stopped.
func (r *Runner) offHoursRequests(p *sirsiv1.OptimizationPolicy, sched *optimizer.OffHours, f *pendingFiring) ([]actuator.Request, error) {
	id := p.GetId()
	base := func(resource, region, size, action string) actuator.Request {
		r.mu.Lock()
		attempt := f.Attempts[resource]
		r.mu.Unlock()
		return actuator.Request{
			ID:       uuid.NewSHA1(idNamespace, []byte(fmt.Sprintf("offhours/%s/%s/%d/%d", id, resource, f.At.Unix(), attempt))).String(),
			PolicyID: id, ResourceID: resource, ResourceType: actuator.ResourceEC2Instance, Region: region,
			Action: action, FromSize: size, ToSize: size, RollbackOnFailure: true, ExcludeTags: p.GetSelector().GetExcludeTags(), OffHours: true,
			Hibernate: p.GetHibernate(),
		}
	}
	var reqs []actuator.Request
	if !f.Stop {
		r.mu.Lock()
		stopped := maps.Clone(r.state.OffHoursStopped[id])
		r.mu.Unlock()
		for _, res := range slices.Sorted(maps.Keys(stopped)) {
			if f.Done[res] {
				continue
			}
			req := base(res, stopped[res].Region, stopped[res].Size, actuator.ActionStart)
			req.StoppedAt = stopped[res].At
			reqs = append(reqs, req)
		}
		return reqs, nil
	}
	inv := r.cfg.Inventory()
	if inv == nil {
		return nil, fmt.Errorf("no inventory yet for the off-hours stop firing of %s; it is carried out once there is one, within its window", f.At.Format(time.RFC3339))
	}
	fraction := offFraction(sched, f.At)
	for res := range inv {
		if res.GetType() != actuator.ResourceEC2Instance || res.GetState() != "running" || f.Done[res.GetResourceId()] {
			continue
		}
		if applies, excluded := optimizer.Selects(p, res); !applies || excluded {
			continue
		}
		if why := stopguard.Reason(stopguard.Of(res)); why.Applies() {
			r.log.Info("off-hours leaves an instance running", "policy_id", id, "resource_id", res.GetResourceId(), "reason", why.Detail)
			continue
		}
		req := base(res.GetResourceId(), res.GetRegion(), res.GetSize(), optimizer.ActionStop)
		if hourly, err := r.cfg.Prices.EC2Hourly(res.GetRegion(), res.GetSize()); err == nil {
			req.EstimatedMonthlySavings = money.USDFromFloat(money.RoundCents(pricing.MonthlyFromHourly(hourly) * fraction))
			// A stopped instance's compute is not billed (its volumes are
			// their own resources): the ledger accrues the hourly price for
			// as long as it stays stopped.
			req.HourlyCostBefore, req.HourlyCostAfter = money.USDFromFloat(hourly), money.Micros(0, money.USD)
		}
		reqs = append(reqs, req)
	}
	return reqs, nil
}

// carryOut runs the firing's requests under the off-hours limits and
// records what is done. Every result is reported.
func (r *Runner) carryOut(ctx context.Context, p *sirsiv1.OptimizationPolicy, f *pendingFiring, reqs []actuator.Request) error {
	id := p.GetId()
	reqs = reqs[:min(len(reqs), offHoursPerRun)]
	sem := make(chan struct{}, offHoursParallel)
	var wg sync.WaitGroup
	for _, req := range reqs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			act := r.cfg.Executor.Execute(ctx, req)
			r.log.Info("off-hours action", "policy_id", id, "resource_id", req.ResourceID, "action", req.Action, "status", act.GetStatus().String(), "error", act.GetError())
			r.report(act)
			r.noteOffHours(id, f, req, act)
		})
	}
	wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	left := 0
	for _, req := range reqs {
		if !f.Done[req.ResourceID] {
			left++
		}
	}
	if left == 0 && len(reqs) < offHoursPerRun {
		delete(r.state.OffHoursPending, id)
	}
	return r.save()
}

// noteOffHours records one instance's outcome for the firing.
func (r *Runner) noteOffHours(policyID string, f *pendingFiring, req actuator.Request, act *sirsiv1.Action) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case act.GetStatus() == sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED:
		f.Done[req.ResourceID] = true
		if req.Action == actuator.ActionStop {
			if r.state.OffHoursStopped[policyID] == nil {
				r.state.OffHoursStopped[policyID] = map[string]stoppedInstance{}
			}
			at := r.cfg.Clock()
			if act.GetEndTime() != nil {
				at = act.GetEndTime().AsTime()
			}
			r.state.OffHoursStopped[policyID][req.ResourceID] = stoppedInstance{Region: req.Region, Size: req.FromSize, At: at}
		} else {
			delete(r.state.OffHoursStopped[policyID], req.ResourceID)
		}
	case act.GetStatus() == sirsiv1.ActionStatus_ACTION_STATUS_RUNNING:
		// Interrupted: the same request id finishes it at the next run.
	case refused(act):
		f.Done[req.ResourceID] = true
		if req.Action == actuator.ActionStart {
			// Someone started it (or stopped it again) since: it is theirs.
			delete(r.state.OffHoursStopped[policyID], req.ResourceID)
		}
	default:
		f.Attempts[req.ResourceID]++
		if f.Attempts[req.ResourceID] >= offHoursAttempts {
			f.Done[req.ResourceID] = true
			r.log.Error("off-hours gave up on an instance for this firing", "policy_id", policyID, "resource_id", req.ResourceID, "attempts", offHoursAttempts, "error", act.GetError())
		}
	}
}

// refused: the action failed at its live check, before touching anything.
func refused(act *sirsiv1.Action) bool {
	steps := act.GetSteps()
	return act.GetStatus() == sirsiv1.ActionStatus_ACTION_STATUS_FAILED && len(steps) > 0 && steps[len(steps)-1].GetName() == "check" && steps[len(steps)-1].GetStatus() == "failed"
}

// dryRunFiring evaluates the firing through the actuator's live checks and
// logs what it would do; nothing changes.
func (r *Runner) dryRunFiring(ctx context.Context, p *sirsiv1.OptimizationPolicy, f *pendingFiring, reqs []actuator.Request) {
	would := 0
	for _, req := range reqs {
		act := r.cfg.Executor.DryRun(ctx, req)
		if act.GetStatus() == sirsiv1.ActionStatus_ACTION_STATUS_PLANNED {
			would++
			continue
		}
		r.log.Info("off-hours dry run: an instance would be left alone", "policy_id", p.GetId(), "resource_id", req.ResourceID, "reason", act.GetError())
	}
	r.log.Info("off-hours dry run", "policy_id", p.GetId(), "firing", f.At, "stop", f.Stop, "would_act_on", would, "instances", len(reqs))
}

// finishFiring drops the policy's pending firing.
func (r *Runner) finishFiring(policyID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.state.OffHoursPending, policyID)
	if err := r.save(); err != nil {
		r.log.Error("saving the off-hours state", "error", err)
	}
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
