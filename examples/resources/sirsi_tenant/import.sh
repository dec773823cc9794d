# A tenant is imported by its id or by its name.
terraform import sirsi_tenant.acme ten_0123456789abcdef
terraform import sirsi_tenant.acme acme

# With Terraform 1.5 and later, an import block does the same during plan:
#
# import {
#   to = sirsi_tenant.acme
#   id = "acme"
# }
