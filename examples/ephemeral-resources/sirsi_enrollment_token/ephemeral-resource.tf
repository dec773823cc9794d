# Terraform 1.11 and later. An enrollment token the agent reads from
# Secrets Manager when it starts; it never enters state or a saved plan.
# It stays valid after the run (revoke_on_close defaults to false) until
# one agent has enrolled with it or its ttl runs out.
ephemeral "sirsi_enrollment_token" "agent" {
  cloud_account_id = sirsi_cloud_account.prod.id
  ttl              = "2h"
}

resource "aws_secretsmanager_secret_version" "agent_enrollment" {
  secret_id                = aws_secretsmanager_secret.agent_enrollment.id
  secret_string_wo         = ephemeral.sirsi_enrollment_token.agent.token
  secret_string_wo_version = 1 # raise to hand the agent a new token
}
