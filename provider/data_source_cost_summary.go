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
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

var (
	_ datasource.DataSourceWithConfigure      = (*costSummaryDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*costSummaryDataSource)(nil)
)

// NewCostSummaryDataSource is registered in the provider's data source list.
func NewCostSummaryDataSource() datasource.DataSource {
	return &costSummaryDataSource{}
}

type costSummaryDataSource struct {
	configuredDataSource
}

type costSummaryModel struct {
	TenantID         types.String      `tfsdk:"tenant_id"`
	Start            types.String      `tfsdk:"start"`
	End              types.String      `tfsdk:"end"`
	Granularity      types.String      `tfsdk:"granularity"`
	GroupBy          types.String      `tfsdk:"group_by"`
	CloudAccountID   types.String      `tfsdk:"cloud_account_id"`
	Total            types.Float64     `tfsdk:"total"`
	Currency         types.String      `tfsdk:"currency"`
	Items            []costItemModel   `tfsdk:"items"`
	ForecastMonthEnd types.Float64     `tfsdk:"forecast_month_end"`
	Periods          []costPeriodModel `tfsdk:"periods"`
	UnknownRecords   types.Int64       `tfsdk:"unknown_records"`
}

type costItemModel struct {
	Key    types.String  `tfsdk:"key"`
	Amount types.Float64 `tfsdk:"amount"`
}

type costPeriodModel struct {
	Start types.String  `tfsdk:"start"`
	End   types.String  `tfsdk:"end"`
	Total types.Float64 `tfsdk:"total"`
}

func (d *costSummaryDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cost_summary"
}

func (d *costSummaryDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Cost of a tenant's cloud accounts over a period, as reported by its agents from Cost Explorer, " +
			"optionally grouped by service, account, region or a tag, with a forecast for the current month. " +
			"Use it in a `check` block or a `precondition` to gate a plan on spend.",
		Attributes: map[string]schema.Attribute{
			"tenant_id": schema.StringAttribute{
				MarkdownDescription: "Tenant to summarise. Defaults to the provider's `tenant_id`.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"start": schema.StringAttribute{
				MarkdownDescription: "First day of the period, `YYYY-MM-DD`, inclusive.",
				Required:            true,
				Validators:          []validator.String{dateValidator()},
			},
			"end": schema.StringAttribute{
				MarkdownDescription: "Day after the period, `YYYY-MM-DD`, exclusive; after `start` and at most 366 days later.",
				Required:            true,
				Validators:          []validator.String{dateValidator()},
			},
			"granularity": schema.StringAttribute{
				MarkdownDescription: "Length of each entry of `periods`: `daily` or `monthly` (calendar months). Defaults to `daily`.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{stringvalidator.OneOf(enumNames(sirsiv1.Granularity(0))...)},
			},
			"group_by": schema.StringAttribute{
				MarkdownDescription: "Grouping of `items`: `service`, `account`, `region` or `tag:<key>` (costs without the tag group under the empty key). Left out, `items` is empty and only totals are returned.",
				Optional:            true,
				Validators:          []validator.String{groupByValidator()},
			},
			"cloud_account_id": schema.StringAttribute{
				MarkdownDescription: "Only this cloud account's costs (the id of a `sirsi_cloud_account`).",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"total": schema.Float64Attribute{
				MarkdownDescription: "Total cost over the period, rounded to cents; null when there are no cost records in it.",
				Computed:            true,
			},
			"currency": schema.StringAttribute{
				MarkdownDescription: "ISO 4217 currency of every amount, such as `USD`; null when there is no cost data.",
				Computed:            true,
			},
			"items": schema.ListNestedAttribute{
				MarkdownDescription: "Cost per group over the whole period, largest first.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"key": schema.StringAttribute{
						MarkdownDescription: "The group: a service name, a 12-digit account id, a region or a tag value.",
						Computed:            true,
					},
					"amount": schema.Float64Attribute{
						MarkdownDescription: "Cost of the group over the period.",
						Computed:            true,
					},
				}},
			},
			"forecast_month_end": schema.Float64Attribute{
				MarkdownDescription: "Expected cost of the current calendar month, rounded to cents: month-to-date spend plus the trailing daily average for the remaining days; null when there are no recent cost records.",
				Computed:            true,
			},
			"unknown_records": schema.Int64Attribute{
				MarkdownDescription: "Cost records in the period whose amount Cost Explorer gave unreadably (not a decimal number): " +
					"their amount is unknown, so it is left out of `total`, `items`, `periods` and `forecast_month_end` rather than counted as 0.",
				Computed: true,
			},
			"periods": schema.ListNestedAttribute{
				MarkdownDescription: "Total per day or per calendar month, in order, cut to `start` and `end`; periods without cost records are left out.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"start": schema.StringAttribute{
						MarkdownDescription: "First day of the period, inclusive.",
						Computed:            true,
					},
					"end": schema.StringAttribute{
						MarkdownDescription: "Day after the period, exclusive.",
						Computed:            true,
					},
					"total": schema.Float64Attribute{
						MarkdownDescription: "Cost in the period.",
						Computed:            true,
					},
				}},
			},
		},
	}
}

func (d *costSummaryDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	validateConfigDateRange(ctx, req.Config, validation.MaxCostRangeDays, &resp.Diagnostics)
}

func (d *costSummaryDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !requireClient(d.client, &resp.Diagnostics) {
		return
	}
	var m costSummaryModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenantID, err := d.client.TenantID(m.TenantID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), "No tenant for the cost summary", err.Error())
		return
	}
	if m.Granularity.IsNull() {
		m.Granularity = types.StringValue("daily")
	}
	out, err := d.client.Management.GetCostSummary(ctx, &sirsiv1.GetCostSummaryRequest{
		TenantId:       tenantID,
		Start:          m.Start.ValueString(),
		End:            m.End.ValueString(),
		Granularity:    sirsiv1.Granularity(parseEnum(sirsiv1.Granularity(0).Descriptor(), m.Granularity)),
		GroupBy:        m.GroupBy.ValueString(),
		CloudAccountId: m.CloudAccountID.ValueString(),
	})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic(fmt.Sprintf("Reading the cost summary of tenant %s", tenantID), err))
		return
	}
	m.TenantID = types.StringValue(tenantID)
	m.Total = moneyValue(out.GetTotal())
	m.Currency = currencyValue(out.GetTotal())
	m.ForecastMonthEnd = moneyValue(out.GetForecastMonthEnd())
	m.UnknownRecords = types.Int64Value(out.GetUnknownRecords())
	m.Items = make([]costItemModel, 0, len(out.GetItems()))
	for _, it := range out.GetItems() {
		m.Items = append(m.Items, costItemModel{Key: types.StringValue(it.GetKey()), Amount: moneyValue(it.GetAmount())})
	}
	m.Periods = make([]costPeriodModel, 0, len(out.GetPeriods()))
	for _, p := range out.GetPeriods() {
		m.Periods = append(m.Periods, costPeriodModel{
			Start: types.StringValue(p.GetStart()),
			End:   types.StringValue(p.GetEnd()),
			Total: moneyValue(p.GetTotal()),
		})
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
