package provider

import (
	"context"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

var (
	_ resource.ResourceWithConfigure      = (*webhookResource)(nil)
	_ resource.ResourceWithImportState    = (*webhookResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*webhookResource)(nil)
	_ resource.ResourceWithValidateConfig = (*webhookResource)(nil)
)

type webhookResource struct {
	configuredResource
}

type webhookModel struct {
	ID          types.String `tfsdk:"id"`
	TenantID    types.String `tfsdk:"tenant_id"`
	URL         types.String `tfsdk:"url"`
	EventTypes  types.Set    `tfsdk:"event_types"`
	Enabled     types.Bool   `tfsdk:"enabled"`
	Description types.String `tfsdk:"description"`
	// Secret is whatever the configuration last set: the control plane
	// never returns it.
	Secret types.String `tfsdk:"secret"`
	// SecretWO is always null here: Terraform keeps write-only values out
	// of plan and state; the value is read from the configuration.
	SecretWO        types.String `tfsdk:"secret_wo"`
	SecretWOVersion types.Int64  `tfsdk:"secret_wo_version"`
}

// NewWebhookResource is the sirsi_webhook resource.
func NewWebhookResource() resource.Resource { return &webhookResource{} }

func (r *webhookResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_webhook"
}

func (r *webhookResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A webhook endpoint of a tenant: the control plane POSTs each of the tenant's events that pass `event_types` to `url` as a CloudEvents 1.0 JSON event, " +
			"signed with this endpoint's secret in `X-Sirsi-Signature` (`sha256=` + hex HMAC-SHA256 of the `X-Sirsi-Timestamp` value, a `.`, and the raw body). " +
			"`X-Sirsi-Delivery` is the delivery's idempotency key: the same on every attempt, one per endpoint and event. A tenant may have several endpoints; each has its own retries, back-off and dead letters (`ListWebhookEvents`), " +
			"so one failing endpoint does not hold up the others. The event types and receiver's guide are in docs/webhooks.md. Editors and admins manage endpoints. " +
			"This replaces `webhook_url` on `sirsi_tenant`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Identifier of the endpoint, assigned by the control plane.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"tenant_id": tenantIDAttribute("endpoint"),
			"url": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Where deliveries are POSTed: an `https` URL of at most 2048 characters without user info or fragment; plain `http` only for a loopback host. " +
					"Loopback and link-local addresses are refused unless the server's `webhook_allow_loopback` allows them, when written and again at every delivery.",
				Validators: []validator.String{webhookURLValidator()},
			},
			"event_types": schema.SetAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Event types delivered to this endpoint, from " + markdownList(validation.WebhookEventTypes()) + ". Omit for every type.",
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(stringvalidator.OneOf(validation.WebhookEventTypes()...)),
				},
			},
			"enabled": schema.BoolAttribute{
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(true),
				MarkdownDescription: "Whether events are delivered. A disabled endpoint gets no new deliveries and its pending ones are dead-lettered. Default `true`.",
			},
			"description": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(""),
				MarkdownDescription: "Free text, at most 1024 characters.",
				Validators:          []validator.String{descriptionValidator()},
			},
			"secret": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "The key that signs deliveries (HMAC-SHA256): 16..256 printable ASCII characters without spaces. For Terraform before 1.11; with 1.11 and later prefer `secret_wo`, which never reaches state. " +
					"The control plane never returns it: Terraform keeps the configured value in state, and changing it rotates the key. Exactly one of `secret` and `secret_wo` is required.",
				Validators: []validator.String{
					webhookSecretValidator(),
					stringvalidator.ConflictsWith(path.MatchRoot("secret_wo")),
				},
			},
			"secret_wo": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				WriteOnly: true,
				MarkdownDescription: "The signing key as a write-only argument (Terraform 1.11 and later): the same rules as `secret`, but Terraform never writes it to state or plan files, " +
					"so it may come from an ephemeral resource. It is sent when the endpoint is created and whenever `secret_wo_version` changes. Needs `secret_wo_version`.",
				Validators: []validator.String{
					webhookSecretValidator(),
					stringvalidator.ConflictsWith(path.MatchRoot("secret")),
					stringvalidator.AlsoRequires(path.MatchRoot("secret_wo_version")),
				},
			},
			"secret_wo_version": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Any number that changes when `secret_wo` should be sent again: raise it to rotate the key. Kept in state (the key is not).",
				Validators:          []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("secret_wo"))},
			},
		},
	}
}

// ValidateConfig insists on a key: every delivery is signed. An unknown
// value counts as set; it is checked again once known.
func (r *webhookResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var secret, wo types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("secret"), &secret)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("secret_wo"), &wo)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if secret.IsNull() && wo.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("secret"), "Missing Attribute",
			"A webhook needs secret, or secret_wo with Terraform 1.11 and later: the key signs every delivery.")
	}
}

func (r *webhookResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	planTenantID(ctx, r.client, req, resp)
}

func (m *webhookModel) objectID() string { return m.ID.ValueString() }

func (m *webhookModel) toAPI(ctx context.Context, diags *diag.Diagnostics) *sirsiv1.Webhook {
	w := &sirsiv1.Webhook{
		Id:          m.ID.ValueString(),
		TenantId:    m.TenantID.ValueString(),
		Url:         m.URL.ValueString(),
		Enabled:     proto.Bool(m.Enabled.ValueBool()),
		Description: m.Description.ValueString(),
		Secret:      m.Secret.ValueString(),
	}
	if !m.EventTypes.IsNull() {
		diags.Append(m.EventTypes.ElementsAs(ctx, &w.EventTypes, false)...)
	}
	return w
}

func (m *webhookModel) fromAPI(ctx context.Context, w *sirsiv1.Webhook, diags *diag.Diagnostics) {
	m.ID = types.StringValue(w.GetId())
	m.TenantID = types.StringValue(w.GetTenantId())
	m.URL = types.StringValue(w.GetUrl())
	m.Enabled = types.BoolValue(w.GetEnabled())
	m.Description = types.StringValue(w.GetDescription())
	if len(w.GetEventTypes()) == 0 {
		// Every type: the configuration omits the attribute.
		m.EventTypes = types.SetNull(types.StringType)
	} else {
		set, d := types.SetValueFrom(ctx, types.StringType, slices.Sorted(slices.Values(w.GetEventTypes())))
		diags.Append(d...)
		m.EventTypes = set
	}
	m.SecretWO = types.StringNull()
}

func (r *webhookResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan webhookModel
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
	w := plan.toAPI(ctx, &resp.Diagnostics)
	if wo := writeOnlyValue(ctx, req.Config, "secret_wo", plan.SecretWOVersion, nil, &resp.Diagnostics); wo != "" {
		w.Secret = wo
	}
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := r.client.Management.CreateWebhook(ctx, &sirsiv1.CreateWebhookRequest{Webhook: w})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Creating webhook "+plan.URL.ValueString(), err))
		return
	}
	plan.fromAPI(ctx, out.GetWebhook(), &resp.Diagnostics)
	setVersion(ctx, resp.Private, out.GetWebhook().GetVersion(), &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *webhookResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readInto(ctx, r.client, "webhook", req, resp, func(ctx context.Context, state *webhookModel) error {
		out, err := r.client.Management.GetWebhook(ctx, &sirsiv1.GetWebhookRequest{
			TenantId: state.TenantID.ValueString(),
			Id:       state.ID.ValueString(),
		})
		if err != nil {
			return err
		}
		state.fromAPI(ctx, out.GetWebhook(), &resp.Diagnostics)
		setVersion(ctx, resp.Private, out.GetWebhook().GetVersion(), &resp.Diagnostics)
		return nil
	})
}

func (r *webhookResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan, state webhookModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = state.ID
	plan.TenantID = state.TenantID
	w := plan.toAPI(ctx, &resp.Diagnostics)
	if wo := writeOnlyValue(ctx, req.Config, "secret_wo", plan.SecretWOVersion, &state.SecretWOVersion, &resp.Diagnostics); wo != "" {
		w.Secret = wo
	}
	w.Version = getVersion(ctx, req.Private, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := r.client.Management.UpdateWebhook(ctx, &sirsiv1.UpdateWebhookRequest{Webhook: w})
	if err != nil {
		resp.Diagnostics.Append(writeFailure("Updating", "webhook", state.ID.ValueString(), err))
		return
	}
	plan.fromAPI(ctx, out.GetWebhook(), &resp.Diagnostics)
	setVersion(ctx, resp.Private, out.GetWebhook().GetVersion(), &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *webhookResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	deleteIgnoringNotFound(ctx, r.client, "webhook", req, resp, func(ctx context.Context, state *webhookModel) error {
		_, err := r.client.Management.DeleteWebhook(ctx, &sirsiv1.DeleteWebhookRequest{
			TenantId: state.TenantID.ValueString(),
			Id:       state.ID.ValueString(),
			Version:  getVersion(ctx, req.Private, &resp.Diagnostics),
		})
		return err
	})
}

// ImportState accepts "tenant_id/id", or a plain id for the provider's
// tenant. The secret is never returned, so an imported endpoint's
// secret (or secret_wo_version) is set by the next apply.
func (r *webhookResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantScoped(ctx, r.client, "sirsi_webhook", req, resp)
}
