package policyrun

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/actuator"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
)

// execute carries out reqs within the blast-radius limits: the policy's
// max_actions_per_run per window (counted across restarts), the cool-down,
// and the tenant-wide cap the control plane grants. Each action's result
// is reported.
func (r *Runner) execute(ctx context.Context, p *sirsiv1.OptimizationPolicy, window time.Time, reqs []actuator.Request) error {
	if len(reqs) == 0 {
		return nil
	}
	now := r.cfg.Clock()
	ready := reqs[:0:0]
	for _, req := range reqs {
		if last, ok := r.cfg.Executor.LastAction(req.ResourceID); ok && req.Cooldown > 0 && now.Sub(last) < req.Cooldown {
			continue
		}
		ready = append(ready, req)
	}
	r.mu.Lock()
	wc := r.state.Windows[p.GetId()]
	if !wc.Start.Equal(window) {
		wc = windowCount{Start: window}
	}
	room := policy.MaxActions(p) - wc.Actions
	r.mu.Unlock()
	if room <= 0 || len(ready) == 0 {
		return nil
	}
	ready = ready[:min(len(ready), room)]
	granted, retry, err := r.cfg.Reserver.Reserve(ctx, p.GetId(), len(ready))
	if err != nil {
		return fmt.Errorf("reserving %d actions under the tenant-wide cap: %w", len(ready), err)
	}
	if granted < len(ready) {
		r.log.Info("the tenant-wide action cap holds back actions", "policy_id", p.GetId(), "wanted", len(ready), "granted", granted, "retry_time", retry)
		ready = ready[:max(granted, 0)]
	}
	if len(ready) == 0 {
		return nil
	}
	// Counted before acting: a crash mid-run must not open room for more.
	r.mu.Lock()
	wc.Actions += len(ready)
	r.state.Windows[p.GetId()] = wc
	err = r.save()
	r.mu.Unlock()
	if err != nil {
		return err
	}
	// Side by side: each flow spends most of its time waiting (stop, start,
	// the verify wait), and the run is already bounded by its limits.
	var wg sync.WaitGroup
	for _, req := range ready {
		wg.Go(func() {
			act := r.cfg.Executor.Execute(ctx, req)
			r.noteOutcome(req, act, now)
			r.log.Info("action", "policy_id", p.GetId(), "resource_id", req.ResourceID, "action", req.Action, "from", req.FromSize, "to", req.ToSize,
				"status", act.GetStatus().String(), "error", act.GetError())
			r.report(act)
		})
	}
	wg.Wait()
	return nil
}

// reportNamespace derives report batch ids; see ReportBatchID.
var reportNamespace = uuid.MustParse("0b7f3a52-2f0e-4d8e-9a3c-5d1e2c4b7a90")

// ReportBatchID is the batch id of the report of a finished action,
// derived from the action and its outcome: reported again after a crash,
// it is the same batch to the server, which applies (and audits) it once.
func ReportBatchID(act *sirsiv1.Action) string {
	return uuid.NewSHA1(reportNamespace, []byte(act.GetId()+"/"+act.GetStatus().String())).String()
}

// report hands one finished action to the reporter and only then marks it
// reported: a crash in between reports it again at the next start (the
// reporter makes a repeat harmless), never not at all. An action still
// running (the context ended mid-flow) is reported when Resume finishes
// it.
func (r *Runner) report(act *sirsiv1.Action) {
	if act.GetStatus() == sirsiv1.ActionStatus_ACTION_STATUS_RUNNING {
		return
	}
	if err := r.cfg.Reporter.ReportAction(act); err != nil {
		r.log.Error("spooling an action result failed; it is tried again at the next start", "action_id", act.GetId(), "error", err)
		return
	}
	if err := r.cfg.Executor.MarkReported(act.GetId()); err != nil {
		r.log.Error("marking an action reported failed; it is reported again at the next start", "action_id", act.GetId(), "error", err)
	}
}
