# Action outcomes to the on-call tool, signed with a key Terraform keeps in
# state (protect the state accordingly): works with every Terraform version.
resource "sirsi_webhook" "oncall" {
  url         = "https://events.pagerduty.example/sirsi"
  event_types = ["action.failed", "action.rolled_back", "agent.stale"]
  description = "on-call: failures and silent agents"
  secret      = var.oncall_webhook_secret
}

variable "oncall_webhook_secret" {
  type      = string
  sensitive = true
}

# Terraform 1.11 and later: the key as a write-only argument, read from the
# secret store the receiver also reads, and never written to state or plan
# files. It is sent when the endpoint is created and again whenever
# secret_wo_version changes.
ephemeral "aws_secretsmanager_secret_version" "finops_webhook" {
  secret_id = "sirsi/finops-webhook-key"
}

# Every event type (no filter) to the FinOps data pipeline.
resource "sirsi_webhook" "finops" {
  url               = "https://ingest.finops.example/sirsi"
  secret_wo         = ephemeral.aws_secretsmanager_secret_version.finops_webhook.secret_string
  secret_wo_version = 1 # raise to rotate the key
}
