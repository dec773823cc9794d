package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

var (
	_ resource.ResourceWithConfigure      = (*tenantResource)(nil)
	_ resource.ResourceWithImportState    = (*tenantResource)(nil)
	_ resource.ResourceWithValidateConfig = (*tenantResource)(nil)
)

type tenantResource struct {
	configuredResource
}

type tenantModel struct {
	ID          types.String `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	DisplayName types.String `tfsdk:"display_name"`
	Tier        types.String `tfsdk:"tier"`
	Labels      types.Map    `tfsdk:"labels"`
	CreatedAt   types.String `tfsdk:"created_at"`
	WebhookURL  types.String `tfsdk:"webhook_url"`
	// WebhookSecret is whatever the configuration last set: the control
	// plane never returns it.
	WebhookSecret types.String `tfsdk:"webhook_secret"`
	// WebhookSecretWO is always null here: Terraform keeps write-only
	// values out of plan and state, so Create and Update read it from the
	// configuration.
	WebhookSecretWO        types.String `tfsdk:"webhook_secret_wo"`
	WebhookSecretWOVersion types.Int64  `tfsdk:"webhook_secret_wo_version"`
	RateLimitPerMinute     types.Int64  `tfsdk:"rate_limit_per_minute"`
	MaxActionsPerHour      types.Int64  `tfsdk:"max_actions_per_hour"`
	// ForceDestroy lives only in state: it says how Delete asks, not what
	// the control plane stores.
	ForceDestroy types.Bool `tfsdk:"force_destroy"`
	// The per-tenant settings (helpers_tenant_settings.go).
	TenantRateLimitPerMinute types.Int64 `tfsdk:"tenant_rate_limit_per_minute"`
	MaxAPITokens             types.Int64 `tfsdk:"max_api_tokens"`
	UtilizationRetentionDays types.Int64 `tfsdk:"utilization_retention_days"`
	ActionRetentionDays      types.Int64 `tfsdk:"action_retention_days"`
	AnomalyRetentionDays     types.Int64 `tfsdk:"anomaly_retention_days"`
	AuditRetentionDays       types.Int64 `tfsdk:"audit_retention_days"`
}

// The control plane's defaults for a tenant that leaves the limits unset;
// the schema plans the same values, so such a tenant reads back as planned.
const (
	defaultRateLimitPerMinute = 100
	defaultMaxActionsPerHour  = 20
)

// NewTenantResource is the sirsi_tenant resource.
func NewTenantResource() resource.Resource { return &tenantResource{} }

func (r *tenantResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_tenant"
}

func webhookURLValidator() validator.String {
	return stringCheck{"webhook URL (https, or http to a loopback host; at most 2048 characters)", validation.WebhookURL}
}

func webhookSecretValidator() validator.String {
	return stringCheck{"webhook secret (16..256 printable ASCII characters without spaces)", validation.WebhookSecret}
}

// tenantWebhookDoc explains what became of the tenant's single webhook.
const tenantWebhookDoc = "\n\n## Webhook (deprecated)\n\n" +
	"`webhook_url`, `webhook_secret`, `webhook_secret_wo` and `webhook_secret_wo_version` are deprecated: use `sirsi_webhook`, which allows several endpoints per tenant, each with its own secret and event-type filter. " +
	"Upgrading changes nothing: the control plane moved each tenant's webhook into an endpoint whose id is the tenant's id (every event type, enabled), and these attributes keep setting that endpoint and read back unchanged. " +
	"To move, remove them from the tenant and add a `sirsi_webhook` in the same apply. The delivery format is that of `sirsi_webhook`."

// tenantWebhookDeprecation is the warning on each webhook attribute.
const tenantWebhookDeprecation = "Use the sirsi_webhook resource instead: remove webhook_url, webhook_secret, webhook_secret_wo and webhook_secret_wo_version from sirsi_tenant and declare a sirsi_webhook in the same apply."

func (r *tenantResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A SirsiNexus tenant: the unit that owns cloud accounts, optimization policies, agents and tokens. Creating, changing and deleting tenants needs the operator token." + tenantWebhookDoc,
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Identifier of the tenant, assigned by the control plane.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Unique, immutable slug: 2..63 lowercase letters, digits or `-`, starting with a letter and not ending with `-`. Changing it replaces the tenant.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{slugValidator()},
			},
			"display_name": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Human-readable name, one line of at most 256 characters.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1), displayNameValidator()},
			},
			"tier": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString("standard"),
				MarkdownDescription: "Service tier: `free`, `standard` or `enterprise`. Defaults to `standard`.",
				Validators:          []validator.String{stringvalidator.OneOf(enumNames(sirsiv1.Tier(0))...)},
			},
			"labels": schema.MapAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Free-form key/value labels (at most 50; AWS tag rules for keys and values).",
				Validators:          []validator.Map{tagMapValidator(), mapvalidator.SizeAtMost(validation.MaxTags)},
			},
			"created_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When the tenant was created (RFC 3339).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"webhook_url": schema.StringAttribute{
				Optional:            true,
				DeprecationMessage:  tenantWebhookDeprecation,
				MarkdownDescription: "Deprecated: use `sirsi_webhook`. Where the control plane POSTs the tenant's events (see above). An `https` URL of at most 2048 characters without user info or fragment; plain `http` only for a loopback host. Needs `webhook_secret` or `webhook_secret_wo`; removing the URL and the secret removes the webhook.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1), webhookURLValidator()},
			},
			"webhook_secret": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				DeprecationMessage:  tenantWebhookDeprecation,
				MarkdownDescription: "Deprecated: use `sirsi_webhook`. The key that signs webhook deliveries (HMAC-SHA256): 16..256 printable ASCII characters without spaces. Needs `webhook_url`. The control plane never returns it: Terraform keeps the configured value in state, so a secret changed outside Terraform goes unnoticed (one removed outside Terraform is set again). Changing it here rotates the key.",
				Validators: []validator.String{
					webhookSecretValidator(),
					stringvalidator.AlsoRequires(path.MatchRoot("webhook_url")),
				},
			},
			"webhook_secret_wo": schema.StringAttribute{
				Optional:           true,
				Sensitive:          true,
				WriteOnly:          true,
				DeprecationMessage: tenantWebhookDeprecation,
				MarkdownDescription: "Deprecated: use `sirsi_webhook`. The webhook signing key as a write-only argument (Terraform 1.11 and later): the same rules as `webhook_secret`, which it replaces, but Terraform never writes it to state or plan files, " +
					"so it can come from an ephemeral value (an ephemeral resource, an ephemeral variable). Terraform cannot see a change of a value it does not keep: " +
					"the key is sent when the tenant is created and whenever `webhook_secret_wo_version` changes. Needs `webhook_url` and `webhook_secret_wo_version`.",
				Validators: []validator.String{
					webhookSecretValidator(),
					stringvalidator.ConflictsWith(path.MatchRoot("webhook_secret")),
					stringvalidator.AlsoRequires(path.MatchRoot("webhook_url"), path.MatchRoot("webhook_secret_wo_version")),
				},
			},
			"webhook_secret_wo_version": schema.Int64Attribute{
				Optional:            true,
				DeprecationMessage:  tenantWebhookDeprecation,
				MarkdownDescription: "Deprecated: use `sirsi_webhook`. Any number that changes when `webhook_secret_wo` should be sent again: raise it to rotate the key. Kept in state (the key is not). When the control plane holds no key (removed outside Terraform) it reads back as null, so the next apply sends the key again.",
				Validators:          []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("webhook_secret_wo"))},
			},
			"rate_limit_per_minute": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(defaultRateLimitPerMinute),
				MarkdownDescription: "Management API calls each of the tenant's API tokens may make per minute, 1 to 100000; calls above it are refused with `RESOURCE_EXHAUSTED` (the provider retries those with backoff, for a minute at most). Defaults to 100. A plan reads every object it refreshes once, so a configuration managing more than about 100 objects with one token needs a larger budget: 500 policies refreshed in a few seconds need 500 calls.",
				Validators:          []validator.Int64{int64validator.Between(1, 100000)},
			},
			"max_actions_per_hour": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(defaultMaxActionsPerHour),
				MarkdownDescription: "Actions (resizes, stops, starts, volume migrations) all of the tenant's agents together may start in any trailing hour, 0 to 10000, on top of each policy's `max_actions_per_run`. 0 stops every action: a kill switch for the whole tenant. Defaults to 20.",
				Validators:          []validator.Int64{int64validator.Between(0, 10000)},
			},
			"force_destroy": schema.BoolAttribute{
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
				MarkdownDescription: "Whether destroying the tenant may delete everything it owns. Without it (the default) the control plane refuses to delete a tenant that still has cloud accounts or optimization policies (and so agents, resources, recommendations...): destroy those first, or set `force_destroy = true` and apply before destroying. With it, the tenant and every object it owns are deleted in one transaction; its audit events are kept. Kept only in Terraform state; imports set it to `false`.",
			},
		},
	}
	tenantSettingAttributes(resp.Schema.Attributes)
}

// toAPI builds the API object from a plan; unknown values become zero so
// the control plane fills them in.
func (m *tenantModel) toAPI(ctx context.Context, diags *diag.Diagnostics) *sirsiv1.Tenant {
	t := &sirsiv1.Tenant{
		Id:          m.ID.ValueString(),
		Name:        m.Name.ValueString(),
		DisplayName: m.DisplayName.ValueString(),
		Labels:      stringMap(ctx, m.Labels, diags),
		// Sent on every update, so an unchanged configuration keeps the
		// stored secret and a changed one rotates it.
		WebhookUrl:    m.WebhookURL.ValueString(),
		WebhookSecret: m.WebhookSecret.ValueString(),
	}
	// Sent explicitly, defaults included, so the stored limits are always
	// the planned ones.
	if !m.RateLimitPerMinute.IsNull() && !m.RateLimitPerMinute.IsUnknown() {
		n := int32(m.RateLimitPerMinute.ValueInt64())
		t.RateLimitPerMinute = &n
	}
	if !m.MaxActionsPerHour.IsNull() && !m.MaxActionsPerHour.IsUnknown() {
		n := int32(m.MaxActionsPerHour.ValueInt64())
		t.MaxActionsPerHour = &n
	}
	m.settingsToAPI(t)
	if !m.Tier.IsNull() && !m.Tier.IsUnknown() {
		n, err := validation.ParseEnum(sirsiv1.Tier(0).Descriptor(), m.Tier.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("tier"), "Invalid tier", err.Error())
			return nil
		}
		t.Tier = sirsiv1.Tier(n)
	}
	return t
}

func (m *tenantModel) objectID() string { return m.ID.ValueString() }

// fromAPI overwrites the model with what the control plane holds.
func (m *tenantModel) fromAPI(ctx context.Context, t *sirsiv1.Tenant, diags *diag.Diagnostics) {
	m.ID = types.StringValue(t.GetId())
	m.Name = types.StringValue(t.GetName())
	m.DisplayName = optionalString(t.GetDisplayName())
	m.Tier = optionalString(validation.EnumName(t.GetTier()))
	m.Labels = stringMapValue(ctx, t.GetLabels(), m.Labels, diags)
	m.CreatedAt = timeValue(t.GetCreateTime())
	m.WebhookURL = optionalString(t.GetWebhookUrl())
	m.RateLimitPerMinute = types.Int64Value(defaultRateLimitPerMinute)
	if t.RateLimitPerMinute != nil {
		m.RateLimitPerMinute = types.Int64Value(int64(t.GetRateLimitPerMinute()))
	}
	m.MaxActionsPerHour = types.Int64Value(defaultMaxActionsPerHour)
	if t.MaxActionsPerHour != nil {
		m.MaxActionsPerHour = types.Int64Value(int64(t.GetMaxActionsPerHour()))
	}
	m.settingsFromAPI(t)
	// The secret is never returned; the configured one stays in state.
	// When the control plane holds none (removed outside Terraform) the
	// state forgets it too, so the next plan sets it again; for the
	// write-only key, forgetting its version does that.
	if !t.GetWebhookSecretSet() {
		m.WebhookSecret = types.StringNull()
		m.WebhookSecretWOVersion = types.Int64Null()
	}
}

// ValidateConfig insists on a key next to a URL: every delivery is signed.
// An unknown value counts as set; it is checked again once known.
func (r *tenantResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var url, secret, wo types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("webhook_url"), &url)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("webhook_secret"), &secret)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("webhook_secret_wo"), &wo)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !url.IsNull() && secret.IsNull() && wo.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("webhook_url"), "Invalid Attribute Combination",
			"webhook_url needs webhook_secret, or webhook_secret_wo with Terraform 1.11 and later: the key signs every delivery.")
	}
}

func (r *tenantResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan tenantModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	t := plan.toAPI(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if wo := writeOnlyValue(ctx, req.Config, "webhook_secret_wo", plan.WebhookSecretWOVersion, nil, &resp.Diagnostics); wo != "" {
		t.WebhookSecret = wo
	}
	out, err := r.client.Management.CreateTenant(ctx, &sirsiv1.CreateTenantRequest{Tenant: t})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Creating tenant "+plan.Name.ValueString(), err))
		return
	}
	plan.fromAPI(ctx, out.GetTenant(), &resp.Diagnostics)
	setVersion(ctx, resp.Private, out.GetTenant().GetVersion(), &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *tenantResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readInto(ctx, r.client, "tenant", req, resp, func(ctx context.Context, state *tenantModel) error {
		out, err := r.client.Management.GetTenant(ctx, &sirsiv1.GetTenantRequest{Id: state.ID.ValueString()})
		if err != nil {
			return err
		}
		state.fromAPI(ctx, out.GetTenant(), &resp.Diagnostics)
		setVersion(ctx, resp.Private, out.GetTenant().GetVersion(), &resp.Diagnostics)
		return nil
	})
}

func (r *tenantResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	var plan, state tenantModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = state.ID
	t := plan.toAPI(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if wo := writeOnlyValue(ctx, req.Config, "webhook_secret_wo", plan.WebhookSecretWOVersion, &state.WebhookSecretWOVersion, &resp.Diagnostics); wo != "" {
		t.WebhookSecret = wo
	}
	t.Version = getVersion(ctx, req.Private, &resp.Diagnostics)
	out, err := r.client.Management.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: t})
	if err != nil {
		resp.Diagnostics.Append(writeFailure("Updating", "tenant", state.ID.ValueString(), err))
		return
	}
	plan.fromAPI(ctx, out.GetTenant(), &resp.Diagnostics)
	setVersion(ctx, resp.Private, out.GetTenant().GetVersion(), &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *tenantResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	deleteIgnoringNotFound(ctx, r.client, "tenant", req, resp, func(ctx context.Context, state *tenantModel) error {
		_, err := r.client.Management.DeleteTenant(ctx, &sirsiv1.DeleteTenantRequest{
			Id:      state.ID.ValueString(),
			Version: getVersion(ctx, req.Private, &resp.Diagnostics),
			Force:   state.ForceDestroy.ValueBool(),
		})
		if status.Code(err) == codes.FailedPrecondition {
			return status.Errorf(codes.FailedPrecondition, "%s; set force_destroy = true on the tenant and apply before destroying to delete everything it owns", status.Convert(err).Message())
		}
		return err
	})
}

// ImportState accepts the tenant's id or its name.
func (r *tenantResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !requireClient(r.client, &resp.Diagnostics) {
		return
	}
	out, err := r.client.Management.GetTenant(ctx, &sirsiv1.GetTenantRequest{Id: req.ID})
	if client.IsNotFound(err) && validation.Slug(req.ID) == nil {
		out, err = r.client.Management.GetTenant(ctx, &sirsiv1.GetTenantRequest{Name: req.ID})
	}
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic(fmt.Sprintf("Importing tenant %q (by id or name)", req.ID), err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), out.GetTenant().GetId())...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("force_destroy"), false)...)
}
