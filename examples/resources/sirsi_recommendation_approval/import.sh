# An approval is imported by "<tenant_id>/<recommendation_id>", or by the
# recommendation id alone when the provider has a tenant_id
# (SIRSI_TENANT_ID). Only an approved or executed recommendation can be
# imported.
terraform import 'sirsi_recommendation_approval.worth_it["i-0123456789abcdef0"]' 0193a4f1-2b3c-7d4e-8f5a-6b7c8d9e0f1a
