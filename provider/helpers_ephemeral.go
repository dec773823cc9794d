package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

// defaultEphemeralTokenTTL is how long a token opened by an ephemeral
// resource lives when the configuration says nothing: long enough for one
// plan or apply, short enough that a token nobody revokes (one opened by a
// plan, or kept on purpose) stops working soon.
const defaultEphemeralTokenTTL = time.Hour

// configuredEphemeral is embedded by every ephemeral resource: they take
// the same client from the provider as resources and data sources.
type configuredEphemeral struct {
	client *client.Client
}

func (e *configuredEphemeral) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

// ephemeralTenantIDAttribute is tenant_id of an ephemeral resource.
func ephemeralTenantIDAttribute(what string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		Computed:            true,
		MarkdownDescription: fmt.Sprintf("Tenant the %s is opened in. Defaults to the provider's `tenant_id` (or the tenant of its API token).", what),
		Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
	}
}

// ephemeralTTLAttribute is ttl of an ephemeral token, bounded like the
// managed resource's.
func ephemeralTTLAttribute(lo, hi time.Duration) schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true,
		Computed: true,
		MarkdownDescription: fmt.Sprintf("How long the token stays valid, as a duration, between %s and %s. Defaults to `%s`: a token that is not revoked at close expires soon after the run.",
			formatDuration(lo), formatDuration(hi), formatDuration(defaultEphemeralTokenTTL)),
		Validators: []validator.String{durationValidator(lo, hi)},
	}
}

// ephemeralTTL is the configured ttl, else the default, written back so the
// result shows what was asked for.
func ephemeralTTL(v *types.String) {
	if v.IsNull() || v.IsUnknown() {
		*v = types.StringValue(formatDuration(defaultEphemeralTokenTTL))
	}
}

// openedToken is what both ephemeral tokens return besides their
// arguments; the models embed it.
type openedToken struct {
	ID        types.String `tfsdk:"id"`
	Token     types.String `tfsdk:"token"`
	ExpiresAt types.String `tfsdk:"expires_at"`
}

// openedTokenAttributes adds the schema of openedToken to attrs.
func openedTokenAttributes(kind, tokenDoc string, attrs map[string]schema.Attribute) map[string]schema.Attribute {
	attrs["id"] = schema.StringAttribute{
		Computed:            true,
		MarkdownDescription: "Identifier of the " + kind + " (not the secret).",
	}
	attrs["token"] = schema.StringAttribute{
		Computed:            true,
		Sensitive:           true,
		MarkdownDescription: tokenDoc,
	}
	attrs["expires_at"] = schema.StringAttribute{
		Computed:            true,
		MarkdownDescription: "When the token stops working (RFC 3339).",
	}
	return attrs
}

// revokeOnCloseAttribute is revoke_on_close; doc says what the default
// is and why.
func revokeOnCloseAttribute(doc string) schema.BoolAttribute {
	return schema.BoolAttribute{
		Optional:            true,
		Computed:            true,
		MarkdownDescription: "Revoke the token when Terraform closes the ephemeral resource, at the end of the plan or apply that opened it. " + doc,
	}
}

// fill records what Close revokes (when asked to) and sets the result from
// the token the control plane created; false when it returned no secret.
func (o *openedToken) fill(ctx context.Context, resp *ephemeral.OpenResponse, revoke bool, kind, tenantID, id, token string, expires *timestamppb.Timestamp) bool {
	if revoke {
		setRevocation(ctx, resp.Private, revocation{TenantID: tenantID, ID: id}, &resp.Diagnostics)
	}
	if token == "" {
		resp.Diagnostics.AddError("Opening "+kind+" returned no secret", "The control plane created "+kind+" "+id+" but did not return its secret.")
		return false
	}
	o.ID = types.StringValue(id)
	o.Token = types.StringValue(token)
	o.ExpiresAt = timeValue(expires)
	return !resp.Diagnostics.HasError()
}

// privateRevokeKey is where Open leaves what Close needs to revoke the token
// it created: Close sees only private data, never the result.
const privateRevokeKey = "revoke"

// revocation names the token Close deletes.
type revocation struct {
	TenantID string `json:"tenant_id"`
	ID       string `json:"id"`
}

func setRevocation(ctx context.Context, p privateSetter, r revocation, diags *diag.Diagnostics) {
	b, err := json.Marshal(r)
	if err != nil {
		diags.AddError("Recording the token to revoke at close", err.Error())
		return
	}
	diags.Append(p.SetKey(ctx, privateRevokeKey, b)...)
}

// revokeAtClose runs del for the token Open recorded, if it recorded one; a
// token that is already gone (revoked by hand, expired and swept) is what
// Close wants.
func revokeAtClose(ctx context.Context, c *client.Client, kind string, req ephemeral.CloseRequest, resp *ephemeral.CloseResponse, del func(ctx context.Context, r revocation) error) {
	b, d := req.Private.GetKey(ctx, privateRevokeKey)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() || len(b) == 0 {
		return
	}
	var r revocation
	if err := json.Unmarshal(b, &r); err != nil {
		resp.Diagnostics.AddError("Revoking "+kind, fmt.Sprintf("The private data Open left is not valid: %v. The token expires at the end of its ttl.", err))
		return
	}
	if !requireClient(c, &resp.Diagnostics) {
		return
	}
	if err := del(ctx, r); err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.Append(client.ErrorDiagnostic(fmt.Sprintf("Revoking %s %s at close (it expires at the end of its ttl otherwise)", kind, r.ID), err))
	}
}
