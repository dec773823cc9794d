package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
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
	_ ephemeral.EphemeralResourceWithConfigure = (*enrollmentTokenEphemeral)(nil)
	_ ephemeral.EphemeralResourceWithClose     = (*enrollmentTokenEphemeral)(nil)
)

type enrollmentTokenEphemeral struct {
	configuredEphemeral
}

type enrollmentTokenEphemeralModel struct {
	TenantID       types.String `tfsdk:"tenant_id"`
	CloudAccountID types.String `tfsdk:"cloud_account_id"`
	TTL            types.String `tfsdk:"ttl"`
	MaxUses        types.Int64  `tfsdk:"max_uses"`
	RevokeOnClose  types.Bool   `tfsdk:"revoke_on_close"`
	openedToken
}

// NewEnrollmentTokenEphemeral is the ephemeral sirsi_enrollment_token.
func NewEnrollmentTokenEphemeral() ephemeral.EphemeralResource { return &enrollmentTokenEphemeral{} }

func (e *enrollmentTokenEphemeral) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_enrollment_token"
}

func (e *enrollmentTokenEphemeral) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A short-lived enrollment token opened for one Terraform run and never written to state or plan files (Terraform 1.10 and later; " +
			"with Terraform 1.5 use the `sirsi_enrollment_token` resource, which keeps its secret in state). Terraform opens it in every plan and apply that needs it, " +
			"so each run gets a token of its own; pass it into a write-only argument (a secret store's, an instance's bootstrap secret) for the agent to read when it starts. " +
			"An agent usually enrolls after the run, so by default the token is not revoked at close: it stops working after `max_uses` enrollments or when its `ttl` runs out. " +
			"Tokens opened by plans that are never applied expire the same way.",
		Attributes: openedTokenAttributes("enrollment token", "The secret the agent presents to enroll.", map[string]schema.Attribute{
			"tenant_id": ephemeralTenantIDAttribute("enrollment token"),
			"cloud_account_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Cloud account (`sirsi_cloud_account.id`) the enrolling agent joins.",
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"ttl": ephemeralTTLAttribute(validation.MinTTL, validation.MaxEnrollmentTTL),
			"max_uses": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "How many enrollments the token allows, 1..1000. Defaults to 1.",
				Validators:          []validator.Int64{int64validator.Between(1, validation.MaxEnrollUses)},
			},
			"revoke_on_close": revokeOnCloseAttribute("Defaults to `false`; set `true` for an agent that enrolls during the run."),
		}),
	}
}

func (e *enrollmentTokenEphemeral) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	if !requireClient(e.client, &resp.Diagnostics) {
		return
	}
	var m enrollmentTokenEphemeralModel
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
	if m.MaxUses.IsNull() {
		m.MaxUses = types.Int64Value(1)
	}
	if m.RevokeOnClose.IsNull() {
		m.RevokeOnClose = types.BoolValue(false)
	}
	ttl := parseDuration(m.TTL, "ttl", &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := e.client.Management.CreateEnrollmentToken(ctx, &sirsiv1.CreateEnrollmentTokenRequest{
		TenantId: tenant, CloudAccountId: m.CloudAccountID.ValueString(), Ttl: ttl, MaxUses: int32(m.MaxUses.ValueInt64()),
	})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Opening enrollment token for cloud account "+m.CloudAccountID.ValueString(), err))
		return
	}
	tok := out.GetEnrollmentToken()
	if !m.fill(ctx, resp, m.RevokeOnClose.ValueBool(), "enrollment token", tok.GetTenantId(), tok.GetId(), tok.GetToken(), tok.GetExpireTime()) {
		return
	}
	m.TenantID = types.StringValue(tok.GetTenantId())
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}

func (e *enrollmentTokenEphemeral) Close(ctx context.Context, req ephemeral.CloseRequest, resp *ephemeral.CloseResponse) {
	revokeAtClose(ctx, e.client, "enrollment token", req, resp, func(ctx context.Context, r revocation) error {
		_, err := e.client.Management.DeleteEnrollmentToken(ctx, &sirsiv1.DeleteEnrollmentTokenRequest{TenantId: r.TenantID, Id: r.ID})
		return err
	})
}
