# What the agents did this year and what it saves every month.
data "sirsi_savings" "this_year" {
  start = "2026-01-01"
}

output "realized_monthly_savings" {
  value = "${data.sirsi_savings.this_year.realized_monthly_savings} ${data.sirsi_savings.this_year.currency}"
}

output "rollback_rate" {
  value = data.sirsi_savings.this_year.actions_taken == 0 ? 0 : data.sirsi_savings.this_year.actions_rolled_back / data.sirsi_savings.this_year.actions_taken
}
