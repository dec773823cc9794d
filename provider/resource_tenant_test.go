package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
)

func TestTenantResourceSchema(t *testing.T) {
	checkResourceSchema(t, NewTenantResource())
}

func TestTenantModelRoundTrip(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	created := time.Date(2026, 11, 24, 1, 2, 3, 0, time.UTC)
	in := tenantModel{
		ID:          types.StringValue("ten-1"),
		Name:        types.StringValue("acme"),
		DisplayName: types.StringValue("Acme"),
		Tier:        types.StringValue("enterprise"),
		Labels:      types.MapValueMust(types.StringType, map[string]attr.Value{"team": types.StringValue("data")}),
	}
	api := in.toAPI(ctx, &diags)
	if diags.HasError() {
		t.Fatalf("toAPI: %v", diags)
	}
	if api.GetTier() != sirsiv1.Tier_TIER_ENTERPRISE || api.GetLabels()["team"] != "data" || api.GetName() != "acme" {
		t.Fatalf("toAPI = %v", api)
	}
	api.CreateTime = timestamppb.New(created)
	var out tenantModel
	out.Labels = in.Labels
	out.fromAPI(ctx, api, &diags)
	if diags.HasError() {
		t.Fatalf("fromAPI: %v", diags)
	}
	in.CreatedAt = types.StringValue("2026-11-24T01:02:03Z")
	if !out.ID.Equal(in.ID) || !out.Name.Equal(in.Name) || !out.DisplayName.Equal(in.DisplayName) ||
		!out.Tier.Equal(in.Tier) || !out.Labels.Equal(in.Labels) || !out.CreatedAt.Equal(in.CreatedAt) {
		t.Errorf("round trip: got %+v, want %+v", out, in)
	}
}

func TestTenantLabelsNullVersusEmpty(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	api := &sirsiv1.Tenant{Id: "ten-1", Name: "acme", Tier: sirsiv1.Tier_TIER_FREE}

	leftOut := tenantModel{Labels: types.MapNull(types.StringType)}
	leftOut.fromAPI(ctx, api, &diags)
	if !leftOut.Labels.IsNull() {
		t.Errorf("labels left out became %v, want null", leftOut.Labels)
	}
	setEmpty := tenantModel{Labels: types.MapValueMust(types.StringType, map[string]attr.Value{})}
	setEmpty.fromAPI(ctx, api, &diags)
	if setEmpty.Labels.IsNull() || len(setEmpty.Labels.Elements()) != 0 {
		t.Errorf("labels = {} became %v, want an empty map", setEmpty.Labels)
	}
	if !leftOut.DisplayName.IsNull() || leftOut.Tier.ValueString() != "free" || !leftOut.CreatedAt.IsNull() {
		t.Errorf("fromAPI of a sparse tenant = %+v", leftOut)
	}
	if diags.HasError() {
		t.Fatal(diags)
	}
}

func TestTenantWebhookSecretStaysInState(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	const secret = "whsec-0123456789abcdef"
	m := tenantModel{
		Name: types.StringValue("acme"), Labels: types.MapNull(types.StringType),
		WebhookURL: types.StringValue("https://hooks.example.com/x"), WebhookSecret: types.StringValue(secret),
	}
	api := m.toAPI(ctx, &diags)
	if api.GetWebhookUrl() != "https://hooks.example.com/x" || api.GetWebhookSecret() != secret {
		t.Fatalf("toAPI = %v, want the webhook sent", api)
	}
	// What the control plane answers: no secret, only whether one is set.
	m.fromAPI(ctx, &sirsiv1.Tenant{Id: "ten-1", Name: "acme", WebhookUrl: "https://hooks.example.com/y", WebhookSecretSet: true}, &diags)
	if m.WebhookSecret.ValueString() != secret || m.WebhookURL.ValueString() != "https://hooks.example.com/y" {
		t.Fatalf("after a read the model is %+v: want the URL read and the configured secret kept", m)
	}
	m.fromAPI(ctx, &sirsiv1.Tenant{Id: "ten-1", Name: "acme"}, &diags)
	if !m.WebhookSecret.IsNull() || !m.WebhookURL.IsNull() {
		t.Fatalf("after the webhook was removed elsewhere the model is %+v: want both null", m)
	}
	if diags.HasError() {
		t.Fatal(diags)
	}
}

func TestAccTenant_webhook(t *testing.T) {
	// A step uses a loopback receiver, which the server refuses unless
	// the operator allows it.
	env := testAccStart(t, cptest.WithServerOptions(func(o *controlplane.Options) { o.WebhookAllowLoopback = true }))
	const (
		secret1 = "whsec-0123456789abcdef-first"
		secret2 = "whsec-0123456789abcdef-rotated"
	)
	cfg := func(webhook string) string {
		return env.operatorProvider() + fmt.Sprintf(`
resource "sirsi_tenant" "t" {
  name = "hooked"
%s
}
`, webhook)
	}
	hook := func(url, secret string) string {
		return fmt.Sprintf("  webhook_url    = %q\n  webhook_secret = %q\n", url, secret)
	}
	// stored checks what the control plane keeps, secret included.
	stored := func(url, secret string) tfresource.TestCheckFunc {
		return func(*terraform.State) error {
			tn, err := env.cp.Store.GetTenantByName(context.Background(), "hooked")
			if err != nil {
				return err
			}
			if tn.WebhookUrl != url || tn.WebhookSecret != secret {
				return fmt.Errorf("stored webhook %q with secret %q, want %q with %q", tn.WebhookUrl, tn.WebhookSecret, url, secret)
			}
			return nil
		}
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkTenantsDestroyed,
		Steps: []tfresource.TestStep{
			{
				Config: cfg(hook("https://hooks.example.com/sirsi", secret1)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("webhook_url"), knownvalue.StringExact("https://hooks.example.com/sirsi")),
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("webhook_secret"), knownvalue.StringExact(secret1)),
					statecheck.ExpectSensitiveValue("sirsi_tenant.t", tfjsonpath.New("webhook_secret")),
				},
				Check: stored("https://hooks.example.com/sirsi", secret1),
			},
			{
				// A new URL; the unchanged secret is kept.
				Config: cfg(hook("https://hooks.example.com/v2", secret1)),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_tenant.t", plancheck.ResourceActionUpdate),
				}},
				Check: stored("https://hooks.example.com/v2", secret1),
			},
			{
				// Rotation.
				Config: cfg(hook("https://hooks.example.com/v2", secret2)),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_tenant.t", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("webhook_secret"), knownvalue.StringExact(secret2)),
				},
				Check: stored("https://hooks.example.com/v2", secret2),
			},
			{
				// The secret is never returned, so an import cannot know it.
				ResourceName:            "sirsi_tenant.t",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"webhook_secret"},
			},
			{
				// Removed outside Terraform: the plan puts it back.
				PreConfig: func() {
					tn, err := env.operator.GetTenant(context.Background(), &sirsiv1.GetTenantRequest{Name: "hooked"})
					if err != nil {
						t.Fatal(err)
					}
					tn.Tenant.WebhookUrl, tn.Tenant.Version = "", 0
					if _, err := env.operator.UpdateTenant(context.Background(), &sirsiv1.UpdateTenantRequest{Tenant: tn.Tenant}); err != nil {
						t.Fatalf("removing the webhook out of band: %v", err)
					}
				},
				Config: cfg(hook("https://hooks.example.com/v2", secret2)),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_tenant.t", plancheck.ResourceActionUpdate),
				}},
				Check: stored("https://hooks.example.com/v2", secret2),
			},
			{
				// Loopback receivers may use plain http.
				Config: cfg(hook("http://127.0.0.1:8080/hook", secret2)),
				Check:  stored("http://127.0.0.1:8080/hook", secret2),
			},
			{
				// Removing both attributes removes the webhook.
				Config: cfg(""),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_tenant.t", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("webhook_url"), knownvalue.Null()),
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("webhook_secret"), knownvalue.Null()),
				},
				Check: stored("", ""),
			},
			{Config: cfg(hook("http://hooks.example.com/x", secret1)), ExpectError: regexp.MustCompile(`(?s)Invalid webhook URL.*must use https`), PlanOnly: true},
			{Config: cfg(hook("ftp://hooks.example.com/x", secret1)), ExpectError: regexp.MustCompile(`(?s)Invalid webhook URL.*must start with https://`), PlanOnly: true},
			{Config: cfg(hook("https://hooks.example.com/x", "too-short")), ExpectError: regexp.MustCompile(`(?s)Invalid webhook secret.*must be 16..256`), PlanOnly: true},
			{Config: cfg(`  webhook_url = "https://hooks.example.com/x"`), ExpectError: regexp.MustCompile(`(?s)Invalid Attribute Combination.*webhook_secret`), PlanOnly: true},
			{Config: cfg(`  webhook_secret = "` + secret1 + `"`), ExpectError: regexp.MustCompile(`(?s)Invalid Attribute Combination.*webhook_url`), PlanOnly: true},
			{
				// Last, so the post-test destroy has a valid configuration.
				Config: cfg(""),
			},
		},
	})
}

func TestTenantToAPIRefusesUnknownTier(t *testing.T) {
	var diags diag.Diagnostics
	m := tenantModel{Name: types.StringValue("acme"), Tier: types.StringValue("platinum"), Labels: types.MapNull(types.StringType)}
	if api := m.toAPI(context.Background(), &diags); api != nil || !diags.HasError() {
		t.Errorf("toAPI with tier platinum = %v, %v; want an error", api, diags)
	}
}

func TestAccTenant_lifecycle(t *testing.T) {
	env := testAccStart(t)
	cfg := func(name, tier, labels string) string {
		return env.operatorProvider() + fmt.Sprintf(`
resource "sirsi_tenant" "t" {
  name         = %q
  display_name = "Acme Corp"
  tier         = %q
  labels       = %s
}
`, name, tier, labels)
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkTenantsDestroyed,
		Steps: []tfresource.TestStep{
			{
				Config: cfg("acme", "standard", `{ team = "data" }`),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_tenant.t", plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("name"), knownvalue.StringExact("acme")),
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("tier"), knownvalue.StringExact("standard")),
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("labels"), knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("data")})),
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("id"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("created_at"), rfc3339Check{}),
				},
			},
			{
				ResourceName:      "sirsi_tenant.t",
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// Import by name as well as by id.
				ResourceName:      "sirsi_tenant.t",
				ImportState:       true,
				ImportStateId:     "acme",
				ImportStateVerify: true,
			},
			{
				// An import {} block by name plans an import and no change.
				ResourceName:    "sirsi_tenant.t",
				ImportState:     true,
				ImportStateKind: tfresource.ImportBlockWithID,
				ImportStateId:   "acme",
			},
			{
				Config: cfg("acme", "enterprise", `{ team = "platform", env = "prod" }`),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_tenant.t", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("tier"), knownvalue.StringExact("enterprise")),
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("labels"), knownvalue.MapSizeExact(2)),
				},
				Check: env.checkTenantTier("sirsi_tenant.t", sirsiv1.Tier_TIER_ENTERPRISE),
			},
			{
				Config: cfg("acme-two", "enterprise", `{}`),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_tenant.t", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("name"), knownvalue.StringExact("acme-two")),
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("labels"), knownvalue.MapSizeExact(0)),
				},
			},
		},
	})
}

func TestAccTenant_outOfBandDelete(t *testing.T) {
	env := testAccStart(t)
	config := env.operatorProvider() + `
resource "sirsi_tenant" "t" {
  name = "drifty"
}
`
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkTenantsDestroyed,
		Steps: []tfresource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					id := env.tenantIDByName(t, "drifty")
					if _, err := env.operator.DeleteTenant(context.Background(), &sirsiv1.DeleteTenantRequest{Id: id}); err != nil {
						t.Fatalf("deleting the tenant out of band: %v", err)
					}
				},
				Config: config,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_tenant.t", plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

func TestAccTenant_outOfBandChange(t *testing.T) {
	env := testAccStart(t)
	config := env.operatorProvider() + `
resource "sirsi_tenant" "t" {
  name         = "changed"
  display_name = "Before"
}
`
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkTenantsDestroyed,
		Steps: []tfresource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					ctx := context.Background()
					id := env.tenantIDByName(t, "changed")
					if _, err := env.operator.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: &sirsiv1.Tenant{Id: id, Name: "changed", DisplayName: "Edited in the console", Tier: sirsiv1.Tier_TIER_FREE}}); err != nil {
						t.Fatalf("changing the tenant out of band: %v", err)
					}
				},
				// The refresh sees the change; the plan puts the
				// configuration back, in place.
				Config: config,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_tenant.t", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("display_name"), knownvalue.StringExact("Before")),
					plancheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("tier"), knownvalue.StringExact("standard")),
				}},
				Check: env.checkTenantTier("sirsi_tenant.t", sirsiv1.Tier_TIER_STANDARD),
			},
		},
	})
}

func TestAccTenant_invalid(t *testing.T) {
	env := testAccStart(t)
	bad := func(attrs string) string {
		return env.operatorProvider() + "resource \"sirsi_tenant\" \"t\" {\n" + attrs + "\n}\n"
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{Config: bad(`name = "Not_A_Slug"`), ExpectError: regexp.MustCompile(`(?s)Invalid name.*name`), PlanOnly: true},
			{Config: bad(`name = "ok-name"` + "\n" + `tier = "gold"`), ExpectError: regexp.MustCompile(`(?s)tier.*value must be one of`), PlanOnly: true},
			{Config: bad(`name = "ok-name"` + "\n" + `labels = { "aws:reserved" = "x" }`), ExpectError: regexp.MustCompile(`(?s)labels.*reserved prefix`), PlanOnly: true},
		},
	})
}

func TestTenantLimitsMapping(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	m := tenantModel{
		Name: types.StringValue("acme"), Labels: types.MapNull(types.StringType),
		RateLimitPerMinute: types.Int64Value(500), MaxActionsPerHour: types.Int64Value(0),
	}
	api := m.toAPI(ctx, &diags)
	if api.RateLimitPerMinute == nil || api.GetRateLimitPerMinute() != 500 {
		t.Errorf("rate_limit_per_minute sent as %v, want 500", api.RateLimitPerMinute)
	}
	// 0 is the kill switch: it must be sent, not taken for unset.
	if api.MaxActionsPerHour == nil || api.GetMaxActionsPerHour() != 0 {
		t.Errorf("max_actions_per_hour sent as %v, want an explicit 0", api.MaxActionsPerHour)
	}
	var back tenantModel
	back.fromAPI(ctx, api, &diags)
	if back.RateLimitPerMinute.ValueInt64() != 500 || back.MaxActionsPerHour.IsNull() || back.MaxActionsPerHour.ValueInt64() != 0 {
		t.Errorf("read back rate %v max %v, want 500 and 0", back.RateLimitPerMinute, back.MaxActionsPerHour)
	}
	// A tenant stored without limits has the server's defaults, which is
	// what the schema plans.
	var unset tenantModel
	unset.fromAPI(ctx, &sirsiv1.Tenant{Id: "ten-1", Name: "acme"}, &diags)
	if unset.RateLimitPerMinute.ValueInt64() != defaultRateLimitPerMinute || unset.MaxActionsPerHour.ValueInt64() != defaultMaxActionsPerHour {
		t.Errorf("unset limits read as %v and %v, want %d and %d", unset.RateLimitPerMinute, unset.MaxActionsPerHour, defaultRateLimitPerMinute, defaultMaxActionsPerHour)
	}
	if diags.HasError() {
		t.Fatal(diags)
	}
}

// checkTenantLimits asks the control plane which limits the tenant has.
func (e *accEnv) checkTenantLimits(name string, rate, actions int32) tfresource.TestCheckFunc {
	return func(*terraform.State) error {
		out, err := e.operator.GetTenant(context.Background(), &sirsiv1.GetTenantRequest{Name: name})
		if err != nil {
			return fmt.Errorf("reading tenant %s: %w", name, err)
		}
		tn := out.GetTenant()
		if tn.RateLimitPerMinute == nil || tn.GetRateLimitPerMinute() != rate || tn.MaxActionsPerHour == nil || tn.GetMaxActionsPerHour() != actions {
			return fmt.Errorf("tenant %s has rate_limit_per_minute %v and max_actions_per_hour %v in the control plane, want %d and %d",
				name, tn.RateLimitPerMinute, tn.MaxActionsPerHour, rate, actions)
		}
		return nil
	}
}

func TestAccTenant_limits(t *testing.T) {
	env := testAccStart(t)
	cfg := func(limits string) string {
		return env.operatorProvider() + "resource \"sirsi_tenant\" \"t\" {\n  name = \"limited\"\n" + limits + "\n}\n"
	}
	addr := "sirsi_tenant.t"
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkTenantsDestroyed,
		Steps: []tfresource.TestStep{
			{
				Config: cfg(""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("rate_limit_per_minute"), knownvalue.Int64Exact(100)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("max_actions_per_hour"), knownvalue.Int64Exact(20)),
				},
				Check: env.checkTenantLimits("limited", 100, 20),
			},
			{
				// The kill switch, in place.
				Config: cfg("  rate_limit_per_minute = 600\n  max_actions_per_hour = 0"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("rate_limit_per_minute"), knownvalue.Int64Exact(600)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("max_actions_per_hour"), knownvalue.Int64Exact(0)),
				},
				Check: env.checkTenantLimits("limited", 600, 0),
			},
			{ResourceName: addr, ImportState: true, ImportStateVerify: true},
			{
				// Changed outside Terraform: the plan puts the configuration back.
				PreConfig: func() {
					out, err := env.operator.GetTenant(context.Background(), &sirsiv1.GetTenantRequest{Name: "limited"})
					if err != nil {
						t.Fatal(err)
					}
					n := int32(5)
					out.Tenant.MaxActionsPerHour, out.Tenant.Version = &n, 0
					if _, err := env.operator.UpdateTenant(context.Background(), &sirsiv1.UpdateTenantRequest{Tenant: out.Tenant}); err != nil {
						t.Fatalf("changing the limit out of band: %v", err)
					}
				},
				Config: cfg("  rate_limit_per_minute = 600\n  max_actions_per_hour = 0"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("max_actions_per_hour"), knownvalue.Int64Exact(0)),
				}},
				Check: env.checkTenantLimits("limited", 600, 0),
			},
			{
				// Removing the attributes returns to the defaults.
				Config: cfg(""),
				Check:  env.checkTenantLimits("limited", 100, 20),
			},
			{Config: cfg("  rate_limit_per_minute = 0"), ExpectError: expectErr(`rate_limit_per_minute.*between 1 and 100000`), PlanOnly: true},
			{Config: cfg("  max_actions_per_hour = 10001"), ExpectError: expectErr(`max_actions_per_hour.*between 0 and 10000`), PlanOnly: true},
			{Config: cfg("  max_actions_per_hour = -1"), ExpectError: expectErr(`max_actions_per_hour.*between 0 and 10000`), PlanOnly: true},
			{Config: cfg("")},
		},
	})
}

// Terraform before 1.11 cannot keep a write-only value out of state: the
// argument is refused at plan, naming the version it needs.
func TestAccTenant_webhookSecretWOBeforeTerraform111(t *testing.T) {
	env := testAccStart(t)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipAbove(tfversion.Version1_10_0)},
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config: env.operatorProvider() + `
resource "sirsi_tenant" "t" {
  name                      = "hooked"
  webhook_url               = "https://hooks.example.com/sirsi"
  webhook_secret_wo         = "whsec-0123456789abcdef"
  webhook_secret_wo_version = 1
}
`,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)webhook_secret_wo.*only supported in Terraform 1.11`),
		}},
	})
}

// A write-only key is sent on create and when its version changes; when
// the control plane has lost the key, the version reads back as null so
// the next apply sends it again.
func TestTenantWebhookSecretWOVersion(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	m := tenantModel{Name: types.StringValue("acme"), Labels: types.MapNull(types.StringType), WebhookSecretWOVersion: types.Int64Value(3)}
	m.fromAPI(ctx, &sirsiv1.Tenant{Id: "ten-1", Name: "acme", WebhookUrl: "https://hooks.example.com/y", WebhookSecretSet: true}, &diags)
	if m.WebhookSecretWOVersion.ValueInt64() != 3 {
		t.Errorf("with a stored key the version is %v, want 3 kept", m.WebhookSecretWOVersion)
	}
	m.fromAPI(ctx, &sirsiv1.Tenant{Id: "ten-1", Name: "acme", WebhookUrl: "https://hooks.example.com/y"}, &diags)
	if !m.WebhookSecretWOVersion.IsNull() {
		t.Errorf("without a stored key the version is %v, want null", m.WebhookSecretWOVersion)
	}
	if diags.HasError() {
		t.Fatal(diags)
	}
}

// The write-only key is checked at plan like webhook_secret, needs its
// version and the URL, and cannot be set next to webhook_secret.
func TestAccTenant_webhookSecretWOInvalid(t *testing.T) {
	env := testAccStart(t)
	cfg := func(body string) string {
		return env.operatorProvider() + "resource \"sirsi_tenant\" \"t\" {\n  name = \"hooked\"\n" + body + "}\n"
	}
	const url = "  webhook_url = \"https://hooks.example.com/sirsi\"\n"
	step := func(body, want string) tfresource.TestStep {
		return tfresource.TestStep{Config: cfg(body), PlanOnly: true, ExpectError: regexp.MustCompile(want)}
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		TerraformVersionChecks:   requireWriteOnly,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			step(url+"  webhook_secret_wo = \"too-short\"\n  webhook_secret_wo_version = 1\n", `(?s)Invalid webhook secret.*must be 16..256`),
			step(url+"  webhook_secret_wo = \"whsec-0123456789abcdef\"\n", `(?s)Invalid Attribute Combination.*webhook_secret_wo_version`),
			step("  webhook_secret_wo = \"whsec-0123456789abcdef\"\n  webhook_secret_wo_version = 1\n", `(?s)Invalid Attribute Combination.*webhook_url`),
			step(url+"  webhook_secret = \"whsec-0123456789abcdef\"\n  webhook_secret_wo = \"whsec-0123456789abcdef\"\n  webhook_secret_wo_version = 1\n", `(?s)Invalid Attribute Combination.*webhook_secret`),
			step("  webhook_secret_wo_version = 1\n", `(?s)Invalid Attribute Combination.*webhook_secret_wo`),
		},
	})
}

// TestAccTenant_forceDestroy: a tenant that owns a cloud account with an
// enrolled agent is not destroyed without force_destroy (and keeps
// everything); with it, the tenant and all it owns are gone.
func TestAccTenant_forceDestroy(t *testing.T) {
	env := testAccStart(t, cptest.WithAgentService())
	cfg := func(force string) string {
		return env.operatorProvider() + `
resource "sirsi_tenant" "t" {
  name = "doomed"
` + force + `
}
`
	}
	var tenantID, accountID, agentID string
	owned := func(ctx context.Context) []error {
		_, errAccount := env.operator.GetCloudAccount(ctx, &sirsiv1.GetCloudAccountRequest{TenantId: tenantID, Id: accountID})
		_, errAgent := env.operator.GetAgent(ctx, &sirsiv1.GetAgentRequest{TenantId: tenantID, Id: agentID})
		return []error{errAccount, errAgent}
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			if err := env.checkTenantsDestroyed(s); err != nil {
				return err
			}
			for _, err := range owned(context.Background()) {
				if status.Code(err) != codes.NotFound {
					return fmt.Errorf("an object of the force-destroyed tenant is still there (or the read failed): %w", err)
				}
			}
			return nil
		},
		Steps: []tfresource.TestStep{
			{
				Config: cfg(""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_tenant.t", tfjsonpath.New("force_destroy"), knownvalue.Bool(false)),
				},
			},
			{
				PreConfig: func() {
					tenantID = env.tenantIDByName(t, "doomed")
					accountID = env.cp.NewCloudAccount(t, tenantID, "123456789012").GetId()
					agentID = env.cp.EnrollAgent(t, tenantID, accountID).ID
				},
				Config:      cfg(""),
				Destroy:     true,
				ExpectError: regexp.MustCompile(`(?s)still\s+owns\s+1\s+cloud\s+accounts,\s+0\s+optimization\s+policies\s+and\s+1\s+agents.*set\s+force_destroy\s+=\s+true`),
			},
			{
				// The refused destroy left everything in place.
				PreConfig: func() {
					for _, err := range owned(context.Background()) {
						if err != nil {
							t.Fatalf("the refused destroy deleted something: %v", err)
						}
					}
				},
				Config: cfg("  force_destroy = true"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_tenant.t", plancheck.ResourceActionUpdate),
				}},
			},
			{
				ResourceName:            "sirsi_tenant.t",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"force_destroy"},
			},
		},
	})
}
