package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/oidcverify"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/oidcverify/oidctest"
)

func TestConfigureOIDCTokenSources(t *testing.T) {
	clearSirsiEnv(t)
	t.Setenv(envEndpoint, "127.0.0.1:1")
	resp := configure(t, New("test")().(*sirsiProvider), nil)
	d := resp.Diagnostics.Errors()[0].Detail()
	for _, want := range []string{envToken, envOIDCToken, envTFCToken, "oidc_token"} {
		if !strings.Contains(d, want) {
			t.Errorf("the missing-credential error does not name %s: %s", want, d)
		}
	}
	t.Setenv(envToken, "sxt_x")
	t.Setenv(envTFCToken, "eyJ.x.y")
	resp = configure(t, New("test")().(*sirsiProvider), nil)
	if resp.Diagnostics.ErrorsCount() != 1 || !strings.Contains(resp.Diagnostics.Errors()[0].Detail(), envToken+" and "+envTFCToken) {
		t.Fatalf("token and workload identity token both in the environment: %v", resp.Diagnostics)
	}
	// SIRSI_OIDC_TOKEN comes before TFC_WORKLOAD_IDENTITY_TOKEN.
	t.Setenv(envToken, "")
	t.Setenv(envOIDCToken, "eyJ.from.sirsi")
	tok, from, err := bearerSetting(providerModel{})
	if err != nil || tok != "eyJ.from.sirsi" || from != envOIDCToken {
		t.Fatalf("bearerSetting = %q from %q, %v", tok, from, err)
	}
}

// workspaceToken is an HCP Terraform workload identity token of a run of
// workspace in organisation acme, issued at the control plane's now.
func (e *accEnv) workspaceToken(t *testing.T, is *oidctest.Issuer, workspace string) string {
	now := e.cp.Clock.Now()
	return is.Token(t, map[string]any{
		"aud": "sirsi.test", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"sub":                         "organization:acme:project:default:workspace:" + workspace + ":run_phase:apply",
		"terraform_organization_name": "acme", "terraform_workspace_name": workspace,
	})
}

func oidcAccountConfig(displayName string) string {
	return fmt.Sprintf(`
provider "sirsi" {}

resource "sirsi_cloud_account" "a" {
  account_id   = "444455556666"
  regions      = ["us-east-1"]
  role_arn     = "arn:aws:iam::444455556666:role/SirsiAgent"
  display_name = %q
}

data "sirsi_agents" "all" {}
`, displayName)
}

// TestAccProvider_workloadIdentity: Terraform with only
// TFC_WORKLOAD_IDENTITY_TOKEN (and the endpoint) set reads and writes in
// the trust's tenant with the trust's role; the issuer rotates its key
// mid-test; a viewer trust cannot write; a token of another workspace is
// refused; another tenant cannot be reached.
func TestAccProvider_workloadIdentity(t *testing.T) {
	env := testAccStart(t)
	is := oidctest.Start(t)
	ctx := context.Background()
	for name, c := range map[string]struct {
		workspaces string
		role       sirsiv1.Role
	}{"prod": {"prod-*", sirsiv1.Role_ROLE_EDITOR}, "dev": {"dev-*", sirsiv1.Role_ROLE_VIEWER}} {
		if _, err := env.admin.CreateOidcTrust(ctx, &sirsiv1.CreateOidcTrustRequest{OidcTrust: &sirsiv1.OidcTrust{
			Name: name, Issuer: is.URL, Audience: "sirsi.test", Role: c.role,
			BoundClaims: map[string]string{"terraform_organization_name": "acme", "terraform_workspace_name": c.workspaces},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	other := env.cp.NewTenant(t, "other-tenant")
	clearSirsiEnv(t)
	t.Setenv(envEndpoint, "http://"+env.cp.Endpoint)
	use := func(workspace string) func() {
		return func() { t.Setenv(envTFCToken, env.workspaceToken(t, is, workspace)) }
	}
	use("prod-network")()
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkDestroyed("sirsi_cloud_account", env.getCloudAccount),
		Steps: []tfresource.TestStep{
			{
				Config: oidcAccountConfig("written by a workload identity"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
					statecheck.ExpectKnownValue("data.sirsi_agents.all", tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
				},
				Check: env.checkAccountAudit("written by a workload identity", "oidc:prod:organization:acme:project:default:workspace:prod-network:run_phase:apply"),
			},
			{
				// The issuer rotates to a new ES256 key and withdraws the
				// old one; the next run's token is signed with it.
				PreConfig: func() {
					is.Rotate(is.NewKey(t, jose.ES256), false)
					env.cp.Clock.Advance(oidcverify.DefaultRefetchInterval)
					use("prod-network")()
				},
				Config: oidcAccountConfig("after the key rotation"),
				Check:  env.checkAccountAudit("after the key rotation", "oidc:prod:"),
			},
			{
				PreConfig:   use("dev-sandbox"),
				Config:      oidcAccountConfig("a viewer's change"),
				ExpectError: regexp.MustCompile(`role viewer may not call this`),
			},
			{
				PreConfig:   use("staging-network"),
				Config:      oidcAccountConfig("after the key rotation"),
				ExpectError: regexp.MustCompile(`(?s)Authentication failed.*TFC_WORKLOAD_IDENTITY_TOKEN.*OIDC token refused: claims`),
			},
			{
				PreConfig:   use("prod-network"),
				Config:      fmt.Sprintf("provider \"sirsi\" {\n  tenant_id = %q\n}\ndata \"sirsi_agents\" \"all\" {}\n", other.ID),
				ExpectError: regexp.MustCompile(`belongs to another tenant`),
			},
			{
				PreConfig: use("prod-network"),
				Config:    oidcAccountConfig("after the key rotation"),
			},
		},
	})
}

// checkAccountAudit reads the account back through an API token and
// finds the audit entry of its last write, made by actor.
func (e *accEnv) checkAccountAudit(displayName, actorPrefix string) tfresource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx := context.Background()
		id := s.RootModule().Resources["sirsi_cloud_account.a"].Primary.ID
		a, err := e.admin.GetCloudAccount(ctx, &sirsiv1.GetCloudAccountRequest{TenantId: e.tenantID, Id: id})
		if err != nil {
			return err
		}
		if a.CloudAccount.DisplayName != displayName {
			return fmt.Errorf("stored display name %q, want %q", a.CloudAccount.DisplayName, displayName)
		}
		events, err := e.admin.ListAuditEvents(ctx, &sirsiv1.ListAuditEventsRequest{TenantId: e.tenantID, Outcome: "ok", PageSize: 1000})
		if err != nil {
			return err
		}
		for _, ev := range events.Events {
			if ev.Target == "cloud_account/"+id && strings.HasPrefix(ev.Actor, actorPrefix) && strings.Contains(ev.Detail, "terraform_workspace_name=") {
				return nil
			}
		}
		return fmt.Errorf("no audited write of cloud account %s by %s", id, actorPrefix)
	}
}
