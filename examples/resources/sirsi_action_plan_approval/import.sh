# An approval is imported by "<tenant_id>/<plan_id>", or by the plan id
# alone when the provider has a tenant_id (SIRSI_TENANT_ID). Only an
# approved or executed plan can be imported.
terraform import sirsi_action_plan_approval.reviewed 7d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a
