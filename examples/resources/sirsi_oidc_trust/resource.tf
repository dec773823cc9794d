# HCP Terraform: runs of the "prod-*" workspaces of the "acme" organisation
# may change what the tenant optimizes. Set TFC_WORKLOAD_IDENTITY_AUDIENCE
# (or a tagged TFC_WORKLOAD_IDENTITY_AUDIENCE_<TAG>) to the same audience in
# those workspaces; the provider picks TFC_WORKLOAD_IDENTITY_TOKEN up itself.
resource "sirsi_oidc_trust" "hcp_terraform" {
  name     = "hcp-terraform-prod"
  issuer   = "https://app.terraform.io"
  audience = "sirsi.example.com"
  bound_claims = {
    terraform_organization_name = "acme"
    terraform_workspace_name    = "prod-*"
    terraform_run_phase         = "*"
  }
  role          = "editor"
  subject_claim = "terraform_full_workspace"
}

# GitHub Actions: the main branch of acme/infra may read costs and
# recommendations (a plan-time cost gate). The workflow requests an ID token
# for this audience (permissions: id-token: write) and exports it as
# SIRSI_OIDC_TOKEN.
resource "sirsi_oidc_trust" "github_actions" {
  name     = "github-infra-main"
  issuer   = "https://token.actions.githubusercontent.com"
  audience = "sirsi.example.com"
  bound_claims = {
    repository = "acme/infra"
    ref        = "refs/heads/main"
  }
  role          = "viewer"
  max_token_age = "15m"
}

# A generic OpenID Connect identity provider (Keycloak, Okta, Entra ID,
# Dex...): tokens its "sirsi" client is issued for members of the
# platform-admins group. The bound claim must be a string claim of the token.
resource "sirsi_oidc_trust" "idp" {
  name     = "idp-platform-admins"
  issuer   = "https://login.example.com/realms/acme"
  audience = "sirsi"
  bound_claims = {
    platform_role = "platform-admin"
  }
  role          = "admin"
  subject_claim = "email"
  max_token_age = "1h"
}
