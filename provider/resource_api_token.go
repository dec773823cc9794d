package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

var (
	_ resource.ResourceWithConfigure   = (*apiTokenResource)(nil)
	_ resource.ResourceWithImportState = (*apiTokenResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*apiTokenResource)(nil)
)

type apiTokenResource struct {
	configuredResource
}

type apiTokenModel struct {
	ID          types.String `tfsdk:"id"`
	TenantID    types.String `tfsdk:"tenant_id"`
	Role        types.String `tfsdk:"role"`
	TTL         types.String `tfsdk:"ttl"`
	Description types.String `tfsdk:"description"`
	Token       types.String `tfsdk:"token"`
	ExpiresAt   types.String `tfsdk:"expires_at"`
}

// NewApiTokenResource is the sirsi_api_token resource.
func NewApiTokenResource() resource.Resource { return &apiTokenResource{} }

func (r *apiTokenResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_api_token"
}

func (r *apiTokenResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A tenant API token for people and pipelines. The secret `token` is returned only when the token is created: it is kept in state, and is null after `terraform import`. Deleting the resource revokes the token at once.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Identifier of the API token (not the secret).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"tenant_id": tenantIDAttribute("API token"),
			"role": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "What the token may do in its tenant: `admin` (everything, including tokens), `editor` (accounts, policies, approvals) or `viewer` (read only). Changing it replaces the token.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.OneOf(enumNames(sirsiv1.Role(0))...)},
			},
			"ttl": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Lifetime as a duration (`720h`), between 1m and 8760h. Left out, the token never expires. Changing it replaces the token.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{durationValidator(validation.MinTTL, validation.MaxAPITokenTTL)},
			},
			"description": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "What the token is for, at most 1024 characters. Changed in place.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1), descriptionValidator()},
			},
			"token": schema.StringAttribute{
				Computed:            true,
				Sensitive:           true,
				MarkdownDescription: "The secret bearer token. Only known from the apply that created it; null after import.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"expires_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When the token stops working (RFC 3339); null when it never expires.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

func (r *apiTokenResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	planTenantID(ctx, r.client, req, resp)
}

func (m *apiTokenModel) objectID() string { return m.ID.ValueString() }

// fromAPI keeps the secret from the model: only Create returns it.
func (m *apiTokenModel) fromAPI(t *sirsiv1.ApiToken) {
	m.ID = types.StringValue(t.GetId())
	m.TenantID = types.StringValue(t.GetTenantId())
	m.Role = optionalString(validation.EnumName(t.GetRole()))
	m.TTL = durationValue(t.GetTtl(), m.TTL)
	m.Description = optionalString(t.GetDescription())
	if t.GetToken() != "" {
		m.Token = types.StringValue(t.GetToken())
	} else if m.Token.IsUnknown() {
		m.Token = types.StringNull()
	}
	m.ExpiresAt = timeValue(t.GetExpireTime())
}

func parseRole(v types.String, diags *diag.Diagnostics) sirsiv1.Role {
	n, err := validation.ParseEnum(sirsiv1.Role(0).Descriptor(), v.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root("role"), "Invalid role", err.Error())
		return sirsiv1.Role_ROLE_UNSPECIFIED
	}
	return sirsiv1.Role(n)
}

func (r *apiTokenResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan apiTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenant, err := r.client.TenantID(plan.TenantID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), "Missing tenant", err.Error())
		return
	}
	role := parseRole(plan.Role, &resp.Diagnostics)
	ttl := parseDuration(plan.TTL, "ttl", &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := r.client.Management.CreateApiToken(ctx, &sirsiv1.CreateApiTokenRequest{
		TenantId:    tenant,
		Role:        role,
		Description: plan.Description.ValueString(),
		Ttl:         ttl,
	})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Creating API token", err))
		return
	}
	plan.fromAPI(out.GetApiToken())
	if plan.Token.IsNull() {
		resp.Diagnostics.AddError("Creating API token returned no secret",
			"The control plane created API token "+plan.ID.ValueString()+" but did not return its secret; delete it and try again.")
	}
	setVersion(ctx, resp.Private, out.GetApiToken().GetVersion(), &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *apiTokenResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readInto(ctx, r.client, "API token", req, resp, func(ctx context.Context, state *apiTokenModel) error {
		out, err := r.client.Management.GetApiToken(ctx, &sirsiv1.GetApiTokenRequest{
			TenantId: state.TenantID.ValueString(),
			Id:       state.ID.ValueString(),
		})
		if err != nil {
			return err
		}
		state.fromAPI(out.GetApiToken())
		setVersion(ctx, resp.Private, out.GetApiToken().GetVersion(), &resp.Diagnostics)
		return nil
	})
}

func (r *apiTokenResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan, state apiTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := r.client.Management.UpdateApiToken(ctx, &sirsiv1.UpdateApiTokenRequest{
		TenantId:    state.TenantID.ValueString(),
		Id:          state.ID.ValueString(),
		Description: plan.Description.ValueString(),
		Version:     getVersion(ctx, req.Private, &resp.Diagnostics),
	})
	if err != nil {
		resp.Diagnostics.Append(writeFailure("Updating", "API token", state.ID.ValueString(), err))
		return
	}
	plan.Token = state.Token
	plan.fromAPI(out.GetApiToken())
	setVersion(ctx, resp.Private, out.GetApiToken().GetVersion(), &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *apiTokenResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	deleteIgnoringNotFound(ctx, r.client, "API token", req, resp, func(ctx context.Context, state *apiTokenModel) error {
		_, err := r.client.Management.DeleteApiToken(ctx, &sirsiv1.DeleteApiTokenRequest{
			TenantId: state.TenantID.ValueString(),
			Id:       state.ID.ValueString(),
		})
		return err
	})
}

// ImportState accepts "tenant_id/id", or a plain id in the provider's
// tenant; the secret cannot be imported.
func (r *apiTokenResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantScoped(ctx, r.client, "sirsi_api_token", req, resp)
}
