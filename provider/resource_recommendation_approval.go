package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

var (
	_ resource.ResourceWithConfigure   = (*recommendationApprovalResource)(nil)
	_ resource.ResourceWithImportState = (*recommendationApprovalResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*recommendationApprovalResource)(nil)
)

// NewRecommendationApprovalResource is registered in the provider's resource list.
func NewRecommendationApprovalResource() resource.Resource {
	return &recommendationApprovalResource{}
}

type recommendationApprovalResource struct {
	configuredResource
}

type recommendationApprovalModel struct {
	ID                      types.String  `tfsdk:"id"`
	TenantID                types.String  `tfsdk:"tenant_id"`
	RecommendationID        types.String  `tfsdk:"recommendation_id"`
	ResourceID              types.String  `tfsdk:"resource_id"`
	Action                  types.String  `tfsdk:"action"`
	CurrentSize             types.String  `tfsdk:"current_size"`
	ProposedSize            types.String  `tfsdk:"proposed_size"`
	EstimatedMonthlySavings types.Float64 `tfsdk:"estimated_monthly_savings"`
	Currency                types.String  `tfsdk:"currency"`
	Status                  types.String  `tfsdk:"status"`
	ApprovedBy              types.String  `tfsdk:"approved_by"`
	ApproveTime             types.String  `tfsdk:"approve_time"`
}

func (m *recommendationApprovalModel) objectID() string { return m.RecommendationID.ValueString() }

func (m *recommendationApprovalModel) fromAPI(r *sirsiv1.Recommendation) {
	if r.GetTenantId() != "" {
		m.TenantID = types.StringValue(r.GetTenantId())
	}
	m.ID = types.StringValue(r.GetId())
	m.RecommendationID = types.StringValue(r.GetId())
	m.ResourceID = types.StringValue(r.GetResourceId())
	m.Action = types.StringValue(r.GetAction())
	m.CurrentSize = optionalString(r.GetCurrentSize())
	m.ProposedSize = optionalString(r.GetProposedSize())
	m.EstimatedMonthlySavings = moneyValue(r.GetEstimatedMonthlySavings())
	m.Currency = currencyValue(r.GetEstimatedMonthlySavings())
	m.Status = types.StringValue(enumName(r.GetStatus(), "open"))
	m.ApprovedBy = optionalString(r.GetApprovedBy())
	m.ApproveTime = timeValue(r.GetApproveTime())
}

// approvalHolds reports whether a recommendation in status s still carries
// an approval Terraform manages. An executed one does: the approval did its
// work and stays in state. Open (approval revoked elsewhere), dismissed and
// superseded ones do not, so Terraform forgets them and plans a new
// approval, which the control plane then accepts or refuses on its merits.
func approvalHolds(s sirsiv1.RecommendationStatus) bool {
	return s == sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED ||
		s == sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED
}

func (r *recommendationApprovalResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_recommendation_approval"
}

func (r *recommendationApprovalResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Approves one recommendation of a policy in `approve` mode: in the policy's next `schedule` window the agent " +
			"carries out exactly the proposed change, and only while the resource still has the size the recommendation was made for.\n\n" +
			"* **Create** approves the recommendation. Approving one that is dismissed, superseded or already executed fails with the control plane's reason.\n" +
			"* **Read** follows the recommendation. Once it is executed the resource stays in state with `status = \"executed\"`. " +
			"When the recommendation is gone, dismissed or superseded (a newer analysis replaced it), or its approval was revoked outside Terraform, " +
			"the resource is removed from state, so the next plan proposes a new approval only where that can still make sense: " +
			"the control plane refuses to approve a dismissed or superseded recommendation, and the error says so.\n" +
			"* **Destroy** revokes the approval, and the recommendation is open again. A recommendation that no longer exists, or that was " +
			"already executed (an executed change cannot be revoked), is simply removed from state.\n\n" +
			"Every attribute but the inputs is read from the recommendation; `recommendation_id` and `tenant_id` replace the approval when changed.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Identifier of the approval: the recommendation's id.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"tenant_id": tenantIDAttribute("recommendation"),
			"recommendation_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Recommendation to approve, as `sirsi_recommendations` lists it (`items[*].id`). Changing it replaces the approval: the old one is revoked, the new one approved.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"resource_id":   computed("The cloud's id of the resource the recommendation is for."),
			"action":        computed("What the agent will do: `resize`, `stop`, `snapshot_and_delete`, `migrate_gp3`, `release` or `set_memory`."),
			"current_size":  computed("Size the resource has, such as `m5.2xlarge`; the agent acts only while it still has it."),
			"proposed_size": computed("Size the agent will change the resource to; null for actions without one (`stop`, `release`)."),
			"estimated_monthly_savings": schema.Float64Attribute{
				Computed:            true,
				MarkdownDescription: "Estimated saving per month once the change is made, rounded to cents, in `currency`; null when unknown.",
			},
			"currency":     computed("ISO 4217 currency of `estimated_monthly_savings`, such as `USD`; null when it is unknown."),
			"status":       computed("`approved` until the agent has carried the change out, then `executed`."),
			"approved_by":  computed("Who approved it: `token:<id>` of the API token Terraform used, or `operator`."),
			"approve_time": computed("When it was approved (RFC 3339)."),
		},
	}
}

func (r *recommendationApprovalResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	planTenantID(ctx, r.client, req, resp)
}

func (r *recommendationApprovalResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan recommendationApprovalModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenantID, err := r.client.TenantID(plan.TenantID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), "No tenant for the recommendation approval", err.Error())
		return
	}
	plan.TenantID = types.StringValue(tenantID)
	id := plan.RecommendationID.ValueString()
	out, err := r.client.Management.ApproveRecommendation(ctx, &sirsiv1.ApproveRecommendationRequest{TenantId: tenantID, Id: id})
	if err != nil {
		p, summary, detail := approvalFailure("recommendation", "an open recommendation", id, err)
		resp.Diagnostics.AddAttributeError(p, summary, detail)
		return
	}
	plan.fromAPI(out.GetRecommendation())
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *recommendationApprovalResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var state recommendationApprovalModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	rec, err := r.get(ctx, &state)
	if client.IsNotFound(err) || (err == nil && !approvalHolds(rec.GetStatus())) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Reading recommendation "+state.objectID(), err))
		return
	}
	state.fromAPI(rec)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *recommendationApprovalResource) get(ctx context.Context, m *recommendationApprovalModel) (*sirsiv1.Recommendation, error) {
	out, err := r.client.Management.GetRecommendation(ctx, &sirsiv1.GetRecommendationRequest{
		TenantId: m.TenantID.ValueString(),
		Id:       m.RecommendationID.ValueString(),
	})
	return out.GetRecommendation(), err
}

// Update is never called with a change, since both inputs replace the
// approval; it refreshes the state like Read.
func (r *recommendationApprovalResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan recommendationApprovalModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	rec, err := r.get(ctx, &plan)
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Reading recommendation "+plan.objectID(), err))
		return
	}
	plan.fromAPI(rec)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *recommendationApprovalResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	deleteIgnoringNotFound(ctx, r.client, "recommendation approval", req, resp, func(ctx context.Context, state *recommendationApprovalModel) error {
		_, err := r.client.Management.RevokeRecommendationApproval(ctx, &sirsiv1.RevokeRecommendationApprovalRequest{
			TenantId: state.TenantID.ValueString(),
			Id:       state.RecommendationID.ValueString(),
		})
		if status.Code(err) != codes.FailedPrecondition {
			return err
		}
		// Refused because there is no approval left to revoke: executed
		// (which cannot be undone) or no longer approved. Either way the
		// approval Terraform managed is over.
		rec, getErr := r.get(ctx, state)
		if getErr == nil && rec.GetStatus() != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED {
			return nil
		}
		return err
	})
}

// ImportState accepts "tenant_id/recommendation_id", or the recommendation
// id alone when the provider has a default tenant.
func (r *recommendationApprovalResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantScoped(ctx, r.client, "sirsi_recommendation_approval", req, resp, "recommendation_id")
}
