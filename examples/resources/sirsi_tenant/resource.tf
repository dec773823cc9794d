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

output "acme_tenant_id" {
  value = sirsi_tenant.acme.id
}
