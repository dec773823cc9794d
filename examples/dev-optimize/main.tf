# Let the agent of `agentd dev` optimise the simulated account: an auto
# policy whose window is open every minute right-sizes over-provisioned
# instances, migrates gp2 volumes and reports the rest as recommendations.
# Read from tenant dev with the SIRSI_* variables `agentd dev` prints.

terraform {
  required_version = ">= 1.5.0"
  required_providers {
    sirsi = {
      source = "sirsinexus/sirsi"
    }
  }
}

provider "sirsi" {}

resource "sirsi_optimization_policy" "demo" {
  name           = "demo-auto"
  description    = "Right-size the simulated fleet now (demo settings)"
  mode           = "auto"
  resource_types = ["aws_ec2_instance", "aws_ebs_volume", "aws_eip", "aws_rds_instance", "aws_lambda_function"]

  selector = {
    exclude_tags = { team = "payments" }
  }

  rightsizing = {
    statistic           = "max"
    lookback_days       = 14
    headroom_percent    = 20
    min_monthly_savings = 1
  }

  # Every minute, so the demo does not wait for a night; a real policy
  # names its maintenance window.
  schedule            = "* * * * *"
  timezone            = "UTC"
  max_actions_per_run = 10

  # The simulator's CPU after a resize is not worth ten minutes of the
  # demo; production keeps the default verification.
  verify = {
    wait_minutes = 0
  }
}

data "sirsi_recommendations" "open" {
  policy_id = sirsi_optimization_policy.demo.id
  status    = "open"
}

data "sirsi_recommendations" "executed" {
  policy_id = sirsi_optimization_policy.demo.id
  status    = "executed"
}

data "sirsi_savings" "all" {
  depends_on = [sirsi_optimization_policy.demo]
}

output "open_recommendations" {
  value = [
    for r in data.sirsi_recommendations.open.items :
    "${r.resource_type} ${r.resource_id}: ${r.action} ${r.current_size} -> ${r.proposed_size} saves ${format("%.2f", r.estimated_monthly_savings)}/month"
  ]
}

output "open_recommended_monthly_savings" {
  value = format("%.2f", data.sirsi_recommendations.open.total_monthly_savings)
}

output "executed" {
  value = [
    for r in data.sirsi_recommendations.executed.items :
    "${r.resource_id}: ${r.action} ${r.current_size} -> ${r.proposed_size}"
  ]
}

output "actions_succeeded" {
  value = data.sirsi_savings.all.actions_succeeded
}

output "actions_rolled_back" {
  value = data.sirsi_savings.all.actions_rolled_back
}

# The savings ledger: accrued so far (hours in effect x hourly saving; the
# resizes ran minutes ago, so this is small) and what the changes in effect
# now save per month and per year.
output "savings_accrued_to_date" {
  value = format("%.2f", data.sirsi_savings.all.to_date.accrued_savings)
}

output "savings_monthly_run_rate" {
  value = format("%.2f", data.sirsi_savings.all.monthly_run_rate)
}

output "savings_annualized_run_rate" {
  value = format("%.2f", data.sirsi_savings.all.annualized_run_rate)
}
