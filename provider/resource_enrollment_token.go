package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
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
	_ resource.ResourceWithConfigure   = (*enrollmentTokenResource)(nil)
	_ resource.ResourceWithImportState = (*enrollmentTokenResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*enrollmentTokenResource)(nil)
)

type enrollmentTokenResource struct {
	configuredResource
	// now is the provider's clock, so tests can move past expiry without
	// waiting.
	now func() time.Time
}

type enrollmentTokenModel struct {
	ID             types.String `tfsdk:"id"`
	TenantID       types.String `tfsdk:"tenant_id"`
	CloudAccountID types.String `tfsdk:"cloud_account_id"`
	TTL            types.String `tfsdk:"ttl"`
	MaxUses        types.Int64  `tfsdk:"max_uses"`
	Token          types.String `tfsdk:"token"`
	ExpiresAt      types.String `tfsdk:"expires_at"`
	Uses           types.Int64  `tfsdk:"uses"`
}

// newEnrollmentTokenResource is the sirsi_enrollment_token resource; it is
// a provider method because expiry is judged by the provider's clock.
func (p *sirsiProvider) newEnrollmentTokenResource() resource.Resource {
	return &enrollmentTokenResource{now: p.now}
}

func (r *enrollmentTokenResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_enrollment_token"
}

func (r *enrollmentTokenResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A single-use (or few-use), expiring token an agent presents once to enroll into a cloud account; the agent then gets its own certificate. " +
			"The secret `token` is returned only when the token is created: it is kept in state, and is null after `terraform import`. " +
			"Once the token has expired, the next plan replaces it (`expires_at` is shown as forcing replacement), so applying again always leaves a usable token.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Identifier of the enrollment token (not the secret).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"tenant_id": tenantIDAttribute("enrollment token"),
			"cloud_account_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Cloud account (`sirsi_cloud_account.id`) the enrolling agent joins. Changing it replaces the token.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"ttl": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString("24h"),
				MarkdownDescription: "How long the token stays valid, as a duration (`30m`, `24h`), between 1m and 720h. Defaults to `24h`. Changing it replaces the token.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{durationValidator(validation.MinTTL, validation.MaxEnrollmentTTL)},
			},
			"max_uses": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(1),
				MarkdownDescription: "How many enrollments the token allows, 1..1000. Defaults to 1. Changing it replaces the token.",
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
				Validators:          []validator.Int64{int64validator.Between(1, validation.MaxEnrollUses)},
			},
			"token": schema.StringAttribute{
				Computed:            true,
				Sensitive:           true,
				MarkdownDescription: "The secret the agent presents to enroll. Only known from the apply that created it; null after import.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"expires_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When the token stops working (RFC 3339).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"uses": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "How many agents have enrolled with the token so far.",
			},
		},
	}
}

// ModifyPlan replaces an expired token. This is done here rather than by
// dropping it from state in Read so the plan says why ("expires_at forces
// replacement") and the old token is deleted instead of being forgotten.
func (r *enrollmentTokenResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	planTenantID(ctx, r.client, req, resp)
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	var expires types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("expires_at"), &expires)...)
	if resp.Diagnostics.HasError() || !expired(expires, r.now()) {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("expires_at"), types.StringUnknown())...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("token"), types.StringUnknown())...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), types.StringUnknown())...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("uses"), types.Int64Unknown())...)
	resp.RequiresReplace = append(resp.RequiresReplace, path.Root("expires_at"))
}

// expired reports whether an RFC 3339 expiry is at or before now; an
// unparsable or missing one is not treated as expired (the server decides).
func expired(expires types.String, now time.Time) bool {
	if expires.IsNull() || expires.IsUnknown() {
		return false
	}
	t, err := time.Parse(time.RFC3339, expires.ValueString())
	if err != nil {
		return false
	}
	return !now.Before(t)
}

func (m *enrollmentTokenModel) objectID() string { return m.ID.ValueString() }

// fromAPI keeps the token from the model: the control plane returns the
// secret only from Create.
func (m *enrollmentTokenModel) fromAPI(t *sirsiv1.EnrollmentToken) {
	m.ID = types.StringValue(t.GetId())
	m.TenantID = types.StringValue(t.GetTenantId())
	m.CloudAccountID = types.StringValue(t.GetCloudAccountId())
	m.TTL = durationValue(t.GetTtl(), m.TTL)
	m.MaxUses = types.Int64Value(int64(t.GetMaxUses()))
	if t.GetToken() != "" {
		m.Token = types.StringValue(t.GetToken())
	} else if m.Token.IsUnknown() {
		m.Token = types.StringNull()
	}
	m.ExpiresAt = timeValue(t.GetExpireTime())
	m.Uses = types.Int64Value(int64(t.GetUses()))
}

func (r *enrollmentTokenResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan enrollmentTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenant, err := r.client.TenantID(plan.TenantID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), "Missing tenant", err.Error())
		return
	}
	ttl := parseDuration(plan.TTL, "ttl", &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := r.client.Management.CreateEnrollmentToken(ctx, &sirsiv1.CreateEnrollmentTokenRequest{
		TenantId:       tenant,
		CloudAccountId: plan.CloudAccountID.ValueString(),
		Ttl:            ttl,
		MaxUses:        int32(plan.MaxUses.ValueInt64()),
	})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Creating enrollment token for cloud account "+plan.CloudAccountID.ValueString(), err))
		return
	}
	plan.fromAPI(out.GetEnrollmentToken())
	if plan.Token.IsNull() {
		resp.Diagnostics.AddError("Creating enrollment token returned no secret",
			"The control plane created enrollment token "+plan.ID.ValueString()+" but did not return its secret; delete it and try again.")
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *enrollmentTokenResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readInto(ctx, r.client, "enrollment token", req, resp, func(ctx context.Context, state *enrollmentTokenModel) error {
		out, err := r.client.Management.GetEnrollmentToken(ctx, &sirsiv1.GetEnrollmentTokenRequest{
			TenantId: state.TenantID.ValueString(),
			Id:       state.ID.ValueString(),
		})
		if err != nil {
			return err
		}
		state.fromAPI(out.GetEnrollmentToken())
		return nil
	})
}

// Update is never reached with a change (every argument replaces the token)
// but the framework calls it when only computed values moved; the state is
// the plan.
func (r *enrollmentTokenResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan enrollmentTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *enrollmentTokenResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	deleteIgnoringNotFound(ctx, r.client, "enrollment token", req, resp, func(ctx context.Context, state *enrollmentTokenModel) error {
		_, err := r.client.Management.DeleteEnrollmentToken(ctx, &sirsiv1.DeleteEnrollmentTokenRequest{
			TenantId: state.TenantID.ValueString(),
			Id:       state.ID.ValueString(),
		})
		return err
	})
}

// ImportState accepts "tenant_id/id", or a plain id in the provider's
// tenant; the secret cannot be imported.
func (r *enrollmentTokenResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantScoped(ctx, r.client, "sirsi_enrollment_token", req, resp)
}
