package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

func TestOIDCTrustResourceSchema(t *testing.T) {
	checkResourceSchema(t, NewOIDCTrustResource())
}

func (e *accEnv) getOIDCTrust(ctx context.Context, id string) error {
	_, err := e.admin.GetOidcTrust(ctx, &sirsiv1.GetOidcTrustRequest{TenantId: e.tenantID, Id: id})
	return err
}

func oidcTrustConfig(env *accEnv, role, workspace, extra string) string {
	return env.tenantProvider() + fmt.Sprintf(`
resource "sirsi_oidc_trust" "hcp" {
  name     = "hcp-terraform"
  issuer   = "https://app.terraform.io"
  audience = "sirsi.example.com"
  bound_claims = {
    terraform_organization_name = "acme"
    terraform_workspace_name    = %q
  }
  role = %q
%s}
`, workspace, role, extra)
}

func TestAccOIDCTrust_lifecycle(t *testing.T) {
	env := testAccStart(t)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkDestroyed("sirsi_oidc_trust", env.getOIDCTrust),
		Steps: []tfresource.TestStep{
			{
				Config: oidcTrustConfig(env, "editor", "prod-*", ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_oidc_trust.hcp", tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
					statecheck.ExpectKnownValue("sirsi_oidc_trust.hcp", tfjsonpath.New("subject_claim"), knownvalue.StringExact("sub")),
					statecheck.ExpectKnownValue("sirsi_oidc_trust.hcp", tfjsonpath.New("max_token_age"), knownvalue.StringExact("2h")),
					statecheck.ExpectKnownValue("sirsi_oidc_trust.hcp", tfjsonpath.New("bound_claims"), knownvalue.MapExact(map[string]knownvalue.Check{
						"terraform_organization_name": knownvalue.StringExact("acme"),
						"terraform_workspace_name":    knownvalue.StringExact("prod-*"),
					})),
				},
				Check: env.checkOIDCTrustStored("hcp-terraform", sirsiv1.Role_ROLE_EDITOR, "prod-*"),
			},
			{
				ResourceName:      "sirsi_oidc_trust.hcp",
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: env.tenantScopedImportID("sirsi_oidc_trust.hcp"),
			},
			{
				Config: oidcTrustConfig(env, "viewer", "staging-*", "  max_token_age = \"30m\"\n  subject_claim = \"terraform_run_id\"\n"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_oidc_trust.hcp", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_oidc_trust.hcp", tfjsonpath.New("max_token_age"), knownvalue.StringExact("30m")),
				},
				Check: env.checkOIDCTrustStored("hcp-terraform", sirsiv1.Role_ROLE_VIEWER, "staging-*"),
			},
		},
	})
}

// checkOIDCTrustStored reads the trust back through the API, so the
// test compares what the control plane holds, not what Terraform wrote.
func (e *accEnv) checkOIDCTrustStored(name string, role sirsiv1.Role, workspace string) tfresource.TestCheckFunc {
	return func(*terraform.State) error {
		out, err := e.admin.ListOidcTrusts(context.Background(), &sirsiv1.ListOidcTrustsRequest{TenantId: e.tenantID})
		if err != nil {
			return err
		}
		for _, o := range out.OidcTrusts {
			if o.Name != name {
				continue
			}
			if o.Role != role || o.BoundClaims["terraform_workspace_name"] != workspace || o.Issuer != "https://app.terraform.io" {
				return fmt.Errorf("stored trust %s: role %v, bound claims %v, issuer %s", name, o.Role, o.BoundClaims, o.Issuer)
			}
			return nil
		}
		return fmt.Errorf("no trust named %s in tenant %s", name, e.tenantID)
	}
}

func TestAccOIDCTrust_invalidConfig(t *testing.T) {
	env := testAccStart(t)
	cases := map[string]struct {
		issuer, claims, extra string
		want                  string
	}{
		"plain http":      {"http://idp.example.com", `{ sub = "x" }`, "", `must use https`},
		"no bound claims": {"https://app.terraform.io", `{}`, "", `needs at least one claim`},
		"bound iss":       {"https://app.terraform.io", `{ iss = "x" }`, "", `checked by the verifier`},
		"age ceiling":     {"https://app.terraform.io", `{ sub = "x" }`, `max_token_age = "13h"`, `outside 1m..12h`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tfresource.Test(t, tfresource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []tfresource.TestStep{{
					Config: env.tenantProvider() + fmt.Sprintf(`
resource "sirsi_oidc_trust" "bad" {
  name         = "bad"
  issuer       = %q
  audience     = "sirsi"
  bound_claims = %s
  role         = "viewer"
  %s
}
`, c.issuer, c.claims, c.extra),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(c.want),
				}},
			})
		})
	}
}
