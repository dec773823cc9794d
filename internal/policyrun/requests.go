package policyrun

import (
	"cmp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/actuator"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/optimizer"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
)

// idNamespace derives action ids from what they carry out, so that the
// same decision taken again after a restart has the same id and the
// actuator's journal refuses to act twice.
var idNamespace = uuid.MustParse("6f1c2f4e-8a59-4bd5-9d35-2f0b8f3e51a7")

// isActionable: the recommendations the agent carries out under p: those
// the actuator carries out (see actuator.Carries; every other one, Savings
// Plans, S3, is advice only), except right-sizing that p leaves to
// Terraform (execution = "terraform"), approved or not.
func isActionable(p *sirsiv1.OptimizationPolicy, resourceType, action string) bool {
	return actuator.Carries(resourceType, action) && !(policy.TerraformExecutes(p) && optimizer.IsRightsizing(action))
}

// Skip details the policy gives (stopguard's and exclusions come from the
// optimizer, refusals from the actuator's live checks).
const (
	skipTerraformExecutes = "the policy's execution is terraform: Terraform carries out right-sizing (read it with sirsi_recommended_size), never the agent"
	skipIrreversibleAuto  = "cannot be undone, so auto mode never takes it: a policy in approve mode carries it out once a person approves it"
)

// MarkSkips sets the skip reason of each of p's recommendations the agent
// will not carry out although p's mode acts (auto or approve), before they
// are reported: right-sizing p leaves to Terraform, in auto mode an action
// that cannot be undone, and one whose last attempt a live check refused
// (tried again all the same: the resource may have changed back). A
// reason already set (an instance never stopped, an excluded one) stays;
// in recommend mode nothing is acted on, so nothing more is marked.
func (r *Runner) MarkSkips(p *sirsiv1.OptimizationPolicy, recs []*sirsiv1.Recommendation) {
	mode := p.GetMode()
	if mode != sirsiv1.PolicyMode_POLICY_MODE_AUTO && mode != sirsiv1.PolicyMode_POLICY_MODE_APPROVE {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range recs {
		switch {
		case rec.GetSkipReason() != sirsiv1.SkipReason_SKIP_REASON_UNSPECIFIED:
		case policy.TerraformExecutes(p) && optimizer.IsRightsizing(rec.GetAction()):
			rec.SkipReason, rec.SkipDetail = sirsiv1.SkipReason_SKIP_REASON_TERRAFORM_EXECUTES, skipTerraformExecutes
		case mode == sirsiv1.PolicyMode_POLICY_MODE_AUTO && actuator.Irreversible(rec.GetResourceType(), rec.GetAction()):
			rec.SkipReason, rec.SkipDetail = sirsiv1.SkipReason_SKIP_REASON_IRREVERSIBLE, skipIrreversibleAuto
		default:
			if f, ok := r.refused[refusalKey(p.GetId(), rec.GetResourceId(), rec.GetAction())]; ok &&
				f.from == rec.GetCurrentSize() && f.to == rec.GetProposedSize() {
				rec.SkipReason, rec.SkipDetail = sirsiv1.SkipReason_SKIP_REASON_CHECK_REFUSED, f.detail
			}
		}
	}
}

// holdsBack says whether a recommendation's skip reason keeps the agent
// from carrying it out: every reason does but a refused check, which
// names the last attempt only.
func holdsBack(rec *sirsiv1.Recommendation) bool {
	switch rec.GetSkipReason() {
	case sirsiv1.SkipReason_SKIP_REASON_UNSPECIFIED, sirsiv1.SkipReason_SKIP_REASON_CHECK_REFUSED:
		return false
	}
	return true
}

// candidates are the actionable recommendations a run of p would carry
// out, largest saving first; none held back by its skip reason is among
// them.
func candidates(p *sirsiv1.OptimizationPolicy, recs []*sirsiv1.Recommendation) []*sirsiv1.Recommendation {
	var out []*sirsiv1.Recommendation
	for _, r := range recs {
		if r.GetId() != "" && isActionable(p, r.GetResourceType(), r.GetAction()) && !holdsBack(r) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(x, y *sirsiv1.Recommendation) int {
		return cmp.Compare(y.GetEstimatedMonthlySavings().GetMicros(), x.GetEstimatedMonthlySavings().GetMicros())
	})
	return out
}

// SumSavings adds the known estimated savings of recs; nil when none is
// known.
func SumSavings(recs []*sirsiv1.Recommendation) *sirsiv1.Money {
	ms := make([]*sirsiv1.Money, len(recs))
	for i, r := range recs {
		ms[i] = r.GetEstimatedMonthlySavings()
	}
	// Every estimate is the agent's own, in US dollars: the sum cannot
	// mix currencies.
	total, _, _ := money.Sum(ms...)
	return total
}

// requestFor is the actuator request carrying out r under p; the id is
// derived from the recommendation and its proposal.
func requestFor(p *sirsiv1.OptimizationPolicy, r *sirsiv1.Recommendation) actuator.Request {
	return actuator.Request{
		ID:                      uuid.NewSHA1(idNamespace, []byte("rec/"+r.GetId()+"/"+r.GetCurrentSize()+"/"+r.GetProposedSize())).String(),
		PolicyID:                p.GetId(),
		RecommendationID:        r.GetId(),
		ResourceID:              r.GetResourceId(),
		ResourceType:            r.GetResourceType(),
		Region:                  r.GetRegion(),
		Action:                  r.GetAction(),
		FromSize:                r.GetCurrentSize(),
		ToSize:                  r.GetProposedSize(),
		EstimatedMonthlySavings: r.GetEstimatedMonthlySavings(),
		VerifyWait:              time.Duration(p.GetVerify().GetWaitMinutes()) * time.Minute,
		RollbackOnFailure:       policy.RollbackOnFailure(p),
		Cooldown:                policy.Cooldown(p),
		ExcludeTags:             p.GetSelector().GetExcludeTags(),
		Hibernate:               p.GetHibernate(),
	}
}

// approvedRequests are the policy's approved plans, action by action
// exactly as saved, then its approved recommendations not in those plans.
func approvedRequests(p *sirsiv1.OptimizationPolicy, asg *sirsiv1.GetAssignmentResponse) []actuator.Request {
	var reqs []actuator.Request
	inPlan := map[string]bool{}
	for _, pl := range asg.GetApprovedPlans() {
		if pl.GetPolicyId() != p.GetId() {
			continue
		}
		for _, a := range pl.GetActions() {
			if !isActionable(p, a.GetResourceType(), a.GetAction()) {
				continue
			}
			r := requestFor(p, &sirsiv1.Recommendation{Id: a.GetRecommendationId(), ResourceId: a.GetResourceId(), ResourceType: a.GetResourceType(),
				Region: a.GetRegion(), Action: a.GetAction(), CurrentSize: a.GetFromSize(), ProposedSize: a.GetToSize()})
			r.ID, r.PlanID, r.Approved = a.GetId(), pl.GetId(), true
			reqs = append(reqs, r)
			inPlan[a.GetRecommendationId()] = true
		}
	}
	var recs []*sirsiv1.Recommendation
	for _, r := range asg.GetApprovedRecommendations() {
		if r.GetPolicyId() == p.GetId() && !inPlan[r.GetId()] {
			recs = append(recs, r)
		}
	}
	for _, r := range candidates(p, recs) {
		req := requestFor(p, r)
		req.Approved = true
		reqs = append(reqs, req)
	}
	return reqs
}
