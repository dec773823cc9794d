# In auto mode with dry_run, each scheduled run saves the exact actions it
# would take as a plan instead of acting.
resource "sirsi_optimization_policy" "weekend" {
  name           = "weekend-rightsizing"
  mode           = "auto"
  dry_run        = true
  resource_types = ["aws_ec2_instance", "aws_ebs_volume"]
  schedule       = "0 2 * * 6"
  window_minutes = 120
  cooldown_hours = 168
}

variable "approved_plan_id" {
  description = "Id of the pending plan a reviewer has checked (from the sirsi_action_plans data source)."
  type        = string
}

# Approve exactly that plan: the agent executes its actions in the next
# window and nothing else. An approved plan cannot be un-approved;
# destroying this resource only removes it from state, with a warning.
resource "sirsi_action_plan_approval" "reviewed" {
  plan_id = var.approved_plan_id
}

output "approved_plan" {
  value = "${sirsi_action_plan_approval.reviewed.action_count} actions, ${sirsi_action_plan_approval.reviewed.estimated_monthly_savings}/month, ${sirsi_action_plan_approval.reviewed.status}"
}
