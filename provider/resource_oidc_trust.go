package provider

import (
	"context"

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
	_ resource.ResourceWithConfigure   = (*oidcTrustResource)(nil)
	_ resource.ResourceWithImportState = (*oidcTrustResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*oidcTrustResource)(nil)
)

type oidcTrustResource struct {
	configuredResource
}

type oidcTrustModel struct {
	ID           types.String `tfsdk:"id"`
	TenantID     types.String `tfsdk:"tenant_id"`
	Name         types.String `tfsdk:"name"`
	Issuer       types.String `tfsdk:"issuer"`
	Audience     types.String `tfsdk:"audience"`
	BoundClaims  types.Map    `tfsdk:"bound_claims"`
	Role         types.String `tfsdk:"role"`
	SubjectClaim types.String `tfsdk:"subject_claim"`
	MaxTokenAge  types.String `tfsdk:"max_token_age"`
}

// NewOIDCTrustResource is the sirsi_oidc_trust resource.
func NewOIDCTrustResource() resource.Resource { return &oidcTrustResource{} }

func (r *oidcTrustResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_oidc_trust"
}

func (r *oidcTrustResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lets the tokens an OpenID Connect issuer signs (HCP Terraform workload identity, GitHub Actions, an enterprise identity provider) call the control plane in one tenant with one role, so a pipeline needs no stored API token. " +
			"A token is accepted when it is signed (RS256 or ES256) by a key the issuer publishes, its `iss` is `issuer`, its `aud` contains `audience`, it is within its `exp`/`nbf`, it was issued at most `max_token_age` ago and every entry of `bound_claims` matches. The caller appears in the audit log as `oidc:<name>:<subject>`. Only tenant admins manage trusts.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Identifier of the trust, assigned by the control plane.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"tenant_id": tenantIDAttribute("trust"),
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the trust, unique in the tenant (2..63 lowercase letters, digits or `-`); part of the caller's name in the audit log.",
				Validators:          []validator.String{slugValidator()},
			},
			"issuer": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Issuer URL exactly as the token's `iss` claim spells it, e.g. `https://app.terraform.io` or `https://token.actions.githubusercontent.com`. Must be https (plain http only for a loopback host, for tests). The control plane fetches `<issuer>/.well-known/openid-configuration` and the key set it names.",
				Validators:          []validator.String{stringCheck{"OIDC issuer (an https URL without query or fragment)", validation.OIDCIssuer}},
			},
			"audience": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Value the token's `aud` claim must contain: the audience the workload identity token is minted for (HCP Terraform's `TFC_WORKLOAD_IDENTITY_AUDIENCE`, GitHub's `audience` input to the ID token request).",
				Validators:          []validator.String{stringCheck{"OIDC audience (one line, at most 256 printable characters)", validation.OIDCAudience}},
			},
			"bound_claims": schema.MapAttribute{
				ElementType: types.StringType,
				Required:    true,
				MarkdownDescription: "Claims the token must carry, name to value; `*` in a value matches any run of characters. Every entry must match a string claim, and at least one entry is required, e.g. " +
					"`{ terraform_organization_name = \"acme\", terraform_workspace_name = \"prod-*\" }` or `{ repository = \"acme/infra\", ref = \"refs/heads/main\" }`. `iss`, `aud`, `exp`, `nbf` and `iat` are checked by the verifier and cannot be bound.",
				Validators: []validator.Map{mapCheck{"bound claims (1..32 claim names to patterns)", validation.OIDCBoundClaims}},
			},
			"role": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "What callers of this trust may do in the tenant: `admin`, `editor` or `viewer`, as for API tokens.",
				Validators:          []validator.String{stringvalidator.OneOf(enumNames(sirsiv1.Role(0))...)},
			},
			"subject_claim": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(validation.DefaultOIDCSubjectClaim),
				MarkdownDescription: "Claim that names the caller in the audit log (`oidc:<name>:<subject>`). Default `" + validation.DefaultOIDCSubjectClaim + "`.",
				Validators:          []validator.String{stringCheck{"claim name", validation.OIDCClaimName}},
			},
			"max_token_age": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(formatDuration(validation.DefaultOIDCMaxTokenAge)),
				MarkdownDescription: "How long after its `iat` a token is accepted, whatever its `exp` says, between " + formatDuration(validation.MinOIDCMaxTokenAge) + " and " + formatDuration(validation.MaxOIDCMaxTokenAge) + ". Default " + formatDuration(validation.DefaultOIDCMaxTokenAge) + ": an HCP Terraform plan or apply phase.",
				Validators:          []validator.String{durationValidator(validation.MinOIDCMaxTokenAge, validation.MaxOIDCMaxTokenAge)},
			},
		},
	}
}

func (r *oidcTrustResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	planTenantID(ctx, r.client, req, resp)
}

func (m *oidcTrustModel) objectID() string { return m.ID.ValueString() }

func (m *oidcTrustModel) toAPI(ctx context.Context, diags *diag.Diagnostics) *sirsiv1.OidcTrust {
	return &sirsiv1.OidcTrust{
		Id:           m.ID.ValueString(),
		TenantId:     m.TenantID.ValueString(),
		Name:         m.Name.ValueString(),
		Issuer:       m.Issuer.ValueString(),
		Audience:     m.Audience.ValueString(),
		BoundClaims:  stringMap(ctx, m.BoundClaims, diags),
		Role:         sirsiv1.Role(parseEnum(sirsiv1.Role(0).Descriptor(), m.Role)),
		SubjectClaim: m.SubjectClaim.ValueString(),
		MaxTokenAge:  parseDuration(m.MaxTokenAge, "max_token_age", diags),
	}
}

func (m *oidcTrustModel) fromAPI(ctx context.Context, o *sirsiv1.OidcTrust, diags *diag.Diagnostics) {
	m.ID = types.StringValue(o.GetId())
	m.TenantID = types.StringValue(o.GetTenantId())
	m.Name = types.StringValue(o.GetName())
	m.Issuer = types.StringValue(o.GetIssuer())
	m.Audience = types.StringValue(o.GetAudience())
	m.BoundClaims = stringMapValue(ctx, o.GetBoundClaims(), m.BoundClaims, diags)
	m.Role = optionalString(validation.EnumName(o.GetRole()))
	m.SubjectClaim = types.StringValue(o.GetSubjectClaim())
	m.MaxTokenAge = durationValue(o.GetMaxTokenAge(), m.MaxTokenAge)
}

func (r *oidcTrustResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan oidcTrustModel
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
	o := plan.toAPI(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := r.client.Management.CreateOidcTrust(ctx, &sirsiv1.CreateOidcTrustRequest{OidcTrust: o})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Creating OIDC trust "+plan.Name.ValueString(), err))
		return
	}
	plan.fromAPI(ctx, out.GetOidcTrust(), &resp.Diagnostics)
	setVersion(ctx, resp.Private, out.GetOidcTrust().GetVersion(), &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *oidcTrustResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readInto(ctx, r.client, "OIDC trust", req, resp, func(ctx context.Context, state *oidcTrustModel) error {
		out, err := r.client.Management.GetOidcTrust(ctx, &sirsiv1.GetOidcTrustRequest{
			TenantId: state.TenantID.ValueString(),
			Id:       state.ID.ValueString(),
		})
		if err != nil {
			return err
		}
		state.fromAPI(ctx, out.GetOidcTrust(), &resp.Diagnostics)
		setVersion(ctx, resp.Private, out.GetOidcTrust().GetVersion(), &resp.Diagnostics)
		return nil
	})
}

func (r *oidcTrustResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan, state oidcTrustModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = state.ID
	plan.TenantID = state.TenantID
	o := plan.toAPI(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	o.Version = getVersion(ctx, req.Private, &resp.Diagnostics)
	out, err := r.client.Management.UpdateOidcTrust(ctx, &sirsiv1.UpdateOidcTrustRequest{OidcTrust: o})
	if err != nil {
		resp.Diagnostics.Append(writeFailure("Updating", "OIDC trust", state.ID.ValueString(), err))
		return
	}
	plan.fromAPI(ctx, out.GetOidcTrust(), &resp.Diagnostics)
	setVersion(ctx, resp.Private, out.GetOidcTrust().GetVersion(), &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *oidcTrustResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	deleteIgnoringNotFound(ctx, r.client, "OIDC trust", req, resp, func(ctx context.Context, state *oidcTrustModel) error {
		_, err := r.client.Management.DeleteOidcTrust(ctx, &sirsiv1.DeleteOidcTrustRequest{
			TenantId: state.TenantID.ValueString(),
			Id:       state.ID.ValueString(),
			Version:  getVersion(ctx, req.Private, &resp.Diagnostics),
		})
		return err
	})
}

// ImportState accepts "tenant_id/id", or a plain id for the provider's
// tenant.
func (r *oidcTrustResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantScoped(ctx, r.client, "sirsi_oidc_trust", req, resp)
}
