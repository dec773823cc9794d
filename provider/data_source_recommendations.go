package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
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

var _ datasource.DataSourceWithConfigure = (*recommendationsDataSource)(nil)

// NewRecommendationsDataSource is registered in the provider's data source list.
func NewRecommendationsDataSource() datasource.DataSource {
	return &recommendationsDataSource{}
}

type recommendationsDataSource struct {
	configuredDataSource
}

type recommendationsModel struct {
	TenantID            types.String              `tfsdk:"tenant_id"`
	PolicyID            types.String              `tfsdk:"policy_id"`
	ResourceType        types.String              `tfsdk:"resource_type"`
	MinMonthlySavings   types.Float64             `tfsdk:"min_monthly_savings"`
	Status              types.String              `tfsdk:"status"`
	Items               []recommendationItemModel `tfsdk:"items"`
	TotalMonthlySavings types.Float64             `tfsdk:"total_monthly_savings"`
	Currency            types.String              `tfsdk:"currency"`
}

type recommendationItemModel struct {
	ID                      types.String  `tfsdk:"id"`
	PolicyID                types.String  `tfsdk:"policy_id"`
	CloudAccountID          types.String  `tfsdk:"cloud_account_id"`
	ResourceID              types.String  `tfsdk:"resource_id"`
	ResourceType            types.String  `tfsdk:"resource_type"`
	Region                  types.String  `tfsdk:"region"`
	Action                  types.String  `tfsdk:"action"`
	CurrentSize             types.String  `tfsdk:"current_size"`
	ProposedSize            types.String  `tfsdk:"proposed_size"`
	EstimatedMonthlySavings types.Float64 `tfsdk:"estimated_monthly_savings"`
	Confidence              types.Float64 `tfsdk:"confidence"`
	Reason                  types.String  `tfsdk:"reason"`
	Status                  types.String  `tfsdk:"status"`
	ApprovedBy              types.String  `tfsdk:"approved_by"`
	ApproveTime             types.String  `tfsdk:"approve_time"`
	SkipReason              types.String  `tfsdk:"skip_reason"`
	SkipDetail              types.String  `tfsdk:"skip_detail"`
}

func (d *recommendationsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_recommendations"
}

func (d *recommendationsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: fmt.Sprintf("Recommendations the tenant's agents made under its optimization policies, with the "+
			"estimated monthly saving of each and in total. Every given filter must match. The data source reads every page, "+
			"up to %d recommendations.", listMaxPages*listPageSize),
		Attributes: map[string]schema.Attribute{
			"tenant_id": schema.StringAttribute{
				MarkdownDescription: "Tenant whose recommendations to read. Defaults to the provider's `tenant_id`.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"policy_id": schema.StringAttribute{
				MarkdownDescription: "Only recommendations made under this `sirsi_optimization_policy`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"resource_type": schema.StringAttribute{
				MarkdownDescription: "Only recommendations for this resource type, such as `aws_ec2_instance`.",
				Optional:            true,
				Validators:          []validator.String{resourceTypeValidator()},
			},
			"min_monthly_savings": schema.Float64Attribute{
				MarkdownDescription: "Only recommendations saving at least this much per month, in US dollars.",
				Optional:            true,
				Validators:          []validator.Float64{float64validator.AtLeast(0)},
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "Only recommendations in this status: `open`, `approved`, `dismissed`, `executed` or `superseded`. Defaults to `open`.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{stringvalidator.OneOf(enumNames(sirsiv1.RecommendationStatus(0))...)},
			},
			"items": schema.ListNestedAttribute{
				MarkdownDescription: "The matching recommendations.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":                        schema.StringAttribute{Computed: true, MarkdownDescription: "Identifier of the recommendation."},
					"policy_id":                 schema.StringAttribute{Computed: true, MarkdownDescription: "Policy the recommendation was made under."},
					"cloud_account_id":          schema.StringAttribute{Computed: true, MarkdownDescription: "Cloud account of the resource."},
					"resource_id":               schema.StringAttribute{Computed: true, MarkdownDescription: "The cloud's id of the resource, as in `sirsi_resources`."},
					"resource_type":             schema.StringAttribute{Computed: true, MarkdownDescription: "Resource type, such as `aws_ec2_instance`."},
					"region":                    schema.StringAttribute{Computed: true, MarkdownDescription: "AWS region of the resource."},
					"action":                    schema.StringAttribute{Computed: true, MarkdownDescription: "What to do: `resize`, `stop`, `snapshot_and_delete`, `migrate_gp3`, `release` or `set_memory`."},
					"current_size":              schema.StringAttribute{Computed: true, MarkdownDescription: "Size now, such as `m5.2xlarge`."},
					"proposed_size":             schema.StringAttribute{Computed: true, MarkdownDescription: "Size proposed; empty for actions without one (`stop`, `release`)."},
					"estimated_monthly_savings": schema.Float64Attribute{Computed: true, MarkdownDescription: "Estimated saving per month, rounded to cents, in `currency`; null when unknown."},
					"confidence":                schema.Float64Attribute{Computed: true, MarkdownDescription: "Confidence in the recommendation, 0 to 1, from how much utilisation data backs it."},
					"reason":                    schema.StringAttribute{Computed: true, MarkdownDescription: "Why, in a sentence."},
					"status":                    schema.StringAttribute{Computed: true, MarkdownDescription: "`open`, `approved`, `dismissed`, `executed` or `superseded`."},
					"approved_by":               schema.StringAttribute{Computed: true, MarkdownDescription: "Who approved the recommendation (`token:<id>`, or `operator`); null unless approved."},
					"approve_time":              schema.StringAttribute{Computed: true, MarkdownDescription: "When the recommendation was approved (RFC 3339); null unless approved."},
					"skip_reason": schema.StringAttribute{Computed: true, MarkdownDescription: fmt.Sprintf("Why the agent never carries this "+
						"recommendation out on its own although the policy's mode acts: one of %s. Set by the agent at each report, so a reason "+
						"that no longer applies (an instance that left its Auto Scaling group) is cleared by the next one; null when the agent acts "+
						"on it as the mode says, in `recommend` mode, or when the agent gave no reason.", enumList(sirsiv1.SkipReason(0)))},
					"skip_detail": schema.StringAttribute{Computed: true, MarkdownDescription: "`skip_reason` in words: the group, cluster, tag or " +
						"refused check, and what to change instead; null without a `skip_reason`."},
				}},
			},
			"total_monthly_savings": schema.Float64Attribute{
				MarkdownDescription: "Sum of `estimated_monthly_savings` over every matching recommendation whose saving is known, rounded to cents.",
				Computed:            true,
			},
			"currency": schema.StringAttribute{
				MarkdownDescription: "ISO 4217 currency of every amount here, such as `USD`.",
				Computed:            true,
			},
		},
	}
}

func (d *recommendationsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !requireClient(d.client, &resp.Diagnostics) {
		return
	}
	var m recommendationsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenantID, err := d.client.TenantID(m.TenantID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), "No tenant for the recommendations", err.Error())
		return
	}
	if m.Status.IsNull() {
		m.Status = types.StringValue("open")
	}
	var total *sirsiv1.Money
	recs, err := listAll(ctx, "recommendations", func(ctx context.Context, token string) ([]*sirsiv1.Recommendation, string, error) {
		out, err := d.client.Management.ListRecommendations(ctx, &sirsiv1.ListRecommendationsRequest{
			TenantId:          tenantID,
			PolicyId:          m.PolicyID.ValueString(),
			ResourceType:      m.ResourceType.ValueString(),
			MinMonthlySavings: moneyFromAttr(m.MinMonthlySavings),
			Status:            sirsiv1.RecommendationStatus(parseEnum(sirsiv1.RecommendationStatus(0).Descriptor(), m.Status)),
			PageSize:          listPageSize,
			PageToken:         token,
		})
		// Every page carries the total over the whole filtered set.
		total = out.GetTotalMonthlySavings()
		return out.GetRecommendations(), out.GetNextPageToken(), err
	})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic(fmt.Sprintf("Listing the recommendations of tenant %s", tenantID), err))
		return
	}
	m.TenantID = types.StringValue(tenantID)
	m.TotalMonthlySavings = moneyValue(total)
	m.Currency = currencyValue(total)
	m.Items = make([]recommendationItemModel, 0, len(recs))
	for _, r := range recs {
		m.Items = append(m.Items, recommendationItemFromProto(r))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func recommendationItemFromProto(r *sirsiv1.Recommendation) recommendationItemModel {
	return recommendationItemModel{
		ID:                      types.StringValue(r.GetId()),
		PolicyID:                types.StringValue(r.GetPolicyId()),
		CloudAccountID:          types.StringValue(r.GetCloudAccountId()),
		ResourceID:              types.StringValue(r.GetResourceId()),
		ResourceType:            types.StringValue(r.GetResourceType()),
		Region:                  types.StringValue(r.GetRegion()),
		Action:                  types.StringValue(r.GetAction()),
		CurrentSize:             types.StringValue(r.GetCurrentSize()),
		ProposedSize:            types.StringValue(r.GetProposedSize()),
		EstimatedMonthlySavings: moneyValue(r.GetEstimatedMonthlySavings()),
		Confidence:              types.Float64Value(r.GetConfidence()),
		Reason:                  types.StringValue(r.GetReason()),
		Status:                  types.StringValue(enumName(r.GetStatus(), "open")),
		ApprovedBy:              optionalString(r.GetApprovedBy()),
		ApproveTime:             timeValue(r.GetApproveTime()),
		SkipReason:              optionalString(validation.EnumName(r.GetSkipReason())),
		SkipDetail:              optionalString(r.GetSkipDetail()),
	}
}
