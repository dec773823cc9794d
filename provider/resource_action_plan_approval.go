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

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

var (
	_ resource.ResourceWithConfigure   = (*actionPlanApprovalResource)(nil)
	_ resource.ResourceWithImportState = (*actionPlanApprovalResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*actionPlanApprovalResource)(nil)
)

// NewActionPlanApprovalResource is registered in the provider's resource list.
func NewActionPlanApprovalResource() resource.Resource {
	return &actionPlanApprovalResource{}
}

type actionPlanApprovalResource struct {
	configuredResource
}

type actionPlanApprovalModel struct {
	ID                      types.String  `tfsdk:"id"`
	TenantID                types.String  `tfsdk:"tenant_id"`
	PlanID                  types.String  `tfsdk:"plan_id"`
	PolicyID                types.String  `tfsdk:"policy_id"`
	CloudAccountID          types.String  `tfsdk:"cloud_account_id"`
	Status                  types.String  `tfsdk:"status"`
	ActionCount             types.Int64   `tfsdk:"action_count"`
	EstimatedMonthlySavings types.Float64 `tfsdk:"estimated_monthly_savings"`
	Currency                types.String  `tfsdk:"currency"`
	ApprovedBy              types.String  `tfsdk:"approved_by"`
	ApproveTime             types.String  `tfsdk:"approve_time"`
}

func (m *actionPlanApprovalModel) objectID() string { return m.PlanID.ValueString() }

func (m *actionPlanApprovalModel) fromAPI(p *sirsiv1.ActionPlan) {
	if p.GetTenantId() != "" {
		m.TenantID = types.StringValue(p.GetTenantId())
	}
	m.ID = types.StringValue(p.GetId())
	m.PlanID = types.StringValue(p.GetId())
	m.PolicyID = types.StringValue(p.GetPolicyId())
	m.CloudAccountID = types.StringValue(p.GetCloudAccountId())
	m.Status = types.StringValue(enumName(p.GetStatus(), "pending"))
	m.ActionCount = types.Int64Value(int64(len(p.GetActions())))
	m.EstimatedMonthlySavings = moneyValue(p.GetEstimatedMonthlySavings())
	m.Currency = currencyValue(p.GetEstimatedMonthlySavings())
	m.ApprovedBy = optionalString(p.GetApprovedBy())
	m.ApproveTime = timeValue(p.GetApproveTime())
}

// planApprovalHolds reports whether a plan in status s carries an approval:
// a pending or superseded plan read on import was never approved.
func planApprovalHolds(s sirsiv1.ActionPlanStatus) bool {
	return s == sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_APPROVED || s == sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_EXECUTED
}

func (r *actionPlanApprovalResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_action_plan_approval"
}

func (r *actionPlanApprovalResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Approves a saved action plan as a whole. A policy in `approve` mode, or in `auto` mode with `dry_run = true`, " +
			"saves the exact actions its run would take as a plan (see the `sirsi_action_plans` data source); once the plan is approved, " +
			"the agent executes those actions in the policy's next window and nothing else.\n\n" +
			"* **Create** approves the plan. Only a pending plan can be approved: a superseded one (a newer run of the same policy and " +
			"account replaced it) or one already approved elsewhere is refused with the control plane's reason.\n" +
			"* **Read** follows the plan: `status` moves from `approved` to `executed` once the agent has run it (the outcome of each action " +
			"is in the savings and audit data). A plan that no longer exists is removed from state; an approved plan cannot become superseded.\n" +
			"* **Destroy** only removes the approval from Terraform's state, with a warning: **an approved plan cannot be un-approved**. " +
			"To stop a plan that has not run yet, set the tenant's `max_actions_per_hour` to 0 (which stops every action of the tenant) before the policy's window.\n\n" +
			"`plan_id` and `tenant_id` replace the approval when changed.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Identifier of the approval: the plan's id.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"tenant_id": tenantIDAttribute("action plan"),
			"plan_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Plan to approve, as `sirsi_action_plans` lists it (`plans[*].id`).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"policy_id":        computed("Policy whose run produced the plan."),
			"cloud_account_id": computed("Cloud account the plan acts in."),
			"status":           computed("`approved` until the agent has run the plan, then `executed`."),
			"action_count": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "Number of actions in the plan.",
			},
			"estimated_monthly_savings": schema.Float64Attribute{
				Computed:            true,
				MarkdownDescription: "Estimated monthly saving of all the plan's actions together, rounded to cents, in `currency`; null when unknown.",
			},
			"currency":     computed("ISO 4217 currency of `estimated_monthly_savings`, such as `USD`; null when it is unknown."),
			"approved_by":  computed("Who approved it: `token:<id>` of the API token Terraform used, or `operator`."),
			"approve_time": computed("When it was approved (RFC 3339)."),
		},
	}
}

func (r *actionPlanApprovalResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	planTenantID(ctx, r.client, req, resp)
}

func (r *actionPlanApprovalResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan actionPlanApprovalModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenantID, err := r.client.TenantID(plan.TenantID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), "No tenant for the action plan approval", err.Error())
		return
	}
	plan.TenantID = types.StringValue(tenantID)
	id := plan.PlanID.ValueString()
	out, err := r.client.Management.ApproveActionPlan(ctx, &sirsiv1.ApproveActionPlanRequest{TenantId: tenantID, Id: id})
	if err != nil {
		p, summary, detail := approvalFailure("plan", "a pending plan", id, err)
		resp.Diagnostics.AddAttributeError(p, summary, detail)
		return
	}
	plan.fromAPI(out.GetPlan())
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *actionPlanApprovalResource) get(ctx context.Context, m *actionPlanApprovalModel) (*sirsiv1.ActionPlan, error) {
	out, err := r.client.Management.GetActionPlan(ctx, &sirsiv1.GetActionPlanRequest{
		TenantId: m.TenantID.ValueString(),
		Id:       m.PlanID.ValueString(),
	})
	return out.GetPlan(), err
}

func (r *actionPlanApprovalResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var state actionPlanApprovalModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.get(ctx, &state)
	if client.IsNotFound(err) || (err == nil && !planApprovalHolds(p.GetStatus())) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Reading action plan "+state.objectID(), err))
		return
	}
	state.fromAPI(p)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update is never called with a change, since both inputs replace the
// approval; it refreshes the state like Read.
func (r *actionPlanApprovalResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan actionPlanApprovalModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.get(ctx, &plan)
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Reading action plan "+plan.objectID(), err))
		return
	}
	plan.fromAPI(p)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Delete forgets the approval: the API has no way to take a plan's
// approval back, and pretending otherwise would let a destroy look like it
// stopped the actions.
func (r *actionPlanApprovalResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state actionPlanApprovalModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.AddWarning("The action plan stays approved",
		"An approved action plan cannot be un-approved: removing sirsi_action_plan_approval for plan "+state.objectID()+
			" only removes it from Terraform's state. If the plan has not run yet, the agent will still execute it in the policy's next window; "+
			"to stop that, set the tenant's max_actions_per_hour to 0 (which stops every action of the tenant) first.")
}

// ImportState accepts "tenant_id/plan_id", or the plan id alone when the
// provider has a default tenant.
func (r *actionPlanApprovalResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantScoped(ctx, r.client, "sirsi_action_plan_approval", req, resp, "plan_id")
}
