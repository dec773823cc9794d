package provider

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

func TestPriceDataSourceSchema(t *testing.T) {
	checkDataSourceDocs(t, NewPriceDataSource())
}

// approx is a knownvalue check for a price: the hand-computed figure to
// the tenth of a micro-dollar, since 0.096*730 is not exact in binary.
type approx float64

func (a approx) CheckValue(v any) error {
	var f float64
	switch n := v.(type) {
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return fmt.Errorf("expected a number: %w", err)
		}
	case float64:
		f = n
	default:
		return fmt.Errorf("expected a number, got %T %v", v, v)
	}
	if math.Abs(f-float64(a)) > 1e-7 {
		return fmt.Errorf("got %v, want %v", f, float64(a))
	}
	return nil
}

func (a approx) String() string { return fmt.Sprintf("about %v", float64(a)) }

func nearly(a, b float64) bool { return math.Abs(a-b) <= 1e-7 }

func priceInput(kind, size, region string) priceModel {
	return priceModel{
		Kind: types.StringValue(kind), Size: types.StringValue(size), Region: types.StringValue(region),
		Engine: types.StringNull(), SizeGiB: types.Int64Null(), IOPS: types.Int64Null(), Throughput: types.Int64Null(),
	}
}

// Expectations from internal/pricing/data/prices.json (snapshot
// 2025-06-01), computed by hand.
func TestLookupPrice(t *testing.T) {
	cat, err := pricing.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	ebs := priceInput(priceKindEBS, "gp3", "us-east-1")
	ebs.SizeGiB, ebs.IOPS, ebs.Throughput = types.Int64Value(100), types.Int64Value(4000), types.Int64Value(250)
	mysql := priceInput(priceKindRDS, "db.m5.large", "us-east-1")
	mysql.Engine = types.StringValue("mysql")
	for name, tc := range map[string]struct {
		in              priceModel
		hourly, monthly float64
		vcpu            int64
		memory          float64
		arch            string
		generation      int64
	}{
		// 0.096 USD/h; 0.096 * 730 = 70.08.
		"m5.large us-east-1": {priceInput(priceKindEC2, "m5.large", "us-east-1"), 0.096, 70.08, 2, 8, "x86_64", 5},
		// 0.107 USD/h in Ireland; * 730 = 78.11.
		"m5.large eu-west-1": {priceInput(priceKindEC2, "m5.large", "eu-west-1"), 0.107, 78.11, 2, 8, "x86_64", 5},
		// PostgreSQL by default: 0.178 * 730 = 129.94.
		"db.m5.large postgres": {priceInput(priceKindRDS, "db.m5.large", "us-east-1"), 0.178, 129.94, 2, 8, "x86_64", 5},
		// MySQL: 0.171 * 730 = 124.83.
		"db.m5.large mysql": {mysql, 0.171, 124.83, 2, 8, "x86_64", 5},
		// 100 GiB * 0.08 + (4000-3000) IOPS * 0.005 + (250-125) MiB/s * 0.04 = 8 + 5 + 5.
		"gp3 100GiB": {ebs, 18.0 / 730, 18, 0, 0, "", 0},
		// One GiB-month by default.
		"gp2 default size": {priceInput(priceKindEBS, "gp2", "us-east-1"), 0.1 / 730, 0.1, 0, 0, "", 0},
		// 1.33334e-05 USD per GB-second * 3600 = 0.04800024 per GB-hour.
		"lambda arm64": {priceInput(priceKindLambda, "arm64", "us-east-1"), 0.04800024, 35.0401752, 0, 0, "arm64", 0},
	} {
		t.Run(name, func(t *testing.T) {
			m := tc.in
			if diags := lookupPrice(cat, &m); diags.HasError() {
				t.Fatalf("lookupPrice: %v", diags)
			}
			if !nearly(m.HourlyUSD.ValueFloat64(), tc.hourly) || !nearly(m.MonthlyUSD.ValueFloat64(), tc.monthly) {
				t.Errorf("hourly %v monthly %v, want %v and %v", m.HourlyUSD, m.MonthlyUSD, tc.hourly, tc.monthly)
			}
			if m.VCPU.ValueInt64() != tc.vcpu || m.MemoryGiB.ValueFloat64() != tc.memory || m.Architecture.ValueString() != tc.arch || m.Generation.ValueInt64() != tc.generation {
				t.Errorf("spec vcpu %v memory %v arch %v generation %v, want %d %v %q %d", m.VCPU, m.MemoryGiB, m.Architecture, m.Generation, tc.vcpu, tc.memory, tc.arch, tc.generation)
			}
			if tc.vcpu == 0 && !m.VCPU.IsNull() {
				t.Errorf("vcpu = %v, want null for kind %s", m.VCPU, m.Kind)
			}
			if m.SnapshotDate.ValueString() != cat.SnapshotDate() {
				t.Errorf("snapshot_date = %v, want %s", m.SnapshotDate, cat.SnapshotDate())
			}
		})
	}
}

func TestLookupPriceDefaultsAndLambdaRates(t *testing.T) {
	cat, err := pricing.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	rds := priceInput(priceKindRDS, "db.t4g.micro", "us-east-1")
	if d := lookupPrice(cat, &rds); d.HasError() || rds.Engine.ValueString() != "postgres" || !rds.SizeGiB.IsNull() {
		t.Errorf("rds defaults: engine %v size_gib %v (%v)", rds.Engine, rds.SizeGiB, d)
	}
	ebs := priceInput(priceKindEBS, "st1", "us-east-1")
	if d := lookupPrice(cat, &ebs); d.HasError() || ebs.SizeGiB.ValueInt64() != 1 || !ebs.Engine.IsNull() {
		t.Errorf("ebs defaults: size_gib %v engine %v (%v)", ebs.SizeGiB, ebs.Engine, d)
	}
	lambda := priceInput(priceKindLambda, "x86_64", "us-east-1")
	if d := lookupPrice(cat, &lambda); d.HasError() || lambda.USDPerGBSecond.ValueFloat64() != 1.66667e-05 || lambda.USDPerRequest.ValueFloat64() != 2e-07 {
		t.Errorf("lambda rates: %v per GB-second, %v per request (%v)", lambda.USDPerGBSecond, lambda.USDPerRequest, d)
	}
	ec2 := priceInput(priceKindEC2, "t3.micro", "us-east-1")
	if d := lookupPrice(cat, &ec2); d.HasError() || !ec2.USDPerGBSecond.IsNull() || !ec2.USDPerRequest.IsNull() {
		t.Errorf("ec2 has Lambda rates: %v %v (%v)", ec2.USDPerGBSecond, ec2.USDPerRequest, d)
	}
}

func TestLookupPriceErrors(t *testing.T) {
	cat, err := pricing.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		in        priceModel
		attr      string
		summary   string
		mentions  []string
		forbidden []string
	}{
		"typo in a size": {priceInput(priceKindEC2, "m5.larg", "us-east-1"), "size", "Unknown instance type",
			[]string{`"m5.larg"`, "m5.large", "m5.xlarge", "m5.16xlarge"}, []string{"m6i.large"}},
		"unknown family": {priceInput(priceKindEC2, "m9.large", "us-east-1"), "size", "Unknown instance type",
			[]string{"m5.large", "m6i.large", "m7g.large"}, []string{"c5.large", "m5.xlarge"}},
		"rds class without db.": {priceInput(priceKindRDS, "db.r6g.larg", "eu-west-1"), "size", "Unknown DB instance class",
			[]string{"db.r6g.large", "db.r6g.xlarge"}, []string{"db.m5.large"}},
		"volume type": {priceInput(priceKindEBS, "gp4", "us-east-1"), "size", "Unknown volume type",
			[]string{"gp2", "gp3"}, []string{"sc1"}},
		"lambda architecture": {priceInput(priceKindLambda, "arm", "us-east-1"), "size", "Unknown Lambda architecture",
			[]string{"arm64"}, []string{"x86_64"}},
		"region": {priceInput(priceKindEC2, "m5.large", "sa-east-1"), "region", "Region not in the price catalogue",
			[]string{`"sa-east-1"`, "us-east-1", "ap-southeast-1"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			m := tc.in
			diags := lookupPrice(cat, &m)
			if diags.ErrorsCount() != 1 {
				t.Fatalf("%d errors, want 1: %v", diags.ErrorsCount(), diags)
			}
			d := diags.Errors()[0]
			if d.Summary() != tc.summary {
				t.Errorf("summary %q, want %q", d.Summary(), tc.summary)
			}
			if ad, ok := d.(diag.DiagnosticWithPath); !ok || ad.Path().String() != tc.attr {
				t.Errorf("diagnostic is not about attribute %s: %#v", tc.attr, d)
			}
			for _, want := range tc.mentions {
				if !strings.Contains(d.Detail(), want) {
					t.Errorf("detail %q does not mention %s", d.Detail(), want)
				}
			}
			for _, not := range tc.forbidden {
				if strings.Contains(d.Detail(), not) {
					t.Errorf("detail %q offers %s, which is not close", d.Detail(), not)
				}
			}
		})
	}
}

func TestCloseMatches(t *testing.T) {
	known := []string{"m5.large", "m5.xlarge", "m6i.large", "c5.large", "gp2", "gp3"}
	for _, tc := range []struct {
		want string
		out  []string
	}{
		{"m5.huge", []string{"m5.large", "m5.xlarge"}},
		{"m4.large", []string{"m5.large", "m6i.large"}},
		{"gp1", []string{"gp2", "gp3"}},
		{"zzzzzzzz", nil},
	} {
		got := closeMatches(tc.want, known)
		if strings.Join(got, ",") != strings.Join(tc.out, ",") {
			t.Errorf("closeMatches(%q) = %v, want %v", tc.want, got, tc.out)
		}
	}
}

// priceConfig is a sirsi_price block behind a configured provider: the
// data source makes no call, but the provider checks its endpoint.
func priceConfig(env *accEnv, body string) string {
	return env.tenantProvider() + "\ndata \"sirsi_price\" \"p\" {\n" + body + "\n}\n"
}

func TestAccPrice_kinds(t *testing.T) {
	env := testAccStart(t)
	addr := "data.sirsi_price.p"
	at := tfjsonpath.New[string]
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config: priceConfig(env, `  kind = "ec2_instance"
  size = "m5.large"
  region = "us-east-1"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, at("hourly_usd"), approx(0.096)),
					statecheck.ExpectKnownValue(addr, at("monthly_usd"), approx(70.08)),
					statecheck.ExpectKnownValue(addr, at("vcpu"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(addr, at("memory_gib"), knownvalue.Float64Exact(8)),
					statecheck.ExpectKnownValue(addr, at("architecture"), knownvalue.StringExact("x86_64")),
					statecheck.ExpectKnownValue(addr, at("generation"), knownvalue.Int64Exact(5)),
					statecheck.ExpectKnownValue(addr, at("snapshot_date"), knownvalue.StringExact("2025-06-01")),
					statecheck.ExpectKnownValue(addr, at("engine"), knownvalue.Null()),
				},
			},
			{
				Config: priceConfig(env, `  kind = "rds_instance"
  size = "db.m5.large"
  region = "us-east-1"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, at("engine"), knownvalue.StringExact("postgres")),
					statecheck.ExpectKnownValue(addr, at("monthly_usd"), approx(129.94)),
				},
			},
			{
				Config: priceConfig(env, `  kind = "ebs_volume"
  size = "gp3"
  region = "us-east-1"
  size_gib = 100
  iops = 4000
  throughput = 250`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, at("monthly_usd"), approx(18)),
					statecheck.ExpectKnownValue(addr, at("vcpu"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, at("architecture"), knownvalue.Null()),
				},
			},
			{
				Config: priceConfig(env, `  kind = "lambda"
  size = "arm64"
  region = "us-east-1"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, at("usd_per_gb_second"), approx(1.33334e-05)),
					statecheck.ExpectKnownValue(addr, at("hourly_usd"), approx(0.04800024)),
					statecheck.ExpectKnownValue(addr, at("architecture"), knownvalue.StringExact("arm64")),
				},
			},
		},
	})
}

func TestAccPrice_invalid(t *testing.T) {
	env := testAccStart(t)
	step := func(body, want string) tfresource.TestStep {
		return tfresource.TestStep{Config: priceConfig(env, body), ExpectError: expectErr(want)}
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			step(`  kind = "s3_bucket"
  size = "standard"
  region = "us-east-1"`, `(?s)kind.*value must be one of`),
			step(`  kind = "ec2_instance"
  size = "m5.larg"
  region = "us-east-1"`, `(?s)Unknown instance type.*"m5.larg".*m5.large`),
			step(`  kind = "ec2_instance"
  size = "m5.large"
  region = "sa-east-1"`, `(?s)Region not in the price catalogue.*us-east-1`),
			step(`  kind = "ec2_instance"
  size = "m5.large"
  region = "us-east-1"
  engine = "mysql"`, `(?s)Attribute does not apply to kind ec2_instance.*engine is only for kind "rds_instance"`),
			step(`  kind = "ebs_volume"
  size = "gp3"
  region = "us-east-1"
  size_gib = 0`, `(?s)size_gib.*between 1 and 65536`),
		},
	})
}

// The example in the docs and the guide is applied as written, behind a
// provider block, so the documentation cannot drift from what works.
func TestAccPrice_example(t *testing.T) {
	env := testAccStart(t)
	example, err := os.ReadFile(filepath.Join("..", "examples", "data-sources", "sirsi_price", "data-source.tf"))
	if err != nil {
		t.Fatal(err)
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config: env.tenantProvider() + string(example),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.sirsi_price.web", tfjsonpath.New("monthly_usd"), approx(70.08)),
			},
		}},
	})
}

// The data source has no Configure: it prices even while the provider's
// configuration is not known yet.
func TestPriceNeedsNoClient(t *testing.T) {
	if _, ok := NewPriceDataSource().(datasource.DataSourceWithConfigure); ok {
		t.Error("sirsi_price takes the provider's client, but it must work without one")
	}
}
