data "sirsi_agents" "prod" {
  # tenant_id defaults to the provider's tenant_id.
  cloud_account_id = sirsi_cloud_account.prod.id
}

# Fail the run when an agent of the account has gone quiet.
check "prod_agents_connected" {
  assert {
    condition     = alltrue([for a in data.sirsi_agents.prod.agents : a.status == "connected"])
    error_message = "An agent of the prod account is not connected."
  }
}

output "prod_agent_versions" {
  value = { for a in data.sirsi_agents.prod.agents : a.hostname => a.version }
}
