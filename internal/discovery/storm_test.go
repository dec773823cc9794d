package discovery

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
)

// TestThrottlingStorm: under a storm of throttles and 5xx answers, with
// the limiter on and the default (adaptive) retry mode, a sweep still
// completes with exactly the calm sweep's inventory.
func TestThrottlingStorm(t *testing.T) {
	regions := []string{"us-east-1", "eu-west-1"}
	sim, url := startSim(t, awssim.Options{Seed: 9, Regions: regions})
	ctx := context.Background()
	man, err := awssim.GenerateFleet(ctx, awsConfig(t, url, awsclient.Options{}), awssim.FleetSpec{N: 14, Regions: regions, Seed: 13,
		PollInterval: 10 * time.Millisecond, Mix: awssim.FleetMix{Instances: 3, Volumes: 3, Addresses: 2, DBInstances: 2, Buckets: 2, Functions: 2}})
	if err != nil {
		t.Fatal(err)
	}
	calm, err := newDiscoverer(t, Options{Config: awsConfig(t, url, awsclient.Options{}), Regions: regions}).Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(calm.Resources) != len(man.Resources)+man.Count("instance") {
		t.Fatalf("calm sweep: %d resources, want %d", len(calm.Resources), len(man.Resources)+man.Count("instance"))
	}

	if err := sim.SetFaults(awssim.FaultConfig{ThrottleRatio: 0.3, ServerErrorRatio: 0.05}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	metrics, err := awsclient.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	limiter, err := awsclient.NewLimiter(1, metrics)
	if err != nil {
		t.Fatal(err)
	}
	cfg := awsConfig(t, url, awsclient.Options{Limiter: limiter, Metrics: metrics})
	start := time.Now()
	stormy, err := newDiscoverer(t, Options{Config: cfg, Regions: regions}).Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sweep under the storm took %v", time.Since(start))
	if len(stormy.Incomplete) > 0 {
		t.Fatalf("incomplete units under the storm: %v", stormy.Incomplete)
	}
	if !slices.EqualFunc(calm.Resources, stormy.Resources, func(a, b *sirsiv1.Resource) bool {
		a, b = proto.Clone(a).(*sirsiv1.Resource), proto.Clone(b).(*sirsiv1.Resource)
		a.FirstSeenTime, a.LastSeenTime, b.FirstSeenTime, b.LastSeenTime = nil, nil, nil, nil
		return proto.Equal(a, b)
	}) {
		t.Fatalf("the storm changed the inventory:\ncalm:   %v\nstormy: %v", calm.Resources, stormy.Resources)
	}
	if !Diff(calm, stormy).Empty() {
		t.Fatal("Diff(calm, stormy) is not empty")
	}
	if n := sumCounter(t, reg, "sirsi_agent_aws_throttles_total"); n == 0 {
		t.Fatal("no call was throttled: the storm did not happen")
	} else {
		t.Logf("%v throttled attempts retried", n)
	}
}

// TestCollectorRetriesThrottles: with the SDK's retries off every throttle
// reaches the collectors, which must retry the page themselves; a 5xx
// there is not a throttle and must make its unit incomplete instead.
func TestCollectorRetriesThrottles(t *testing.T) {
	regions := []string{"us-east-1", "eu-west-1"}
	sim, url := startSim(t, awssim.Options{Seed: 4, Regions: regions})
	ctx := context.Background()
	if _, err := awssim.GenerateFleet(ctx, awsConfig(t, url, awsclient.Options{}), awssim.FleetSpec{N: 10, Regions: regions, Seed: 17,
		PollInterval: 10 * time.Millisecond, Mix: awssim.FleetMix{Instances: 2, Volumes: 2, Addresses: 2, DBInstances: 1, Buckets: 2, Functions: 1}}); err != nil {
		t.Fatal(err)
	}
	cfg := awsConfig(t, url, awsclient.Options{MaxAttempts: 1})
	calm, err := newDiscoverer(t, Options{Config: cfg, Regions: regions}).Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.SetFaults(awssim.FaultConfig{ThrottleRatio: 0.3}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	metrics, err := awsclient.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	throttledCfg := awsConfig(t, url, awsclient.Options{MaxAttempts: 1, Metrics: metrics})
	stormy, err := newDiscoverer(t, Options{Config: throttledCfg, Regions: regions}).Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stormy.Incomplete) > 0 || !Diff(calm, stormy).Empty() || len(stormy.Resources) != len(calm.Resources) {
		t.Fatalf("with throttles left to the collectors: incomplete %v, delta %+v", stormy.Incomplete, Diff(calm, stormy))
	}
	if sumCounter(t, reg, "sirsi_agent_aws_throttles_total") == 0 {
		t.Fatal("nothing was throttled: the collectors' retry was not exercised")
	}

	if err := sim.SetFaults(awssim.FaultConfig{ServerErrorRatio: 1, Services: []string{"rds"}}); err != nil {
		t.Fatal(err)
	}
	failed, err := newDiscoverer(t, Options{Config: cfg, Regions: regions}).Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var units []string
	for _, u := range failed.Incomplete {
		units = append(units, u.Type+"/"+u.Region)
	}
	if want := []string{"aws_rds_instance/eu-west-1", "aws_rds_instance/us-east-1"}; !slices.Equal(units, want) {
		t.Fatalf("incomplete units %v, want %v", units, want)
	}
}
