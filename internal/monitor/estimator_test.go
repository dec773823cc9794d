package monitor

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

func embedded(t *testing.T) *pricing.Catalogue {
	t.Helper()
	cat, err := pricing.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// Prices below are the us-east-1 / eu-central-1 rows of data/prices.json
// and the published snapshot rate, multiplied out by hand.
func TestMonthlyCost(t *testing.T) {
	e := NewEstimator(embedded(t))
	res := func(typ, region, size, state string, attrs map[string]string) *sirsiv1.Resource {
		return &sirsiv1.Resource{Type: typ, Region: region, Size: size, State: state, Attributes: attrs}
	}
	fn := res(validation.ResourceLambdaFunction, "us-east-1", "1024", "Active", map[string]string{"architecture": "arm64"})
	fn.ResourceId = "fn"
	quiet := res(validation.ResourceLambdaFunction, "us-east-1", "512", "Active", nil)
	quiet.ResourceId = "quiet"
	unmeasured := res(validation.ResourceLambdaFunction, "us-east-1", "512", "Active", nil)
	unmeasured.ResourceId = "unmeasured"
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sum := func(id, metric, stat string, v float64) *sirsiv1.UtilizationSummary {
		return &sirsiv1.UtilizationSummary{ResourceId: id, Region: "us-east-1", Metric: metric, Statistic: stat, Value: v,
			WindowStart: timestamppb.New(start), WindowEnd: timestamppb.New(start.Add(14 * 24 * time.Hour))}
	}
	e.ObserveUsage([]*sirsiv1.UtilizationSummary{
		sum("fn", "invocations", "Sum", 1e6), sum("fn", "duration_ms", "Average", 200),
		sum("quiet", "invocations", "Sum", 0),
	})
	// 1.5 TiB averaged over the window; a bucket CloudWatch had no
	// datapoint for comes back as 0 with no coverage.
	measured := sum("logs", "bucket_size_bytes", "Average", 1536*(1<<30))
	measured.Coverage = 1
	e.ObserveUsage([]*sirsiv1.UtilizationSummary{measured, sum("nodata", "bucket_size_bytes", "Average", 0)})
	bucket := func(id string) *sirsiv1.Resource {
		b := res(validation.ResourceS3Bucket, "us-east-1", "", "", nil)
		b.ResourceId = id
		return b
	}
	for _, c := range []struct {
		name string
		r    *sirsiv1.Resource
		usd  float64
		// unknown is a fragment of the reason when the cost is unknown.
		unknown string
	}{
		{"m5.large running: 0.096 × 730", res(validation.ResourceEC2Instance, "us-east-1", "m5.large", "running", nil), 70.08, ""},
		{"instance type from attributes", res(validation.ResourceEC2Instance, "us-east-1", "", "pending", map[string]string{"instance_type": "c5.xlarge"}), 0.17 * 730, ""},
		{"stopped instance", res(validation.ResourceEC2Instance, "us-east-1", "m5.large", "stopped", nil), 0, ""},
		{"unknown instance type", res(validation.ResourceEC2Instance, "us-east-1", "z9.huge", "running", nil), 0, "z9.huge"},
		{"unknown region", res(validation.ResourceEC2Instance, "mars-1", "m5.large", "running", nil), 0, "mars-1"},
		// Volumes as discovery writes them: type and size in Size.
		{"gp3 100 GiB at baseline: 100 × 0.08", res(validation.ResourceEBSVolume, "us-east-1", "gp3:100", "in-use",
			map[string]string{"iops": "3000", "throughput": "125"}), 8, ""},
		{"gp3 above baseline: 8 + 1000 × 0.005 + 125 × 0.04", res(validation.ResourceEBSVolume, "us-east-1", "gp3:100", "in-use",
			map[string]string{"iops": "4000", "throughput": "250"}), 18, ""},
		{"gp2 50 GiB: 50 × 0.10", res(validation.ResourceEBSVolume, "us-east-1", "gp2:50", "available", map[string]string{"iops": "150"}), 5, ""},
		{"io1 100 GiB, 1000 IOPS: 12.5 + 1000 × 0.065", res(validation.ResourceEBSVolume, "us-east-1", "io1:100", "in-use", map[string]string{"iops": "1000"}), 77.5, ""},
		{"volume with a bad size", res(validation.ResourceEBSVolume, "us-east-1", "gp2", "available", nil), 0, "size"},
		{"volume with bad iops", res(validation.ResourceEBSVolume, "us-east-1", "gp3:10", "available", map[string]string{"iops": "-5"}), 0, "attributes.iops"},
		{"volume type not priced", res(validation.ResourceEBSVolume, "us-east-1", "standard:10", "available", nil), 0, "standard"},
		{"snapshot 100 GiB: 100 × 0.05", res(validation.ResourceEBSSnapshot, "us-east-1", "", "completed", map[string]string{"size_gib": "100"}), 5, ""},
		{"snapshot in Frankfurt: 100 × 0.054", res(validation.ResourceEBSSnapshot, "eu-central-1", "", "completed", map[string]string{"size_gib": "100"}), 5.4, ""},
		{"snapshot without size", res(validation.ResourceEBSSnapshot, "us-east-1", "", "completed", nil), 0, "attributes.size_gib"},
		{"idle Elastic IP: 0.005 × 730", res(validation.ResourceEIP, "us-east-1", "", "unassociated", nil), 3.65, ""},
		{"associated Elastic IP: public IPv4 is billed in use too", res(validation.ResourceEIP, "us-east-1", "", "associated", map[string]string{"association_id": "eipassoc-1"}), 3.65, ""},
		{"db.m5.large MySQL: 0.171 × 730", res(validation.ResourceRDSInstance, "us-east-1", "db.m5.large", "available", map[string]string{"engine": "mysql"}), 124.83, ""},
		{"db.m5.large MySQL + 100 GiB gp2: 124.83 + 100 × 0.115", res(validation.ResourceRDSInstance, "us-east-1", "db.m5.large", "available",
			map[string]string{"engine": "mysql", "storage_type": "gp2", "storage_gib": "100"}), 136.33, ""},
		{"db.m5.large PostgreSQL Multi-AZ + 100 GiB gp3: 2 × (0.178 × 730 + 11.5)", res(validation.ResourceRDSInstance, "us-east-1", "db.m5.large", "available",
			map[string]string{"engine": "postgres", "multi_az": "true", "storage_type": "gp3", "storage_gib": "100"}), 282.88, ""},
		{"stopped DB pays its storage", res(validation.ResourceRDSInstance, "us-east-1", "db.m5.large", "stopped",
			map[string]string{"engine": "mysql", "storage_type": "gp2", "storage_gib": "100"}), 11.5, ""},
		{"DB storage type not priced", res(validation.ResourceRDSInstance, "us-east-1", "db.m5.large", "available",
			map[string]string{"engine": "mysql", "storage_type": "io1", "storage_gib": "100"}), 0, "attributes.storage_type"},
		{"DB engine not priced", res(validation.ResourceRDSInstance, "us-east-1", "db.m5.large", "available", map[string]string{"engine": "oracle-ee"}), 0, "oracle-ee"},
		// 1e6 × 0.2 s × 1 GiB = 200,000 GB-s × $0.0000133334 (arm64) +
		// 1e6 × $0.0000002, over 14 days (336 h), × 730 / 336.
		{"Lambda by requests and GB-seconds", fn, (200000*1.33334e-05 + 1e6*2e-07) * 730 / 336, ""},
		{"Lambda without invocations", quiet, 0, ""},
		{"Lambda not measured yet", unmeasured, 0, "invocations"},
		{"S3 1536 GB × 0.023", bucket("logs"), 35.328, ""},
		{"S3 bucket without a datapoint", bucket("nodata"), 0, "bucket_size_bytes: no datapoint"},
		{"S3 bucket not measured yet", bucket("unmeasured"), 0, "bucket_size_bytes: no datapoint"},
	} {
		usd, err := e.MonthlyCost(c.r)
		switch {
		case c.unknown == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.unknown != "" && (err == nil || !errors.Is(err, ErrUnknownCost) || !strings.Contains(err.Error(), c.unknown)):
			t.Errorf("%s: %v, %v; want an unknown cost naming %q", c.name, usd, err, c.unknown)
		case math.Abs(usd-c.usd) > 1e-9:
			t.Errorf("%s: %v, want %v", c.name, usd, c.usd)
		}
	}
}

func TestRefreshOverlaysTheSimulatorsPrices(t *testing.T) {
	sim, url := startSim(t, awssim.Options{Throttle: awssim.ThrottleOptions{Disabled: true}})
	// Start from a catalogue whose m5.large price differs from the
	// simulator's price list (which serves the embedded snapshot: 0.096).
	stale, err := embedded(t).Merge(pricing.Overrides{EC2: []pricing.EC2Price{{Region: "us-east-1", InstanceType: "m5.large", UsageType: "BoxUsage:m5.large", USD: 0.5}},
		EBS:    []pricing.EBSPrice{{Region: "us-east-1", VolumeType: "gp2", UsageType: "EBS:VolumeUsage.gp2", GBMonth: 0.5}},
		RDS:    []pricing.RDSPrice{{Region: "eu-west-1", InstanceClass: "db.m5.large", Engine: "postgres", UsageType: "EU-InstanceUsage:db.m5.large", USD: 0.9}},
		EIP:    []pricing.EIPPrice{{Region: "us-east-1", UsageType: "USE1-PublicIPv4:IdleAddress", USDPerHour: 0.5}},
		Lambda: []pricing.LambdaPrice{{Region: "eu-west-1", Architecture: pricing.ArchARM, DurationUsageType: "EU-Lambda-GB-Second-ARM", USDPerGBSecond: 0.1, RequestUsageType: "EU-Request-ARM", USDPerRequest: 0.1}}})
	if err != nil {
		t.Fatal(err)
	}
	m5 := &sirsiv1.Resource{Type: validation.ResourceEC2Instance, Region: "us-east-1", Size: "m5.large", State: "running"}
	e := NewEstimator(stale)
	var logs syncBuffer
	e.Logger = bufferLogger(&logs)
	if usd, err := e.MonthlyCost(m5); err != nil || usd != 365 {
		t.Fatalf("stale estimate %v, want 0.5 × 730", usd)
	}

	// A failing Pricing API leaves the catalogue as it was.
	failCfg, _ := loadConfig(t, url, awsclient.Options{MaxAttempts: 1})
	if err := sim.SetFaults(awssim.FaultConfig{ServerErrorRatio: 1, Services: []string{"pricing"}}); err != nil {
		t.Fatal(err)
	}
	err = e.Refresh(context.Background(), failCfg, func(string) aws.Config { return failCfg }, []string{"us-east-1"}, []string{"m5.large"})
	if err == nil || !strings.Contains(err.Error(), "GetProducts") {
		t.Errorf("refresh against a failing Pricing API: %v, want a GetProducts error", err)
	}
	if usd, err := e.MonthlyCost(m5); err != nil || usd != 365 {
		t.Errorf("estimate after a failed refresh %v, want the old 365", usd)
	}
	if !strings.Contains(logs.String(), "keeping the current price catalogue") {
		t.Errorf("the failure was not logged:\n%s", logs.String())
	}

	sim.ClearFaults()
	cfg, counted := loadConfig(t, url, awsclient.Options{})
	if err := e.Refresh(context.Background(), cfg, func(string) aws.Config { return cfg }, []string{"us-east-1", "eu-west-1"}, []string{"m5.large", "c5.xlarge", "m5.large"}); err != nil {
		t.Fatal(err)
	}
	if usd, err := e.MonthlyCost(m5); err != nil || math.Abs(usd-70.08) > 1e-9 {
		t.Errorf("estimate after the refresh %v, want the simulator's 0.096 × 730", usd)
	}
	vol := &sirsiv1.Resource{Type: validation.ResourceEBSVolume, Region: "us-east-1", Size: "gp2:100"}
	if usd, err := e.MonthlyCost(vol); err != nil || math.Abs(usd-10) > 1e-9 {
		t.Errorf("gp2 100 GiB after the refresh %v (%v), want the simulator's 100 × 0.10, not the stale 0.5", usd, err)
	}
	// Five queries a region (instances, volumes, addresses, DB instances,
	// Lambda); a query whose answer runs over a page takes one more call.
	if counted.count("GetProducts") < 10 || counted.count("GetProducts") > 14 || counted.count("DescribeInstanceTypes") != 1 {
		t.Errorf("calls %v, want five GetProducts queries per region and one DescribeInstanceTypes", counted.ops)
	}
	// RDS, Elastic IP and Lambda prices come back to the simulator's
	// (the embedded snapshot's) through the Pricing API's JSON.
	want, got := embedded(t), e.Catalogue()
	if w, _ := want.RDSPrice("eu-west-1", "db.m5.large", "postgres"); func() bool {
		g, err := got.RDSPrice("eu-west-1", "db.m5.large", "postgres")
		return err != nil || g.USD != w.USD
	}() {
		t.Errorf("RDS db.m5.large postgres in eu-west-1 not refreshed to %v", w.USD)
	}
	if w, _ := want.EIPHourly("us-east-1"); func() bool { g, err := got.EIPHourly("us-east-1"); return err != nil || g != w }() {
		t.Errorf("Elastic IP in us-east-1 not refreshed to %v", w)
	}
	if w, _ := want.LambdaPrice("eu-west-1", pricing.ArchARM); func() bool {
		g, err := got.LambdaPrice("eu-west-1", pricing.ArchARM)
		return err != nil || g.USDPerGBSecond != w.USDPerGBSecond || g.USDPerRequest != w.USDPerRequest
	}() {
		t.Errorf("Lambda Arm in eu-west-1 not refreshed to %+v", w)
	}
	spec, ok := e.Catalogue().InstanceType("c5.xlarge")
	if !ok || spec.VCPU != 4 || spec.MemoryGiB != 8 || spec.Architecture != pricing.ArchX86 {
		t.Errorf("c5.xlarge spec after the refresh %+v, want 4 vCPU, 8 GiB, x86_64", spec)
	}
}
