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
  # Each plan reads every policy once: 500 reads in a few seconds is far
  # above the default budget of 100 calls a minute per token, and a
  # throttled plan would measure the back-off, not the provider.
  rate_limit_per_minute = 100000
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
