package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
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
	_ datasource.DataSourceWithConfigure        = (*tenantDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*tenantDataSource)(nil)
)

type tenantDataSource struct {
	configuredDataSource
}

// tenantDataModel is the resource's model without the input-only webhook
// secret, plus whether one is set.
type tenantDataModel struct {
	ID               types.String `tfsdk:"id"`
	Name             types.String `tfsdk:"name"`
	DisplayName      types.String `tfsdk:"display_name"`
	Tier             types.String `tfsdk:"tier"`
	Labels           types.Map    `tfsdk:"labels"`
	CreatedAt        types.String `tfsdk:"created_at"`
	WebhookURL       types.String `tfsdk:"webhook_url"`
	WebhookSecretSet types.Bool   `tfsdk:"webhook_secret_set"`
}

// NewTenantDataSource is the sirsi_tenant data source.
func NewTenantDataSource() datasource.DataSource { return &tenantDataSource{} }

func (d *tenantDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_tenant"
}

func (d *tenantDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up a tenant by `id` or by `name` (exactly one).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Identifier of the tenant. Set this or `name`.",
			},
			"name": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Slug of the tenant. Set this or `id`.",
				Validators:          []validator.String{slugValidator()},
			},
			"display_name": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Human-readable name.",
			},
			"tier": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Service tier: `free`, `standard` or `enterprise`.",
			},
			"labels": schema.MapAttribute{
				ElementType:         types.StringType,
				Computed:            true,
				MarkdownDescription: "Key/value labels.",
			},
			"created_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When the tenant was created (RFC 3339).",
			},
			"webhook_url": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Deprecated with the resource's `webhook_url`: the URL of the tenant's own webhook endpoint (the one whose id is the tenant's id); empty when it has none. Other endpoints are `sirsi_webhook` resources.",
			},
			"webhook_secret_set": schema.BoolAttribute{
				Computed:            true,
				MarkdownDescription: "Whether a webhook secret is stored. The secret itself is never returned.",
			},
		},
	}
}

func (d *tenantDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name")),
	}
}

func (d *tenantDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !requireClient(d.client, &resp.Diagnostics) {
		return
	}
	var cfg tenantDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := d.client.Management.GetTenant(ctx, &sirsiv1.GetTenantRequest{
		Id:   cfg.ID.ValueString(),
		Name: cfg.Name.ValueString(),
	})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Reading tenant "+cfg.ID.ValueString()+cfg.Name.ValueString(), err))
		return
	}
	t := out.GetTenant()
	// A data source always reports the labels as a map, even an empty one,
	// so expressions like length(data.sirsi_tenant.x.labels) work.
	labels, diags := types.MapValueFrom(ctx, types.StringType, nonNilMap(t.GetLabels()))
	resp.Diagnostics.Append(diags...)
	state := tenantDataModel{
		ID:               types.StringValue(t.GetId()),
		Name:             types.StringValue(t.GetName()),
		DisplayName:      types.StringValue(t.GetDisplayName()),
		Tier:             types.StringValue(validation.EnumName(t.GetTier())),
		Labels:           labels,
		CreatedAt:        timeValue(t.GetCreateTime()),
		WebhookURL:       types.StringValue(t.GetWebhookUrl()),
		WebhookSecretSet: types.BoolValue(t.GetWebhookSecretSet()),
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
