resource "sirsi_cloud_account" "prod" {
  # tenant_id defaults to the provider's tenant_id.
  account_id   = "123456789012"
  regions      = ["us-east-1", "eu-west-1"]
  role_arn     = "arn:aws:iam::123456789012:role/sirsi-agent"
  external_id  = var.sirsi_external_id
  display_name = "Production"
}

variable "sirsi_external_id" {
  type      = string
  sensitive = true
}

output "prod_account_status" {
  # pending until the agent reports, then connected (or stale).
  value = sirsi_cloud_account.prod.status
}
