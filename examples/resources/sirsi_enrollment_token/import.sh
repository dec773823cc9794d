# An enrollment token is imported by "<tenant_id>/<id>", or by its id alone
# when the provider has a tenant_id. The secret is only returned at creation,
# so after an import `token` is null.
terraform import sirsi_enrollment_token.prod_agent ten_0123456789abcdef/enr_0123456789abcdef

# With Terraform 1.5 and later, an import block does the same during plan:
#
# import {
#   to = sirsi_enrollment_token.prod_agent
#   id = "ten_0123456789abcdef/enr_0123456789abcdef"
# }
