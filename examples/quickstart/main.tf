# SirsiNexus quickstart: a tenant of its own, an AWS account, an optimization
# policy, tokens, and every data source, against `agentd dev` (whose export
# lines set SIRSI_ENDPOINT, SIRSI_TOKEN, SIRSI_TENANT_ID, SIRSI_CA_CERT_FILE).
# README.md says how to run it by hand; `make demo` does all of it with a
# freshly built provider.

terraform {
  required_version = ">= 1.5.0"
  required_providers {
    sirsi = {
      source = "sirsinexus/sirsi"
    }
  }
}

# The operator: SIRSI_TOKEN from `agentd dev` is the operator (root) token.
# It is used only to create the tenant and bootstrap its first API token.
# Endpoint and CA come from the environment too.
provider "sirsi" {
  alias = "operator"
}

# Everything inside the tenant is managed with the tenant's own admin token.
# Its value is only known once the token exists, so Terraform configures this
# provider during apply; the data sources below name the tenant's id so they
# are read then too.
provider "sirsi" {
  token     = sirsi_api_token.admin.token
  tenant_id = sirsi_tenant.quickstart.id
}

variable "tenant_name" {
  description = "Name of the tenant the quickstart creates."
  type        = string
  default     = "quickstart"
}

variable "aws_account_id" {
  description = "AWS account the agent will optimize (the simulated account of agentd dev by default)."
  type        = string
  default     = "123456789012"
}

resource "sirsi_tenant" "quickstart" {
  provider     = sirsi.operator
  name         = var.tenant_name
  display_name = "Quickstart"
  tier         = "standard"
  labels = {
    purpose = "quickstart"
  }
}

resource "sirsi_api_token" "admin" {
  provider    = sirsi.operator
  tenant_id   = sirsi_tenant.quickstart.id
  role        = "admin"
  description = "Terraform quickstart administrator"
}

resource "sirsi_api_token" "ci_viewer" {
  tenant_id   = sirsi_tenant.quickstart.id
  role        = "viewer"
  ttl         = "720h"
  description = "Read-only token for a CI cost gate"
}

resource "sirsi_cloud_account" "sandbox" {
  tenant_id    = sirsi_tenant.quickstart.id
  cloud        = "aws"
  account_id   = var.aws_account_id
  regions      = ["us-east-1", "eu-west-1"]
  role_arn     = "arn:aws:iam::${var.aws_account_id}:role/SirsiNexusAgent"
  external_id  = "quickstart-external-id"
  display_name = "Sandbox"
}

resource "sirsi_enrollment_token" "sandbox_agent" {
  tenant_id        = sirsi_tenant.quickstart.id
  cloud_account_id = sirsi_cloud_account.sandbox.id
  ttl              = "24h"
  max_uses         = 1
}

resource "sirsi_optimization_policy" "weekend_rightsizing" {
  tenant_id      = sirsi_tenant.quickstart.id
  name           = "weekend-rightsizing"
  description    = "Right-size over-provisioned dev instances and stop idle ones on Saturday nights"
  mode           = "approve"
  resource_types = ["aws_ec2_instance", "aws_ebs_volume", "aws_rds_instance"]

  selector = {
    account_ids  = [var.aws_account_id]
    exclude_tags = { keep = "*" }
  }

  rightsizing = {
    statistic        = "p95"
    lookback_days    = 14
    headroom_percent = 20
  }

  idle = {
    cpu_below_percent = 2
    action            = "recommend"
  }

  offhours = {
    stop_cron  = "0 20 * * 1-5"
    start_cron = "0 7 * * 1-5"
    timezone   = "Europe/Berlin"
  }

  schedule            = "0 2 * * 6"
  timezone            = "Europe/Berlin"
  max_actions_per_run = 5
}

locals {
  today           = formatdate("YYYY-MM-DD", plantimestamp())
  tomorrow        = formatdate("YYYY-MM-DD", timeadd(plantimestamp(), "24h"))
  thirty_days_ago = formatdate("YYYY-MM-DD", timeadd(plantimestamp(), "-720h"))
}

data "sirsi_tenant" "quickstart" {
  provider = sirsi.operator
  name     = sirsi_tenant.quickstart.name
}

data "sirsi_agents" "all" {
  tenant_id = sirsi_tenant.quickstart.id
}

data "sirsi_cost_summary" "last_30_days" {
  tenant_id   = sirsi_tenant.quickstart.id
  start       = local.thirty_days_ago
  end         = local.tomorrow
  granularity = "daily"
  group_by    = "service"
}

data "sirsi_resources" "instances" {
  tenant_id = sirsi_tenant.quickstart.id
  type      = "aws_ec2_instance"
}

data "sirsi_recommendations" "open" {
  tenant_id = sirsi_tenant.quickstart.id
  policy_id = sirsi_optimization_policy.weekend_rightsizing.id
  status    = "open"
}

data "sirsi_savings" "ledger" {
  tenant_id = sirsi_tenant.quickstart.id
}

output "tenant" {
  value = "${data.sirsi_tenant.quickstart.name} (${data.sirsi_tenant.quickstart.id}, created ${data.sirsi_tenant.quickstart.created_at})"
}

output "policy" {
  value = "${sirsi_optimization_policy.weekend_rightsizing.name} (${sirsi_optimization_policy.weekend_rightsizing.id}, version ${sirsi_optimization_policy.weekend_rightsizing.version})"
}

output "cloud_account_status" {
  value = sirsi_cloud_account.sandbox.status
}

output "agents" {
  value = length(data.sirsi_agents.all.agents)
}

# total is null (unknown) until the agent has reported costs, never 0.
output "cost_last_30_days" {
  value = data.sirsi_cost_summary.last_30_days.total == null ? "no cost data yet" : "${data.sirsi_cost_summary.last_30_days.total} ${data.sirsi_cost_summary.last_30_days.currency}"
}

output "cost_forecast_month_end" {
  value = data.sirsi_cost_summary.last_30_days.forecast_month_end
}

output "resources" {
  value = length(data.sirsi_resources.instances.items)
}

output "recommended_monthly_savings" {
  value = data.sirsi_recommendations.open.total_monthly_savings
}

# Accrued from the savings ledger: hours each change has been in effect x
# its hourly saving.
output "savings_accrued_to_date" {
  value = data.sirsi_savings.ledger.to_date.accrued_savings
}

# What the changes in effect now save in a month (730 hours).
output "savings_monthly_run_rate" {
  value = data.sirsi_savings.ledger.monthly_run_rate
}

output "enrollment_token" {
  description = "Give it to the agent: agentd agent -enroll-token=..."
  value       = sirsi_enrollment_token.sandbox_agent.token
  sensitive   = true
}

output "ci_viewer_token" {
  value     = sirsi_api_token.ci_viewer.token
  sensitive = true
}
