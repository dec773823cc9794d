package policyrun

import (
	"fmt"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/actuator"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// refusal is a recommendation's last attempt, refused by a live check:
// MarkSkips reports it with the next decisions as SKIP_REASON_CHECK_REFUSED
// while the recommendation proposes the same change. Kept in memory only:
// after a restart the next attempt says again whether it is refused.
type refusal struct {
	from, to, detail string
}

// refusalKey names a recommendation across reports (the control plane
// gives a new id to the one following an attempt).
func refusalKey(policyID, resourceID, action string) string {
	return policyID + "\x00" + resourceID + "\x00" + action
}

// noteOutcome remembers a refused attempt of req, and forgets an earlier
// refusal once an attempt gets past the checks.
func (r *Runner) noteOutcome(req actuator.Request, act *sirsiv1.Action, at time.Time) {
	if act.GetStatus() == sirsiv1.ActionStatus_ACTION_STATUS_RUNNING || req.RecommendationID == "" {
		return
	}
	k := refusalKey(req.PolicyID, req.ResourceID, req.Action)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !actuator.Refused(act) {
		delete(r.refused, k)
		return
	}
	detail := []rune(fmt.Sprintf("the attempt at %s was refused by its live check (tried again at the next run): %s", at.UTC().Format(time.RFC3339), act.GetError()))
	r.refused[k] = refusal{from: req.FromSize, to: req.ToSize, detail: string(detail[:min(len(detail), validation.MaxSkipDetailLen)])}
}
