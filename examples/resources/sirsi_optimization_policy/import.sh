# A policy is imported by "<tenant_id>/<policy_id>", or by its id alone when
# the provider has a tenant_id (SIRSI_TENANT_ID).
terraform import sirsi_optimization_policy.dev_nightly 0193a4e2-6c1f-7b3a-9e2d-5f8c1a2b3c4d/0193a4e5-1d2e-7f40-8a9b-0c1d2e3f4a5b

