package monitor

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

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
	for _, c := range []struct {
		name string
		r    *sirsiv1.Resource
		usd  float64
		ok   bool
	}{
		{"m5.large running: 0.096 × 730", res(validation.ResourceEC2Instance, "us-east-1", "m5.large", "running", nil), 70.08, true},
		{"instance type from attributes", res(validation.ResourceEC2Instance, "us-east-1", "", "pending", map[string]string{"instance_type": "c5.xlarge"}), 0.17 * 730, true},
		{"stopped instance", res(validation.ResourceEC2Instance, "us-east-1", "m5.large", "stopped", nil), 0, true},
		{"unknown instance type", res(validation.ResourceEC2Instance, "us-east-1", "z9.huge", "running", nil), 0, false},
		{"unknown region", res(validation.ResourceEC2Instance, "mars-1", "m5.large", "running", nil), 0, false},
		{"gp3 100 GiB at baseline: 100 × 0.08", res(validation.ResourceEBSVolume, "us-east-1", "", "in-use",
			map[string]string{"volume_type": "gp3", "size_gib": "100", "iops": "3000", "throughput": "125"}), 8, true},
		{"gp3 above baseline: 8 + 1000 × 0.005 + 125 × 0.04", res(validation.ResourceEBSVolume, "us-east-1", "", "in-use",
			map[string]string{"volume_type": "gp3", "size_gib": "100", "iops": "4000", "throughput": "250"}), 18, true},
		{"gp2 50 GiB: 50 × 0.10", res(validation.ResourceEBSVolume, "us-east-1", "", "available",
			map[string]string{"volume_type": "gp2", "size_gib": "50"}), 5, true},
		{"volume with a bad size", res(validation.ResourceEBSVolume, "us-east-1", "", "available",
			map[string]string{"volume_type": "gp2", "size_gib": "-5"}), 0, false},
		{"snapshot 100 GiB: 100 × 0.05", res(validation.ResourceEBSSnapshot, "us-east-1", "", "completed", map[string]string{"size_gib": "100"}), 5, true},
		{"snapshot in Frankfurt: 100 × 0.054", res(validation.ResourceEBSSnapshot, "eu-central-1", "", "completed", map[string]string{"size_gib": "100"}), 5.4, true},
		{"snapshot without size", res(validation.ResourceEBSSnapshot, "us-east-1", "", "completed", nil), 0, false},
		{"idle Elastic IP: 0.005 × 730", res(validation.ResourceEIP, "us-east-1", "", "", nil), 3.65, true},
		{"associated Elastic IP", res(validation.ResourceEIP, "us-east-1", "", "", map[string]string{"association_id": "eipassoc-1"}), 0, true},
		{"db.m5.large MySQL: 0.171 × 730", res(validation.ResourceRDSInstance, "us-east-1", "db.m5.large", "available", map[string]string{"engine": "mysql"}), 124.83, true},
		{"db.m5.large PostgreSQL Multi-AZ: 2 × 0.178 × 730", res(validation.ResourceRDSInstance, "us-east-1", "db.m5.large", "available",
			map[string]string{"engine": "postgres", "multi_az": "true"}), 259.88, true},
		{"stopped DB", res(validation.ResourceRDSInstance, "us-east-1", "db.m5.large", "stopped", map[string]string{"engine": "mysql"}), 0, true},
		{"DB engine not priced", res(validation.ResourceRDSInstance, "us-east-1", "db.m5.large", "available", map[string]string{"engine": "oracle-ee"}), 0, false},
		{"Lambda is usage-priced", res(validation.ResourceLambdaFunction, "us-east-1", "1024", "Active", nil), 0, true},
		{"S3 is not estimated", res(validation.ResourceS3Bucket, "us-east-1", "", "", nil), 0, false},
	} {
		usd, ok := e.MonthlyCost(c.r)
		if ok != c.ok || math.Abs(usd-c.usd) > 1e-9 {
			t.Errorf("%s: %v, %v; want %v, %v", c.name, usd, ok, c.usd, c.ok)
		}
	}
}

func TestRefreshOverlaysTheSimulatorsPrices(t *testing.T) {
	sim, url := startSim(t, awssim.Options{Throttle: awssim.ThrottleOptions{Disabled: true}})
	// Start from a catalogue whose m5.large price differs from the
	// simulator's price list (which serves the embedded snapshot: 0.096).
	stale, err := embedded(t).Merge(pricing.Overrides{EC2: []pricing.EC2Price{{Region: "us-east-1", InstanceType: "m5.large", UsageType: "BoxUsage:m5.large", USD: 0.5}}})
	if err != nil {
		t.Fatal(err)
	}
	m5 := &sirsiv1.Resource{Type: validation.ResourceEC2Instance, Region: "us-east-1", Size: "m5.large", State: "running"}
	e := NewEstimator(stale)
	var logs syncBuffer
	e.Logger = bufferLogger(&logs)
	if usd, _ := e.MonthlyCost(m5); usd != 365 {
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
	if usd, _ := e.MonthlyCost(m5); usd != 365 {
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
	if usd, _ := e.MonthlyCost(m5); math.Abs(usd-70.08) > 1e-9 {
		t.Errorf("estimate after the refresh %v, want the simulator's 0.096 × 730", usd)
	}
	if counted.count("GetProducts") != 2 || counted.count("DescribeInstanceTypes") != 1 {
		t.Errorf("calls %v, want one GetProducts per region and one DescribeInstanceTypes", counted.ops)
	}
	spec, ok := e.Catalogue().InstanceType("c5.xlarge")
	if !ok || spec.VCPU != 4 || spec.MemoryGiB != 8 || spec.Architecture != pricing.ArchX86 {
		t.Errorf("c5.xlarge spec after the refresh %+v, want 4 vCPU, 8 GiB, x86_64", spec)
	}
}
