package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/optimizer"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

var (
	_ datasource.DataSourceWithConfigure        = (*recommendedSizeDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*recommendedSizeDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig   = (*recommendedSizeDataSource)(nil)
)

// maxListedMatches keeps an error about tags matching several resources
// readable.
const maxListedMatches = 10

// NewRecommendedSizeDataSource is registered in the provider's data source list.
func NewRecommendedSizeDataSource() datasource.DataSource {
	return &recommendedSizeDataSource{}
}

type recommendedSizeDataSource struct {
	configuredDataSource
}

type recommendedSizeModel struct {
	TenantID                types.String  `tfsdk:"tenant_id"`
	ResourceType            types.String  `tfsdk:"resource_type"`
	ResourceID              types.String  `tfsdk:"resource_id"`
	Tags                    types.Map     `tfsdk:"tags"`
	Current                 types.String  `tfsdk:"current"`
	PolicyID                types.String  `tfsdk:"policy_id"`
	OnlyApproved            types.Bool    `tfsdk:"only_approved"`
	Size                    types.String  `tfsdk:"size"`
	DiscoveredSize          types.String  `tfsdk:"discovered_size"`
	RecommendationID        types.String  `tfsdk:"recommendation_id"`
	EstimatedMonthlySavings types.Float64 `tfsdk:"estimated_monthly_savings"`
	Currency                types.String  `tfsdk:"currency"`
	Status                  types.String  `tfsdk:"status"`
	ExecutedBy              types.String  `tfsdk:"executed_by"`
	Reason                  types.String  `tfsdk:"reason"`
}

func (d *recommendedSizeDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_recommended_size"
}

func (d *recommendedSizeDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	typeList := markdownList(validation.RightsizedResourceTypes)
	resp.Schema = schema.Schema{
		MarkdownDescription: "The size the optimizer recommends for one discovered resource, to write into the resource's own " +
			"configuration (`instance_type`, `instance_class`, `memory_size`) so that Terraform, not the agent, carries out the " +
			"right-sizing and the next apply does not undo it. `size` is the recommended size, or `current` when there is nothing " +
			"to recommend. Find the resource by `tags` (no reference to the resource it sizes, so no cycle) or by `resource_id`. " +
			"See the guide \"Right-size Terraform-managed resources\".",
		Attributes: map[string]schema.Attribute{
			"tenant_id": schema.StringAttribute{
				MarkdownDescription: "Tenant whose inventory and recommendations to read. Defaults to the provider's `tenant_id`.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"resource_type": schema.StringAttribute{
				MarkdownDescription: "Type of the resource: " + typeList + ".",
				Required:            true,
				Validators:          []validator.String{stringvalidator.OneOf(validation.RightsizedResourceTypes...)},
			},
			"resource_id": schema.StringAttribute{
				MarkdownDescription: "The cloud's id of the resource (`i-...`, the DB identifier, the function name). Give this or `tags`; " +
					"when `tags` are given, the id of the resource they matched.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Tags the resource carries (every one must match). Exactly one discovered resource of `resource_type` " +
					"must carry them: none or several is an error listing what matched.",
				ElementType: types.StringType,
				Optional:    true,
				Validators:  []validator.Map{tagMapValidator()},
			},
			"current": schema.StringAttribute{
				MarkdownDescription: "The size written in the configuration: an instance type (`m5.2xlarge`), a DB class " +
					"(`db.r6g.xlarge`) or a memory size in MB (`1024`). Must be known to the price catalogue. `size` is this " +
					"when there is nothing to recommend.",
				Required:   true,
				Validators: []validator.String{stringvalidator.LengthBetween(1, 64)},
			},
			"policy_id": schema.StringAttribute{
				MarkdownDescription: "Only recommendations of this `sirsi_optimization_policy`, which must cover the resource. " +
					"Without it, any policy covering the resource.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"only_approved": schema.BoolAttribute{
				MarkdownDescription: "Only approved recommendations change `size`; an open one is reported (`status = \"open\"`) " +
					"but `size` stays `current` until someone approves it. Defaults to `false`.",
				Optional: true,
				Computed: true,
			},
			"size": schema.StringAttribute{
				MarkdownDescription: "The recommended size, or `current` when there is nothing to recommend, not enough evidence, " +
					"or (with `only_approved`) no approval. Once the resource runs at a recommended size, that size, so the " +
					"configuration keeps it.",
				Computed: true,
			},
			"discovered_size": schema.StringAttribute{
				MarkdownDescription: "The size the latest inventory sweep saw the resource at.",
				Computed:            true,
			},
			"recommendation_id": schema.StringAttribute{
				MarkdownDescription: "The recommendation `size` and `status` come from; null when there is none.",
				Computed:            true,
			},
			"estimated_monthly_savings": schema.Float64Attribute{
				MarkdownDescription: "The recommendation's estimated saving per month in `currency`; null without a recommendation or when unknown.",
				Computed:            true,
			},
			"currency": schema.StringAttribute{
				MarkdownDescription: "ISO 4217 currency of `estimated_monthly_savings`; null when it is null.",
				Computed:            true,
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "Status of the recommendation: `open`, `approved` or `executed` (the resource runs at its size); null without one.",
				Computed:            true,
			},
			"executed_by": schema.StringAttribute{
				MarkdownDescription: "Who carried out an executed recommendation: `agent`, or `external` when the resource reached the " +
					"size by other means (a Terraform apply); null unless executed.",
				Computed: true,
			},
			"reason": schema.StringAttribute{
				MarkdownDescription: "Why `size` is what it is, in a sentence.",
				Computed:            true,
			},
		},
	}
}

func (d *recommendedSizeDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("resource_id"), path.MatchRoot("tags")),
	}
}

// ValidateConfig refuses a current size the catalogue does not know, before
// any call: a typo would otherwise be written back as the size.
func (d *recommendedSizeDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var m recommendedSizeModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !known(m.ResourceType) || !known(m.Current) ||
		!slices.Contains(validation.RightsizedResourceTypes, m.ResourceType.ValueString()) {
		return
	}
	resp.Diagnostics.Append(checkCurrentSize(m.ResourceType.ValueString(), m.Current.ValueString())...)
}

func known(v types.String) bool { return !v.IsNull() && !v.IsUnknown() }

// checkCurrentSize checks current against the price catalogue compiled into
// the provider, the agent's and optimizer's catalogue.
func checkCurrentSize(resourceType, current string) diag.Diagnostics {
	var diags diag.Diagnostics
	cat, err := pricing.Embedded()
	if err != nil {
		diags.AddError("Loading the price catalogue failed", err.Error())
		return diags
	}
	err = cat.CheckSize(resourceType, current)
	if err == nil {
		return diags
	}
	detail := fmt.Sprintf("current = %q is not a size of %s the price catalogue knows: %v.", current, resourceType, err)
	if errors.Is(err, pricing.ErrUnknownType) {
		if near := closeMatches(current, cat.SizeNames(resourceType)); len(near) > 0 {
			detail += " Closest known: " + strings.Join(near, ", ") + "."
		}
	}
	diags.AddAttributeError(path.Root("current"), "Unknown current size", detail)
	return diags
}

func (d *recommendedSizeDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !requireClient(d.client, &resp.Diagnostics) {
		return
	}
	var m recommendedSizeModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenantID, err := d.client.TenantID(m.TenantID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), "No tenant for the recommended size", err.Error())
		return
	}
	m.TenantID = types.StringValue(tenantID)
	if m.OnlyApproved.IsNull() {
		m.OnlyApproved = types.BoolValue(false)
	}
	typ := m.ResourceType.ValueString()
	res := d.findResource(ctx, tenantID, &m, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	policies := d.coveringPolicies(ctx, tenantID, &m, res, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var recs []*sirsiv1.Recommendation
	for _, st := range []sirsiv1.RecommendationStatus{
		sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN,
		sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED,
		sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED,
	} {
		list, err := listAll(ctx, "recommendations", func(ctx context.Context, token string) ([]*sirsiv1.Recommendation, string, error) {
			out, err := d.client.Management.ListRecommendations(ctx, &sirsiv1.ListRecommendationsRequest{
				TenantId: tenantID, ResourceType: typ, ResourceId: res.GetResourceId(), PolicyId: m.PolicyID.ValueString(),
				Status: st, PageSize: listPageSize, PageToken: token,
			})
			return out.GetRecommendations(), out.GetNextPageToken(), err
		})
		if err != nil {
			resp.Diagnostics.Append(client.ErrorDiagnostic(fmt.Sprintf("Listing the recommendations of %s %s", typ, res.GetResourceId()), err))
			return
		}
		recs = append(recs, list...)
	}
	m.ResourceID = types.StringValue(res.GetResourceId())
	m.DiscoveredSize = types.StringValue(res.GetSize())
	choice := chooseSize(res, policies, recs, m.Current.ValueString(), m.OnlyApproved.ValueBool())
	m.Size = types.StringValue(choice.size)
	m.Reason = types.StringValue(choice.reason)
	m.RecommendationID, m.Status, m.ExecutedBy = types.StringNull(), types.StringNull(), types.StringNull()
	m.EstimatedMonthlySavings, m.Currency = types.Float64Null(), types.StringNull()
	if r := choice.rec; r != nil {
		m.RecommendationID = types.StringValue(r.GetId())
		m.Status = types.StringValue(enumName(r.GetStatus(), "open"))
		m.ExecutedBy = optionalString(r.GetExecutedBy())
		m.EstimatedMonthlySavings = moneyValue(r.GetEstimatedMonthlySavings())
		m.Currency = currencyValue(r.GetEstimatedMonthlySavings())
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// findResource finds the one discovered resource of the type with the
// given id or carrying the given tags; none or several is an error on the
// argument that selected them, listing the matches.
func (d *recommendedSizeDataSource) findResource(ctx context.Context, tenantID string, m *recommendedSizeModel, diags *diag.Diagnostics) *sirsiv1.Resource {
	typ := m.ResourceType.ValueString()
	req := &sirsiv1.ListResourcesRequest{TenantId: tenantID, Type: typ, PageSize: listPageSize}
	attr, what := path.Root("resource_id"), fmt.Sprintf("have id %q", m.ResourceID.ValueString())
	if !m.Tags.IsNull() {
		req.Tags = stringMap(ctx, m.Tags, diags)
		if diags.HasError() {
			return nil
		}
		attr, what = path.Root("tags"), "carry tags "+formatTags(req.Tags)
	} else {
		req.ResourceId = m.ResourceID.ValueString()
	}
	list, err := listAll(ctx, "resources", func(ctx context.Context, token string) ([]*sirsiv1.Resource, string, error) {
		req.PageToken = token
		out, err := d.client.Management.ListResources(ctx, req)
		return out.GetResources(), out.GetNextPageToken(), err
	})
	if err != nil {
		diags.Append(client.ErrorDiagnostic("Finding the "+typ+" resources that "+what, err))
		return nil
	}
	switch len(list) {
	case 1:
		return list[0]
	case 0:
		diags.AddAttributeError(attr, "No discovered resource matches",
			fmt.Sprintf("None of the %s resources the agents of tenant %s discovered %s. Check the tags or id, the resource type, and that an agent of its "+
				"cloud account has swept its region (sirsi_resources lists what was discovered).", typ, tenantID, what))
	default:
		diags.AddAttributeError(attr, "Several discovered resources match",
			fmt.Sprintf("%d of the discovered %s resources %s; it must be exactly one. Matched: %s. Add tags that tell them apart.",
				len(list), typ, what, describeResources(list)))
	}
	return nil
}

// coveringPolicies returns the policies that right-size the resource: the
// given policy_id, which must, or every policy of the tenant that does; no
// such policy is an error naming why each one does not.
func (d *recommendedSizeDataSource) coveringPolicies(ctx context.Context, tenantID string, m *recommendedSizeModel, res *sirsiv1.Resource, diags *diag.Diagnostics) []*sirsiv1.OptimizationPolicy {
	var candidates []*sirsiv1.OptimizationPolicy
	attr := path.Root("resource_type")
	if id := m.PolicyID.ValueString(); id != "" {
		attr = path.Root("policy_id")
		out, err := d.client.Management.GetOptimizationPolicy(ctx, &sirsiv1.GetOptimizationPolicyRequest{TenantId: tenantID, Id: id})
		if client.IsNotFound(err) {
			diags.AddAttributeError(attr, "No such optimization policy", fmt.Sprintf("Tenant %s has no optimization policy %q.", tenantID, id))
			return nil
		}
		if err != nil {
			diags.Append(client.ErrorDiagnostic("Reading optimization policy "+id, err))
			return nil
		}
		candidates = []*sirsiv1.OptimizationPolicy{out.GetOptimizationPolicy()}
	} else {
		list, err := listAll(ctx, "optimization policies", func(ctx context.Context, token string) ([]*sirsiv1.OptimizationPolicy, string, error) {
			out, err := d.client.Management.ListOptimizationPolicies(ctx, &sirsiv1.ListOptimizationPoliciesRequest{TenantId: tenantID, PageSize: listPageSize, PageToken: token})
			return out.GetOptimizationPolicies(), out.GetNextPageToken(), err
		})
		if err != nil {
			diags.Append(client.ErrorDiagnostic("Listing the optimization policies of tenant "+tenantID, err))
			return nil
		}
		candidates = list
	}
	var covering []*sirsiv1.OptimizationPolicy
	var why []string
	for _, p := range candidates {
		if reason := rightsizes(p, res); reason != "" {
			why = append(why, fmt.Sprintf("%s (%s) %s", p.GetName(), p.GetId(), reason))
			continue
		}
		covering = append(covering, p)
	}
	if len(covering) == 0 {
		detail := fmt.Sprintf("No optimization policy right-sizes %s %s (%s, %s), so no size will ever be recommended for it.",
			res.GetType(), res.GetResourceId(), res.GetRegion(), res.GetAccountId())
		if len(why) == 0 {
			detail += fmt.Sprintf(" Tenant %s has no optimization policy.", tenantID)
		} else {
			detail += " " + strings.Join(why, "; ") + "."
		}
		diags.AddAttributeError(attr, "Resource type not covered by a policy", detail)
	}
	return covering
}

// rightsizes says why a policy does not right-size a resource, or "" when
// it does: it must select the resource (optimizer.Selects: type, accounts,
// regions, tags), not exclude it, and have right-sizing settings.
func rightsizes(p *sirsiv1.OptimizationPolicy, res *sirsiv1.Resource) string {
	applies, excluded := optimizer.Selects(p, res)
	switch {
	case !applies && len(p.GetResourceTypes()) > 0 && !slices.Contains(p.GetResourceTypes(), res.GetType()):
		return "covers " + strings.Join(p.GetResourceTypes(), ", ") + ", not " + res.GetType()
	case !applies:
		return "does not select it (selector accounts, regions or tags)"
	case excluded:
		return "excludes it (exclude_tags or " + optimizer.OptimizeTag + "=false)"
	case p.GetRightsizing() == nil:
		return "has no rightsizing settings"
	}
	return ""
}

// sizeChoice is what the data source answers and why.
type sizeChoice struct {
	size, reason string
	rec          *sirsiv1.Recommendation
}

// chooseSize picks the answer from the resource's recommendations under
// the covering policies: an approved proposal, else an open one unless
// only approved ones count, else an executed one whose size the resource
// runs at (so the configuration keeps the size it was right-sized to),
// else current (reporting an open proposal awaiting approval). Among
// several, the largest saving.
func chooseSize(res *sirsiv1.Resource, policies []*sirsiv1.OptimizationPolicy, recs []*sirsiv1.Recommendation, current string, onlyApproved bool) sizeChoice {
	byPolicy := map[string]bool{}
	for _, p := range policies {
		byPolicy[p.GetId()] = true
	}
	var open, approved, executed []*sirsiv1.Recommendation
	for _, r := range recs {
		if !byPolicy[r.GetPolicyId()] || r.GetCloudAccountId() != res.GetCloudAccountId() || r.GetRegion() != res.GetRegion() ||
			r.GetProposedSize() == "" || !slices.Contains([]string{optimizer.ActionResize, optimizer.ActionSetMemory}, r.GetAction()) {
			continue
		}
		switch r.GetStatus() {
		case sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN:
			open = append(open, r)
		case sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED:
			approved = append(approved, r)
		case sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED:
			if r.GetProposedSize() == res.GetSize() {
				executed = append(executed, r)
			}
		}
	}
	change := func(r *sirsiv1.Recommendation) string {
		return fmt.Sprintf("recommendation %s proposes %s instead of %s: %s", r.GetId(), r.GetProposedSize(), r.GetCurrentSize(), r.GetReason())
	}
	if r := bestSaving(approved); r != nil {
		return sizeChoice{size: r.GetProposedSize(), rec: r, reason: "Approved " + change(r)}
	}
	if r := bestSaving(open); r != nil && !onlyApproved {
		return sizeChoice{size: r.GetProposedSize(), rec: r, reason: "Open " + change(r)}
	}
	if r := latest(executed); r != nil {
		return sizeChoice{size: r.GetProposedSize(), rec: r, reason: fmt.Sprintf("%s %s runs at %s, the size recommendation %s proposed (executed by %s)",
			res.GetType(), res.GetResourceId(), res.GetSize(), r.GetId(), r.GetExecutedBy())}
	}
	if r := bestSaving(open); r != nil {
		return sizeChoice{size: current, rec: r, reason: "Open " + change(r) + "; only_approved keeps current until it is approved"}
	}
	return sizeChoice{size: current, reason: fmt.Sprintf("No right-sizing recommendation for %s %s (discovered at %s): its utilisation "+
		"calls for no other size, or there is not yet enough evidence", res.GetType(), res.GetResourceId(), res.GetSize())}
}

// bestSaving is the recommendation with the largest known saving, ties and
// unknowns broken by id so the answer is stable; nil for none.
func bestSaving(list []*sirsiv1.Recommendation) *sirsiv1.Recommendation {
	var best *sirsiv1.Recommendation
	for _, r := range list {
		if best == nil {
			best = r
			continue
		}
		a, b := r.GetEstimatedMonthlySavings().GetMicros(), best.GetEstimatedMonthlySavings().GetMicros()
		if a > b || (a == b && r.GetId() < best.GetId()) {
			best = r
		}
	}
	return best
}

// latest is the most recently updated recommendation; nil for none.
func latest(list []*sirsiv1.Recommendation) *sirsiv1.Recommendation {
	var out *sirsiv1.Recommendation
	for _, r := range list {
		if out == nil || r.GetUpdateTime().AsTime().After(out.GetUpdateTime().AsTime()) {
			out = r
		}
	}
	return out
}

func formatTags(tags map[string]string) string {
	parts := make([]string, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		parts = append(parts, k+"="+tags[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// describeResources lists resources for an error: id, region, account,
// size and Name tag, at most maxListedMatches of them.
func describeResources(list []*sirsiv1.Resource) string {
	parts := make([]string, 0, min(len(list), maxListedMatches)+1)
	for i, r := range list {
		if i == maxListedMatches {
			parts = append(parts, fmt.Sprintf("and %d more", len(list)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%s, account %s, %s, tags %s)", r.GetResourceId(), r.GetRegion(), r.GetAccountId(), r.GetSize(), formatTags(r.GetTags())))
	}
	return strings.Join(parts, "; ")
}
