# Managing tenants needs the operator token.
resource "sirsi_tenant" "acme" {
  name         = "acme"
  display_name = "Acme Corp"
  tier         = "enterprise"
  labels = {
    cost-center = "cc-1234"
    owner       = "platform"
  }
}

# The tenant's events go to sirsi_webhook endpoints; webhook_url and
# webhook_secret here are deprecated.

output "acme_tenant_id" {
  value = sirsi_tenant.acme.id
}
