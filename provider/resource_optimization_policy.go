package provider

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

var (
	_ resource.ResourceWithConfigure      = (*optimizationPolicyResource)(nil)
	_ resource.ResourceWithImportState    = (*optimizationPolicyResource)(nil)
	_ resource.ResourceWithValidateConfig = (*optimizationPolicyResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*optimizationPolicyResource)(nil)
)

// Defaults, bounds, enums and covered resource types all come from
// internal/policy, which the control plane applies too: a policy that
// leaves a setting out reads back exactly as planned, and a value refused
// here is refused by the server (policy_rules_test.go checks both).
var (
	defaultPolicyMode           = validation.EnumName(policy.DefaultMode)
	defaultExecution            = validation.EnumName(policy.DefaultExecution)
	defaultRightsizingStatistic = validation.EnumName(policy.DefaultStatistic)
	defaultIdleAction           = validation.EnumName(policy.DefaultIdleAction)
	defaultSavingsPlansType     = validation.EnumName(policy.DefaultSavingsPlansType)
	defaultCommitmentTerm       = validation.EnumName(policy.DefaultCommitmentTerm)
	defaultPaymentOption        = validation.EnumName(policy.DefaultPaymentOption)
)

// NewOptimizationPolicyResource is registered in the provider's resource list.
func NewOptimizationPolicyResource() resource.Resource {
	return &optimizationPolicyResource{}
}

type optimizationPolicyResource struct {
	configuredResource
}

type optimizationPolicyModel struct {
	ID               types.String `tfsdk:"id"`
	TenantID         types.String `tfsdk:"tenant_id"`
	Name             types.String `tfsdk:"name"`
	Description      types.String `tfsdk:"description"`
	Mode             types.String `tfsdk:"mode"`
	ResourceTypes    types.Set    `tfsdk:"resource_types"`
	Selector         types.Object `tfsdk:"selector"`
	Rightsizing      types.Object `tfsdk:"rightsizing"`
	Idle             types.Object `tfsdk:"idle"`
	Offhours         types.Object `tfsdk:"offhours"`
	Schedule         types.String `tfsdk:"schedule"`
	Timezone         types.String `tfsdk:"timezone"`
	MaxActionsPerRun types.Int64  `tfsdk:"max_actions_per_run"`
	Verify           types.Object `tfsdk:"verify"`
	Version          types.Int64  `tfsdk:"version"`
	DryRun           types.Bool   `tfsdk:"dry_run"`
	WindowMinutes    types.Int64  `tfsdk:"window_minutes"`
	CooldownHours    types.Int64  `tfsdk:"cooldown_hours"`
	Commitments      types.Object `tfsdk:"commitments"`
	Hibernate        types.Bool   `tfsdk:"hibernate"`
	Execution        types.String `tfsdk:"execution"`
}

type policySelectorModel struct {
	AccountIDs  types.Set `tfsdk:"account_ids"`
	Regions     types.Set `tfsdk:"regions"`
	Tags        types.Map `tfsdk:"tags"`
	ExcludeTags types.Map `tfsdk:"exclude_tags"`
}

type rightsizingModel struct {
	Statistic         types.String  `tfsdk:"statistic"`
	LookbackDays      types.Int64   `tfsdk:"lookback_days"`
	HeadroomPercent   types.Int64   `tfsdk:"headroom_percent"`
	AllowedFamilies   types.Set     `tfsdk:"allowed_families"`
	DownsizeOnly      types.Bool    `tfsdk:"downsize_only"`
	MinMonthlySavings types.Float64 `tfsdk:"min_monthly_savings"`
}

type idleModel struct {
	CPUBelowPercent         types.Float64 `tfsdk:"cpu_below_percent"`
	NetworkBelowBytesPerDay types.Int64   `tfsdk:"network_below_bytes_per_day"`
	LookbackDays            types.Int64   `tfsdk:"lookback_days"`
	Action                  types.String  `tfsdk:"action"`
}

type offhoursModel struct {
	StopCron  types.String `tfsdk:"stop_cron"`
	StartCron types.String `tfsdk:"start_cron"`
	Timezone  types.String `tfsdk:"timezone"`
	SkipDates types.Set    `tfsdk:"skip_dates"`
}

type commitmentsModel struct {
	SavingsPlansType types.String `tfsdk:"savings_plans_type"`
	Term             types.String `tfsdk:"term"`
	PaymentOption    types.String `tfsdk:"payment_option"`
}

type verifyModel struct {
	WaitMinutes       types.Int64 `tfsdk:"wait_minutes"`
	RollbackOnFailure types.Bool  `tfsdk:"rollback_on_failure"`
}

var (
	selectorAttrTypes = map[string]attr.Type{
		"account_ids":  types.SetType{ElemType: types.StringType},
		"regions":      types.SetType{ElemType: types.StringType},
		"tags":         types.MapType{ElemType: types.StringType},
		"exclude_tags": types.MapType{ElemType: types.StringType},
	}
	rightsizingAttrTypes = map[string]attr.Type{
		"statistic":           types.StringType,
		"lookback_days":       types.Int64Type,
		"headroom_percent":    types.Int64Type,
		"allowed_families":    types.SetType{ElemType: types.StringType},
		"downsize_only":       types.BoolType,
		"min_monthly_savings": types.Float64Type,
	}
	idleAttrTypes = map[string]attr.Type{
		"cpu_below_percent":           types.Float64Type,
		"network_below_bytes_per_day": types.Int64Type,
		"lookback_days":               types.Int64Type,
		"action":                      types.StringType,
	}
	offhoursAttrTypes = map[string]attr.Type{
		"stop_cron":  types.StringType,
		"start_cron": types.StringType,
		"timezone":   types.StringType,
		"skip_dates": types.SetType{ElemType: types.StringType},
	}
	commitmentsAttrTypes = map[string]attr.Type{
		"savings_plans_type": types.StringType,
		"term":               types.StringType,
		"payment_option":     types.StringType,
	}
	verifyAttrTypes = map[string]attr.Type{
		"wait_minutes":        types.Int64Type,
		"rollback_on_failure": types.BoolType,
	}
)

func defaultRightsizingObject() types.Object {
	return types.ObjectValueMust(rightsizingAttrTypes, map[string]attr.Value{
		"statistic":           types.StringValue(defaultRightsizingStatistic),
		"lookback_days":       types.Int64Value(policy.DefaultLookbackDays),
		"headroom_percent":    types.Int64Value(policy.DefaultHeadroomPercent),
		"allowed_families":    types.SetNull(types.StringType),
		"downsize_only":       types.BoolValue(policy.DefaultDownsizeOnly),
		"min_monthly_savings": types.Float64Value(0),
	})
}

func defaultCommitmentsObject() types.Object {
	return types.ObjectValueMust(commitmentsAttrTypes, map[string]attr.Value{
		"savings_plans_type": types.StringValue(defaultSavingsPlansType),
		"term":               types.StringValue(defaultCommitmentTerm),
		"payment_option":     types.StringValue(defaultPaymentOption),
	})
}

func defaultVerifyObject() types.Object {
	return types.ObjectValueMust(verifyAttrTypes, map[string]attr.Value{
		"wait_minutes":        types.Int64Value(policy.DefaultVerifyWaitMinutes),
		"rollback_on_failure": types.BoolValue(policy.DefaultRollbackOnFailure),
	})
}

func (r *optimizationPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_optimization_policy"
}

func (r *optimizationPolicyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "An optimization policy tells the agents of a tenant *what* they may optimize " +
			"(resource types and a selector), *how* (right-sizing, idle and off-hours rules) and *when* " +
			"(a cron `schedule` in a `timezone`), and how careful to be (`mode`, `max_actions_per_run`, `verify`).\n\n" +
			"Nested settings are nested attributes (`rightsizing = { ... }`). Leaving `rightsizing` or `verify` out " +
			"applies their documented defaults; leaving `selector`, `idle` or `offhours` out disables them.\n\n" +
			"A change made outside Terraform since the last refresh is not overwritten: updates carry the `version` " +
			"Terraform last read, and the control plane refuses a stale one.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Identifier of the policy, assigned by the control plane.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"tenant_id": tenantIDAttribute("optimization policy"),
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the policy, unique in the tenant: lowercase letters, digits and `-`, 2 to 63 characters, starting with a letter. Renaming is an in-place update.",
				Required:            true,
				Validators:          []validator.String{slugValidator()},
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "Free text shown next to the policy's recommendations and actions.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1), descriptionValidator()},
			},
			"mode": schema.StringAttribute{
				MarkdownDescription: "`recommend` only produces recommendations; `approve` acts on recommendations once approved; `auto` acts inside the `schedule` without approval. Defaults to `recommend`.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(defaultPolicyMode),
				Validators:          []validator.String{stringvalidator.OneOf(policy.ModeNames()...)},
			},
			"execution": schema.StringAttribute{
				MarkdownDescription: "Who carries out the policy's right-sizing (`resize` of instances and DB classes, `set_memory` of functions): " +
					"`agent`, in the policy's `mode` and `schedule`; or `terraform`: the agent never acts on these recommendations, the " +
					"configuration takes the size from `sirsi_recommended_size` and the pipeline applies it, and the control plane closes a " +
					"recommendation as executed (`executed_by = \"external\"`) and credits its saving when inventory shows the new size. " +
					"Other actions (idle stops, off-hours, volumes) stay the agent's. Defaults to `" + defaultExecution + "`.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(defaultExecution),
				Validators: []validator.String{stringvalidator.OneOf(policy.ExecutionNames()...)},
			},
			"resource_types": schema.SetAttribute{
				MarkdownDescription: "Resource types the policy covers: " + markdownList(policy.ResourceTypes) + ".",
				ElementType:         types.StringType,
				Required:            true,
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(stringvalidator.OneOf(policy.ResourceTypes...)),
				},
			},
			"selector": schema.SingleNestedAttribute{
				MarkdownDescription: "Which resources the policy applies to. Every given criterion must match; leaving the selector out selects every resource of the covered types.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"account_ids": schema.SetAttribute{
						MarkdownDescription: "12-digit AWS account ids.",
						ElementType:         types.StringType,
						Optional:            true,
						Validators: []validator.Set{
							setvalidator.SizeAtLeast(1),
							setvalidator.ValueStringsAre(accountIDValidator()),
						},
					},
					"regions": schema.SetAttribute{
						MarkdownDescription: "AWS regions, such as `eu-west-1`.",
						ElementType:         types.StringType,
						Optional:            true,
						Validators: []validator.Set{
							setvalidator.SizeAtLeast(1),
							setvalidator.ValueStringsAre(regionValidator()),
						},
					},
					"tags": schema.MapAttribute{
						MarkdownDescription: "Tags a resource must carry, every one of them.",
						ElementType:         types.StringType,
						Optional:            true,
						Validators:          []validator.Map{mapvalidator.SizeAtLeast(1), tagMapValidator()},
					},
					"exclude_tags": schema.MapAttribute{
						MarkdownDescription: "A resource carrying any of these tags is never touched. The value `*` matches any value of the key. " +
							"Its recommendations are still reported, with `skip_reason = \"excluded\"` in `sirsi_recommendations`, so that what the exclusion leaves on the table stays visible.",
						ElementType: types.StringType,
						Optional:    true,
						Validators:  []validator.Map{mapvalidator.SizeAtLeast(1), excludeTagMapValidator()},
					},
				},
			},
			"rightsizing": schema.SingleNestedAttribute{
				MarkdownDescription: "Right-sizing settings. Left out, every setting takes its default.",
				Optional:            true,
				Computed:            true,
				Default:             objectdefault.StaticValue(defaultRightsizingObject()),
				Attributes: map[string]schema.Attribute{
					"statistic": schema.StringAttribute{
						MarkdownDescription: "Utilisation statistic a size must cover: `p95`, `p99` or `max`. Defaults to `p95`.",
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString(defaultRightsizingStatistic),
						Validators:          []validator.String{stringvalidator.OneOf(policy.StatisticNames()...)},
					},
					"lookback_days": schema.Int64Attribute{
						MarkdownDescription: fmt.Sprintf("Days of utilisation history to look at, %d to %d (CloudWatch keeps 5-minute data for 63 days and hourly data for 455). Defaults to %d.", policy.MinLookbackDays, policy.MaxLookbackDays, policy.DefaultLookbackDays),
						Optional:            true,
						Computed:            true,
						Default:             int64default.StaticInt64(policy.DefaultLookbackDays),
						Validators:          []validator.Int64{int64validator.Between(policy.MinLookbackDays, policy.MaxLookbackDays)},
					},
					"headroom_percent": schema.Int64Attribute{
						MarkdownDescription: fmt.Sprintf("Capacity kept free above the statistic, 0 to %d percent. Defaults to %d.", policy.MaxPercent, policy.DefaultHeadroomPercent),
						Optional:            true,
						Computed:            true,
						Default:             int64default.StaticInt64(policy.DefaultHeadroomPercent),
						Validators:          []validator.Int64{int64validator.Between(0, policy.MaxPercent)},
					},
					"allowed_families": schema.SetAttribute{
						MarkdownDescription: "Instance families a new size may come from (`m6i`, `t3`, `db.r6g`). Left out, any family of the same architecture.",
						ElementType:         types.StringType,
						Optional:            true,
						Validators: []validator.Set{
							setvalidator.SizeAtLeast(1),
							setvalidator.ValueStringsAre(instanceFamilyValidator()),
						},
					},
					"downsize_only": schema.BoolAttribute{
						MarkdownDescription: fmt.Sprintf("Only ever propose smaller sizes. Defaults to `%t`.", policy.DefaultDownsizeOnly),
						Optional:            true,
						Computed:            true,
						Default:             booldefault.StaticBool(policy.DefaultDownsizeOnly),
					},
					"min_monthly_savings": schema.Float64Attribute{
						MarkdownDescription: "Smallest monthly saving, in US dollars (the currency of AWS prices), worth a recommendation. Defaults to 0.",
						Optional:            true,
						Computed:            true,
						Default:             float64default.StaticFloat64(0),
						Validators:          []validator.Float64{float64validator.Between(0, money.MaxUnits)},
					},
				},
			},
			"idle": schema.SingleNestedAttribute{
				MarkdownDescription: "Idle detection: a resource below both thresholds for the whole lookback is idle. Left out, idle detection is off.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"cpu_below_percent": schema.Float64Attribute{
						MarkdownDescription: fmt.Sprintf("Average CPU utilisation, 0 to %d percent, under which a resource counts as idle.", policy.MaxPercent),
						Required:            true,
						Validators:          []validator.Float64{float64validator.Between(0, policy.MaxPercent)},
					},
					"network_below_bytes_per_day": schema.Int64Attribute{
						MarkdownDescription: fmt.Sprintf("Network traffic (in plus out) per day under which a resource counts as idle. Defaults to %d MiB (%d).", policy.DefaultIdleNetworkBytesPerDay>>20, policy.DefaultIdleNetworkBytesPerDay),
						Optional:            true,
						Computed:            true,
						Default:             int64default.StaticInt64(policy.DefaultIdleNetworkBytesPerDay),
						Validators:          []validator.Int64{int64validator.Between(0, policy.MaxIdleNetworkBytesPerDay)},
					},
					"lookback_days": schema.Int64Attribute{
						MarkdownDescription: fmt.Sprintf("Days a resource must stay idle, %d to %d. Defaults to %d.", policy.MinLookbackDays, policy.MaxLookbackDays, policy.DefaultIdleLookbackDays),
						Optional:            true,
						Computed:            true,
						Default:             int64default.StaticInt64(policy.DefaultIdleLookbackDays),
						Validators:          []validator.Int64{int64validator.Between(policy.MinLookbackDays, policy.MaxLookbackDays)},
					},
					"action": schema.StringAttribute{
						MarkdownDescription: "`stop` stops idle resources (within `mode` and `schedule`); `recommend` only recommends it. Defaults to `recommend`.",
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString(defaultIdleAction),
						Validators:          []validator.String{stringvalidator.OneOf(policy.IdleActionNames()...)},
					},
				},
			},
			"offhours": schema.SingleNestedAttribute{
				MarkdownDescription: "Stops resources outside working hours and starts them again. Left out, off-hours scheduling is off.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"stop_cron": schema.StringAttribute{
						MarkdownDescription: "Five-field cron expression for when resources are stopped, such as `0 19 * * 1-5`. Left out, the schedule only starts resources.",
						Optional:            true,
						Validators: []validator.String{cronValidator(),
							stringvalidator.AtLeastOneOf(path.MatchRelative().AtParent().AtName("start_cron"))},
					},
					"start_cron": schema.StringAttribute{
						MarkdownDescription: "Five-field cron expression for when resources are started again, such as `0 7 * * 1-5`. Left out, the schedule only stops resources.",
						Optional:            true,
						Validators:          []validator.String{cronValidator()},
					},
					"timezone": schema.StringAttribute{
						MarkdownDescription: "IANA time zone of the two cron expressions and of `skip_dates`. Defaults to the policy's `timezone`.",
						Optional:            true,
						Computed:            true,
						Validators:          []validator.String{timezoneValidator()},
					},
					"skip_dates": schema.SetAttribute{
						MarkdownDescription: "Dates (`YYYY-MM-DD`, in `timezone`) on which neither cron fires, such as public holidays.",
						ElementType:         types.StringType,
						Optional:            true,
						Validators: []validator.Set{
							setvalidator.SizeAtLeast(1),
							setvalidator.ValueStringsAre(dateValidator()),
						},
					},
				},
			},
			"schedule": schema.StringAttribute{
				MarkdownDescription: "Five-field cron expression (or a descriptor such as `@weekly`) for when actions may start, such as `0 2 * * 6`. Required when `mode` is `approve` or `auto`: actions only run inside the schedule's windows.",
				Optional:            true,
				Validators:          []validator.String{cronValidator()},
			},
			"timezone": schema.StringAttribute{
				MarkdownDescription: "IANA time zone of `schedule`, such as `Europe/Berlin`. Defaults to `" + policy.DefaultTimezone + "`.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(policy.DefaultTimezone),
				Validators:          []validator.String{timezoneValidator()},
			},
			"max_actions_per_run": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Most actions one scheduled run may take, 0 to %d; 0 means recommend only. Defaults to %d.", policy.MaxActionsPerRun, policy.DefaultMaxActionsPerRun),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(policy.DefaultMaxActionsPerRun),
				Validators:          []validator.Int64{int64validator.Between(0, policy.MaxActionsPerRun)},
			},
			"verify": schema.SingleNestedAttribute{
				MarkdownDescription: "Health verification after each action. Left out, every setting takes its default.",
				Optional:            true,
				Computed:            true,
				Default:             objectdefault.StaticValue(defaultVerifyObject()),
				Attributes: map[string]schema.Attribute{
					"wait_minutes": schema.Int64Attribute{
						MarkdownDescription: fmt.Sprintf("Minutes to watch a changed resource's health before the action counts as succeeded, 0 to %d. Defaults to %d.", policy.MaxVerifyWaitMinutes, policy.DefaultVerifyWaitMinutes),
						Optional:            true,
						Computed:            true,
						Default:             int64default.StaticInt64(policy.DefaultVerifyWaitMinutes),
						Validators:          []validator.Int64{int64validator.Between(0, policy.MaxVerifyWaitMinutes)},
					},
					"rollback_on_failure": schema.BoolAttribute{
						MarkdownDescription: fmt.Sprintf("Restore the previous size or state when verification fails. Defaults to `%t`.", policy.DefaultRollbackOnFailure),
						Optional:            true,
						Computed:            true,
						Default:             booldefault.StaticBool(policy.DefaultRollbackOnFailure),
					},
				},
			},
			"commitments": schema.SingleNestedAttribute{
				MarkdownDescription: "What the commitment suggestions are for. The agent asks Cost Explorer for a Savings Plans purchase recommendation " +
					"(EC2 spend) and a reserved-instance purchase recommendation (RDS) with this term and payment option; both are net of the " +
					"Savings Plans and reservations the account already has. Where Cost Explorer cannot answer (not enabled, or the role may not " +
					"call it), a Savings Plans estimate from list prices takes its place, labelled as a fallback in its evidence. Suggestions are " +
					"read-only: nothing buys a commitment. Left out, every setting takes its default.",
				Optional: true,
				Computed: true,
				Default:  objectdefault.StaticValue(defaultCommitmentsObject()),
				Attributes: map[string]schema.Attribute{
					"savings_plans_type": schema.StringAttribute{
						MarkdownDescription: "`compute` (any instance family and region) or `ec2_instance` (one family in one region, a deeper discount). Defaults to `" + defaultSavingsPlansType + "`.",
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString(defaultSavingsPlansType),
						Validators:          []validator.String{stringvalidator.OneOf(policy.SavingsPlansTypeNames()...)},
					},
					"term": schema.StringAttribute{
						MarkdownDescription: "`one_year` or `three_years`. Defaults to `" + defaultCommitmentTerm + "`.",
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString(defaultCommitmentTerm),
						Validators:          []validator.String{stringvalidator.OneOf(policy.CommitmentTermNames()...)},
					},
					"payment_option": schema.StringAttribute{
						MarkdownDescription: "`no_upfront`, `partial_upfront` or `all_upfront`. Defaults to `" + defaultPaymentOption + "`.",
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString(defaultPaymentOption),
						Validators:          []validator.String{stringvalidator.OneOf(policy.PaymentOptionNames()...)},
					},
				},
			},
			"dry_run": schema.BoolAttribute{
				MarkdownDescription: "In `auto` mode, plan each run and save the plan instead of acting: the saved plan lists exactly the actions the run would take, and `sirsi_action_plan_approval` approves it, after which the agent executes those actions and nothing else. `approve` mode always saves its plan. Defaults to `false`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
			"hibernate": schema.BoolAttribute{
				MarkdownDescription: fmt.Sprintf("Idle stops and off-hours stops hibernate an instance enabled for hibernation at launch (`HibernationOptions.Configured`) instead of stopping it, so its memory survives; other instances are stopped as usual. A resize always stops. Defaults to `%t`.", policy.DefaultHibernate),
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(policy.DefaultHibernate),
			},
			"window_minutes": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("How long after each `schedule` firing actions may still start, %d to %d minutes. Defaults to %d.", policy.MinWindowMinutes, policy.MaxWindowMinutes, policy.DefaultWindowMinutes),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(policy.DefaultWindowMinutes),
				Validators:          []validator.Int64{int64validator.Between(policy.MinWindowMinutes, policy.MaxWindowMinutes)},
			},
			"cooldown_hours": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("No second action on one resource within this many hours of the previous one, 0 to %d. Defaults to %d.", policy.MaxCooldownHours, policy.DefaultCooldownHours),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(policy.DefaultCooldownHours),
				Validators:          []validator.Int64{int64validator.Between(0, policy.MaxCooldownHours)},
			},
			"version": schema.Int64Attribute{
				MarkdownDescription: "Version of the policy, incremented on every change. Updates carry it, so a change made by someone else since the last refresh is refused instead of overwritten.",
				Computed:            true,
			},
		},
	}
}

func (r *optimizationPolicyResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	if req.Config.Raw.IsNull() || !req.Config.Raw.IsKnown() {
		return
	}
	mode, diags := rawStringAttribute(ctx, req.Config.Raw, "mode")
	resp.Diagnostics.Append(diags...)
	schedule, diags := rawStringAttribute(ctx, req.Config.Raw, "schedule")
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() || mode.IsUnknown() || schedule.IsUnknown() {
		return
	}
	m := mode.ValueString()
	if m == "" {
		m = defaultPolicyMode
	}
	n, err := validation.ParseEnum(sirsiv1.PolicyMode(0).Descriptor(), m)
	if err != nil {
		// The attribute's own validator reports it.
		return
	}
	if err := policy.ScheduleRule(sirsiv1.PolicyMode(n), !schedule.IsNull()); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("schedule"), "Missing schedule", "schedule "+err.Error()+".")
	}
}

// ModifyPlan shows the provider's default tenant in the plan of a new
// policy that leaves tenant_id out.
func (r *optimizationPolicyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	planTenantID(ctx, r.client, req, resp)
	if req.Plan.Raw.IsNull() {
		return
	}
	planOffhoursTimezone(ctx, req, resp)
}

// planOffhoursTimezone plans the policy's timezone for an off-hours timezone
// left out of the configuration, which is what the control plane stores.
func planOffhoursTimezone(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	// Most policies have no off-hours: decide that from the raw plan
	// (rawvalue.go says why).
	if offhours, err := rawAttribute(resp.Plan.Raw, "offhours"); err != nil || offhours.IsNull() || !offhours.IsKnown() {
		return
	}
	tzPath := path.Root("offhours").AtName("timezone")
	var planned, configured, policyTZ types.String
	resp.Diagnostics.Append(resp.Plan.GetAttribute(ctx, tzPath, &planned)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, tzPath, &configured)...)
	resp.Diagnostics.Append(resp.Plan.GetAttribute(ctx, path.Root("timezone"), &policyTZ)...)
	if resp.Diagnostics.HasError() || !planned.IsUnknown() || !configured.IsNull() || policyTZ.IsUnknown() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, tzPath, policyTZ)...)
}

func (r *optimizationPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan optimizationPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenantID, err := r.client.TenantID(plan.TenantID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), "No tenant for the optimization policy", err.Error())
		return
	}
	policy, diags := policyToProto(ctx, plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	policy.TenantId = tenantID
	out, err := r.client.Management.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: policy})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Creating optimization policy "+plan.Name.ValueString(), err))
		return
	}
	resp.State.Raw = policyFromProto(out.GetOptimizationPolicy())
}

func (r *optimizationPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	// Only the two ids are needed, read straight from the state's value
	// (rawvalue.go says why).
	id, diags := rawStringAttribute(ctx, req.State.Raw, "id")
	resp.Diagnostics.Append(diags...)
	tenantID, diags := rawStringAttribute(ctx, req.State.Raw, "tenant_id")
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := r.client.Management.GetOptimizationPolicy(ctx, &sirsiv1.GetOptimizationPolicyRequest{
		TenantId: tenantID.ValueString(),
		Id:       id.ValueString(),
	})
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Reading optimization policy "+id.ValueString(), err))
		return
	}
	resp.State.Raw = policyFromProto(out.GetOptimizationPolicy())
}

func (r *optimizationPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan, state optimizationPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	policy, diags := policyToProto(ctx, plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	policy.Id = state.ID.ValueString()
	policy.TenantId = state.TenantID.ValueString()
	policy.Version = state.Version.ValueInt64()
	out, err := r.client.Management.UpdateOptimizationPolicy(ctx, &sirsiv1.UpdateOptimizationPolicyRequest{OptimizationPolicy: policy})
	if err != nil {
		resp.Diagnostics.Append(writeFailure("Updating", "optimization policy", state.ID.ValueString(), err))
		return
	}
	resp.State.Raw = policyFromProto(out.GetOptimizationPolicy())
}

func (r *optimizationPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var state optimizationPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, err := r.client.Management.DeleteOptimizationPolicy(ctx, &sirsiv1.DeleteOptimizationPolicyRequest{
		TenantId: state.TenantID.ValueString(),
		Id:       state.ID.ValueString(),
		Version:  state.Version.ValueInt64(),
	})
	if err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.Append(writeFailure("Deleting", "optimization policy", state.ID.ValueString(), err))
	}
}

// ImportState accepts "tenant_id/id", or a bare id when the provider has a
// default tenant.
func (r *optimizationPolicyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantScoped(ctx, r.client, "sirsi_optimization_policy", req, resp)
}

func policyToProto(ctx context.Context, m optimizationPolicyModel) (*sirsiv1.OptimizationPolicy, diag.Diagnostics) {
	var diags diag.Diagnostics
	p := &sirsiv1.OptimizationPolicy{
		Id:          m.ID.ValueString(),
		TenantId:    m.TenantID.ValueString(),
		Name:        m.Name.ValueString(),
		Description: m.Description.ValueString(),
		Mode:        sirsiv1.PolicyMode(parseEnum(sirsiv1.PolicyMode(0).Descriptor(), m.Mode)),
		Schedule:    m.Schedule.ValueString(),
		Timezone:    m.Timezone.ValueString(),
		Version:     m.Version.ValueInt64(),
		DryRun:      m.DryRun.ValueBool(),
		Hibernate:   m.Hibernate.ValueBool(),
		Execution:   sirsiv1.Execution(parseEnum(sirsiv1.Execution(0).Descriptor(), m.Execution)),
	}
	if !m.WindowMinutes.IsNull() && !m.WindowMinutes.IsUnknown() {
		n := int32(m.WindowMinutes.ValueInt64())
		p.WindowMinutes = &n
	}
	if !m.CooldownHours.IsNull() && !m.CooldownHours.IsUnknown() {
		n := int32(m.CooldownHours.ValueInt64())
		p.CooldownHours = &n
	}
	diags.Append(m.ResourceTypes.ElementsAs(ctx, &p.ResourceTypes, false)...)
	sort.Strings(p.ResourceTypes)
	if !m.MaxActionsPerRun.IsNull() && !m.MaxActionsPerRun.IsUnknown() {
		n := int32(m.MaxActionsPerRun.ValueInt64())
		p.MaxActionsPerRun = &n
	}

	if !m.Selector.IsNull() && !m.Selector.IsUnknown() {
		var s policySelectorModel
		diags.Append(m.Selector.As(ctx, &s, basetypes.ObjectAsOptions{})...)
		p.Selector = &sirsiv1.PolicySelector{}
		diags.Append(s.AccountIDs.ElementsAs(ctx, &p.Selector.AccountIds, false)...)
		diags.Append(s.Regions.ElementsAs(ctx, &p.Selector.Regions, false)...)
		diags.Append(s.Tags.ElementsAs(ctx, &p.Selector.Tags, false)...)
		diags.Append(s.ExcludeTags.ElementsAs(ctx, &p.Selector.ExcludeTags, false)...)
		sort.Strings(p.Selector.AccountIds)
		sort.Strings(p.Selector.Regions)
	}
	if !m.Rightsizing.IsNull() && !m.Rightsizing.IsUnknown() {
		var rs rightsizingModel
		diags.Append(m.Rightsizing.As(ctx, &rs, basetypes.ObjectAsOptions{})...)
		p.Rightsizing = &sirsiv1.RightsizingSettings{
			Statistic:         sirsiv1.Statistic(parseEnum(sirsiv1.Statistic(0).Descriptor(), rs.Statistic)),
			LookbackDays:      int32(rs.LookbackDays.ValueInt64()),
			HeadroomPercent:   int32(rs.HeadroomPercent.ValueInt64()),
			DownsizeOnly:      rs.DownsizeOnly.ValueBool(),
			MinMonthlySavings: moneyFromAttr(rs.MinMonthlySavings),
		}
		diags.Append(rs.AllowedFamilies.ElementsAs(ctx, &p.Rightsizing.AllowedFamilies, false)...)
		sort.Strings(p.Rightsizing.AllowedFamilies)
	}
	if !m.Idle.IsNull() && !m.Idle.IsUnknown() {
		var im idleModel
		diags.Append(m.Idle.As(ctx, &im, basetypes.ObjectAsOptions{})...)
		p.Idle = &sirsiv1.IdleSettings{
			CpuBelowPercent:         im.CPUBelowPercent.ValueFloat64(),
			NetworkBelowBytesPerDay: im.NetworkBelowBytesPerDay.ValueInt64(),
			LookbackDays:            int32(im.LookbackDays.ValueInt64()),
			Action:                  sirsiv1.IdleAction(parseEnum(sirsiv1.IdleAction(0).Descriptor(), im.Action)),
		}
	}
	if !m.Offhours.IsNull() && !m.Offhours.IsUnknown() {
		var oh offhoursModel
		diags.Append(m.Offhours.As(ctx, &oh, basetypes.ObjectAsOptions{})...)
		p.Offhours = &sirsiv1.OffHoursSettings{
			StopCron:  oh.StopCron.ValueString(),
			StartCron: oh.StartCron.ValueString(),
			Timezone:  oh.Timezone.ValueString(),
		}
		diags.Append(oh.SkipDates.ElementsAs(ctx, &p.Offhours.SkipDates, false)...)
		sort.Strings(p.Offhours.SkipDates)
	}
	if !m.Verify.IsNull() && !m.Verify.IsUnknown() {
		var v verifyModel
		diags.Append(m.Verify.As(ctx, &v, basetypes.ObjectAsOptions{})...)
		p.Verify = &sirsiv1.VerifySettings{WaitMinutes: int32(v.WaitMinutes.ValueInt64())}
		if !v.RollbackOnFailure.IsNull() && !v.RollbackOnFailure.IsUnknown() {
			rb := v.RollbackOnFailure.ValueBool()
			p.Verify.RollbackOnFailure = &rb
		}
	}
	if !m.Commitments.IsNull() && !m.Commitments.IsUnknown() {
		var c commitmentsModel
		diags.Append(m.Commitments.As(ctx, &c, basetypes.ObjectAsOptions{})...)
		p.Commitments = &sirsiv1.CommitmentSettings{
			SavingsPlansType: sirsiv1.SavingsPlansType(parseEnum(sirsiv1.SavingsPlansType(0).Descriptor(), c.SavingsPlansType)),
			Term:             sirsiv1.CommitmentTerm(parseEnum(sirsiv1.CommitmentTerm(0).Descriptor(), c.Term)),
			PaymentOption:    sirsiv1.PaymentOption(parseEnum(sirsiv1.PaymentOption(0).Descriptor(), c.PaymentOption)),
		}
	}
	return p, diags
}

// policyStateType is the Terraform type of the policy's state, from its
// schema.
var policyStateType = sync.OnceValue(func() tftypes.Object {
	var resp resource.SchemaResponse
	(&optimizationPolicyResource{}).Schema(context.Background(), resource.SchemaRequest{}, &resp)
	return resp.Schema.Type().TerraformType(context.Background()).(tftypes.Object)
})

// policyFromProto maps what the control plane returns to the policy's
// state. Empty repeated fields and maps become null, matching
// configurations that leave them out (the schema refuses empty sets and
// maps, so the two never differ). The value is built directly rather than
// through a model and State.Set: every refresh runs this, and the
// framework's reflection cost more than the rest of Read (rawvalue.go).
func policyFromProto(p *sirsiv1.OptimizationPolicy) tftypes.Value {
	typ := policyStateType()
	object := func(name string, attrs map[string]tftypes.Value) tftypes.Value {
		if attrs == nil {
			return tftypes.NewValue(typ.AttributeTypes[name], nil)
		}
		return tftypes.NewValue(typ.AttributeTypes[name], attrs)
	}
	// Unset optional counts mean the server applied the schema's default.
	count := func(v *int32, def int64) tftypes.Value {
		if v == nil {
			return tfInt(def)
		}
		return tfInt(int64(*v))
	}
	timezone := orDefault(p.GetTimezone(), policy.DefaultTimezone)

	var selector map[string]tftypes.Value
	if s := p.GetSelector(); s != nil && (len(s.GetAccountIds())+len(s.GetRegions())+len(s.GetTags())+len(s.GetExcludeTags())) > 0 {
		selector = map[string]tftypes.Value{
			"account_ids":  tfStringSet(s.GetAccountIds()),
			"regions":      tfStringSet(s.GetRegions()),
			"tags":         tfStringMap(s.GetTags()),
			"exclude_tags": tfStringMap(s.GetExcludeTags()),
		}
	}
	var rightsizing map[string]tftypes.Value
	if rs := p.GetRightsizing(); rs != nil {
		rightsizing = map[string]tftypes.Value{
			"statistic":           tfString(orDefault(validation.EnumName(rs.GetStatistic()), defaultRightsizingStatistic)),
			"lookback_days":       tfInt(int64(rs.GetLookbackDays())),
			"headroom_percent":    tfInt(int64(rs.GetHeadroomPercent())),
			"allowed_families":    tfStringSet(rs.GetAllowedFamilies()),
			"downsize_only":       tfBool(rs.GetDownsizeOnly()),
			"min_monthly_savings": tfFloat(money.FloatOr(rs.GetMinMonthlySavings(), 0)),
		}
	}
	var idle map[string]tftypes.Value
	if im := p.GetIdle(); im != nil {
		idle = map[string]tftypes.Value{
			"cpu_below_percent":           tfFloat(im.GetCpuBelowPercent()),
			"network_below_bytes_per_day": tfInt(im.GetNetworkBelowBytesPerDay()),
			"lookback_days":               tfInt(int64(im.GetLookbackDays())),
			"action":                      tfString(orDefault(validation.EnumName(im.GetAction()), defaultIdleAction)),
		}
	}
	var offhours map[string]tftypes.Value
	if oh := p.GetOffhours(); oh != nil && (oh.GetStopCron() != "" || oh.GetStartCron() != "") {
		offhours = map[string]tftypes.Value{
			"stop_cron":  tfOptionalString(oh.GetStopCron()),
			"start_cron": tfOptionalString(oh.GetStartCron()),
			"timezone":   tfString(orDefault(oh.GetTimezone(), timezone)),
			"skip_dates": tfStringSet(oh.GetSkipDates()),
		}
	}
	verify := map[string]tftypes.Value{
		"wait_minutes":        tfInt(policy.DefaultVerifyWaitMinutes),
		"rollback_on_failure": tfBool(policy.DefaultRollbackOnFailure),
	}
	if v := p.GetVerify(); v != nil {
		verify["wait_minutes"] = tfInt(int64(v.GetWaitMinutes()))
		if v.RollbackOnFailure != nil {
			verify["rollback_on_failure"] = tfBool(v.GetRollbackOnFailure())
		}
	}
	// An unset block or field is the default, read as the agent reads it.
	c := policy.Commitments(p)
	commitments := map[string]tftypes.Value{
		"savings_plans_type": tfString(validation.EnumName(c.GetSavingsPlansType())),
		"term":               tfString(validation.EnumName(c.GetTerm())),
		"payment_option":     tfString(validation.EnumName(c.GetPaymentOption())),
	}

	return tftypes.NewValue(typ, map[string]tftypes.Value{
		"id":                  tfString(p.GetId()),
		"tenant_id":           tfString(p.GetTenantId()),
		"name":                tfString(p.GetName()),
		"description":         tfOptionalString(p.GetDescription()),
		"mode":                tfString(orDefault(validation.EnumName(p.GetMode()), defaultPolicyMode)),
		"resource_types":      tfStringSet(p.GetResourceTypes()),
		"selector":            object("selector", selector),
		"rightsizing":         object("rightsizing", rightsizing),
		"idle":                object("idle", idle),
		"offhours":            object("offhours", offhours),
		"schedule":            tfOptionalString(p.GetSchedule()),
		"timezone":            tfString(timezone),
		"max_actions_per_run": count(p.MaxActionsPerRun, policy.DefaultMaxActionsPerRun),
		"verify":              object("verify", verify),
		"version":             tfInt(p.GetVersion()),
		"dry_run":             tfBool(p.GetDryRun()),
		"window_minutes":      count(p.WindowMinutes, policy.DefaultWindowMinutes),
		"cooldown_hours":      count(p.CooldownHours, policy.DefaultCooldownHours),
		"commitments":         object("commitments", commitments),
		"hibernate":           tfBool(p.GetHibernate()),
		"execution":           tfString(orDefault(validation.EnumName(p.GetExecution()), defaultExecution)),
	})
}
