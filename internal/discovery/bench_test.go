package discovery

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsquota"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

var benchRegions = []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1"}

// pages is how many calls a paginated listing of n items takes.
func pages(n, size int) int { return max(1, (n+size-1)/size) }

// quotaBound is the least time AWS's buckets allow for a sweep of the
// fleet: per region and bucket, the calls beyond the bucket's capacity at
// its refill rate. Buckets refill independently and regions run in
// parallel, so the bound is the largest of these; it also returns the
// calls the sweep must make and the bound under the limiter's own buckets
// (awsclient keeps 10% headroom below AWS's figures).
func quotaBound(count map[string]map[string]int, home string) (bound, limiterBound time.Duration, calls int) {
	totalBuckets := 0
	for _, c := range count {
		totalBuckets += c["bucket"]
	}
	for _, region := range benchRegions {
		c := count[region]
		s3Calls := c["bucket"] // GetBucketTagging
		if region == home {
			s3Calls += 1 + totalBuckets // ListBuckets, GetBucketLocation
		}
		for _, use := range []struct {
			b     awsquota.Bucket
			calls int
		}{
			// DescribeInstances, DescribeVolumes, DescribeSnapshots (none
			// exist: one call) and DescribeAddresses share one bucket.
			{awsquota.EC2NonMutating, pages(c["instance"], ec2PageSize) + pages(c["volume"], volumePageSize) + 1 + 1},
			{awsquota.Default, pages(c["db-instance"], rdsPageSize)},
			{awsquota.Lambda("ListFunctions"), pages(c["function"], lambdaPageSize)},
			{awsquota.Lambda("GetFunction"), c["function"]},
			{awsquota.S3("GetBucketTagging"), s3Calls},
		} {
			calls += use.calls
			over := float64(use.calls) - use.b.Capacity
			bound = max(bound, time.Duration(max(0, over)/use.b.Refill*float64(time.Second)))
			limCap := float64(int(use.b.Capacity * awsclient.Headroom))
			limOver := float64(use.calls) - limCap
			limiterBound = max(limiterBound, time.Duration(max(0, limOver)/(use.b.Refill*awsclient.Headroom)*float64(time.Second)))
		}
	}
	return bound, limiterBound, calls
}

func countManifest(mans ...awssim.FleetManifest) map[string]map[string]int {
	count := map[string]map[string]int{}
	for _, m := range mans {
		for _, r := range m.Resources {
			if count[r.Region] == nil {
				count[r.Region] = map[string]int{}
			}
			count[r.Region][r.Kind]++
		}
	}
	return count
}

// BenchmarkDiscovery20k sweeps 20,000 resources in four regions against a
// simulator enforcing AWS's quotas at scale 1, with the limiter at scale
// 1: 16,000 EC2 resources (instances, volumes, addresses) seeded in
// process, 4,000 RDS instances, buckets and functions created through the
// API (DefaultFleetMix proportions).
func BenchmarkDiscovery20k(b *testing.B) {
	sim, url := startSim(b, awssim.Options{Seed: 1, Regions: benchRegions, Throttle: awssim.ThrottleOptions{Disabled: true}})
	ec2Man, err := sim.SeedFleet(awssim.DefaultAccountID, awssim.FleetSpec{N: 16_000, Regions: benchRegions, Seed: 1,
		Mix: awssim.FleetMix{Instances: 50, Volumes: 20, Addresses: 10}})
	if err != nil {
		b.Fatal(err)
	}
	seedStart := time.Now()
	otherMan, err := awssim.GenerateFleet(context.Background(), awsConfig(b, url, awsclient.Options{}), awssim.FleetSpec{N: 4_000,
		Regions: benchRegions, Seed: 2, Mix: awssim.FleetMix{DBInstances: 10, Buckets: 5, Functions: 5}})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("GenerateFleet created %d RDS instances, buckets and functions in %v", len(otherMan.Resources), time.Since(seedStart))
	bound, limiterBound, calls := quotaBound(countManifest(ec2Man, otherMan), "us-east-1")
	b.ResetTimer()
	var took time.Duration
	for range b.N {
		b.StopTimer()
		// Every sweep starts from full buckets on both sides, as an agent
		// whose last sweep was minutes ago does.
		if err := sim.SetThrottle(awssim.ThrottleOptions{}); err != nil {
			b.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		m, err := awsclient.NewMetrics(reg)
		if err != nil {
			b.Fatal(err)
		}
		lim, err := awsclient.NewLimiter(1, m)
		if err != nil {
			b.Fatal(err)
		}
		d := newDiscoverer(b, Options{Config: awsConfig(b, url, awsclient.Options{Limiter: lim, Metrics: m}), Regions: benchRegions})
		// The seeding's garbage is not the sweep's to collect.
		runtime.GC()
		b.StartTimer()
		start := time.Now()
		snap, err := d.Sweep(context.Background())
		took += time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Incomplete) > 0 {
			b.Fatalf("incomplete: %v", snap.Incomplete)
		}
		if want := len(ec2Man.Resources) + len(otherMan.Resources); len(snap.Resources) != want {
			b.Fatalf("%d resources found, want %d", len(snap.Resources), want)
		}
		if th := sumCounter(b, reg, "sirsi_agent_aws_throttles_total"); th != 0 {
			b.Logf("%v attempts throttled by the simulator", th)
		}
		if got := sumCounter(b, reg, "sirsi_agent_aws_requests_total"); int(got) != calls {
			b.Logf("%v attempts made, %d calls expected", got, calls)
		}
		b.StartTimer()
	}
	sec := took.Seconds() / float64(b.N)
	b.ReportMetric(sec, "sweep_s")
	b.ReportMetric(bound.Seconds(), "bound_s")
	b.ReportMetric(limiterBound.Seconds(), "limiter_bound_s")
	b.ReportMetric(sec/bound.Seconds(), "ratio")
	b.ReportMetric(sec/limiterBound.Seconds(), "ratio_to_limiter_bound")
	b.ReportMetric(float64(calls), "calls")
}

// BenchmarkDiscovery50kRSS measures the heap a 50,000-resource inventory
// holds: heap in use after GC with the sweep's snapshot alive, minus the
// same before the sweep (the simulator's own state lives in this process
// too).
func BenchmarkDiscovery50kRSS(b *testing.B) {
	sim, url := startSim(b, awssim.Options{Seed: 1, Regions: benchRegions})
	man, err := sim.SeedFleet(awssim.DefaultAccountID, awssim.FleetSpec{N: 50_000, Regions: benchRegions, Seed: 3,
		Mix: awssim.FleetMix{Instances: 50, Volumes: 20, Addresses: 10}})
	if err != nil {
		b.Fatal(err)
	}
	cfg := awsConfig(b, url, awsclient.Options{})
	types := []string{validation.ResourceEC2Instance, validation.ResourceEBSVolume, validation.ResourceEBSSnapshot, validation.ResourceEIP}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		d := newDiscoverer(b, Options{Config: cfg, Regions: benchRegions, Types: types})
		before := heapInUse()
		b.StartTimer()
		snap, err := d.Sweep(context.Background())
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		after := heapInUse()
		if len(snap.Resources) != len(man.Resources) {
			b.Fatalf("%d resources found, want %d", len(snap.Resources), len(man.Resources))
		}
		b.ReportMetric(float64(after)/(1<<20), "heap_inuse_MB")
		b.ReportMetric(float64(after-before)/(1<<20), "snapshot_MB")
		b.ReportMetric(float64(after-before)/float64(len(snap.Resources)), "B/resource")
		runtime.KeepAlive(snap)
		b.StartTimer()
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func sumCounter(b testing.TB, g prometheus.Gatherer, name string) float64 {
	b.Helper()
	mfs, err := g.Gather()
	if err != nil {
		b.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}
