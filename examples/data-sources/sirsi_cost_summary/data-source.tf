# Last month's spend per service, with a daily breakdown.
data "sirsi_cost_summary" "last_month" {
  start       = "2026-10-01"
  end         = "2026-11-01"
  granularity = "daily"
  group_by    = "service"
}

# total is null when there are no cost records in the period.
output "spend_last_month" {
  value = data.sirsi_cost_summary.last_month.total == null ? "no cost data" : "${data.sirsi_cost_summary.last_month.total} ${data.sirsi_cost_summary.last_month.currency}"
}

output "top_service" {
  value = try(data.sirsi_cost_summary.last_month.items[0].key, "none")
}

# Fail the plan (as a warning in a check block) when this month is forecast
# to overshoot the budget. Without recent cost data there is no forecast
# (null), which passes.
check "monthly_budget" {
  assert {
    condition     = coalesce(data.sirsi_cost_summary.last_month.forecast_month_end, 0) <= 5000
    error_message = "This month is forecast at ${data.sirsi_cost_summary.last_month.forecast_month_end}, above the 5000 budget."
  }
}
