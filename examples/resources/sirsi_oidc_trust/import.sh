# An OIDC trust is imported by "<tenant_id>/<id>", or by its id alone when the
# provider has a tenant_id.
terraform import sirsi_oidc_trust.hcp_terraform ten_0123456789abcdef/0123456789abcdef

# With Terraform 1.5 and later, an import block does the same during plan:
#
# import {
#   to = sirsi_oidc_trust.hcp_terraform
#   id = "ten_0123456789abcdef/0123456789abcdef"
# }
