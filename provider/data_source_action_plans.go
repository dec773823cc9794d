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

var _ datasource.DataSourceWithConfigure = (*actionPlansDataSource)(nil)

// NewActionPlansDataSource is registered in the provider's data source list.
func NewActionPlansDataSource() datasource.DataSource {
	return &actionPlansDataSource{}
}

type actionPlansDataSource struct {
	configuredDataSource
}

type actionPlansModel struct {
	TenantID types.String          `tfsdk:"tenant_id"`
	PolicyID types.String          `tfsdk:"policy_id"`
	Status   types.String          `tfsdk:"status"`
	Plans    []actionPlanItemModel `tfsdk:"plans"`
}

type actionPlanItemModel struct {
	ID                      types.String             `tfsdk:"id"`
	PolicyID                types.String             `tfsdk:"policy_id"`
	CloudAccountID          types.String             `tfsdk:"cloud_account_id"`
	Status                  types.String             `tfsdk:"status"`
	EstimatedMonthlySavings types.Float64            `tfsdk:"estimated_monthly_savings"`
	Currency                types.String             `tfsdk:"currency"`
	CreatedAt               types.String             `tfsdk:"created_at"`
	ApprovedBy              types.String             `tfsdk:"approved_by"`
	ApproveTime             types.String             `tfsdk:"approve_time"`
	Actions                 []plannedActionItemModel `tfsdk:"actions"`
	Skipped                 []planSkipItemModel      `tfsdk:"skipped"`
}

type planSkipItemModel struct {
	ResourceID   types.String `tfsdk:"resource_id"`
	ResourceType types.String `tfsdk:"resource_type"`
	Region       types.String `tfsdk:"region"`
	Action       types.String `tfsdk:"action"`
	Reason       types.String `tfsdk:"reason"`
}

type plannedActionItemModel struct {
	ResourceID              types.String  `tfsdk:"resource_id"`
	ResourceType            types.String  `tfsdk:"resource_type"`
	Region                  types.String  `tfsdk:"region"`
	Action                  types.String  `tfsdk:"action"`
	FromSize                types.String  `tfsdk:"from_size"`
	ToSize                  types.String  `tfsdk:"to_size"`
	RecommendationID        types.String  `tfsdk:"recommendation_id"`
	EstimatedMonthlySavings types.Float64 `tfsdk:"estimated_monthly_savings"`
}

func (d *actionPlansDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_action_plans"
}

func (d *actionPlansDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: fmt.Sprintf("Saved action plans: the exact actions a run of a policy in `approve` mode, or in `auto` mode "+
			"with `dry_run = true`, would take in one cloud account. Approve one with `sirsi_action_plan_approval`. Every given filter "+
			"must match; newest plans first as the control plane orders them. The data source reads every page, up to %d plans.\n\n"+
			"A plan's own `estimated_monthly_savings` comes with the plan; the estimate of each action is the one of the recommendation "+
			"it carries out, read from the control plane, and null when that recommendation no longer exists.", listMaxPages*listPageSize),
		Attributes: map[string]schema.Attribute{
			"tenant_id": schema.StringAttribute{
				MarkdownDescription: "Tenant whose plans to read. Defaults to the provider's `tenant_id`.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"policy_id": schema.StringAttribute{
				MarkdownDescription: "Only plans of this `sirsi_optimization_policy`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "Only plans in this status: `pending` (waiting for approval), `approved`, `superseded` (a newer plan of the same policy and account replaced it before approval) or `executed`. Left out, plans in every status.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(enumNames(sirsiv1.ActionPlanStatus(0))...)},
			},
			"plans": schema.ListNestedAttribute{
				MarkdownDescription: "The matching plans.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":               str("Identifier of the plan; `plan_id` of `sirsi_action_plan_approval`."),
					"policy_id":        str("Policy whose run produced the plan."),
					"cloud_account_id": str("Cloud account the plan acts in."),
					"status":           str("`pending`, `approved`, `superseded` or `executed`."),
					"estimated_monthly_savings": schema.Float64Attribute{
						Computed:            true,
						MarkdownDescription: "Estimated monthly saving of all the plan's actions together, rounded to cents; null when unknown.",
					},
					"currency":     str("ISO 4217 currency of the plan's amounts, such as `USD`; null when they are unknown."),
					"created_at":   str("When the agent saved the plan (RFC 3339)."),
					"approved_by":  str("Who approved the plan; null unless approved."),
					"approve_time": str("When the plan was approved (RFC 3339); null unless approved."),
					"actions": schema.ListNestedAttribute{
						MarkdownDescription: "The actions the plan executes once approved, in order.",
						Computed:            true,
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"resource_id":       str("The cloud's id of the resource, as in `sirsi_resources`."),
							"resource_type":     str("Resource type, such as `aws_ec2_instance`."),
							"region":            str("AWS region of the resource."),
							"action":            str("What the agent will do: `resize`, `stop`, `snapshot_and_delete`, `migrate_gp3`, `release` or `set_memory`."),
							"from_size":         str("Size the resource has now; null for actions without one."),
							"to_size":           str("Size the agent will change it to; null for actions without one."),
							"recommendation_id": str("Recommendation the action carries out."),
							"estimated_monthly_savings": schema.Float64Attribute{
								Computed:            true,
								MarkdownDescription: "Estimated monthly saving of the action, from its recommendation; null when the recommendation no longer exists.",
							},
						}},
					},
					"skipped": schema.ListNestedAttribute{
						MarkdownDescription: "What the plan leaves alone on purpose, each with the reason: the selected EC2 instances the policy never stops " +
							"(a member of an Auto Scaling group, an EKS, Kubernetes or ECS node, an instance-store root, a Spot Instance, an exclude tag) " +
							"and the recommendations the agent's live check refused. Approving the plan does nothing to them.",
						Computed: true,
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"resource_id":   str("The cloud's id of the resource, as in `sirsi_resources`."),
							"resource_type": str("Resource type, such as `aws_ec2_instance`."),
							"region":        str("AWS region of the resource."),
							"action":        str("What the policy would otherwise do to it, such as `stop` or `resize`."),
							"reason":        str("Why it is left alone."),
						}},
					},
				}},
			},
		},
	}
}

func (d *actionPlansDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !requireClient(d.client, &resp.Diagnostics) {
		return
	}
	var m actionPlansModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenantID, err := d.client.TenantID(m.TenantID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), "No tenant for the action plans", err.Error())
		return
	}
	plans, err := listAll(ctx, "action plans", func(ctx context.Context, token string) ([]*sirsiv1.ActionPlan, string, error) {
		out, err := d.client.Management.ListActionPlans(ctx, &sirsiv1.ListActionPlansRequest{
			TenantId:  tenantID,
			PolicyId:  m.PolicyID.ValueString(),
			Status:    sirsiv1.ActionPlanStatus(parseEnum(sirsiv1.ActionPlanStatus(0).Descriptor(), m.Status)),
			PageSize:  listPageSize,
			PageToken: token,
		})
		return out.GetPlans(), out.GetNextPageToken(), err
	})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic(fmt.Sprintf("Listing the action plans of tenant %s", tenantID), err))
		return
	}
	savings, err := d.recommendationSavings(ctx, tenantID, plans)
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic(fmt.Sprintf("Reading the recommendations behind the action plans of tenant %s", tenantID), err))
		return
	}
	m.TenantID = types.StringValue(tenantID)
	m.Plans = make([]actionPlanItemModel, 0, len(plans))
	for _, p := range plans {
		m.Plans = append(m.Plans, actionPlanItemFromProto(p, savings))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// recommendationSavings reads the estimate of every recommendation the
// plans' actions carry out, once each: an Action has no estimate of its own.
// A recommendation that is gone has no entry.
func (d *actionPlansDataSource) recommendationSavings(ctx context.Context, tenantID string, plans []*sirsiv1.ActionPlan) (map[string]*sirsiv1.Money, error) {
	savings := map[string]*sirsiv1.Money{}
	seen := map[string]bool{}
	for _, p := range plans {
		for _, a := range p.GetActions() {
			id := a.GetRecommendationId()
			if id == "" || seen[id] {
				continue
			}
			seen[id] = true
			out, err := d.client.Management.GetRecommendation(ctx, &sirsiv1.GetRecommendationRequest{TenantId: tenantID, Id: id})
			if client.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("reading recommendation %s: %w", id, err)
			}
			savings[id] = out.GetRecommendation().GetEstimatedMonthlySavings()
		}
	}
	return savings, nil
}

func actionPlanItemFromProto(p *sirsiv1.ActionPlan, savings map[string]*sirsiv1.Money) actionPlanItemModel {
	it := actionPlanItemModel{
		ID:                      types.StringValue(p.GetId()),
		PolicyID:                types.StringValue(p.GetPolicyId()),
		CloudAccountID:          types.StringValue(p.GetCloudAccountId()),
		Status:                  types.StringValue(enumName(p.GetStatus(), "pending")),
		EstimatedMonthlySavings: moneyValue(p.GetEstimatedMonthlySavings()),
		Currency:                currencyValue(p.GetEstimatedMonthlySavings()),
		CreatedAt:               timeValue(p.GetCreateTime()),
		ApprovedBy:              optionalString(p.GetApprovedBy()),
		ApproveTime:             timeValue(p.GetApproveTime()),
		Actions:                 make([]plannedActionItemModel, 0, len(p.GetActions())),
		Skipped:                 make([]planSkipItemModel, 0, len(p.GetSkipped())),
	}
	for _, k := range p.GetSkipped() {
		it.Skipped = append(it.Skipped, planSkipItemModel{
			ResourceID:   types.StringValue(k.GetResourceId()),
			ResourceType: types.StringValue(k.GetResourceType()),
			Region:       types.StringValue(k.GetRegion()),
			Action:       types.StringValue(k.GetAction()),
			Reason:       types.StringValue(k.GetReason()),
		})
	}
	for _, a := range p.GetActions() {
		est := moneyValue(savings[a.GetRecommendationId()])
		it.Actions = append(it.Actions, plannedActionItemModel{
			ResourceID:              types.StringValue(a.GetResourceId()),
			ResourceType:            types.StringValue(a.GetResourceType()),
			Region:                  types.StringValue(a.GetRegion()),
			Action:                  types.StringValue(a.GetAction()),
			FromSize:                optionalString(a.GetFromSize()),
			ToSize:                  optionalString(a.GetToSize()),
			RecommendationID:        optionalString(a.GetRecommendationId()),
			EstimatedMonthlySavings: est,
		})
	}
	return it
}
