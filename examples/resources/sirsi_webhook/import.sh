# A webhook endpoint is imported by "<tenant_id>/<id>", or by its id alone
# when the provider has a tenant_id. Its secret is never returned: the next
# apply sends the configured secret (or secret_wo).
terraform import sirsi_webhook.oncall ten_0123456789abcdef/0123456789abcdef

# With Terraform 1.5 and later, an import block does the same during plan:
#
# import {
#   to = sirsi_webhook.oncall
#   id = "ten_0123456789abcdef/0123456789abcdef"
# }
