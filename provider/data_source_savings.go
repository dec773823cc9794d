package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

var _ datasource.DataSourceWithConfigure = (*savingsDataSource)(nil)

// NewSavingsDataSource is registered in the provider's data source list.
func NewSavingsDataSource() datasource.DataSource {
	return &savingsDataSource{}
}

type savingsDataSource struct {
	configuredDataSource
}

type savingsModel struct {
	TenantID          types.String           `tfsdk:"tenant_id"`
	AsOf              types.String           `tfsdk:"as_of"`
	ActionsTaken      types.Int64            `tfsdk:"actions_taken"`
	ActionsSucceeded  types.Int64            `tfsdk:"actions_succeeded"`
	ActionsRolledBack types.Int64            `tfsdk:"actions_rolled_back"`
	ActionsFailed     types.Int64            `tfsdk:"actions_failed"`
	ToDate            *savingsPeriodModel    `tfsdk:"to_date"`
	Last30Days        *savingsPeriodModel    `tfsdk:"last_30_days"`
	ThisMonth         *savingsPeriodModel    `tfsdk:"this_month"`
	AnnualizedRunRate types.Float64          `tfsdk:"annualized_run_rate"`
	MonthlyRunRate    types.Float64          `tfsdk:"monthly_run_rate"`
	OpenEntries       types.Int64            `tfsdk:"open_entries"`
	UnknownEntries    types.Int64            `tfsdk:"unknown_entries"`
	VerifiedEntries   types.Int64            `tfsdk:"verified_entries"`
	EstimateReasons   map[string]types.Int64 `tfsdk:"estimate_reasons"`
	Currency          types.String           `tfsdk:"currency"`
}

type savingsPeriodModel struct {
	Start            types.String             `tfsdk:"start"`
	End              types.String             `tfsdk:"end"`
	AccruedSavings   types.Float64            `tfsdk:"accrued_savings"`
	VerifiedSavings  types.Float64            `tfsdk:"verified_savings"`
	EstimatedSavings types.Float64            `tfsdk:"estimated_savings"`
	ByActionType     map[string]types.Float64 `tfsdk:"by_action_type"`
	ByPolicy         map[string]types.Float64 `tfsdk:"by_policy"`
	ByCloudAccount   map[string]types.Float64 `tfsdk:"by_cloud_account"`
}

func (d *savingsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_savings"
}

// savingsPeriodAttribute describes one accrual period; what differs is
// which period it is.
func savingsPeriodAttribute(which string) schema.SingleNestedAttribute {
	amounts := func(by string) schema.MapAttribute {
		return schema.MapAttribute{
			MarkdownDescription: "`accrued_savings` by " + by + ", rounded to cents; keys with nothing accrued are left out.",
			ElementType:         types.Float64Type,
			Computed:            true,
		}
	}
	return schema.SingleNestedAttribute{
		MarkdownDescription: "Savings accrued " + which + ".",
		Computed:            true,
		Attributes: map[string]schema.Attribute{
			"start": schema.StringAttribute{MarkdownDescription: "Start of the period (RFC 3339, UTC).", Computed: true},
			"end":   schema.StringAttribute{MarkdownDescription: "End of the period, exclusive: `as_of`.", Computed: true},
			"accrued_savings": schema.Float64Attribute{
				MarkdownDescription: "Sum over the ledger entries of the hours each was in effect within the period x its hourly saving (its Cost Explorer reconciled saving when verified), exact until rounded here to cents.",
				Computed:            true,
			},
			"verified_savings": schema.Float64Attribute{
				MarkdownDescription: "The part of `accrued_savings` from entries Cost Explorer verified from the bill (the resource's daily cost before and after the change), rounded to cents.",
				Computed:            true,
			},
			"estimated_savings": schema.Float64Attribute{
				MarkdownDescription: "The rest of `accrued_savings`: entries still at the hourly costs priced when the action ran (`estimate_reasons` says why), rounded to cents.",
				Computed:            true,
			},
			"by_action_type":   amounts("the action that opened the entry (`resize`, `stop`, `migrate_gp3`...)"),
			"by_policy":        amounts("policy id"),
			"by_cloud_account": amounts("cloud account id"),
		},
	}
}

func (d *savingsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Realised savings from the savings ledger. Each executed action that changed a resource's hourly cost " +
			"opened an entry with the hourly cost before and after, priced when it acted; the entry accrues the difference for every " +
			"hour it is in effect and closes when the resource is changed again (the next action on it, an off-hours start, or an " +
			"inventory sweep that finds another size or state, or the resource gone). A rolled-back action accrues nothing.",
		Attributes: map[string]schema.Attribute{
			"tenant_id": schema.StringAttribute{
				MarkdownDescription: "Tenant to summarise. Defaults to the provider's `tenant_id`.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"as_of": schema.StringAttribute{
				MarkdownDescription: "The control plane's time the periods end at and the run-rates are taken at (RFC 3339, UTC).",
				Computed:            true,
			},
			"actions_taken": schema.Int64Attribute{
				MarkdownDescription: "Actions executed, of all time (dry runs excluded).",
				Computed:            true,
			},
			"actions_succeeded": schema.Int64Attribute{
				MarkdownDescription: "Actions that passed verification.",
				Computed:            true,
			},
			"actions_rolled_back": schema.Int64Attribute{
				MarkdownDescription: "Actions undone because verification failed.",
				Computed:            true,
			},
			"actions_failed": schema.Int64Attribute{
				MarkdownDescription: "Actions that failed.",
				Computed:            true,
			},
			"to_date":      savingsPeriodAttribute("since the first ledger entry"),
			"last_30_days": savingsPeriodAttribute("in the 30 days (720 hours) before `as_of`"),
			"this_month":   savingsPeriodAttribute("since 00:00 UTC on the first of `as_of`'s month"),
			"annualized_run_rate": schema.Float64Attribute{
				MarkdownDescription: "What the entries open at `as_of` save in a year (8760 hours) if nothing changes, rounded to cents. " +
					"An off-hours stop counts only while the instance is stopped, so the figure moves with the schedule.",
				Computed: true,
			},
			"monthly_run_rate": schema.Float64Attribute{
				MarkdownDescription: "The same over a 730-hour month, rounded to cents.",
				Computed:            true,
			},
			"open_entries": schema.Int64Attribute{
				MarkdownDescription: "Ledger entries in effect at `as_of`.",
				Computed:            true,
			},
			"unknown_entries": schema.Int64Attribute{
				MarkdownDescription: "Ledger entries whose hourly costs are unknown: counted here, absent from every amount.",
				Computed:            true,
			},
			"verified_entries": schema.Int64Attribute{
				MarkdownDescription: "Ledger entries (rolled-back ones aside) whose saving Cost Explorer verified from the bill.",
				Computed:            true,
			},
			"estimate_reasons": schema.MapAttribute{
				MarkdownDescription: "The other entries, counted by why they are still estimates: Cost Explorer has no resource-level data " +
					"(an opt-in on AWS; its reason follows), no bill since the change yet, no day before it, or a resource Cost Explorer does not bill per resource.",
				ElementType: types.Int64Type,
				Computed:    true,
			},
			"currency": schema.StringAttribute{
				MarkdownDescription: "ISO 4217 currency of every amount, such as `USD`.",
				Computed:            true,
			},
		},
	}
}

func (d *savingsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !requireClient(d.client, &resp.Diagnostics) {
		return
	}
	var m savingsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenantID, err := d.client.TenantID(m.TenantID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), "No tenant for the savings summary", err.Error())
		return
	}
	out, err := d.client.Management.GetSavingsSummary(ctx, &sirsiv1.GetSavingsSummaryRequest{TenantId: tenantID})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic(fmt.Sprintf("Reading the savings of tenant %s", tenantID), err))
		return
	}
	m.TenantID = types.StringValue(tenantID)
	m.AsOf = timeValue(out.GetAsOfTime())
	m.ActionsTaken = types.Int64Value(out.GetActionsTaken())
	m.ActionsSucceeded = types.Int64Value(out.GetActionsSucceeded())
	m.ActionsRolledBack = types.Int64Value(out.GetActionsRolledBack())
	m.ActionsFailed = types.Int64Value(out.GetActionsFailed())
	m.ToDate, m.Last30Days, m.ThisMonth = savingsPeriod(out.GetToDate()), savingsPeriod(out.GetLast_30Days()), savingsPeriod(out.GetThisMonth())
	m.AnnualizedRunRate = moneyValue(out.GetAnnualizedRunRate())
	m.MonthlyRunRate = moneyValue(out.GetMonthlyRunRate())
	m.OpenEntries = types.Int64Value(out.GetOpenEntries())
	m.UnknownEntries = types.Int64Value(out.GetUnknownEntries())
	m.VerifiedEntries = types.Int64Value(out.GetVerifiedEntries())
	m.EstimateReasons = make(map[string]types.Int64, len(out.GetEstimateReasons()))
	for _, r := range out.GetEstimateReasons() {
		m.EstimateReasons[r.GetReason()] = types.Int64Value(r.GetEntries())
	}
	m.Currency = currencyValue(out.GetAnnualizedRunRate())
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func savingsPeriod(p *sirsiv1.SavingsPeriod) *savingsPeriodModel {
	if p == nil {
		return nil
	}
	amounts := func(list []*sirsiv1.SavingsAmount) map[string]types.Float64 {
		out := make(map[string]types.Float64, len(list))
		for _, a := range list {
			out[a.GetKey()] = moneyValue(a.GetAccruedSavings())
		}
		return out
	}
	return &savingsPeriodModel{
		Start: timeValue(p.GetStartTime()), End: timeValue(p.GetEndTime()),
		AccruedSavings: moneyValue(p.GetAccruedSavings()), VerifiedSavings: moneyValue(p.GetVerifiedSavings()), EstimatedSavings: moneyValue(p.GetEstimatedSavings()),
		ByActionType: amounts(p.GetByAction()), ByPolicy: amounts(p.GetByPolicy()), ByCloudAccount: amounts(p.GetByCloudAccount()),
	}
}
