package provider

import (
	"context"
	"fmt"
	"math"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

var (
	_ datasource.DataSourceWithConfigure      = (*savingsDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*savingsDataSource)(nil)
)

// NewSavingsDataSource is registered in the provider's data source list.
func NewSavingsDataSource() datasource.DataSource {
	return &savingsDataSource{}
}

type savingsDataSource struct {
	configuredDataSource
}

type savingsModel struct {
	TenantID               types.String  `tfsdk:"tenant_id"`
	Start                  types.String  `tfsdk:"start"`
	End                    types.String  `tfsdk:"end"`
	ActionsTaken           types.Int64   `tfsdk:"actions_taken"`
	ActionsSucceeded       types.Int64   `tfsdk:"actions_succeeded"`
	ActionsRolledBack      types.Int64   `tfsdk:"actions_rolled_back"`
	ActionsFailed          types.Int64   `tfsdk:"actions_failed"`
	RealizedMonthlySavings types.Float64 `tfsdk:"realized_monthly_savings"`
	Currency               types.String  `tfsdk:"currency"`
}

func (d *savingsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_savings"
}

func (d *savingsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Actions the tenant's agents took in a period and the monthly savings they realised.",
		Attributes: map[string]schema.Attribute{
			"tenant_id": schema.StringAttribute{
				MarkdownDescription: "Tenant to summarise. Defaults to the provider's `tenant_id`.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"start": schema.StringAttribute{
				MarkdownDescription: "First day of the period, `YYYY-MM-DD`, inclusive. Left out, the period starts with the first action.",
				Optional:            true,
				Validators:          []validator.String{dateValidator()},
			},
			"end": schema.StringAttribute{
				MarkdownDescription: "Day after the period, `YYYY-MM-DD`, exclusive. Left out, the period ends now.",
				Optional:            true,
				Validators:          []validator.String{dateValidator()},
			},
			"actions_taken": schema.Int64Attribute{
				MarkdownDescription: "Actions started in the period (dry runs excluded).",
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
			"realized_monthly_savings": schema.Float64Attribute{
				MarkdownDescription: "Monthly cost removed by the succeeded actions, rounded to cents.",
				Computed:            true,
			},
			"currency": schema.StringAttribute{
				MarkdownDescription: "ISO 4217 currency of `realized_monthly_savings`, such as `USD`.",
				Computed:            true,
			},
		},
	}
}

func (d *savingsDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	// Savings may cover any length of time; only the order matters.
	validateConfigDateRange(ctx, req.Config, math.MaxInt32, &resp.Diagnostics)
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
	out, err := d.client.Management.GetSavingsSummary(ctx, &sirsiv1.GetSavingsSummaryRequest{
		TenantId: tenantID,
		Start:    m.Start.ValueString(),
		End:      m.End.ValueString(),
	})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic(fmt.Sprintf("Reading the savings of tenant %s", tenantID), err))
		return
	}
	m.TenantID = types.StringValue(tenantID)
	m.ActionsTaken = types.Int64Value(out.GetActionsTaken())
	m.ActionsSucceeded = types.Int64Value(out.GetActionsSucceeded())
	m.ActionsRolledBack = types.Int64Value(out.GetActionsRolledBack())
	m.ActionsFailed = types.Int64Value(out.GetActionsFailed())
	m.RealizedMonthlySavings = moneyValue(out.GetRealizedMonthlySavings())
	m.Currency = currencyValue(out.GetRealizedMonthlySavings())
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
