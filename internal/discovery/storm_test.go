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
