# By name...
data "sirsi_tenant" "acme" {
  name = "acme"
}

# ...or by id (exactly one of the two).
data "sirsi_tenant" "by_id" {
  id = data.sirsi_tenant.acme.id
}

output "acme_tier" {
  value = data.sirsi_tenant.acme.tier
}
