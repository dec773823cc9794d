# Bench setup: a tenant and its admin token, made with the operator token of
# agentd dev (policies live inside a tenant, which the operator cannot touch).
terraform {
  required_providers {
    sirsi = {
      source = "sirsinexus/sirsi"
    }
  }
}

resource "sirsi_tenant" "bench" {
  name         = "bench-provider"
  display_name = "Provider benchmark"
}

resource "sirsi_api_token" "admin" {
  tenant_id   = sirsi_tenant.bench.id
  role        = "admin"
  description = "scripts/bench-provider.sh"
}

output "tenant_id" {
  value = sirsi_tenant.bench.id
}

output "token" {
  value     = sirsi_api_token.admin.token
  sensitive = true
}
