# A policy in approve mode (mode = "approve") acts only on recommendations
# someone approved.
variable "policy_id" {
  description = "Id of a sirsi_optimization_policy in approve mode, managed in another configuration."
  type        = string
}

# The open right-sizing recommendations of that policy worth at least 50 a
# month. The for_each below needs them at plan time, so the policy id must
# be known then (a variable or another state, not a policy created in the
# same run).
data "sirsi_recommendations" "worth_it" {
  policy_id           = var.policy_id
  status              = "open"
  min_monthly_savings = 50
}

# Approve each of them, reviewed in the plan like any other change. Once the
# agent has carried one out it stays in state with status = "executed";
# destroying an approval that has not run yet revokes it.
resource "sirsi_recommendation_approval" "worth_it" {
  for_each          = { for r in data.sirsi_recommendations.worth_it.items : r.resource_id => r.id }
  recommendation_id = each.value
}

output "approved" {
  value = {
    for k, a in sirsi_recommendation_approval.worth_it :
    k => "${a.current_size} -> ${a.proposed_size}, saves ${a.estimated_monthly_savings}/month (${a.status})"
  }
}
