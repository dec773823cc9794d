package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

func TestOptimizationPolicySchema(t *testing.T) {
	checkResourceSchema(t, NewOptimizationPolicyResource())
}

// fullPolicy sets every field the API has, so a mapping that drops one
// fails the round trip.
func fullPolicy() *sirsiv1.OptimizationPolicy {
	maxActions := int32(0)
	rollback := false
	window, cooldown := int32(30), int32(0)
	return &sirsiv1.OptimizationPolicy{
		Id:            "pol-1",
		TenantId:      "ten-1",
		Name:          "nightly",
		Description:   "right-size dev",
		Mode:          sirsiv1.PolicyMode_POLICY_MODE_AUTO,
		ResourceTypes: []string{"aws_ebs_volume", "aws_ec2_instance"},
		Selector: &sirsiv1.PolicySelector{
			AccountIds:  []string{"111111111111", "222222222222"},
			Regions:     []string{"eu-west-1"},
			Tags:        map[string]string{"env": "dev"},
			ExcludeTags: map[string]string{"keep": "*"},
		},
		Rightsizing: &sirsiv1.RightsizingSettings{
			Statistic:         sirsiv1.Statistic_STATISTIC_MAX,
			LookbackDays:      30,
			HeadroomPercent:   35,
			AllowedFamilies:   []string{"m6i", "t3"},
			DownsizeOnly:      false,
			MinMonthlySavings: money.USDFromFloat(12.5),
		},
		Idle: &sirsiv1.IdleSettings{
			CpuBelowPercent:         2.5,
			NetworkBelowBytesPerDay: 1000,
			LookbackDays:            7,
			Action:                  sirsiv1.IdleAction_IDLE_ACTION_STOP,
		},
		Offhours: &sirsiv1.OffHoursSettings{
			StopCron:  "0 19 * * 1-5",
			StartCron: "0 7 * * 1-5",
			Timezone:  "Europe/Berlin",
			SkipDates: []string{"2026-12-24", "2026-12-25"},
		},
		Schedule:         "0 2 * * 6",
		Timezone:         "Europe/Berlin",
		MaxActionsPerRun: &maxActions,
		Verify:           &sirsiv1.VerifySettings{WaitMinutes: 30, RollbackOnFailure: &rollback},
		Version:          7,
		DryRun:           true,
		Hibernate:        true,
		Execution:        sirsiv1.Execution_EXECUTION_TERRAFORM,
		WindowMinutes:    &window,
		CooldownHours:    &cooldown,
		Commitments: &sirsiv1.CommitmentSettings{SavingsPlansType: sirsiv1.SavingsPlansType_SAVINGS_PLANS_TYPE_EC2_INSTANCE,
			Term: sirsiv1.CommitmentTerm_COMMITMENT_TERM_THREE_YEARS, PaymentOption: sirsiv1.PaymentOption_PAYMENT_OPTION_ALL_UPFRONT},
	}
}

func TestPolicyMappingRoundTrip(t *testing.T) {
	ctx := context.Background()
	in := fullPolicy()
	m := policyModel(t, policyFromProto(in))
	out, diags := policyToProto(ctx, m)
	if diags.HasError() {
		t.Fatalf("to proto: %v", diags)
	}
	if !proto.Equal(in, out) {
		t.Fatalf("round trip changed the policy:\n in: %v\nout: %v", in, out)
	}
	if got := m.Mode.ValueString(); got != "auto" {
		t.Errorf("mode = %q, want auto", got)
	}
	if got := m.MaxActionsPerRun.ValueInt64(); got != 0 {
		t.Errorf("max_actions_per_run = %d, want 0 (recommend only) to survive the mapping", got)
	}
	if got := m.CooldownHours.ValueInt64(); got != 0 || m.CooldownHours.IsNull() {
		t.Errorf("cooldown_hours = %v, want 0 (no cool-down) to survive the mapping", m.CooldownHours)
	}
	if !m.DryRun.ValueBool() || m.WindowMinutes.ValueInt64() != 30 {
		t.Errorf("dry_run %v window_minutes %v, want true and 30", m.DryRun, m.WindowMinutes)
	}
}

// A policy as the schema defaults plan it must map to the API and back
// unchanged; otherwise Terraform reports an inconsistent result after apply.
func TestPolicyDefaultsRoundTrip(t *testing.T) {
	ctx := context.Background()
	planned := optimizationPolicyModel{
		ID:               types.StringValue("pol-2"),
		TenantID:         types.StringValue("ten-1"),
		Name:             types.StringValue("minimal"),
		Description:      types.StringNull(),
		Mode:             types.StringValue(defaultPolicyMode),
		ResourceTypes:    types.SetValueMust(types.StringType, []attr.Value{types.StringValue("aws_ec2_instance")}),
		Selector:         types.ObjectNull(selectorAttrTypes),
		Rightsizing:      defaultRightsizingObject(),
		Idle:             types.ObjectNull(idleAttrTypes),
		Offhours:         types.ObjectNull(offhoursAttrTypes),
		Schedule:         types.StringNull(),
		Timezone:         types.StringValue(policy.DefaultTimezone),
		MaxActionsPerRun: types.Int64Value(policy.DefaultMaxActionsPerRun),
		Verify:           defaultVerifyObject(),
		Version:          types.Int64Value(1),
		DryRun:           types.BoolValue(false),
		WindowMinutes:    types.Int64Value(policy.DefaultWindowMinutes),
		CooldownHours:    types.Int64Value(policy.DefaultCooldownHours),
	}
	p, diags := policyToProto(ctx, planned)
	if diags.HasError() {
		t.Fatalf("to proto: %v", diags)
	}
	if p.GetSelector() != nil || p.GetIdle() != nil || p.GetOffhours() != nil {
		t.Errorf("absent nested objects were sent: %v", p)
	}
	if p.MaxActionsPerRun == nil || p.GetMaxActionsPerRun() != policy.DefaultMaxActionsPerRun {
		t.Errorf("max_actions_per_run not sent explicitly: %v", p.MaxActionsPerRun)
	}
	if p.WindowMinutes == nil || p.GetWindowMinutes() != policy.DefaultWindowMinutes || p.CooldownHours == nil || p.GetCooldownHours() != policy.DefaultCooldownHours {
		t.Errorf("window_minutes and cooldown_hours not sent explicitly: %v %v", p.WindowMinutes, p.CooldownHours)
	}
	if p.GetVerify().RollbackOnFailure == nil || !p.GetVerify().GetRollbackOnFailure() {
		t.Errorf("rollback_on_failure not sent explicitly: %v", p.GetVerify())
	}
	back := policyModel(t, policyFromProto(p))
	if !modelsEqual(planned, back) {
		t.Fatalf("defaults did not survive the round trip:\nplanned: %+v\n   back: %+v", planned, back)
	}
}

// The server applies its own defaults to fields it was sent unset; the
// provider must read them as the schema's defaults.
func TestPolicyFromProtoServerDefaults(t *testing.T) {
	m := policyModel(t, policyFromProto(&sirsiv1.OptimizationPolicy{
		Id: "pol-3", TenantId: "ten-1", Name: "bare",
		ResourceTypes: []string{"aws_eip"},
		Selector:      &sirsiv1.PolicySelector{},
		Offhours:      &sirsiv1.OffHoursSettings{},
		Verify:        &sirsiv1.VerifySettings{WaitMinutes: 10},
	}))
	if m.WindowMinutes.ValueInt64() != policy.DefaultWindowMinutes || m.CooldownHours.ValueInt64() != policy.DefaultCooldownHours || m.DryRun.ValueBool() {
		t.Errorf("server defaults not mapped: window %v cooldown %v dry_run %v", m.WindowMinutes, m.CooldownHours, m.DryRun)
	}
	if m.Mode.ValueString() != defaultPolicyMode || m.Timezone.ValueString() != policy.DefaultTimezone ||
		m.MaxActionsPerRun.ValueInt64() != policy.DefaultMaxActionsPerRun {
		t.Errorf("server defaults not mapped: mode %s timezone %s max_actions %d", m.Mode, m.Timezone, m.MaxActionsPerRun)
	}
	if !m.Selector.IsNull() || !m.Offhours.IsNull() || !m.Rightsizing.IsNull() || !m.Idle.IsNull() {
		t.Errorf("empty nested objects must read as null: selector %v offhours %v rightsizing %v idle %v", m.Selector, m.Offhours, m.Rightsizing, m.Idle)
	}
	if !m.Verify.Equal(defaultVerifyObject()) {
		t.Errorf("verify with unset rollback_on_failure = %v, want the default (rollback true)", m.Verify)
	}
}

// policyModel reads a state value built by policyFromProto through the
// framework, which refuses a value whose type differs from the schema's.
func policyModel(t testing.TB, v tftypes.Value) optimizationPolicyModel {
	t.Helper()
	var resp resource.SchemaResponse
	NewOptimizationPolicyResource().Schema(context.Background(), resource.SchemaRequest{}, &resp)
	var m optimizationPolicyModel
	if diags := (tfsdk.State{Schema: resp.Schema, Raw: v}).Get(context.Background(), &m); diags.HasError() {
		t.Fatalf("reading the state value into the model: %v", diags)
	}
	return m
}

func modelsEqual(a, b optimizationPolicyModel) bool {
	pairs := [][2]attr.Value{
		{a.ID, b.ID}, {a.TenantID, b.TenantID}, {a.Name, b.Name}, {a.Description, b.Description},
		{a.Mode, b.Mode}, {a.ResourceTypes, b.ResourceTypes}, {a.Selector, b.Selector},
		{a.Rightsizing, b.Rightsizing}, {a.Idle, b.Idle}, {a.Offhours, b.Offhours},
		{a.Schedule, b.Schedule}, {a.Timezone, b.Timezone}, {a.MaxActionsPerRun, b.MaxActionsPerRun},
		{a.Verify, b.Verify}, {a.Version, b.Version},
		{a.DryRun, b.DryRun}, {a.WindowMinutes, b.WindowMinutes}, {a.CooldownHours, b.CooldownHours},
	}
	for _, p := range pairs {
		if !p[0].Equal(p[1]) {
			return false
		}
	}
	return true
}

// tenantStore is the test tenant's store, to seed what agents report.
func (e *accEnv) tenantStore() store.TenantStore {
	return e.cp.Store.Tenant(e.tenantID)
}

func (e *accEnv) checkPoliciesDestroyed(s *terraform.State) error {
	return e.checkDestroyed("sirsi_optimization_policy", func(ctx context.Context, id string) error {
		_, err := e.admin.GetOptimizationPolicy(ctx, &sirsiv1.GetOptimizationPolicyRequest{TenantId: e.tenantID, Id: id})
		return err
	})(s)
}

// updatePolicyOutOfBand changes a policy through the API, as someone
// outside Terraform would.
func (e *accEnv) updatePolicyOutOfBand(t *testing.T, id string, change func(*sirsiv1.OptimizationPolicy)) {
	t.Helper()
	ctx := context.Background()
	out, err := e.admin.GetOptimizationPolicy(ctx, &sirsiv1.GetOptimizationPolicyRequest{TenantId: e.tenantID, Id: id})
	if err != nil {
		t.Fatalf("reading policy %s: %v", id, err)
	}
	p := out.GetOptimizationPolicy()
	change(p)
	if _, err := e.admin.UpdateOptimizationPolicy(ctx, &sirsiv1.UpdateOptimizationPolicyRequest{OptimizationPolicy: p}); err != nil {
		t.Fatalf("updating policy %s: %v", id, err)
	}
}

func (e *accEnv) deletePolicyOutOfBand(t *testing.T, id string) {
	t.Helper()
	if _, err := e.admin.DeleteOptimizationPolicy(context.Background(), &sirsiv1.DeleteOptimizationPolicyRequest{TenantId: e.tenantID, Id: id}); err != nil {
		t.Fatalf("deleting policy %s: %v", id, err)
	}
}

// createPolicyForData makes a policy through the API for data source tests
// that need recommendations under a policy.
func (e *accEnv) createPolicyForData(t *testing.T, name string) string {
	t.Helper()
	out, err := e.admin.CreateOptimizationPolicy(context.Background(), &sirsiv1.CreateOptimizationPolicyRequest{
		OptimizationPolicy: &sirsiv1.OptimizationPolicy{TenantId: e.tenantID, Name: name, ResourceTypes: []string{"aws_ec2_instance"}},
	})
	if err != nil {
		t.Fatalf("creating policy %s: %v", name, err)
	}
	return out.GetOptimizationPolicy().GetId()
}

func policyAddr() string { return "sirsi_optimization_policy.test" }

func policyConfig(env *accEnv, body string) string {
	return env.tenantProvider() + "\nresource \"sirsi_optimization_policy\" \"test\" {\n" + body + "\n}\n"
}

const policyMinimal = `
  name           = "acc-policy"
  resource_types = ["aws_ec2_instance"]
`

const policyFull = `
  name           = "acc-policy-renamed"
  description    = "full policy"
  mode           = "auto"
  resource_types = ["aws_ec2_instance", "aws_ebs_volume"]
  selector = {
    account_ids  = ["111111111111"]
    regions      = ["eu-west-1", "us-east-1"]
    tags         = { env = "dev" }
    exclude_tags = { keep = "*" }
  }
  rightsizing = {
    statistic        = "p99"
    lookback_days    = 30
    allowed_families = ["m6i", "t3"]
  }
  idle = {
    cpu_below_percent = 2.5
    action            = "stop"
  }
  offhours = {
    stop_cron  = "0 19 * * 1-5"
    start_cron = "0 7 * * 1-5"
    skip_dates = ["2026-12-24"]
  }
  schedule            = "0 2 * * 6"
  timezone            = "Europe/Berlin"
  max_actions_per_run = 0
  dry_run             = true
  window_minutes      = 90
  cooldown_hours      = 0
  hibernate           = true
  verify = {
    rollback_on_failure = false
  }
  commitments = {
    term           = "three_years"
    payment_option = "partial_upfront"
  }
`

func TestAccOptimizationPolicy_lifecycle(t *testing.T) {
	env := testAccStart(t)
	addr := policyAddr()
	var id string
	captureID := func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		id = rs.Primary.ID
		return nil
	}
	attr := func(p ...string) tfjsonpath.Path {
		path := tfjsonpath.New(p[0])
		for _, k := range p[1:] {
			path = path.AtMapKey(k)
		}
		return path
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkPoliciesDestroyed,
		Steps: []tfresource.TestStep{
			{
				Config: policyConfig(env, policyMinimal),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(addr, attr("tenant_id"), knownvalue.StringExact(env.tenantID)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, attr("mode"), knownvalue.StringExact("recommend")),
					statecheck.ExpectKnownValue(addr, attr("timezone"), knownvalue.StringExact("UTC")),
					statecheck.ExpectKnownValue(addr, attr("max_actions_per_run"), knownvalue.Int64Exact(5)),
					statecheck.ExpectKnownValue(addr, attr("dry_run"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, attr("window_minutes"), knownvalue.Int64Exact(60)),
					statecheck.ExpectKnownValue(addr, attr("cooldown_hours"), knownvalue.Int64Exact(24)),
					statecheck.ExpectKnownValue(addr, attr("hibernate"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, attr("rightsizing", "statistic"), knownvalue.StringExact("p95")),
					statecheck.ExpectKnownValue(addr, attr("rightsizing", "lookback_days"), knownvalue.Int64Exact(14)),
					statecheck.ExpectKnownValue(addr, attr("rightsizing", "headroom_percent"), knownvalue.Int64Exact(20)),
					statecheck.ExpectKnownValue(addr, attr("rightsizing", "downsize_only"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, attr("verify", "wait_minutes"), knownvalue.Int64Exact(10)),
					statecheck.ExpectKnownValue(addr, attr("verify", "rollback_on_failure"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, attr("commitments", "savings_plans_type"), knownvalue.StringExact("compute")),
					statecheck.ExpectKnownValue(addr, attr("commitments", "term"), knownvalue.StringExact("one_year")),
					statecheck.ExpectKnownValue(addr, attr("commitments", "payment_option"), knownvalue.StringExact("no_upfront")),
					statecheck.ExpectKnownValue(addr, attr("selector"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, attr("idle"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, attr("offhours"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, attr("id"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(addr, attr("version"), knownvalue.NotNull()),
				},
				Check: captureID,
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: env.tenantScopedImportID(addr),
			},
			{
				// Every nested object set, the name changed: all in place.
				Config: policyConfig(env, policyFull),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, attr("name"), knownvalue.StringExact("acc-policy-renamed")),
					statecheck.ExpectKnownValue(addr, attr("mode"), knownvalue.StringExact("auto")),
					statecheck.ExpectKnownValue(addr, attr("max_actions_per_run"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(addr, attr("dry_run"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, attr("window_minutes"), knownvalue.Int64Exact(90)),
					statecheck.ExpectKnownValue(addr, attr("cooldown_hours"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(addr, attr("hibernate"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, attr("selector", "regions"), knownvalue.SetExact([]knownvalue.Check{
						knownvalue.StringExact("eu-west-1"), knownvalue.StringExact("us-east-1"),
					})),
					statecheck.ExpectKnownValue(addr, attr("selector", "exclude_tags"), knownvalue.MapExact(map[string]knownvalue.Check{
						"keep": knownvalue.StringExact("*"),
					})),
					statecheck.ExpectKnownValue(addr, attr("rightsizing", "statistic"), knownvalue.StringExact("p99")),
					// Left out of the nested object: its own default.
					statecheck.ExpectKnownValue(addr, attr("rightsizing", "headroom_percent"), knownvalue.Int64Exact(20)),
					statecheck.ExpectKnownValue(addr, attr("idle", "cpu_below_percent"), knownvalue.Float64Exact(2.5)),
					statecheck.ExpectKnownValue(addr, attr("idle", "lookback_days"), knownvalue.Int64Exact(7)),
					statecheck.ExpectKnownValue(addr, attr("idle", "action"), knownvalue.StringExact("stop")),
					// Off-hours inherit the policy's time zone.
					statecheck.ExpectKnownValue(addr, attr("offhours", "timezone"), knownvalue.StringExact("Europe/Berlin")),
					statecheck.ExpectKnownValue(addr, attr("verify", "rollback_on_failure"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, attr("verify", "wait_minutes"), knownvalue.Int64Exact(10)),
					statecheck.ExpectKnownValue(addr, attr("commitments", "term"), knownvalue.StringExact("three_years")),
					statecheck.ExpectKnownValue(addr, attr("commitments", "payment_option"), knownvalue.StringExact("partial_upfront")),
					statecheck.ExpectKnownValue(addr, attr("commitments", "savings_plans_type"), knownvalue.StringExact("compute")),
				},
				Check: func(s *terraform.State) error {
					old := id
					if err := captureID(s); err != nil {
						return err
					}
					if id != old {
						return fmt.Errorf("in-place update changed the id from %s to %s", old, id)
					}
					return nil
				},
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: env.tenantScopedImportID(addr),
			},
			{
				// Removing the nested objects: selector, idle and offhours go
				// away, rightsizing and verify return to their defaults.
				Config: policyConfig(env, policyMinimal),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(addr, attr("selector"), knownvalue.Null()),
					plancheck.ExpectKnownValue(addr, attr("rightsizing", "statistic"), knownvalue.StringExact("p95")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, attr("selector"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, attr("idle"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, attr("offhours"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, attr("rightsizing", "lookback_days"), knownvalue.Int64Exact(14)),
					statecheck.ExpectKnownValue(addr, attr("verify", "rollback_on_failure"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, attr("max_actions_per_run"), knownvalue.Int64Exact(5)),
					statecheck.ExpectKnownValue(addr, attr("dry_run"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, attr("window_minutes"), knownvalue.Int64Exact(60)),
					statecheck.ExpectKnownValue(addr, attr("cooldown_hours"), knownvalue.Int64Exact(24)),
				},
			},
			{
				// Changed outside Terraform: the plan shows the way back.
				PreConfig: func() {
					env.updatePolicyOutOfBand(t, id, func(p *sirsiv1.OptimizationPolicy) { p.Description = "changed by hand" })
				},
				Config: policyConfig(env, policyMinimal),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, attr("description"), knownvalue.Null()),
				},
			},
			{
				// Deleted outside Terraform: the plan creates it again.
				PreConfig: func() { env.deletePolicyOutOfBand(t, id) },
				Config:    policyConfig(env, policyMinimal),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
				Check: captureID,
			},
			{
				// Another tenant replaces the policy.
				Config: policyConfig(env, policyMinimal+`  tenant_id = "00000000-0000-7000-8000-000000000000"`),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionReplace),
				}},
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

// expectErr matches Terraform's error output, which wraps long lines: a
// space in pattern matches any run of white space, newlines included.
func expectErr(pattern string) *regexp.Regexp {
	return regexp.MustCompile("(?s)" + strings.ReplaceAll(pattern, " ", `\s+`))
}

func TestAccOptimizationPolicy_invalid(t *testing.T) {
	env := testAccStart(t)
	step := func(body, want string) tfresource.TestStep {
		return tfresource.TestStep{Config: policyConfig(env, body), PlanOnly: true, ExpectError: expectErr(want)}
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			step(`name = "acc"
  resource_types = ["aws_ec2_instance"]
  mode = "yolo"`, `(?s)mode.*value must be one of`),
			step(`name = "acc"
  resource_types = []`, `(?s)resource_types.*at least 1`),
			step(`name = "acc"
  resource_types = ["aws_s3_bucket"]`, `(?s)resource_types.*value must be one of`),
			step(`name = "Not A Slug"
  resource_types = ["aws_eip"]`, `Invalid name`),
			step(`name = "acc"
  resource_types = ["aws_eip"]
  rightsizing = { lookback_days = 94 }`, `(?s)lookback_days.*between 1 and 93`),
			step(`name = "acc"
  resource_types = ["aws_eip"]
  rightsizing = { headroom_percent = 101 }`, `(?s)headroom_percent.*between 0 and 100`),
			step(`name = "acc"
  resource_types = ["aws_ec2_instance"]
  commitments = { term = "5y" }`, `(?s)commitments.term.*value must be one of`),
			step(`name = "acc"
  resource_types = ["aws_eip"]
  selector = { account_ids = ["12345"] }`, `Invalid AWS account id`),
			step(`name = "acc"
  resource_types = ["aws_eip"]
  selector = { regions = ["mars-north-1"] }`, `Invalid AWS region`),
			step(`name = "acc"
  resource_types = ["aws_eip"]
  schedule = "every night"`, `Invalid cron expression`),
			step(`name = "acc"
  resource_types = ["aws_eip"]
  timezone = "Mars/Olympus_Mons"`, `Invalid IANA time zone`),
			step(`name = "acc"
  resource_types = ["aws_eip"]
  offhours = { timezone = "UTC" }`, `(?s)At least one attribute.*start_cron`),
			step(`name = "acc"
  resource_types = ["aws_eip"]
  offhours = { stop_cron = "0 19 * * *", start_cron = "0 7 * * *", skip_dates = ["24.12.2026"] }`, `Invalid date`),
			step(`name = "acc"
  resource_types = ["aws_eip"]
  mode = "auto"`, `(?s)Missing schedule.*schedule is required when mode is "auto"`),
			step(`name = "acc"
  resource_types = ["aws_eip"]
  max_actions_per_run = 1001`, `(?s)max_actions_per_run.*between 0 and 1000`),
			step(`name = "acc"
  resource_types = ["aws_eip"]
  idle = { cpu_below_percent = 150 }`, `(?s)cpu_below_percent.*between 0\.0+ and 100\.0+`),
			step(`name = "acc"
  resource_types = ["aws_eip"]
  window_minutes = 0`, `(?s)window_minutes.*between 1 and 1440`),
			step(`name = "acc"
  resource_types = ["aws_eip"]
  window_minutes = 1441`, `(?s)window_minutes.*between 1 and 1440`),
			step(`name = "acc"
  resource_types = ["aws_eip"]
  cooldown_hours = 8761`, `(?s)cooldown_hours.*between 0 and 8760`),
		},
	})
}

// BenchmarkOptimizationPolicyRefreshPlan is the provider's share of a
// `terraform plan -refresh=true` of one unchanged policy: ReadResource
// (through the client to a real control plane on loopback),
// ValidateResourceConfig and PlanResourceChange, through the protocol 6
// server as Terraform calls them. scripts/bench-provider.sh measures the
// whole CLI run.
func BenchmarkOptimizationPolicyRefreshPlan(b *testing.B) {
	ctx := context.Background()
	cp := cptest.Start(b)
	tn := cp.NewTenant(b, "bench")
	created, err := tn.Admin.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: func() *sirsiv1.OptimizationPolicy {
		p := fullPolicy()
		p.Id, p.TenantId, p.Version = "", tn.ID, 0
		return p
	}()})
	if err != nil {
		b.Fatalf("creating the policy: %v", err)
	}

	srv := providerserver.NewProtocol6(New("bench")())()
	schemaResp, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || len(schemaResp.Diagnostics) > 0 {
		b.Fatalf("schema: %v %v", err, schemaResp.Diagnostics)
	}
	providerType := schemaResp.Provider.ValueType().(tftypes.Object)
	providerConfig := map[string]tftypes.Value{}
	for name, typ := range providerType.AttributeTypes {
		providerConfig[name] = tftypes.NewValue(typ, nil)
	}
	providerConfig["endpoint"] = tftypes.NewValue(tftypes.String, "http://"+cp.Endpoint)
	providerConfig["token"] = tftypes.NewValue(tftypes.String, tn.AdminToken)
	providerConfig["tenant_id"] = tftypes.NewValue(tftypes.String, tn.ID)
	pc, err := tfprotov6.NewDynamicValue(providerType, tftypes.NewValue(providerType, providerConfig))
	if err != nil {
		b.Fatal(err)
	}
	cresp, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{TerraformVersion: "1.5.7", Config: &pc})
	if err != nil || len(cresp.Diagnostics) > 0 {
		b.Fatalf("configure: %v %v", err, cresp.Diagnostics)
	}

	typ := schemaResp.ResourceSchemas["sirsi_optimization_policy"].ValueType()
	var sresp resource.SchemaResponse
	NewOptimizationPolicyResource().Schema(ctx, resource.SchemaRequest{}, &sresp)
	model := policyModel(b, policyFromProto(created.GetOptimizationPolicy()))
	dynamic := func(m optimizationPolicyModel) *tfprotov6.DynamicValue {
		st := tfsdk.State{Schema: sresp.Schema, Raw: tftypes.NewValue(typ, nil)}
		if d := st.Set(ctx, &m); d.HasError() {
			b.Fatal(d)
		}
		v, err := tfprotov6.NewDynamicValue(typ, st.Raw)
		if err != nil {
			b.Fatal(err)
		}
		return &v
	}
	state := dynamic(model)
	model.ID, model.Version = types.StringNull(), types.Int64Null()
	config := dynamic(model)

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rresp, err := srv.ReadResource(ctx, &tfprotov6.ReadResourceRequest{TypeName: "sirsi_optimization_policy", CurrentState: state})
		if err != nil || len(rresp.Diagnostics) > 0 {
			b.Fatalf("read: %v %v", err, rresp.Diagnostics)
		}
		vresp, err := srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "sirsi_optimization_policy", Config: config})
		if err != nil || len(vresp.Diagnostics) > 0 {
			b.Fatalf("validate: %v %v", err, vresp.Diagnostics)
		}
		presp, err := srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
			TypeName: "sirsi_optimization_policy", PriorState: rresp.NewState, ProposedNewState: rresp.NewState, Config: config,
		})
		if err != nil || len(presp.Diagnostics) > 0 {
			b.Fatalf("plan: %v %v", err, presp.Diagnostics)
		}
		if len(presp.RequiresReplace) > 0 {
			b.Fatalf("unchanged policy planned for replacement: %v", presp.RequiresReplace)
		}
	}
}
