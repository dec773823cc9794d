variable "weekly_limit" {
  type = number
}

data "sirsi_cost_summary" "last_7_days" {
  start = formatdate("YYYY-MM-DD", timeadd(plantimestamp(), "-168h"))
  end   = formatdate("YYYY-MM-DD", plantimestamp())
}

output "weekly_spend" {
  value = data.sirsi_cost_summary.last_7_days.total

  precondition {
    condition     = data.sirsi_cost_summary.last_7_days.total <= var.weekly_limit
    error_message = "Spend over the last 7 days (${data.sirsi_cost_summary.last_7_days.total}) is above ${var.weekly_limit}."
  }
}
