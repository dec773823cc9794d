package processtest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
)

// BenchmarkAgentRSS50k runs `agentd agent` as its own process against a
// simulated account of 50,000 resources and reads the kernel's figures for
// it once its discovery and utilisation sweeps are done: peak resident set
// (VmHWM) and resident set then (VmRSS). The simulator and control plane
// live in the benchmark process, not in the agent's.
func BenchmarkAgentRSS50k(b *testing.B) {
	w := newWorld(b, awssim.FleetSpec{N: 50_000, Seed: 3, Mix: awssim.FleetMix{Instances: 50, Volumes: 20, Addresses: 10}}, "sqlite")
	for range b.N {
		dir := b.TempDir()
		p := start(b, w.agentArgs(dir, w.enrollmentToken(b))...)
		waitUntil(b, "the discovery sweep", 10*time.Minute, p, func() bool { return p.logged("sweep done", "discovery") })
		waitUntil(b, "the utilisation sweep", 10*time.Minute, p, func() bool { return p.logged("sweep done", "utilization") })
		pid := p.cmd.Process.Pid
		hwm, err := procStatusKB(pid, "VmHWM")
		if err != nil {
			b.Fatal(err)
		}
		rss, err := procStatusKB(pid, "VmRSS")
		if err != nil {
			b.Fatal(err)
		}
		anon, err := procStatusKB(pid, "RssAnon")
		if err != nil {
			b.Fatal(err)
		}
		file, err := procStatusKB(pid, "RssFile")
		if err != nil {
			b.Fatal(err)
		}
		p.kill()
		// The sweeps' own durations separate the agent's time from the
		// benchmark's setup (seeding, building) in ns/op.
		b.ReportMetric(p.sweepSeconds(b, "discovery"), "discovery_s")
		b.ReportMetric(p.sweepSeconds(b, "utilization"), "utilization_s")
		b.ReportMetric(float64(anon)/1024, "anon_MB")
		b.ReportMetric(float64(file)/1024, "file_MB")
		b.ReportMetric(float64(hwm)/1024, "peak_RSS_MB")
		b.ReportMetric(float64(rss)/1024, "RSS_MB")
	}
}

// sweepSeconds is the duration the "sweep done" line of a sweep reports.
func (p *proc) sweepSeconds(tb testing.TB, sweep string) float64 {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.logs {
		if l["@message"] != "sweep done" || !strings.HasSuffix(fmt.Sprint(l["@module"]), sweep) {
			continue
		}
		// hclog's JSON writes a time.Duration as its nanoseconds.
		ns, ok := l["duration"].(float64)
		if !ok {
			tb.Fatalf("the %s sweep's duration is %v, not a number of nanoseconds", sweep, l["duration"])
		}
		return time.Duration(ns).Seconds()
	}
	tb.Fatalf("no %s sweep logged its end", sweep)
	return 0
}
