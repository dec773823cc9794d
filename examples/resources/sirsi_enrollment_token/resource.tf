# A token the agent in the prod account enrolls with. Once it expires, the
# next plan replaces it, so `terraform apply` always leaves a usable one.
resource "sirsi_enrollment_token" "prod_agent" {
  cloud_account_id = sirsi_cloud_account.prod.id
  ttl              = "24h"
  max_uses         = 1
}

# Hand the secret to whatever starts the agent, e.g. an SSM parameter.
output "prod_agent_enrollment_token" {
  value     = sirsi_enrollment_token.prod_agent.token
  sensitive = true
}
