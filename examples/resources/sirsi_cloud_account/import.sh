# A cloud account is imported by "<tenant_id>/<id>", or by its id alone when
# the provider has a tenant_id (SIRSI_TENANT_ID).
terraform import sirsi_cloud_account.prod ten_0123456789abcdef/acc_0123456789abcdef

# With Terraform 1.5 and later, an import block does the same during plan:
#
# import {
#   to = sirsi_cloud_account.prod
#   id = "ten_0123456789abcdef/acc_0123456789abcdef"
# }
