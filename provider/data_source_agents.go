package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

var _ datasource.DataSourceWithConfigure = (*agentsDataSource)(nil)

type agentsDataSource struct {
	configuredDataSource
}

type agentsModel struct {
	TenantID       types.String `tfsdk:"tenant_id"`
	CloudAccountID types.String `tfsdk:"cloud_account_id"`
	Agents         []agentModel `tfsdk:"agents"`
}

type agentModel struct {
	ID             types.String               `tfsdk:"id"`
	CloudAccountID types.String               `tfsdk:"cloud_account_id"`
	Version        types.String               `tfsdk:"version"`
	Hostname       types.String               `tfsdk:"hostname"`
	Status         types.String               `tfsdk:"status"`
	LastSeenAt     types.String               `tfsdk:"last_seen_at"`
	StatusDetail   types.String               `tfsdk:"status_detail"`
	Sweeps         map[string]agentSweepModel `tfsdk:"sweeps"`
}

// agentSweepModel is one sweep's last success and last failure.
type agentSweepModel struct {
	LastSuccessAt types.String `tfsdk:"last_success_at"`
	LastFailureAt types.String `tfsdk:"last_failure_at"`
	LastError     types.String `tfsdk:"last_error"`
}

// NewAgentsDataSource is the sirsi_agents data source.
func NewAgentsDataSource() datasource.DataSource { return &agentsDataSource{} }

func (d *agentsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_agents"
}

func (d *agentsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the agents enrolled in a tenant, optionally only those of one cloud account.",
		Attributes: map[string]schema.Attribute{
			"tenant_id": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Tenant to list. Defaults to the provider's `tenant_id` (or the tenant of its API token).",
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"cloud_account_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only agents of this cloud account.",
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"agents": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The agents, in the control plane's order.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"id":               schema.StringAttribute{Computed: true, MarkdownDescription: "Identifier of the agent."},
						"cloud_account_id": schema.StringAttribute{Computed: true, MarkdownDescription: "Cloud account the agent runs in."},
						"version":          schema.StringAttribute{Computed: true, MarkdownDescription: "Agent version."},
						"hostname":         schema.StringAttribute{Computed: true, MarkdownDescription: "Host name the agent reported."},
						"status": schema.StringAttribute{Computed: true, MarkdownDescription: "`connected`, `stale`, `revoked`, `credentials_mismatch` (its AWS credentials belong to another AWS account than its cloud account's) or " +
							"`assume_role_failed` (AWS refused it the cloud account's role); in the last two it runs no sweep and no action."},
						"status_detail": schema.StringAttribute{Computed: true, MarkdownDescription: "Why `status` is `credentials_mismatch` or `assume_role_failed`; null otherwise."},
						"last_seen_at":  schema.StringAttribute{Computed: true, MarkdownDescription: "Last heartbeat (RFC 3339); null before the first one."},
						"sweeps": schema.MapNestedAttribute{
							Computed: true,
							MarkdownDescription: "Per sweep (`discovery`, `utilization`, `costs`, `optimize`), as the agent's last heartbeat reported it: when it last succeeded and when and why it last failed. " +
								"A failure later than the last success means the sweep is failing now; the agent's `/readyz` turns unready once a sweep has not succeeded for `sweep_health_multiple` runs of its schedule.",
							NestedObject: schema.NestedAttributeObject{
								Attributes: map[string]schema.Attribute{
									"last_success_at": schema.StringAttribute{Computed: true, MarkdownDescription: "Last success (RFC 3339); null if none since the agent started."},
									"last_failure_at": schema.StringAttribute{Computed: true, MarkdownDescription: "Last failure (RFC 3339); null if none since the agent started."},
									"last_error":      schema.StringAttribute{Computed: true, MarkdownDescription: "The last failure's error; null without one."},
								},
							},
						},
					},
				},
			},
		},
	}
}

func (d *agentsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !requireClient(d.client, &resp.Diagnostics) {
		return
	}
	var cfg agentsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenant, err := d.client.TenantID(cfg.TenantID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), "Missing tenant", err.Error())
		return
	}
	items, err := listAll(ctx, "agents", func(ctx context.Context, pageToken string) ([]*sirsiv1.Agent, string, error) {
		out, err := d.client.Management.ListAgents(ctx, &sirsiv1.ListAgentsRequest{
			TenantId:       tenant,
			CloudAccountId: cfg.CloudAccountID.ValueString(),
			PageSize:       listPageSize,
			PageToken:      pageToken,
		})
		return out.GetAgents(), out.GetNextPageToken(), err
	})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Listing agents of tenant "+tenant, err))
		return
	}
	agents := make([]agentModel, 0, len(items))
	for _, a := range items {
		agents = append(agents, agentFromAPI(a))
	}
	cfg.TenantID = types.StringValue(tenant)
	cfg.Agents = agents
	resp.Diagnostics.Append(resp.State.Set(ctx, &cfg)...)
}

func agentFromAPI(a *sirsiv1.Agent) agentModel {
	return agentModel{
		ID:             types.StringValue(a.GetId()),
		CloudAccountID: types.StringValue(a.GetCloudAccountId()),
		Version:        types.StringValue(a.GetVersion()),
		Hostname:       types.StringValue(a.GetHostname()),
		Status:         types.StringValue(validation.EnumName(a.GetStatus())),
		LastSeenAt:     timeValue(a.GetLastSeenTime()),
		StatusDetail:   optionalString(a.GetStatusDetail()),
		Sweeps:         agentSweepsFromAPI(a),
	}
}

// agentSweepsFromAPI joins the last success and last failure of each
// sweep the agent reported; what it did not report stays null (the zero
// value).
func agentSweepsFromAPI(a *sirsiv1.Agent) map[string]agentSweepModel {
	out := map[string]agentSweepModel{}
	for name, at := range a.GetLastSweepTimes() {
		m := out[name]
		m.LastSuccessAt = timeValue(at)
		out[name] = m
	}
	for name, f := range a.GetLastSweepFailures() {
		m := out[name]
		m.LastFailureAt, m.LastError = timeValue(f.GetTime()), optionalString(f.GetError())
		out[name] = m
	}
	return out
}
