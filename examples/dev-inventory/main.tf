# What the agent of `agentd dev` discovered in the simulated account:
# inventory, costs and the agent itself, read from tenant dev with the
# SIRSI_* variables `agentd dev` prints.

terraform {
  required_version = ">= 1.5.0"
  required_providers {
    sirsi = {
      source = "sirsinexus/sirsi"
    }
  }
}

provider "sirsi" {}

locals {
  today   = formatdate("YYYY-MM-DD", timestamp())
  from    = formatdate("YYYY-MM-DD", timeadd(timestamp(), "-720h"))
  by_type = { for r in data.sirsi_resources.all.items : r.type => r... }
}

data "sirsi_resources" "all" {}

data "sirsi_agents" "all" {}

data "sirsi_cost_summary" "last_30_days" {
  start       = local.from
  end         = local.today
  granularity = "daily"
  group_by    = "service"
}

output "resource_count" {
  value = length(data.sirsi_resources.all.items)
}

output "resources_by_type" {
  value = { for t, rs in local.by_type : t => length(rs) }
}

output "agents" {
  value = [for a in data.sirsi_agents.all.agents : "${a.hostname} ${a.status} (version ${a.version})"]
}

output "cost_last_30_days" {
  value = "${format("%.2f", data.sirsi_cost_summary.last_30_days.total)} ${data.sirsi_cost_summary.last_30_days.currency}"
}

output "cost_by_service" {
  value = { for i in data.sirsi_cost_summary.last_30_days.items : i.key => format("%.2f", i.amount) }
}
