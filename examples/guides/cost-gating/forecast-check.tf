variable "monthly_budget" {
  type    = number
  default = 5000
}

locals {
  month_start = formatdate("YYYY-MM-01", plantimestamp())
  tomorrow    = formatdate("YYYY-MM-DD", timeadd(plantimestamp(), "24h"))
}

data "sirsi_cost_summary" "this_month" {
  start    = local.month_start
  end      = local.tomorrow
  group_by = "service"
}

check "monthly_budget" {
  assert {
    condition = data.sirsi_cost_summary.this_month.forecast_month_end <= var.monthly_budget
    error_message = format(
      "This month is forecast at %.2f %s, above the budget of %.2f. Largest service: %s.",
      data.sirsi_cost_summary.this_month.forecast_month_end,
      data.sirsi_cost_summary.this_month.currency,
      var.monthly_budget,
      try(data.sirsi_cost_summary.this_month.items[0].key, "none"),
    )
  }
}
