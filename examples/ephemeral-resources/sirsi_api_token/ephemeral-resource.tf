# Terraform 1.10 and later. A viewer token for this run only: it configures
# a second provider and is revoked when the run ends. Neither state nor a
# saved plan holds it.
ephemeral "sirsi_api_token" "run" {
  role = "viewer"
  ttl  = "30m"
}

provider "sirsi" {
  alias = "readonly"
  token = ephemeral.sirsi_api_token.run.token
}

data "sirsi_cost_summary" "this_month" {
  provider = sirsi.readonly
  start    = formatdate("YYYY-MM-01", plantimestamp())
  end      = formatdate("YYYY-MM-DD", timeadd(plantimestamp(), "24h"))
}

# A token that outlives the run, handed to a pipeline through a secret
# store's write-only argument (Terraform 1.11), never through state.
ephemeral "sirsi_api_token" "pipeline" {
  role            = "editor"
  ttl             = "24h"
  description     = "nightly cost pipeline"
  revoke_on_close = false
}

resource "aws_secretsmanager_secret_version" "pipeline_token" {
  secret_id                = aws_secretsmanager_secret.pipeline_token.id
  secret_string_wo         = ephemeral.sirsi_api_token.pipeline.token
  secret_string_wo_version = 1 # raise to store a new token
}
