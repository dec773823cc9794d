# A read-only token for a CI pipeline that gates plans on cost.
resource "sirsi_api_token" "ci" {
  role        = "viewer"
  ttl         = "720h"
  description = "CI cost gate"
}

output "ci_token" {
  value     = sirsi_api_token.ci.token
  sensitive = true
}
