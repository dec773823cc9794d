# What the agents' actions have saved: accrued from the savings ledger,
# hours in effect x hourly saving, and what the changes in effect now save.
data "sirsi_savings" "this" {}

output "saved_this_month" {
  value = "${data.sirsi_savings.this.this_month.accrued_savings} ${data.sirsi_savings.this.currency}"
}

output "saved_by_action_type_last_30_days" {
  value = data.sirsi_savings.this.last_30_days.by_action_type
}

output "annualized_run_rate" {
  value = "${data.sirsi_savings.this.annualized_run_rate} ${data.sirsi_savings.this.currency} a year"
}

output "rollback_rate" {
  value = data.sirsi_savings.this.actions_taken == 0 ? 0 : data.sirsi_savings.this.actions_rolled_back / data.sirsi_savings.this.actions_taken
}
