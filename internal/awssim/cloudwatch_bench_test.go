package awssim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// BenchmarkGetMetricData500 measures GetMetricData calls of 500 queries
// served over loopback HTTP, throttling off: 500 instances with 14 days of
// history, each asked for its daily p95 or average CPU over the 14 days
// (what the agent asks for a right-sizing decision). AWS's quota allows one
// account-region 50 such calls per second; the goal is >= 10x that.
func BenchmarkGetMetricData500(b *testing.B) {
	clock := NewManualClock(harnessEpoch)
	sim, err := New(Options{Seed: 3, Clock: clock, Throttle: ThrottleOptions{Disabled: true}})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	start := harnessEpoch.Add(-14 * 24 * time.Hour)
	queries := make([]any, 500)
	for i := range queries {
		id := fmt.Sprintf("i-%017x", i)
		addInstanceHistory(sim, id, Profiles[i%len(Profiles)], start, time.Time{})
		stat := "p95"
		if i%2 == 1 {
			stat = "Average"
		}
		queries[i] = map[string]any{"Id": fmt.Sprintf("q%d", i), "MetricStat": map[string]any{
			"Metric": map[string]any{"Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
				"Dimensions": []any{map[string]any{"Name": "InstanceId", "Value": id}}},
			"Period": 86400, "Stat": stat}}
	}
	body, err := cbor.Marshal(map[string]any{
		"StartTime":         cbor.Tag{Number: 1, Content: float64(start.Truncate(24 * time.Hour).Unix())},
		"EndTime":           cbor.Tag{Number: 1, Content: float64(harnessEpoch.Truncate(24 * time.Hour).Unix())},
		"MetricDataQueries": queries,
	})
	if err != nil {
		b.Fatal(err)
	}
	call := func() int {
		req := signedRequest(http.MethodPost, srv.URL+cwCBORPath+"GetMetricData", "monitoring", string(body))
		req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
		req.Header.Set("Content-Type", "application/cbor")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Error(err)
			return 0
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			b.Errorf("status %d: %s", resp.StatusCode, out)
		}
		return len(out)
	}
	// Every query must return its 14 daily points, or the benchmark
	// measures an empty answer.
	var check struct {
		MetricDataResults []struct{ Values []float64 }
	}
	req := signedRequest(http.MethodPost, srv.URL+cwCBORPath+"GetMetricData", "monitoring", string(body))
	req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := cbor.Unmarshal(raw, &check); err != nil || len(check.MetricDataResults) != 500 || len(check.MetricDataResults[0].Values) != 14 {
		b.Fatalf("unexpected answer (%v): %d results", err, len(check.MetricDataResults))
	}
	// The check above also warmed the day-block cache, as the agent's
	// first pass over a fleet does; what follows is the steady state, with
	// as many concurrent callers as CPUs (the agent fans out its calls).
	b.ResetTimer()
	cpuBefore := processCPU(b)
	began := time.Now()
	var bytesOut atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bytesOut.Add(int64(call()))
		}
	})
	secs := time.Since(began).Seconds()
	// CPU per call (server and the in-process client together) does not
	// depend on how busy the shared machine is, unlike calls/s: one core
	// serves about 1000/cpu-ms-per-call calls a second.
	cpuMS := (processCPU(b) - cpuBefore).Seconds() * 1000 / float64(b.N)
	b.ReportMetric(cpuMS, "cpu-ms/call")
	b.ReportMetric(1000/cpuMS, "calls/s/core")
	b.ReportMetric(float64(b.N)/secs, "calls/s")
	b.ReportMetric(float64(b.N)*500/secs, "queries/s")
	b.ReportMetric(float64(b.N)/secs/50, "x-AWS-quota")
	b.SetBytes(bytesOut.Load() / int64(max(b.N, 1)))
}

// processCPU is the user+system CPU time the test process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
