variable "web_max_size" {
  type = number
}

data "sirsi_recommendations" "open" {
  status              = "open"
  min_monthly_savings = 5
}

resource "aws_autoscaling_group" "web" {
  # ...
  max_size = var.web_max_size

  lifecycle {
    precondition {
      condition     = data.sirsi_recommendations.open.total_monthly_savings <= 500
      error_message = "Open recommendations would save ${data.sirsi_recommendations.open.total_monthly_savings} a month (${length(data.sirsi_recommendations.open.items)} items). Apply or dismiss them before raising capacity."
    }
  }
}
