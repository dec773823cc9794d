package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

func TestApiTokenResourceSchema(t *testing.T) {
	checkResourceSchema(t, NewApiTokenResource())
}

func TestApiTokenFromAPI(t *testing.T) {
	m := apiTokenModel{Token: types.StringValue("secret"), TTL: types.StringNull(), Description: types.StringNull()}
	m.fromAPI(&sirsiv1.ApiToken{Id: "tok-1", TenantId: "ten-1", Role: sirsiv1.Role_ROLE_VIEWER})
	if m.Role.ValueString() != "viewer" || !m.TTL.IsNull() || !m.ExpiresAt.IsNull() || !m.Description.IsNull() || m.Token.ValueString() != "secret" {
		t.Errorf("never-expiring token: %+v", m)
	}
	m.fromAPI(&sirsiv1.ApiToken{Id: "tok-1", TenantId: "ten-1", Role: sirsiv1.Role_ROLE_ADMIN, Ttl: durationpb.New(720 * time.Hour), Description: "ci"})
	if m.TTL.ValueString() != "720h" || m.Description.ValueString() != "ci" || m.Role.ValueString() != "admin" {
		t.Errorf("expiring token: %+v", m)
	}
}

func TestParseRole(t *testing.T) {
	var diags diag.Diagnostics
	if got := parseRole(types.StringValue("editor"), &diags); got != sirsiv1.Role_ROLE_EDITOR || diags.HasError() {
		t.Errorf("parseRole(editor) = %v, %v", got, diags)
	}
	if parseRole(types.StringValue("root"), &diags); !diags.HasError() {
		t.Error("parseRole(root) gave no error")
	}
	if got := enumNames(sirsiv1.Role(0)); len(got) != 3 || got[0] != "admin" || got[2] != "viewer" {
		t.Errorf("role names = %v", got)
	}
}

func apiTokenConfig(env *accEnv, role, description string) string {
	return env.tenantProvider() + fmt.Sprintf(`
resource "sirsi_api_token" "t" {
  role        = %q
  ttl         = "720h"
  description = %q
}
`, role, description)
}

func TestAccApiToken_lifecycle(t *testing.T) {
	env := testAccStart(t)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkDestroyed("sirsi_api_token", env.getAPIToken),
		Steps: []tfresource.TestStep{
			{
				Config: apiTokenConfig(env, "viewer", "CI cost gate"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_api_token.t", tfjsonpath.New("role"), knownvalue.StringExact("viewer")),
					statecheck.ExpectKnownValue("sirsi_api_token.t", tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
					statecheck.ExpectKnownValue("sirsi_api_token.t", tfjsonpath.New("expires_at"), rfc3339Check{}),
					statecheck.ExpectSensitiveValue("sirsi_api_token.t", tfjsonpath.New("token")),
				},
				// The secret in state is a working token of the right role.
				Check: env.checkTokenRole("sirsi_api_token.t", sirsiv1.Role_ROLE_VIEWER),
			},
			{
				ResourceName:            "sirsi_api_token.t",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"token"},
			},
			{
				Config: apiTokenConfig(env, "viewer", "CI cost gate (prod)"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_api_token.t", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_api_token.t", tfjsonpath.New("description"), knownvalue.StringExact("CI cost gate (prod)")),
					// The secret survives an in-place update.
					statecheck.ExpectKnownValue("sirsi_api_token.t", tfjsonpath.New("token"), knownvalue.NotNull()),
				},
				Check: env.checkTokenRole("sirsi_api_token.t", sirsiv1.Role_ROLE_VIEWER),
			},
			{
				Config: apiTokenConfig(env, "editor", "CI cost gate (prod)"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_api_token.t", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: env.checkTokenRole("sirsi_api_token.t", sirsiv1.Role_ROLE_EDITOR),
			},
		},
	})
}

func TestAccApiToken_outOfBandDelete(t *testing.T) {
	env := testAccStart(t)
	config := apiTokenConfig(env, "viewer", "revoked by hand")
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkDestroyed("sirsi_api_token", env.getAPIToken),
		Steps: []tfresource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					id := env.apiTokenIDByDescription(t, "revoked by hand")
					if _, err := env.admin.DeleteApiToken(context.Background(), &sirsiv1.DeleteApiTokenRequest{TenantId: env.tenantID, Id: id}); err != nil {
						t.Fatalf("revoking the API token out of band: %v", err)
					}
				},
				Config: config,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_api_token.t", plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

func TestAccApiToken_invalid(t *testing.T) {
	env := testAccStart(t)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{Config: apiTokenConfig(env, "owner", "x"), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)role.*value must be one of`)},
			{Config: env.tenantProvider() + `
resource "sirsi_api_token" "t" {
  role = "viewer"
  ttl  = "9000h"
}
`, PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)ttl.*outside 1m..8760h`)},
		},
	})
}
