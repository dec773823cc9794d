terraform {
  required_providers {
    sirsi = {
      source = "sirsinexus/sirsi"
    }
  }
}

# Every attribute can come from the environment instead (SIRSI_ENDPOINT,
# SIRSI_TOKEN, SIRSI_CA_CERT_PEM, SIRSI_CA_CERT_FILE, SIRSI_INSECURE_SKIP_VERIFY,
# SIRSI_TENANT_ID), which is how Terraform Cloud workspaces set it:
# `eval "$(agentd dev)"` prints exactly those exports.
provider "sirsi" {
  endpoint     = "https://sirsi.example.com:8443"
  token        = var.sirsi_token
  ca_cert_file = "/etc/sirsi/ca.pem"
  tenant_id    = "ten_0123456789abcdef"
}

variable "sirsi_token" {
  type      = string
  sensitive = true
}
