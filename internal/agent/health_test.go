package agent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
)

// TestSweepHealthFollowsTheSchedule moves an injected clock past a sweep's
// allowance (sweep_health_multiple runs of its schedule plus the jitter,
// from the last success or the start): /readyz's check and
// sirsi_agent_sweep_healthy turn unhealthy exactly then, name the sweep
// with its last error, and recover with the next success.
func TestSweepHealthFollowsTheSchedule(t *testing.T) {
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	now := start
	reg := prometheus.NewRegistry()
	a, err := New(Config{DataDir: t.TempDir(), Servers: []string{"127.0.0.1:1"}, Version: "test", AWS: awsclient.Options{Region: "us-east-1"},
		DiscoverySchedule: "@every 15m", UtilizationSchedule: "@every 1h", CostSchedule: "@every 6h", OptimizeSchedule: "@every 1m",
		Jitter: 30 * time.Second, Registerer: reg, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.spool.Close() })
	healthy := func(sweep string) float64 {
		return counter(t, reg, "sirsi_agent_sweep_healthy", map[string]string{"sweep": sweep})
	}
	// Optimize runs every minute; keep it succeeding so the other sweeps
	// are what the checks below are about.
	ok := func(sweep string) { a.recordSweep(sweep, now, nil) }

	if err := a.SweepsHealthy(context.Background()); err != nil {
		t.Fatalf("at start: %v", err)
	}
	// Three runs of 15m plus 30s of jitter after the start: still healthy
	// at the last instant, late one second later.
	now = start.Add(45*time.Minute + 30*time.Second)
	ok(sweepOptimize)
	if err := a.SweepsHealthy(context.Background()); err != nil || healthy(sweepDiscovery) != 1 {
		t.Fatalf("at the end of the allowance: %v, gauge %v", err, healthy(sweepDiscovery))
	}
	a.recordSweep(sweepDiscovery, now, errors.New("DescribeInstances: throttled"))
	now = now.Add(time.Second)
	ok(sweepOptimize)
	err = a.SweepsHealthy(context.Background())
	if err == nil || healthy(sweepDiscovery) != 0 {
		t.Fatalf("past the allowance without a success: %v, gauge %v", err, healthy(sweepDiscovery))
	}
	for _, want := range []string{"discovery sweep", "no success since the agent started", "DescribeInstances: throttled", "3 runs of \"@every 15m\""} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("unready reason %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "utilization") || healthy(sweepUtilization) != 1 || healthy(sweepCosts) != 1 {
		t.Errorf("sweeps on longer schedules are late too: %v", err)
	}

	// A success restarts the allowance from itself.
	ok(sweepDiscovery)
	success := now
	if err := a.SweepsHealthy(context.Background()); err != nil || healthy(sweepDiscovery) != 1 {
		t.Fatalf("after a success: %v, gauge %v", err, healthy(sweepDiscovery))
	}
	now = success.Add(45*time.Minute + 31*time.Second)
	ok(sweepOptimize)
	if err := a.SweepsHealthy(context.Background()); err == nil || !strings.Contains(err.Error(), "last success at "+success.Format(time.RFC3339)) {
		t.Errorf("late again after its last success: %v", err)
	}

	// Optimize, left alone, is late after three minutes and a half.
	now = now.Add(3*time.Minute + 31*time.Second)
	ok(sweepDiscovery)
	if healthy(sweepOptimize) != 0 || healthy(sweepDiscovery) != 1 {
		t.Errorf("optimize gauge %v, discovery gauge %v; want 0 and 1", healthy(sweepOptimize), healthy(sweepDiscovery))
	}
}

// TestSweepHealthMultipleIsBounded: the setting outside 1..100 is refused
// with its name.
func TestSweepHealthMultipleIsBounded(t *testing.T) {
	for _, n := range []int{-1, 101} {
		c := Config{DataDir: "d", Servers: []string{"h:1"}, SweepHealthMultiple: n}
		c.defaults()
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), "sweep_health_multiple") {
			t.Errorf("sweep_health_multiple %d: %v", n, err)
		}
	}
}
