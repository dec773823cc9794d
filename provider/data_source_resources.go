package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

var _ datasource.DataSourceWithConfigure = (*resourcesDataSource)(nil)

// NewResourcesDataSource is registered in the provider's data source list.
func NewResourcesDataSource() datasource.DataSource {
	return &resourcesDataSource{}
}

type resourcesDataSource struct {
	configuredDataSource
}

type resourcesModel struct {
	TenantID       types.String        `tfsdk:"tenant_id"`
	Type           types.String        `tfsdk:"type"`
	CloudAccountID types.String        `tfsdk:"cloud_account_id"`
	Region         types.String        `tfsdk:"region"`
	Tags           types.Map           `tfsdk:"tags"`
	Items          []resourceItemModel `tfsdk:"items"`
}

type resourceItemModel struct {
	ID             types.String  `tfsdk:"id"`
	Type           types.String  `tfsdk:"type"`
	Region         types.String  `tfsdk:"region"`
	AccountID      types.String  `tfsdk:"account_id"`
	CloudAccountID types.String  `tfsdk:"cloud_account_id"`
	Name           types.String  `tfsdk:"name"`
	Size           types.String  `tfsdk:"size"`
	MonthlyCost    types.Float64 `tfsdk:"monthly_cost"`
	Currency       types.String  `tfsdk:"currency"`
	State          types.String  `tfsdk:"state"`
	Tags           types.Map     `tfsdk:"tags"`
	ARN            types.String  `tfsdk:"arn"`
	LastSeen       types.String  `tfsdk:"last_seen"`
	Stale          types.Bool    `tfsdk:"stale"`
}

func (d *resourcesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_resources"
}

func (d *resourcesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: fmt.Sprintf("Cloud resources the tenant's agents discovered, with their size and monthly cost. "+
			"Every given filter must match. The data source reads every page of the list, up to %d resources; "+
			"beyond that the read fails and asks for narrower filters rather than return a partial list.", listMaxPages*listPageSize),
		Attributes: map[string]schema.Attribute{
			"tenant_id": schema.StringAttribute{
				MarkdownDescription: "Tenant whose inventory to read. Defaults to the provider's `tenant_id`.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"type": schema.StringAttribute{
				MarkdownDescription: "Only resources of this type: `aws_ec2_instance`, `aws_ebs_volume`, `aws_ebs_snapshot`, `aws_eip`, `aws_rds_instance`, `aws_s3_bucket` or `aws_lambda_function`.",
				Optional:            true,
				Validators:          []validator.String{resourceTypeValidator()},
			},
			"cloud_account_id": schema.StringAttribute{
				MarkdownDescription: "Only resources of this cloud account (the id of a `sirsi_cloud_account`).",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"region": schema.StringAttribute{
				MarkdownDescription: "Only resources in this AWS region.",
				Optional:            true,
				Validators:          []validator.String{regionValidator()},
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Only resources carrying every one of these tags.",
				ElementType:         types.StringType,
				Optional:            true,
				Validators:          []validator.Map{mapvalidator.SizeAtLeast(1), tagMapValidator()},
			},
			"items": schema.ListNestedAttribute{
				MarkdownDescription: "The matching resources.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":               schema.StringAttribute{Computed: true, MarkdownDescription: "The cloud's own id: `i-...`, `vol-...`, `eipalloc-...`, the DB identifier, the bucket or function name."},
					"type":             schema.StringAttribute{Computed: true, MarkdownDescription: "Resource type, such as `aws_ec2_instance`."},
					"region":           schema.StringAttribute{Computed: true, MarkdownDescription: "AWS region."},
					"account_id":       schema.StringAttribute{Computed: true, MarkdownDescription: "12-digit AWS account id."},
					"cloud_account_id": schema.StringAttribute{Computed: true, MarkdownDescription: "Id of the `sirsi_cloud_account` the resource was discovered in."},
					"name":             schema.StringAttribute{Computed: true, MarkdownDescription: "The `Name` tag or the resource's name."},
					"size":             schema.StringAttribute{Computed: true, MarkdownDescription: "Instance type, DB instance class, volume type and size, or function memory."},
					"monthly_cost":     schema.Float64Attribute{Computed: true, MarkdownDescription: "Estimated cost per month at the current size, rounded to cents; null when the price is unknown."},
					"currency":         schema.StringAttribute{Computed: true, MarkdownDescription: "ISO 4217 currency of `monthly_cost`, such as `USD`; null when it is unknown."},
					"state":            schema.StringAttribute{Computed: true, MarkdownDescription: "The cloud's state of the resource, such as `running` or `available`."},
					"tags":             schema.MapAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "The resource's tags."},
					"arn":              schema.StringAttribute{Computed: true, MarkdownDescription: "ARN of the resource, when it has one."},
					"last_seen":        schema.StringAttribute{Computed: true, MarkdownDescription: "When a sweep last found the resource (RFC 3339)."},
					"stale":            schema.BoolAttribute{Computed: true, MarkdownDescription: "The latest sweep could not list this resource's type in its region: the record is as last seen (`last_seen`), not known to be current. A resource a successful sweep no longer finds is removed at once."},
				}},
			},
		},
	}
}

func (d *resourcesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !requireClient(d.client, &resp.Diagnostics) {
		return
	}
	var m resourcesModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenantID, err := d.client.TenantID(m.TenantID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), "No tenant for the resource list", err.Error())
		return
	}
	tags := stringMap(ctx, m.Tags, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resources, err := listAll(ctx, "resources", func(ctx context.Context, token string) ([]*sirsiv1.Resource, string, error) {
		out, err := d.client.Management.ListResources(ctx, &sirsiv1.ListResourcesRequest{
			TenantId:       tenantID,
			CloudAccountId: m.CloudAccountID.ValueString(),
			Type:           m.Type.ValueString(),
			Region:         m.Region.ValueString(),
			Tags:           tags,
			PageSize:       listPageSize,
			PageToken:      token,
		})
		return out.GetResources(), out.GetNextPageToken(), err
	})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic(fmt.Sprintf("Listing the resources of tenant %s", tenantID), err))
		return
	}
	m.TenantID = types.StringValue(tenantID)
	m.Items = make([]resourceItemModel, 0, len(resources))
	for _, r := range resources {
		m.Items = append(m.Items, resourceItemFromProto(r))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func resourceItemFromProto(r *sirsiv1.Resource) resourceItemModel {
	return resourceItemModel{
		ID:             types.StringValue(r.GetResourceId()),
		Type:           types.StringValue(r.GetType()),
		Region:         types.StringValue(r.GetRegion()),
		AccountID:      types.StringValue(r.GetAccountId()),
		CloudAccountID: types.StringValue(r.GetCloudAccountId()),
		Name:           types.StringValue(r.GetName()),
		Size:           types.StringValue(r.GetSize()),
		MonthlyCost:    moneyValue(r.GetMonthlyCost()),
		Currency:       currencyValue(r.GetMonthlyCost()),
		State:          types.StringValue(r.GetState()),
		Tags:           stringMapOrNull(r.GetTags()),
		ARN:            optionalString(r.GetArn()),
		LastSeen:       timeValue(r.GetLastSeenTime()),
		Stale:          types.BoolValue(r.GetStale()),
	}
}
