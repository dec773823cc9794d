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

// candidates are the actionable recommendations a run of p would carry
// out, largest saving first.
func candidates(p *sirsiv1.OptimizationPolicy, recs []*sirsiv1.Recommendation) []*sirsiv1.Recommendation {
	var out []*sirsiv1.Recommendation
	for _, r := range recs {
		if r.GetId() != "" && isActionable(p, r.GetResourceType(), r.GetAction()) {
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
