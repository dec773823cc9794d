# Recommend only, with every default: right-sizing at p95 over 14 days with
# 20% headroom, at most 5 actions per run, verify for 10 minutes and roll back
# on failure.
resource "sirsi_optimization_policy" "recommend" {
  name           = "recommend-everything"
  resource_types = ["aws_ec2_instance", "aws_ebs_volume", "aws_rds_instance"]
}

# Right-size and stop idle development instances automatically on Saturday
# nights, never touching anything tagged keep=*.
resource "sirsi_optimization_policy" "dev_nightly" {
  name           = "dev-nightly"
  description    = "Right-size and stop idle dev instances on weekends"
  mode           = "auto"
  resource_types = ["aws_ec2_instance", "aws_ebs_volume"]

  selector = {
    account_ids  = ["123456789012"]
    regions      = ["eu-west-1", "eu-central-1"]
    tags         = { env = "dev" }
    exclude_tags = { keep = "*" }
  }

  rightsizing = {
    statistic           = "p99"
    lookback_days       = 30
    headroom_percent    = 25
    allowed_families    = ["m6i", "t3"]
    min_monthly_savings = 10
  }

  idle = {
    cpu_below_percent = 2
    lookback_days     = 7
    action            = "stop"
  }

  offhours = {
    stop_cron  = "0 19 * * 1-5"
    start_cron = "0 7 * * 1-5"
    timezone   = "Europe/Berlin"
    skip_dates = ["2026-12-24", "2026-12-31"]
  }

  schedule            = "0 2 * * 6"
  timezone            = "Europe/Berlin"
  max_actions_per_run = 10

  verify = {
    wait_minutes        = 15
    rollback_on_failure = true
  }

  # Savings Plans and RDS reserved-instance suggestions from Cost Explorer
  # for a 3-year term, half paid upfront.
  commitments = {
    savings_plans_type = "compute"
    term               = "three_years"
    payment_option     = "partial_upfront"
  }
}

# Adopting an existing policy with Terraform 1.5 and later: an import block
# ("<tenant_id>/<policy_id>") imports it during plan.
#
# import {
#   to = sirsi_optimization_policy.dev_nightly
#   id = "0193a4e2-6c1f-7b3a-9e2d-5f8c1a2b3c4d/0193a4e5-1d2e-7f40-8a9b-0c1d2e3f4a5b"
# }
