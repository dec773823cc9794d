package policyrun

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
)

// savePlan saves the dry run of the policy's next run: the actions it
// would take, after the same live checks (exclude tags, cool-down, current
// size) the run makes, up to the run's action limit, and what it leaves
// alone with the reason (a refused check, an instance never stopped).
func (r *Runner) savePlan(ctx context.Context, p *sirsiv1.OptimizationPolicy, recs []*sirsiv1.Recommendation) {
	planID := uuid.NewString()
	limit := policy.MaxActions(p)
	var actions []*sirsiv1.Action
	var planned []*sirsiv1.Recommendation
	var skipped []*sirsiv1.PlanSkip
	var key strings.Builder
	for _, rec := range candidates(p, recs) {
		if len(actions) >= limit {
			break
		}
		req := requestFor(p, rec)
		req.ID, req.PlanID = uuid.NewString(), planID
		// An approve-mode plan runs only once a person approved it, so it
		// may hold irreversible actions; auto's dry run never does.
		req.Approved = p.GetMode() == sirsiv1.PolicyMode_POLICY_MODE_APPROVE
		act := r.cfg.Executor.DryRun(ctx, req)
		if act.GetStatus() != sirsiv1.ActionStatus_ACTION_STATUS_PLANNED {
			r.log.Debug("left out of the plan", "resource_id", rec.GetResourceId(), "reason", act.GetError())
			skipped = append(skipped, &sirsiv1.PlanSkip{ResourceId: rec.GetResourceId(), ResourceType: rec.GetResourceType(),
				Region: rec.GetRegion(), Action: rec.GetAction(), Reason: act.GetError()})
			continue
		}
		actions = append(actions, act)
		planned = append(planned, rec)
		fmt.Fprintf(&key, "%s:%s>%s;", rec.GetId(), rec.GetCurrentSize(), rec.GetProposedSize())
	}
	skipped = append(skipped, r.neverStopped(p)...)
	for _, k := range skipped {
		fmt.Fprintf(&key, "skip:%s:%s:%s;", k.GetResourceId(), k.GetAction(), k.GetReason())
	}
	r.mu.Lock()
	same := r.planned[p.GetId()] == key.String()
	r.mu.Unlock()
	if same {
		return
	}
	savings := SumSavings(planned)
	plan := &sirsiv1.ActionPlan{Id: planID, PolicyId: p.GetId(), Actions: actions, EstimatedMonthlySavings: savings, Skipped: skipped}
	if err := r.cfg.Reporter.SavePlan(ctx, plan); err != nil {
		// The next decision makes the plan again.
		r.log.Warn("saving the dry-run plan failed", "policy_id", p.GetId(), "error", err)
		return
	}
	r.mu.Lock()
	r.planned[p.GetId()] = key.String()
	r.mu.Unlock()
	r.log.Info("saved a dry-run plan", "policy_id", p.GetId(), "plan_id", planID, "actions", len(actions), "skipped", len(skipped), "monthly_savings", money.Format(savings))
}
