# Managing tenants needs the operator token.
resource "sirsi_tenant" "acme" {
  name         = "acme"
  display_name = "Acme Corp"
  tier         = "enterprise"
  labels = {
    cost-center = "cc-1234"
    owner       = "platform"
  }

  # Cost anomalies are POSTed here, signed with the secret; the section
  # above says how a receiver verifies them.
  webhook_url    = "https://hooks.acme.example/sirsi/cost-anomalies"
  webhook_secret = var.acme_webhook_secret
}

variable "acme_webhook_secret" {
  type      = string
  sensitive = true
}

# Terraform 1.11 and later: the key as a write-only argument, read from the
# secret store the receiver also reads, and kept out of state and plan
# files. It is sent when the tenant is created and again whenever
# webhook_secret_wo_version changes.
ephemeral "aws_secretsmanager_secret_version" "globex_webhook" {
  secret_id = "sirsi/globex-webhook-key"
}

resource "sirsi_tenant" "globex" {
  name                      = "globex"
  webhook_url               = "https://hooks.globex.example/sirsi"
  webhook_secret_wo         = ephemeral.aws_secretsmanager_secret_version.globex_webhook.secret_string
  webhook_secret_wo_version = 1 # raise to rotate the key
}

output "acme_tenant_id" {
  value = sirsi_tenant.acme.id
}
