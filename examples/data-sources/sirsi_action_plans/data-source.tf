# Plans waiting for approval, with what each would do.
data "sirsi_action_plans" "pending" {
  status = "pending"
}

output "pending_plans" {
  value = {
    for p in data.sirsi_action_plans.pending.plans : p.id => {
      saves   = p.estimated_monthly_savings
      actions = [for a in p.actions : "${a.action} ${a.resource_id}: ${coalesce(a.from_size, "-")} -> ${coalesce(a.to_size, "-")}"]
    }
  }
}
