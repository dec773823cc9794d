package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

var (
	_ ephemeral.EphemeralResourceWithConfigure = (*apiTokenEphemeral)(nil)
	_ ephemeral.EphemeralResourceWithClose     = (*apiTokenEphemeral)(nil)
)

// defaultEphemeralAPITokenDescription tells an admin listing the tenant's
// tokens where one came from.
const defaultEphemeralAPITokenDescription = "opened by Terraform (ephemeral sirsi_api_token)"

type apiTokenEphemeral struct {
	configuredEphemeral
}

type apiTokenEphemeralModel struct {
	TenantID      types.String `tfsdk:"tenant_id"`
	Role          types.String `tfsdk:"role"`
	TTL           types.String `tfsdk:"ttl"`
	Description   types.String `tfsdk:"description"`
	RevokeOnClose types.Bool   `tfsdk:"revoke_on_close"`
	openedToken
}

// NewApiTokenEphemeral is the ephemeral sirsi_api_token.
func NewApiTokenEphemeral() ephemeral.EphemeralResource { return &apiTokenEphemeral{} }

func (e *apiTokenEphemeral) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_api_token"
}

func (e *apiTokenEphemeral) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A short-lived tenant API token opened for one Terraform run and never written to state or plan files (Terraform 1.10 and later; " +
			"with Terraform 1.5 use the `sirsi_api_token` resource, which keeps its secret in state). Terraform opens it in every plan and apply that needs it, " +
			"so each run gets a token of its own. Use it to configure another provider or to pass into a write-only argument. " +
			"By default the token is revoked when Terraform closes it at the end of the run; with `revoke_on_close = false` (a token stored for later use, " +
			"for example in a secret store's write-only argument) it lives until its `ttl` runs out.",
		Attributes: openedTokenAttributes("API token", "The secret bearer token.", map[string]schema.Attribute{
			"tenant_id": ephemeralTenantIDAttribute("API token"),
			"role": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "What the token may do in its tenant: `admin`, `editor` or `viewer`.",
				Validators:          []validator.String{stringvalidator.OneOf(enumNames(sirsiv1.Role(0))...)},
			},
			"ttl": ephemeralTTLAttribute(validation.MinTTL, validation.MaxAPITokenTTL),
			"description": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "What the token is for, at most 1024 characters, shown when the tenant's tokens are listed. Defaults to `" + defaultEphemeralAPITokenDescription + "`.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1), descriptionValidator()},
			},
			"revoke_on_close": revokeOnCloseAttribute("Defaults to `true`; set `false` when the token must outlive the run."),
		}),
	}
}

func (e *apiTokenEphemeral) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	if !requireClient(e.client, &resp.Diagnostics) {
		return
	}
	var m apiTokenEphemeralModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenant, err := e.client.TenantID(m.TenantID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), "Missing tenant", err.Error())
		return
	}
	ephemeralTTL(&m.TTL)
	if m.Description.IsNull() {
		m.Description = types.StringValue(defaultEphemeralAPITokenDescription)
	}
	if m.RevokeOnClose.IsNull() {
		m.RevokeOnClose = types.BoolValue(true)
	}
	role := parseRole(m.Role, &resp.Diagnostics)
	ttl := parseDuration(m.TTL, "ttl", &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := e.client.Management.CreateApiToken(ctx, &sirsiv1.CreateApiTokenRequest{
		TenantId: tenant, Role: role, Description: m.Description.ValueString(), Ttl: ttl,
	})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Opening API token", err))
		return
	}
	tok := out.GetApiToken()
	if !m.fill(ctx, resp, m.RevokeOnClose.ValueBool(), "API token", tok.GetTenantId(), tok.GetId(), tok.GetToken(), tok.GetExpireTime()) {
		return
	}
	m.TenantID = types.StringValue(tok.GetTenantId())
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}

func (e *apiTokenEphemeral) Close(ctx context.Context, req ephemeral.CloseRequest, resp *ephemeral.CloseResponse) {
	revokeAtClose(ctx, e.client, "API token", req, resp, func(ctx context.Context, r revocation) error {
		_, err := e.client.Management.DeleteApiToken(ctx, &sirsiv1.DeleteApiTokenRequest{TenantId: r.TenantID, Id: r.ID})
		return err
	})
}
