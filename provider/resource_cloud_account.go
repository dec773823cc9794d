package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

var (
	_ resource.ResourceWithConfigure      = (*cloudAccountResource)(nil)
	_ resource.ResourceWithImportState    = (*cloudAccountResource)(nil)
	_ resource.ResourceWithValidateConfig = (*cloudAccountResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*cloudAccountResource)(nil)
)

type cloudAccountResource struct {
	configuredResource
}

type cloudAccountModel struct {
	ID           types.String `tfsdk:"id"`
	TenantID     types.String `tfsdk:"tenant_id"`
	Cloud        types.String `tfsdk:"cloud"`
	AccountID    types.String `tfsdk:"account_id"`
	Regions      types.Set    `tfsdk:"regions"`
	RoleARN      types.String `tfsdk:"role_arn"`
	ExternalID   types.String `tfsdk:"external_id"`
	DisplayName  types.String `tfsdk:"display_name"`
	Status       types.String `tfsdk:"status"`
	LastSeenAt   types.String `tfsdk:"last_seen_at"`
	AgentVersion types.String `tfsdk:"agent_version"`
	StatusDetail types.String `tfsdk:"status_detail"`
}

// NewCloudAccountResource is the sirsi_cloud_account resource.
func NewCloudAccountResource() resource.Resource { return &cloudAccountResource{} }

func (r *cloudAccountResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cloud_account"
}

func (r *cloudAccountResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "An AWS account registered with a tenant. The agent running in the account assumes `role_arn` (with `external_id`) and reports to the control plane; `status`, `last_seen_at` and `agent_version` follow what the agent does.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Identifier of the cloud account, assigned by the control plane.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"tenant_id": tenantIDAttribute("cloud account"),
			"cloud": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString("aws"),
				MarkdownDescription: "Cloud of the account. Only `aws` is supported, and it is the default. Changing it replaces the account.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.OneOf(enumNames(sirsiv1.Cloud(0))...)},
			},
			"account_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The 12-digit AWS account id. Changing it replaces the account.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{accountIDValidator()},
			},
			"regions": schema.SetAttribute{
				ElementType:         types.StringType,
				Required:            true,
				MarkdownDescription: "AWS regions the agent discovers and optimizes, at least one (`us-east-1`, `eu-west-1`, ...).",
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(regionValidator()),
				},
			},
			"role_arn": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "IAM role the agent assumes in the account; it must belong to `account_id`.",
				Validators:          []validator.String{roleARNValidator()},
			},
			"external_id": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "`sts:ExternalId` the agent passes when assuming `role_arn`. Sealed at rest by the control plane, and read back only with an admin or editor token, so manage accounts with one of those.",
				Validators:          []validator.String{externalIDValidator()},
			},
			"display_name": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Human-readable name, one line of at most 256 characters.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1), displayNameValidator()},
			},
			"status": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Agent connection: `pending` (no agent has reported yet), `connected`, `stale` (silent for longer than the staleness window), `credentials_mismatch` (the agent's AWS credentials belong to another AWS account than `account_id`), `assume_role_failed` (AWS refused the agent `sts:AssumeRole` of `role_arn` with `external_id`) or `actions_denied` (AWS refused the agent's last actions with `AccessDenied` or `UnauthorizedOperation`: the role lacks a permission; cleared by the next action that succeeds or is rolled back). With `credentials_mismatch` or `assume_role_failed` the agent runs no sweep and no action for the account until its credentials are right; `status_detail` says why. Changes outside Terraform.",
			},
			"status_detail": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Why `status` is `credentials_mismatch`, `assume_role_failed` or `actions_denied`: the account the credentials belong to, AWS's error code and message, or the refused action, its resource and AWS's code. Null otherwise.",
			},
			"last_seen_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Last heartbeat of the account's agent (RFC 3339); null before the first one.",
			},
			"agent_version": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Version of the agent that last reported; null before the first report.",
			},
		},
	}
}

// ValidateConfig checks that role_arn belongs to account_id: an agent could
// only assume a role in another account through a trust it should not need.
func (r *cloudAccountResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var account, arn types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("account_id"), &account)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("role_arn"), &arn)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if account.IsNull() || account.IsUnknown() || arn.IsNull() || arn.IsUnknown() {
		return
	}
	arnAccount, err := validation.RoleARN(arn.ValueString())
	if err != nil {
		// The attribute validator reports the shape.
		return
	}
	if arnAccount != account.ValueString() {
		resp.Diagnostics.AddAttributeError(path.Root("role_arn"), "Role in another account",
			fmt.Sprintf("role_arn belongs to account %s, but account_id is %s: the role must be in the account being registered.", arnAccount, account.ValueString()))
	}
}

func (r *cloudAccountResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	planTenantID(ctx, r.client, req, resp)
}

func (m *cloudAccountModel) toAPI(ctx context.Context, diags *diag.Diagnostics) *sirsiv1.CloudAccount {
	a := &sirsiv1.CloudAccount{
		Id:          m.ID.ValueString(),
		TenantId:    m.TenantID.ValueString(),
		AccountId:   m.AccountID.ValueString(),
		RoleArn:     m.RoleARN.ValueString(),
		ExternalId:  m.ExternalID.ValueString(),
		DisplayName: m.DisplayName.ValueString(),
	}
	if !m.Cloud.IsNull() && !m.Cloud.IsUnknown() {
		n, err := validation.ParseEnum(sirsiv1.Cloud(0).Descriptor(), m.Cloud.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("cloud"), "Invalid cloud", err.Error())
			return nil
		}
		a.Cloud = sirsiv1.Cloud(n)
	}
	diags.Append(m.Regions.ElementsAs(ctx, &a.Regions, false)...)
	return a
}

func (m *cloudAccountModel) objectID() string { return m.ID.ValueString() }

func (m *cloudAccountModel) fromAPI(ctx context.Context, a *sirsiv1.CloudAccount, diags *diag.Diagnostics) {
	m.ID = types.StringValue(a.GetId())
	m.TenantID = types.StringValue(a.GetTenantId())
	m.Cloud = optionalString(validation.EnumName(a.GetCloud()))
	m.AccountID = types.StringValue(a.GetAccountId())
	regions, d := types.SetValueFrom(ctx, types.StringType, a.GetRegions())
	diags.Append(d...)
	m.Regions = regions
	m.RoleARN = optionalString(a.GetRoleArn())
	m.ExternalID = optionalString(a.GetExternalId())
	m.DisplayName = optionalString(a.GetDisplayName())
	m.Status = optionalString(validation.EnumName(a.GetStatus()))
	m.LastSeenAt = timeValue(a.GetLastSeenTime())
	m.AgentVersion = optionalString(a.GetAgentVersion())
	m.StatusDetail = optionalString(a.GetStatusDetail())
}

func (r *cloudAccountResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan cloudAccountModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenant, err := r.client.TenantID(plan.TenantID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), "Missing tenant", err.Error())
		return
	}
	plan.TenantID = types.StringValue(tenant)
	a := plan.toAPI(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := r.client.Management.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: a})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Creating cloud account "+plan.AccountID.ValueString(), err))
		return
	}
	plan.fromAPI(ctx, out.GetCloudAccount(), &resp.Diagnostics)
	setVersion(ctx, resp.Private, out.GetCloudAccount().GetVersion(), &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *cloudAccountResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readInto(ctx, r.client, "cloud account", req, resp, func(ctx context.Context, state *cloudAccountModel) error {
		out, err := r.client.Management.GetCloudAccount(ctx, &sirsiv1.GetCloudAccountRequest{
			TenantId: state.TenantID.ValueString(),
			Id:       state.ID.ValueString(),
		})
		if err != nil {
			return err
		}
		state.fromAPI(ctx, out.GetCloudAccount(), &resp.Diagnostics)
		setVersion(ctx, resp.Private, out.GetCloudAccount().GetVersion(), &resp.Diagnostics)
		return nil
	})
}

func (r *cloudAccountResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan, state cloudAccountModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = state.ID
	plan.TenantID = state.TenantID
	a := plan.toAPI(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	a.Version = getVersion(ctx, req.Private, &resp.Diagnostics)
	out, err := r.client.Management.UpdateCloudAccount(ctx, &sirsiv1.UpdateCloudAccountRequest{CloudAccount: a})
	if err != nil {
		resp.Diagnostics.Append(writeFailure("Updating", "cloud account", state.ID.ValueString(), err))
		return
	}
	plan.fromAPI(ctx, out.GetCloudAccount(), &resp.Diagnostics)
	setVersion(ctx, resp.Private, out.GetCloudAccount().GetVersion(), &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *cloudAccountResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	deleteIgnoringNotFound(ctx, r.client, "cloud account", req, resp, func(ctx context.Context, state *cloudAccountModel) error {
		_, err := r.client.Management.DeleteCloudAccount(ctx, &sirsiv1.DeleteCloudAccountRequest{
			TenantId: state.TenantID.ValueString(),
			Id:       state.ID.ValueString(),
			Version:  getVersion(ctx, req.Private, &resp.Diagnostics),
		})
		return err
	})
}

// ImportState accepts "tenant_id/id", or a plain id for the provider's
// tenant.
func (r *cloudAccountResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantScoped(ctx, r.client, "sirsi_cloud_account", req, resp)
}
