package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

var (
	_ datasource.DataSourceWithConfigure      = (*auditEventsDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*auditEventsDataSource)(nil)
)

// NewAuditEventsDataSource is registered in the provider's data source list.
func NewAuditEventsDataSource() datasource.DataSource {
	return &auditEventsDataSource{}
}

type auditEventsDataSource struct {
	configuredDataSource
}

type auditEventsModel struct {
	TenantID types.String      `tfsdk:"tenant_id"`
	Actor    types.String      `tfsdk:"actor"`
	Method   types.String      `tfsdk:"method"`
	Target   types.String      `tfsdk:"target"`
	Outcome  types.String      `tfsdk:"outcome"`
	From     types.String      `tfsdk:"from"`
	To       types.String      `tfsdk:"to"`
	Limit    types.Int64       `tfsdk:"limit"`
	Events   []auditEventModel `tfsdk:"events"`
}

type auditEventModel struct {
	Sequence      types.Int64  `tfsdk:"sequence"`
	ID            types.String `tfsdk:"id"`
	Time          types.String `tfsdk:"time"`
	RequestID     types.String `tfsdk:"request_id"`
	Actor         types.String `tfsdk:"actor"`
	SourceAddress types.String `tfsdk:"source_address"`
	Method        types.String `tfsdk:"method"`
	Target        types.String `tfsdk:"target"`
	Outcome       types.String `tfsdk:"outcome"`
	Detail        types.String `tfsdk:"detail"`
}

// auditTimeValidator accepts the RFC 3339 times `from` and `to` take.
func auditTimeValidator() validator.String {
	return stringCheck{"RFC 3339 time (like 2026-12-01T00:00:00Z)", func(s string) error {
		_, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("%q is not an RFC 3339 time such as 2026-12-01T00:00:00Z", s)
		}
		return nil
	}}
}

func (d *auditEventsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_audit_events"
}

func (d *auditEventsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	filter := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, MarkdownDescription: desc, Validators: []validator.String{stringvalidator.LengthBetween(1, 512)}}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: fmt.Sprintf("The tenant's audit log, as the control plane recorded it: every mutation and every refused call, "+
			"with who made it, from where, on what, and how it ended. Every given filter must match exactly; events come oldest first "+
			"(by sequence). Tenant viewers may read their own tenant's log; with the operator token and no tenant the operator-level "+
			"log is not reachable here (use `agentd server audit list`). The data source reads every page, up to `limit` events "+
			"(at most %d). Entries pruned by audit retention are not listed.", listMaxPages*listPageSize),
		Attributes: map[string]schema.Attribute{
			"tenant_id": schema.StringAttribute{
				MarkdownDescription: "Tenant whose log to read. Defaults to the provider's `tenant_id`.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"actor":   filter("Only events of this actor: `token:<id>` (an API token), `oidc:<trust name>:<subject>`, `agent:<id>`, `operator` or `anonymous`."),
			"method":  filter("Only events of this action: the RPC's full method name, such as `/sirsi.v1.ManagementService/CreateOptimizationPolicy`, or a domain action such as `agent.enroll`."),
			"target":  filter("Only events on this object, as events carry it: `<kind>/<id>`, such as `optimization_policy/0193…` or `cloud_account/0193…`."),
			"outcome": filter("Only events with this outcome: `ok`, or the gRPC code name of a refusal, such as `PermissionDenied`."),
			"from": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only events at or after this RFC 3339 time.",
				Validators:          []validator.String{auditTimeValidator()},
			},
			"to": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only events before this RFC 3339 time; must be after `from`.",
				Validators:          []validator.String{auditTimeValidator()},
			},
			"limit": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: fmt.Sprintf("Read at most this many events, the oldest that match (1 to %d). Left out, every matching event up to %d.", listMaxPages*listPageSize, listMaxPages*listPageSize),
				Validators:          []validator.Int64{int64validator.Between(1, listMaxPages*listPageSize)},
			},
			"events": schema.ListNestedAttribute{
				MarkdownDescription: "The matching events, oldest first.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"sequence":       schema.Int64Attribute{Computed: true, MarkdownDescription: "Place of the event in the hash-chained log, one sequence across all tenants."},
					"id":             str("Identifier of the event."),
					"time":           str("When the event was recorded (RFC 3339 with nanoseconds)."),
					"request_id":     str("The control plane's id of the request, as in its logs; null when none."),
					"actor":          str("Who made the call: `token:<id>`, `oidc:<trust name>:<subject>`, `agent:<id>`, `operator` or `anonymous`."),
					"source_address": str("Address the call came from; null when unknown."),
					"method":         str("The RPC's full method name or a domain action."),
					"target":         str("The object the call was about, `<kind>/<id>`; null when none."),
					"outcome":        str("`ok`, or the gRPC code name of the refusal."),
					"detail":         str("The error message of a refusal, or what a domain action recorded; null when none."),
				}},
			},
		},
	}
}

// ValidateConfig refuses a window that ends before it starts, at plan time.
func (d *auditEventsDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var m auditEventsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.From.IsNull() || m.From.IsUnknown() || m.To.IsNull() || m.To.IsUnknown() {
		return
	}
	from, errFrom := time.Parse(time.RFC3339Nano, m.From.ValueString())
	to, errTo := time.Parse(time.RFC3339Nano, m.To.ValueString())
	if errFrom == nil && errTo == nil && !to.After(from) {
		resp.Diagnostics.AddAttributeError(path.Root("to"), "Invalid time window",
			fmt.Sprintf("to (%s) must be after from (%s).", m.To.ValueString(), m.From.ValueString()))
	}
}

func (d *auditEventsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !requireClient(d.client, &resp.Diagnostics) {
		return
	}
	var m auditEventsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenantID, err := d.client.TenantID(m.TenantID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), "No tenant for the audit events", err.Error())
		return
	}
	base := &sirsiv1.ListAuditEventsRequest{
		TenantId: tenantID, Actor: m.Actor.ValueString(), Action: m.Method.ValueString(),
		Target: m.Target.ValueString(), Outcome: m.Outcome.ValueString(),
	}
	for _, t := range []struct {
		attr string
		v    types.String
		to   **timestamppb.Timestamp
	}{{"from", m.From, &base.StartTime}, {"to", m.To, &base.EndTime}} {
		if t.v.IsNull() {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, t.v.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root(t.attr), "Invalid RFC 3339 time", err.Error())
			continue
		}
		*t.to = timestamppb.New(at)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	limit := int64(listMaxPages * listPageSize)
	if !m.Limit.IsNull() {
		limit = m.Limit.ValueInt64()
	}
	var read int64
	events, err := listAll(ctx, "audit events", func(ctx context.Context, token string) ([]*sirsiv1.AuditEvent, string, error) {
		r := proto.Clone(base).(*sirsiv1.ListAuditEventsRequest)
		r.PageSize = int32(min(limit-read, listPageSize))
		r.PageToken = token
		out, err := d.client.Management.ListAuditEvents(ctx, r)
		read += int64(len(out.GetEvents()))
		next := out.GetNextPageToken()
		if read >= limit {
			next = ""
		}
		return out.GetEvents(), next, err
	})
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic(fmt.Sprintf("Listing the audit events of tenant %s", tenantID), err))
		return
	}
	m.TenantID = types.StringValue(tenantID)
	m.Events = make([]auditEventModel, 0, len(events))
	for _, e := range events[:min(int64(len(events)), limit)] {
		m.Events = append(m.Events, auditEventFromProto(e))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func auditEventFromProto(e *sirsiv1.AuditEvent) auditEventModel {
	at := types.StringNull()
	if e.GetTime() != nil {
		at = types.StringValue(e.GetTime().AsTime().UTC().Format(time.RFC3339Nano))
	}
	return auditEventModel{
		Sequence:      types.Int64Value(e.GetSequence()),
		ID:            types.StringValue(e.GetId()),
		Time:          at,
		RequestID:     optionalString(e.GetRequestId()),
		Actor:         types.StringValue(e.GetActor()),
		SourceAddress: optionalString(e.GetSourceAddress()),
		Method:        types.StringValue(e.GetAction()),
		Target:        optionalString(e.GetTarget()),
		Outcome:       types.StringValue(e.GetOutcome()),
		Detail:        optionalString(e.GetDetail()),
	}
}
