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

output "acme_tenant_id" {
  value = sirsi_tenant.acme.id
}
