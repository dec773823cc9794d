package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

var (
	_ datasource.DataSourceWithValidateConfig = (*priceDataSource)(nil)
)

// Resource kinds sirsi_price prices.
const (
	priceKindEC2    = "ec2_instance"
	priceKindRDS    = "rds_instance"
	priceKindEBS    = "ebs_volume"
	priceKindLambda = "lambda"
)

var priceKinds = []string{priceKindEC2, priceKindRDS, priceKindEBS, priceKindLambda}

const (
	defaultPriceEngine  = "postgres"
	defaultPriceSizeGiB = 1
	// secondsPerHour turns Lambda's per GB-second price into the hourly
	// price of one GB of memory running the whole hour.
	secondsPerHour = 3600
	// maxCloseMatches keeps an error about an unknown size readable.
	maxCloseMatches = 12
)

// NewPriceDataSource is registered in the provider's data source list.
func NewPriceDataSource() datasource.DataSource {
	return &priceDataSource{}
}

// priceDataSource needs no client: it reads the price catalogue compiled
// into the provider, the same one the agent and the optimizer use.
type priceDataSource struct{}

type priceModel struct {
	Kind           types.String  `tfsdk:"kind"`
	Size           types.String  `tfsdk:"size"`
	Region         types.String  `tfsdk:"region"`
	Engine         types.String  `tfsdk:"engine"`
	SizeGiB        types.Int64   `tfsdk:"size_gib"`
	IOPS           types.Int64   `tfsdk:"iops"`
	Throughput     types.Int64   `tfsdk:"throughput"`
	HourlyUSD      types.Float64 `tfsdk:"hourly_usd"`
	MonthlyUSD     types.Float64 `tfsdk:"monthly_usd"`
	VCPU           types.Int64   `tfsdk:"vcpu"`
	MemoryGiB      types.Float64 `tfsdk:"memory_gib"`
	Architecture   types.String  `tfsdk:"architecture"`
	Generation     types.Int64   `tfsdk:"generation"`
	USDPerGBSecond types.Float64 `tfsdk:"usd_per_gb_second"`
	USDPerRequest  types.Float64 `tfsdk:"usd_per_request"`
	SnapshotDate   types.String  `tfsdk:"snapshot_date"`
}

func (d *priceDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_price"
}

func (d *priceDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The on-demand price and specification of an AWS resource before it exists, so a pipeline can " +
			"estimate what a planned instance, database or volume will cost.\n\n" +
			"Prices come from the price catalogue compiled into the provider: the same catalogue the SirsiNexus agent and " +
			"optimizer compute savings with, so an estimate here and a recommendation later agree. The data source makes " +
			"no call to the control plane and no call to AWS; the provider block still needs its `endpoint` and `token`, " +
			"because the provider checks them when it is configured. `snapshot_date` is the date of the catalogue's prices; " +
			"the catalogue built in is compiled by hand from AWS's published on-demand prices of that date (it is not an " +
			"extract of the AWS Price List; `agentd pricing import` rebuilds it from Price List offer files). Prices are US dollars, on-demand, Linux (EC2) and single-AZ (RDS), without taxes, " +
			"discounts, Savings Plans or Reserved Instances. Monthly prices use 730 hours, as AWS does.\n\n" +
			"An unknown size or region is an error naming the attribute and listing the closest sizes the catalogue has.",
		Attributes: map[string]schema.Attribute{
			"kind": schema.StringAttribute{
				MarkdownDescription: "What to price: `ec2_instance`, `rds_instance`, `ebs_volume` or `lambda`.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.OneOf(priceKinds...)},
			},
			"size": schema.StringAttribute{
				MarkdownDescription: "The instance type (`m5.large`) for `ec2_instance`, the DB instance class (`db.r6g.large`) for " +
					"`rds_instance`, the volume type (`gp3`, `gp2`, `io1`, `io2`, `st1`, `sc1`) for `ebs_volume`, or the " +
					"architecture (`x86_64` or `arm64`) for `lambda`.",
				Required:   true,
				Validators: []validator.String{stringvalidator.LengthBetween(1, 64)},
			},
			"region": schema.StringAttribute{
				MarkdownDescription: "AWS region, such as `us-east-1`.",
				Required:            true,
				Validators:          []validator.String{regionValidator()},
			},
			"engine": schema.StringAttribute{
				MarkdownDescription: "Database engine for `rds_instance`: `postgres` or `mysql`. Defaults to `postgres`. Only for `rds_instance`.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{stringvalidator.OneOf("postgres", "mysql")},
			},
			"size_gib": schema.Int64Attribute{
				MarkdownDescription: "Volume size in GiB for `ebs_volume`, 1 to 65536. Defaults to 1, so `monthly_usd` is then the price per GiB-month. Only for `ebs_volume`.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 65536)},
			},
			"iops": schema.Int64Attribute{
				MarkdownDescription: "Provisioned IOPS for `ebs_volume`, 0 to 256000: for `gp3` the IOPS above the included 3000 are billed, for `io1` and `io2` every IOPS (`io2` in tiers). Ignored by types that do not bill IOPS. Only for `ebs_volume`.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(0, 256000)},
			},
			"throughput": schema.Int64Attribute{
				MarkdownDescription: "Provisioned throughput in MiB/s for `ebs_volume`, 0 to 2000: for `gp3` the throughput above the included 125 MiB/s is billed. Ignored by other types. Only for `ebs_volume`.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(0, 2000)},
			},
			"hourly_usd": schema.Float64Attribute{
				MarkdownDescription: "On-demand price per hour. For `ebs_volume` the monthly price divided by 730; for `lambda` the duration price of 1 GB of memory for one hour (requests not included).",
				Computed:            true,
			},
			"monthly_usd": schema.Float64Attribute{
				MarkdownDescription: "On-demand price per month of 730 hours (for `ebs_volume`, the volume's monthly price including billed IOPS and throughput).",
				Computed:            true,
			},
			"vcpu": schema.Int64Attribute{
				MarkdownDescription: "vCPUs of the instance type or DB instance class; null for other kinds.",
				Computed:            true,
			},
			"memory_gib": schema.Float64Attribute{
				MarkdownDescription: "Memory in GiB of the instance type or DB instance class; null for other kinds.",
				Computed:            true,
			},
			"architecture": schema.StringAttribute{
				MarkdownDescription: "`x86_64` or `arm64` for instances, DB classes and Lambda; null for volumes.",
				Computed:            true,
			},
			"generation": schema.Int64Attribute{
				MarkdownDescription: "Generation of the instance family (5 for `m5`, 7 for `m7g`); null for other kinds.",
				Computed:            true,
			},
			"usd_per_gb_second": schema.Float64Attribute{
				MarkdownDescription: "For `lambda`: the duration price per GB-second. Null for other kinds.",
				Computed:            true,
			},
			"usd_per_request": schema.Float64Attribute{
				MarkdownDescription: "For `lambda`: the price per request. Null for other kinds.",
				Computed:            true,
			},
			"snapshot_date": schema.StringAttribute{
				MarkdownDescription: "Date (`YYYY-MM-DD`) of the catalogue's prices.",
				Computed:            true,
			},
		},
	}
}

// ValidateConfig refuses inputs that do not apply to the kind, so a typo
// such as engine on an EC2 price is not silently ignored.
func (d *priceDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var m priceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Kind.IsNull() || m.Kind.IsUnknown() {
		return
	}
	kind := m.Kind.ValueString()
	onlyFor := func(attr string, set bool, want string) {
		if set && kind != want {
			resp.Diagnostics.AddAttributeError(path.Root(attr), "Attribute does not apply to kind "+kind,
				fmt.Sprintf("%s is only for kind %q, not %q.", attr, want, kind))
		}
	}
	onlyFor("engine", !m.Engine.IsNull(), priceKindRDS)
	onlyFor("size_gib", !m.SizeGiB.IsNull(), priceKindEBS)
	onlyFor("iops", !m.IOPS.IsNull(), priceKindEBS)
	onlyFor("throughput", !m.Throughput.IsNull(), priceKindEBS)
}

func (d *priceDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m priceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cat, err := pricing.Embedded()
	if err != nil {
		resp.Diagnostics.AddError("Loading the price catalogue failed", err.Error())
		return
	}
	resp.Diagnostics.Append(lookupPrice(cat, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// lookupPrice fills the computed attributes of m from the catalogue.
func lookupPrice(cat *pricing.Catalogue, m *priceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	kind, size, region := m.Kind.ValueString(), m.Size.ValueString(), m.Region.ValueString()
	if _, ok := cat.Region(region); !ok {
		diags.AddAttributeError(path.Root("region"), "Region not in the price catalogue",
			fmt.Sprintf("region %q is not priced. Priced regions: %s.", region, strings.Join(regionCodes(cat), ", ")))
		return diags
	}
	m.SnapshotDate = types.StringValue(cat.SnapshotDate())
	m.VCPU, m.MemoryGiB, m.Architecture, m.Generation = types.Int64Null(), types.Float64Null(), types.StringNull(), types.Int64Null()
	m.USDPerGBSecond, m.USDPerRequest = types.Float64Null(), types.Float64Null()
	if kind == priceKindRDS && m.Engine.IsNull() {
		m.Engine = types.StringValue(defaultPriceEngine)
	}
	if kind == priceKindEBS && m.SizeGiB.IsNull() {
		m.SizeGiB = types.Int64Value(defaultPriceSizeGiB)
	}

	switch kind {
	case priceKindEC2:
		hourly, err := cat.EC2Hourly(region, size)
		if err != nil {
			diags.Append(unknownSize("instance type", size, region, ec2Sizes(cat, region), err))
			return diags
		}
		m.setHourly(hourly)
		m.setSpec(cat, size)
	case priceKindRDS:
		hourly, err := cat.RDSHourly(region, size, m.Engine.ValueString())
		if err != nil {
			diags.Append(unknownSize("DB instance class", size, region, rdsSizes(cat, region, m.Engine.ValueString()), err))
			return diags
		}
		m.setHourly(hourly)
		m.setSpec(cat, size)
	case priceKindEBS:
		monthly, err := cat.EBSMonthly(region, size, int(m.SizeGiB.ValueInt64()), int(m.IOPS.ValueInt64()), int(m.Throughput.ValueInt64()))
		if err != nil {
			diags.Append(unknownSize("volume type", size, region, ebsSizes(cat, region), err))
			return diags
		}
		m.MonthlyUSD = types.Float64Value(monthly)
		m.HourlyUSD = types.Float64Value(monthly / pricing.HoursPerMonth)
	case priceKindLambda:
		p, err := cat.LambdaPrice(region, size)
		if err != nil {
			diags.Append(unknownSize("Lambda architecture", size, region, lambdaSizes(cat, region), err))
			return diags
		}
		m.setHourly(p.USDPerGBSecond * secondsPerHour)
		m.Architecture = types.StringValue(p.Architecture)
		m.USDPerGBSecond = types.Float64Value(p.USDPerGBSecond)
		m.USDPerRequest = types.Float64Value(p.USDPerRequest)
	default:
		diags.AddAttributeError(path.Root("kind"), "Unknown kind",
			fmt.Sprintf("kind %q: must be one of %s.", kind, strings.Join(priceKinds, ", ")))
	}
	return diags
}

func (m *priceModel) setHourly(hourly float64) {
	m.HourlyUSD = types.Float64Value(hourly)
	m.MonthlyUSD = types.Float64Value(pricing.MonthlyFromHourly(hourly))
}

func (m *priceModel) setSpec(cat *pricing.Catalogue, size string) {
	spec, ok := cat.InstanceType(size)
	if !ok {
		return
	}
	m.VCPU = types.Int64Value(int64(spec.VCPU))
	m.MemoryGiB = types.Float64Value(spec.MemoryGiB)
	m.Architecture = types.StringValue(spec.Architecture)
	m.Generation = types.Int64Value(int64(spec.Generation))
}

// unknownSize is the diagnostic for a size the catalogue has no price for:
// it names the attribute and offers the closest priced sizes.
func unknownSize(what, size, region string, known []string, err error) diag.Diagnostic {
	if !errors.Is(err, pricing.ErrUnknownType) {
		return diag.NewAttributeErrorDiagnostic(path.Root("size"), "Cannot price "+what+" "+size, err.Error())
	}
	detail := fmt.Sprintf("%s %q has no price in %s in the catalogue.", what, size, region)
	if near := closeMatches(size, known); len(near) > 0 {
		detail += " Closest priced: " + strings.Join(near, ", ") + "."
	}
	return diag.NewAttributeErrorDiagnostic(path.Root("size"), "Unknown "+what, detail)
}

// closeMatches picks the known sizes most like want: first those of the
// same family (the part before the last "."), then those of the same size
// in families starting with the same letters, then the nearest by edit
// distance.
func closeMatches(want string, known []string) []string {
	family, suffix := splitSize(want)
	var out []string
	if family != "" {
		for _, k := range known {
			if f, _ := splitSize(k); f == family {
				out = append(out, k)
			}
		}
	}
	if len(out) == 0 && suffix != "" {
		prefix := familyLetters(family)
		for _, k := range known {
			if f, s := splitSize(k); s == suffix && prefix != "" && familyLetters(f) == prefix {
				out = append(out, k)
			}
		}
	}
	if len(out) == 0 {
		ranked := append([]string(nil), known...)
		sort.SliceStable(ranked, func(i, j int) bool {
			return editDistance(want, ranked[i]) < editDistance(want, ranked[j])
		})
		for _, k := range ranked {
			if editDistance(want, k) <= max(2, len(want)/3) {
				out = append(out, k)
			}
		}
	}
	if len(out) > maxCloseMatches {
		out = out[:maxCloseMatches]
	}
	return out
}

// splitSize splits "m5.large" into "m5" and "large", "db.r6g.xlarge" into
// "db.r6g" and "xlarge"; a name without "." has no family.
func splitSize(s string) (family, suffix string) {
	i := strings.LastIndex(s, ".")
	if i < 0 {
		return "", ""
	}
	return s[:i], s[i+1:]
}

// familyLetters is the instance class of a family: "m" for "m6i", "db.r"
// for "db.r6g".
func familyLetters(family string) string {
	db, rest := "", family
	if r, ok := strings.CutPrefix(family, "db."); ok {
		db, rest = "db.", r
	}
	i := strings.IndexFunc(rest, func(r rune) bool { return r >= '0' && r <= '9' })
	if i <= 0 {
		return ""
	}
	return db + rest[:i]
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func regionCodes(cat *pricing.Catalogue) []string {
	var out []string
	for _, r := range cat.Regions() {
		out = append(out, r.Code)
	}
	return out
}

func ec2Sizes(cat *pricing.Catalogue, region string) []string {
	var out []string
	for _, s := range cat.Types(pricing.TypeFilter{}) {
		if _, err := cat.EC2Hourly(region, s.Name); err == nil {
			out = append(out, s.Name)
		}
	}
	return out
}

func rdsSizes(cat *pricing.Catalogue, region, engine string) []string {
	var out []string
	for _, s := range cat.Types(pricing.TypeFilter{}) {
		if _, err := cat.RDSHourly(region, "db."+s.Name, engine); err == nil {
			out = append(out, "db."+s.Name)
		}
	}
	return out
}

func ebsSizes(cat *pricing.Catalogue, region string) []string {
	var out []string
	for _, p := range cat.Snapshot().EBS {
		if p.Region == region {
			out = append(out, p.VolumeType)
		}
	}
	return out
}

func lambdaSizes(cat *pricing.Catalogue, region string) []string {
	var out []string
	for _, p := range cat.Snapshot().Lambda {
		if p.Region == region {
			out = append(out, p.Architecture)
		}
	}
	return out
}
