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
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

func TestWebhookResourceSchema(t *testing.T) {
	checkResourceSchema(t, NewWebhookResource())
}

func (e *accEnv) getWebhook(ctx context.Context, id string) error {
	_, err := e.admin.GetWebhook(ctx, &sirsiv1.GetWebhookRequest{TenantId: e.tenantID, Id: id})
	return err
}

// webhookStored reads the endpoint back from the control plane's store,
// secret included, so the test compares what deliveries would use, not
// what Terraform wrote.
func (e *accEnv) webhookStored(addr, url, secret string, types []string, enabled bool) tfresource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		w, err := e.cp.Store.Tenant(e.tenantID).GetWebhook(context.Background(), rs.Primary.ID)
		if err != nil {
			return err
		}
		if w.Url != url || w.Secret != secret || !slices.Equal(w.EventTypes, types) || w.GetEnabled() != enabled {
			return fmt.Errorf("stored webhook %s: url %s, secret %q, types %v, enabled %v; want %s, %q, %v, %v",
				w.Id, w.Url, w.Secret, w.EventTypes, w.GetEnabled(), url, secret, types, enabled)
		}
		return nil
	}
}

func webhookConfig(env *accEnv, body string) string {
	return env.tenantProvider() + "resource \"sirsi_webhook\" \"w\" {\n" + body + "}\n"
}

func TestAccWebhook_lifecycle(t *testing.T) {
	env := testAccStart(t)
	const (
		secret1 = "whsec-0123456789abcdef-first"
		secret2 = "whsec-0123456789abcdef-rotated"
	)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkDestroyed("sirsi_webhook", env.getWebhook),
		Steps: []tfresource.TestStep{
			{
				Config: webhookConfig(env, `
  url         = "https://hooks.example.com/actions"
  event_types = ["action.succeeded", "action.failed"]
  secret      = "`+secret1+`"
`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_webhook.w", tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
					statecheck.ExpectKnownValue("sirsi_webhook.w", tfjsonpath.New("enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("sirsi_webhook.w", tfjsonpath.New("description"), knownvalue.StringExact("")),
					statecheck.ExpectKnownValue("sirsi_webhook.w", tfjsonpath.New("event_types"), knownvalue.SetExact([]knownvalue.Check{
						knownvalue.StringExact("action.failed"), knownvalue.StringExact("action.succeeded"),
					})),
					statecheck.ExpectSensitiveValue("sirsi_webhook.w", tfjsonpath.New("secret")),
				},
				Check: env.webhookStored("sirsi_webhook.w", "https://hooks.example.com/actions", secret1, []string{"action.failed", "action.succeeded"}, true),
			},
			{
				// The secret is never returned, so an import cannot know it.
				ResourceName:            "sirsi_webhook.w",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"secret"},
				ImportStateIdFunc:       env.tenantScopedImportID("sirsi_webhook.w"),
			},
			{
				// Every type, disabled, described, the key rotated: one
				// update in place, the id kept.
				Config: webhookConfig(env, `
  url         = "https://hooks.example.com/all"
  enabled     = false
  description = "paused while the receiver moves"
  secret      = "`+secret2+`"
`),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_webhook.w", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("sirsi_webhook.w", tfjsonpath.New("event_types"), knownvalue.Null()),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_webhook.w", tfjsonpath.New("enabled"), knownvalue.Bool(false)),
				},
				Check: env.webhookStored("sirsi_webhook.w", "https://hooks.example.com/all", secret2, []string{}, false),
			},
			{
				// Deleted outside Terraform: Read drops it and the plan
				// creates it again.
				PreConfig: func() {
					list, err := env.admin.ListWebhooks(context.Background(), &sirsiv1.ListWebhooksRequest{TenantId: env.tenantID})
					if err != nil || len(list.Webhooks) != 1 {
						t.Fatalf("list webhooks: %v, %v", list, err)
					}
					if _, err := env.admin.DeleteWebhook(context.Background(), &sirsiv1.DeleteWebhookRequest{TenantId: env.tenantID, Id: list.Webhooks[0].Id}); err != nil {
						t.Fatal(err)
					}
				},
				Config: webhookConfig(env, `
  url    = "https://hooks.example.com/all"
  secret = "`+secret2+`"
`),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_webhook.w", plancheck.ResourceActionCreate),
				}},
				Check: env.webhookStored("sirsi_webhook.w", "https://hooks.example.com/all", secret2, []string{}, true),
			},
		},
	})
}

func TestAccWebhook_invalid(t *testing.T) {
	env := testAccStart(t)
	step := func(body, want string) tfresource.TestStep {
		return tfresource.TestStep{Config: webhookConfig(env, body), PlanOnly: true, ExpectError: regexp.MustCompile(want)}
	}
	const secret = `  secret = "whsec-0123456789abcdef"` + "\n"
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			step(`  url = "http://hooks.example.com/x"`+"\n"+secret, `(?s)Invalid webhook URL.*must use https`),
			step(`  url = "https://user:pw@hooks.example.com/x"`+"\n"+secret, `(?s)Invalid webhook URL.*user info`),
			step(`  url = "https://hooks.example.com/x"`+"\n"+`  event_types = ["cost.anomalies"]`+"\n"+secret, `(?s)event_types.*value must be one of`),
			step(`  url = "https://hooks.example.com/x"`+"\n"+`  event_types = []`+"\n"+secret, `(?s)event_types.*at least 1`),
			step(`  url = "https://hooks.example.com/x"`+"\n"+`  secret = "too-short"`+"\n", `(?s)Invalid webhook secret.*must be 16..256`),
			step(`  url = "https://hooks.example.com/x"`+"\n", `(?s)Missing Attribute.*secret_wo`),
			step(`  url = "https://hooks.example.com/x"`+"\n"+secret+`  description = "`+strings.Repeat("x", 1025)+`"`+"\n", `(?s)description.*at most 1024`),
		},
	})
}

// The server refuses a loopback receiver unless its operator allows it;
// the refusal names the field.
func TestAccWebhook_loopbackRefused(t *testing.T) {
	env := testAccStart(t)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config:      webhookConfig(env, "  url = \"http://127.0.0.1:9/hook\"\n  secret = \"whsec-0123456789abcdef\"\n"),
			ExpectError: regexp.MustCompile(`(?s)webhook\.url.*127\.0\.0\.1 is loopback`),
		}},
	})
}

// secret_wo never reaches state or plan files; it is sent on create and
// when secret_wo_version changes, and it conflicts with secret.
func TestAccWebhook_writeOnlySecret(t *testing.T) {
	env := testAccStart(t)
	dir := keepWorkingDir(t)
	const (
		key1 = "whsec-write-only-0123456789-first"
		key2 = "whsec-write-only-0123456789-second"
	)
	cfg := func(key string, version int) string {
		return webhookConfig(env, fmt.Sprintf("  url = \"https://hooks.example.com/wo\"\n  secret_wo = %q\n  secret_wo_version = %d\n", key, version))
	}
	notInFiles := func(secret string) tfresource.TestCheckFunc {
		return func(*terraform.State) error {
			found, read, err := filesContaining(dir, secret)
			if err != nil {
				return err
			}
			if read == 0 {
				return fmt.Errorf("no file read in %s: the check would prove nothing", dir)
			}
			// The configuration holds the key as a literal (this test
			// writes it there); state and plans must not.
			found = slices.DeleteFunc(found, func(p string) bool { return strings.HasSuffix(p, ".tf") })
			if len(found) > 0 {
				return fmt.Errorf("the write-only key is in %v", found)
			}
			return nil
		}
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		TerraformVersionChecks:   requireWriteOnly,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		WorkingDir:               dir,
		CheckDestroy:             env.checkDestroyed("sirsi_webhook", env.getWebhook),
		Steps: []tfresource.TestStep{
			{
				Config:      webhookConfig(env, "  url = \"https://hooks.example.com/wo\"\n  secret = \""+key1+"\"\n  secret_wo = \""+key1+"\"\n  secret_wo_version = 1\n"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid Attribute Combination.*secret`),
			},
			{
				Config:      webhookConfig(env, "  url = \"https://hooks.example.com/wo\"\n  secret_wo = \""+key1+"\"\n"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid Attribute Combination.*secret_wo_version`),
			},
			{
				Config: cfg(key1, 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_webhook.w", tfjsonpath.New("secret_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue("sirsi_webhook.w", tfjsonpath.New("secret"), knownvalue.Null()),
					statecheck.ExpectKnownValue("sirsi_webhook.w", tfjsonpath.New("secret_wo_version"), knownvalue.Int64Exact(1)),
				},
				Check: tfresource.ComposeTestCheckFunc(env.webhookStored("sirsi_webhook.w", "https://hooks.example.com/wo", key1, []string{}, true), notInFiles(key1)),
			},
			{
				// A new key under the same version is not sent: Terraform
				// cannot see a change of a value it does not keep.
				Config: cfg(key2, 1),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				Check: env.webhookStored("sirsi_webhook.w", "https://hooks.example.com/wo", key1, []string{}, true),
			},
			{
				// Raising the version sends it.
				Config: cfg(key2, 2),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_webhook.w", plancheck.ResourceActionUpdate),
				}},
				Check: tfresource.ComposeTestCheckFunc(env.webhookStored("sirsi_webhook.w", "https://hooks.example.com/wo", key2, []string{}, true), notInFiles(key2)),
			},
		},
	})
}

// TestAccWebhook_upgradeFromTenantURL is what a user upgrading sees: a
// tenant with webhook_url plans no change (a deprecation warning, no
// diff: the URL now lives in the tenant's own endpoint and reads back the
// same), and moving to sirsi_webhook in one apply leaves exactly the new
// endpoint.
func TestAccWebhook_upgradeFromTenantURL(t *testing.T) {
	env := testAccStart(t)
	const secret = "whsec-0123456789abcdef-tenant"
	tenant := func(hook string) string {
		return env.operatorProvider() + "resource \"sirsi_tenant\" \"t\" {\n  name = \"upgraded\"\n" + hook + "}\n"
	}
	var tenantID string
	endpoints := func(want int, wantOwn bool) tfresource.TestCheckFunc {
		return func(s *terraform.State) error {
			tenantID = s.RootModule().Resources["sirsi_tenant.t"].Primary.ID
			list, _, err := env.cp.Store.Tenant(tenantID).ListWebhooks(context.Background(), store.Page{})
			if err != nil {
				return err
			}
			own := slices.ContainsFunc(list, func(w *sirsiv1.Webhook) bool { return w.Id == tenantID })
			if len(list) != want || own != wantOwn {
				return fmt.Errorf("endpoints %v: want %d, the tenant's own one %v", list, want, wantOwn)
			}
			return nil
		}
	}
	hooked := tenant("  webhook_url = \"https://hooks.example.com/old\"\n  webhook_secret = \"" + secret + "\"\n")
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkTenantsDestroyed,
		Steps: []tfresource.TestStep{
			{
				Config: hooked,
				Check:  endpoints(1, true),
			},
			{
				// Nothing to do on the next plan.
				Config: hooked,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{
				Config: tenant("") + `
resource "sirsi_webhook" "moved" {
  tenant_id = sirsi_tenant.t.id
  url       = "https://hooks.example.com/new"
  secret    = "` + secret + `"
}
`,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_tenant.t", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("sirsi_webhook.moved", plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("webhook_url"), knownvalue.Null()),
				},
				Check: endpoints(1, false),
			},
		},
	})
}
