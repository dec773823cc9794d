package monitor

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// BenchmarkUtilizationSweep100k sweeps 100,002 series (33,334 instances ×
// 3 metrics) in one region against the simulator enforcing CloudWatch's
// 50 TPS GetMetricData quota, with the agent's limiter on, and compares the
// time with the quota's lower bound: the first 50 calls ride the full
// bucket, every further one waits 1/50 s. The sweep also sends one
// coverage query per instance, so it makes ceil(133,336 / 500) = 267 calls.
//
// The simulator computes every datapoint from its profiles, which on this
// machine takes longer than the quota allows; a first sweep with throttling
// off fills its answer cache (the window lies in the past, so answers are
// memoised) and its time is printed as the cold figure. The measured sweep
// then runs with the quota enforced from full buckets.
func BenchmarkUtilizationSweep100k(b *testing.B) {
	const instances = 33_334
	sim, url := startSim(b, awssim.Options{Seed: 1, Backfill: 3 * 24 * time.Hour, Throttle: awssim.ThrottleOptions{Disabled: true}})
	man, err := sim.SeedFleet(sim.AccountID(), awssim.FleetSpec{N: instances, Regions: []string{"us-east-1"}, Seed: 1, Mix: awssim.FleetMix{Instances: 1}})
	if err != nil {
		b.Fatal(err)
	}
	series := make([]Series, 0, 3*instances)
	for _, r := range man.Resources {
		series = append(series,
			Series{validation.ResourceEC2Instance, r.ID, r.Region, "cpu_utilization", "p95"},
			Series{validation.ResourceEC2Instance, r.ID, r.Region, "network_in_bytes", "Average"},
			Series{validation.ResourceEC2Instance, r.ID, r.Region, "network_out_bytes", "Maximum"})
	}
	lookback := 24 * time.Hour
	end := sim.Now().Add(-10 * time.Minute)

	warmCfg, _ := loadConfig(b, url, awsclient.Options{})
	started := time.Now()
	if _, err := newUtil(b, warmCfg, nil).Sweep(context.Background(), series, lookback, end); err != nil {
		b.Fatal(err)
	}
	cold := time.Since(started)

	reg := prometheus.NewRegistry()
	m, err := awsclient.NewMetrics(reg)
	if err != nil {
		b.Fatal(err)
	}
	var (
		elapsed time.Duration
		calls   int
	)
	for b.Loop() {
		b.StopTimer()
		// Full buckets on both sides for every run.
		if err := sim.SetThrottle(awssim.ThrottleOptions{Scale: 1}); err != nil {
			b.Fatal(err)
		}
		lim, err := awsclient.NewLimiter(1, m)
		if err != nil {
			b.Fatal(err)
		}
		cfg, counted := loadConfig(b, url, awsclient.Options{Limiter: lim, Metrics: m})
		u := newUtil(b, cfg, nil)
		b.StartTimer()
		started := time.Now()
		out, err := u.Sweep(context.Background(), series, lookback, end)
		elapsed += time.Since(started)
		if err != nil {
			b.Fatal(err)
		}
		if len(out) != len(series) {
			b.Fatalf("%d summaries for %d series", len(out), len(series))
		}
		calls += counted.count("GetMetricData")
	}
	runs := float64(b.N)
	perSweep := float64(calls) / runs
	measured := elapsed.Seconds() / runs
	bound := (perSweep - 50) / 50
	throttled := counterValue(b, reg, "sirsi_agent_aws_throttles_total") / runs
	b.ReportMetric(measured, "s/sweep")
	b.ReportMetric(perSweep, "calls/sweep")
	b.ReportMetric(measured/bound, "x-quota-bound")
	fmt.Printf("series=%d calls=%.0f measured=%.2fs quota-bound=(%.0f-50)/50=%.2fs ratio=%.3fx throttled=%.0f cold(unthrottled, simulator computing)=%.2fs\n",
		len(series), perSweep, measured, perSweep, bound, measured/bound, throttled, cold.Seconds())
}
