package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

func TestApiTokenEphemeralSchema(t *testing.T) {
	checkEphemeralSchema(t, NewApiTokenEphemeral())
}

// An ephemeral API token configures a second provider (which reads the
// tenant's agents with it) and becomes a tenant's write-only webhook key.
// The token is in no file Terraform wrote (states and saved plans of every
// step, searched by value, inside the plan archives too), while the secret
// of a managed sirsi_api_token in the same configuration is found there,
// so the search can fail. Every opened token is revoked at close.
func TestAccApiTokenEphemeral_neverOnDiskAndRevoked(t *testing.T) {
	env := testAccStart(t)
	dir := keepWorkingDir(t)
	opened := &openedSecrets{}
	cfg := func(version int) string {
		// One provider server serves every configuration of a provider
		// name, so the second one, configured with the ephemeral token, is
		// the same provider under another name.
		return env.operatorProvider() + fmt.Sprintf(`
terraform {
  required_providers {
    scoped = { source = "hashicorp/scoped" }
  }
}

ephemeral "sirsi_api_token" "run" {
  tenant_id = %[2]q
  role      = "viewer"
  ttl       = "10m"
}

provider "scoped" {
  endpoint = %[1]q
  token    = ephemeral.sirsi_api_token.run.token
}

data "sirsi_agents" "via_token" {
  provider = scoped
}

resource "sirsi_tenant" "hooked" {
  name                      = "hooked"
  webhook_url               = "https://hooks.example.com/sirsi"
  webhook_secret_wo         = ephemeral.sirsi_api_token.run.token
  webhook_secret_wo_version = %[3]d
}

resource "sirsi_api_token" "kept" {
  tenant_id   = %[2]q
  role        = "viewer"
  description = "managed: its secret is in state"
}
`, "http://"+env.cp.Endpoint, env.tenantID, version)
	}
	// storedKey is the tenant's webhook key as the control plane keeps it:
	// it must be one of the tokens the ephemeral resource opened.
	var keys []string
	storedKey := func(*terraform.State) error {
		tn, err := env.cp.Store.GetTenantByName(context.Background(), "hooked")
		if err != nil {
			return err
		}
		for _, s := range opened.all() {
			if s.token == tn.WebhookSecret {
				keys = append(keys, tn.WebhookSecret)
				return nil
			}
		}
		return fmt.Errorf("the tenant's webhook key is not a token the ephemeral resource opened (%d opened)", len(opened.all()))
	}
	var kept string
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		TerraformVersionChecks:   requireWriteOnly,
		ProtoV6ProviderFactories: opened.factories(),
		WorkingDir:               dir,
		CheckDestroy:             env.checkTenantsDestroyed,
		Steps: []tfresource.TestStep{
			{
				Config:      cfg(1) + "ephemeral \"sirsi_api_token\" \"bad\" {\n  tenant_id = \"x\"\n  role = \"owner\"\n  ttl = \"1s\"\n}\n",
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)(role.*value must be one of.*ttl.*outside|ttl.*outside.*role.*value must be one of)`),
			},
			{
				Config: cfg(1),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					noOpenedSecretIn{dir: dir, opened: opened},
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					// The second provider authenticated with the token: the
					// tenant it sees is the token's.
					statecheck.ExpectKnownValue("data.sirsi_agents.via_token", tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
					statecheck.ExpectKnownValue("sirsi_tenant.hooked", tfjsonpath.New("webhook_secret_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue("sirsi_tenant.hooked", tfjsonpath.New("webhook_secret_wo_version"), knownvalue.Int64Exact(1)),
				},
				Check: tfresource.ComposeTestCheckFunc(storedKey, captureAttr("sirsi_api_token.kept", "token", &kept)),
			},
			{
				// Raising the version sends this apply's token as the new key.
				Config: cfg(2),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_tenant.hooked", plancheck.ResourceActionUpdate),
					noOpenedSecretIn{dir: dir, opened: opened},
				}},
				Check: tfresource.ComposeTestCheckFunc(storedKey, func(*terraform.State) error {
					if len(keys) != 2 || keys[0] == keys[1] {
						return fmt.Errorf("the webhook key was not rotated by raising webhook_secret_wo_version")
					}
					return nil
				}),
			},
		},
	})

	all := opened.all()
	if err := assertNoSecretsIn(dir, all); err != nil {
		t.Error(err)
	}
	found, read, err := filesContaining(dir, kept)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(found, func(f string) bool { return strings.Contains(f, "tfplan!") }) || !slices.ContainsFunc(found, func(f string) bool { return strings.HasSuffix(f, "terraform.tfstate") }) {
		t.Errorf("the managed token's secret was not found in a state file and a saved plan (found in %v of %d files): the search cannot see secrets", found, read)
	}
	// Each run opened tokens of its own (plans and applies), and every one
	// was revoked when Terraform closed it.
	if len(all) < 4 {
		t.Errorf("%d tokens opened, want one per plan and apply", len(all))
	}
	for _, s := range all {
		_, err := env.admin.GetApiToken(context.Background(), &sirsiv1.GetApiTokenRequest{TenantId: env.tenantID, Id: s.id})
		if !client.IsNotFound(err) {
			t.Errorf("ephemeral API token %s after close: %v, want NotFound (revoked)", s.id, err)
		}
	}
}
