package provider

import (
	"context"
	"fmt"
	"testing"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// checkTenantSettings asks the control plane for the tenant's settings, in
// the order of tenantSettings; nil is unset.
func (e *accEnv) checkTenantSettings(name string, want ...*int32) tfresource.TestCheckFunc {
	return func(*terraform.State) error {
		out, err := e.operator.GetTenant(context.Background(), &sirsiv1.GetTenantRequest{Name: name})
		if err != nil {
			return fmt.Errorf("reading tenant %s: %w", name, err)
		}
		for i, s := range tenantSettings {
			got := *s.field(out.GetTenant())
			if (got == nil) != (want[i] == nil) || (got != nil && *got != *want[i]) {
				return fmt.Errorf("tenant %s has %s = %v in the control plane, want %v", name, s.attr, fmtSetting(got), fmtSetting(want[i]))
			}
		}
		return nil
	}
}

func fmtSetting(v *int32) string {
	if v == nil {
		return "unset"
	}
	return fmt.Sprint(*v)
}

func TestAccTenant_settings(t *testing.T) {
	env := testAccStart(t)
	cfg := func(settings string) string {
		return env.operatorProvider() + "resource \"sirsi_tenant\" \"t\" {\n  name = \"tuned\"\n" + settings + "\n}\n"
	}
	const all = `  tenant_rate_limit_per_minute = 40
  max_api_tokens               = 7
  utilization_retention_days   = 30
  action_retention_days        = 0
  anomaly_retention_days       = 400
  audit_retention_days         = 3650`
	addr := "sirsi_tenant.t"
	unset := make([]*int32, len(tenantSettings))
	nullChecks := func() []statecheck.StateCheck {
		var out []statecheck.StateCheck
		for _, s := range tenantSettings {
			out = append(out, statecheck.ExpectKnownValue(addr, tfjsonpath.New(s.attr), knownvalue.Null()))
		}
		return out
	}
	i32 := proto.Int32
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkTenantsDestroyed,
		Steps: []tfresource.TestStep{
			{
				// Left out: the server's defaults, null in state, no drift.
				Config:            cfg(""),
				ConfigStateChecks: nullChecks(),
				Check:             env.checkTenantSettings("tuned", unset...),
			},
			{
				Config: cfg(all),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					// 0 (keep for ever) is a value, not unset.
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("action_retention_days"), knownvalue.Int64Exact(0)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("tenant_rate_limit_per_minute"), knownvalue.Int64Exact(40)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("max_api_tokens"), knownvalue.Int64Exact(7)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("audit_retention_days"), knownvalue.Int64Exact(3650)),
				},
				Check: env.checkTenantSettings("tuned", i32(40), i32(7), i32(30), i32(0), i32(400), i32(3650)),
			},
			{
				Config: cfg(all),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{ResourceName: addr, ImportState: true, ImportStateVerify: true},
			{
				// Changed outside Terraform: the plan puts the configuration back.
				PreConfig: func() {
					out, err := env.operator.GetTenant(context.Background(), &sirsiv1.GetTenantRequest{Name: "tuned"})
					if err != nil {
						t.Fatal(err)
					}
					out.Tenant.MaxApiTokens, out.Tenant.UtilizationRetentionDays, out.Tenant.Version = i32(99), nil, 0
					if _, err := env.operator.UpdateTenant(context.Background(), &sirsiv1.UpdateTenantRequest{Tenant: out.Tenant}); err != nil {
						t.Fatalf("changing the settings out of band: %v", err)
					}
				},
				Config: cfg(all),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("max_api_tokens"), knownvalue.Int64Exact(7)),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("utilization_retention_days"), knownvalue.Int64Exact(30)),
				}},
				Check: env.checkTenantSettings("tuned", i32(40), i32(7), i32(30), i32(0), i32(400), i32(3650)),
			},
			{
				// Removing the attributes returns to the server's defaults.
				Config:            cfg(""),
				ConfigStateChecks: nullChecks(),
				Check:             env.checkTenantSettings("tuned", unset...),
			},
			{Config: cfg("  tenant_rate_limit_per_minute = 0"), ExpectError: expectErr(`tenant_rate_limit_per_minute.*between 1 and 100000`), PlanOnly: true},
			{Config: cfg("  max_api_tokens = 10001"), ExpectError: expectErr(`max_api_tokens.*between 1 and 10000`), PlanOnly: true},
			{Config: cfg("  utilization_retention_days = -1"), ExpectError: expectErr(`utilization_retention_days.*between 0 and 36500`), PlanOnly: true},
			{Config: cfg("  action_retention_days = 36501"), ExpectError: expectErr(`action_retention_days.*between 0 and 36500`), PlanOnly: true},
			{Config: cfg("  anomaly_retention_days = -30"), ExpectError: expectErr(`anomaly_retention_days.*between 0 and 36500`), PlanOnly: true},
			{Config: cfg("  audit_retention_days = 100000"), ExpectError: expectErr(`audit_retention_days.*between 0 and 36500`), PlanOnly: true},
			// The destroy at the end runs with the last configuration.
			{Config: cfg("")},
		},
	})
}
