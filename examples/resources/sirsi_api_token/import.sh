# An API token is imported by "<tenant_id>/<id>", or by its id alone when the
# provider has a tenant_id. The secret is only returned at creation, so after
# an import `token` is null.
terraform import sirsi_api_token.ci ten_0123456789abcdef/tok_0123456789abcdef

# With Terraform 1.5 and later, an import block does the same during plan:
#
# import {
#   to = sirsi_api_token.ci
#   id = "ten_0123456789abcdef/tok_0123456789abcdef"
# }
