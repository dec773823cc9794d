package awssim

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// BenchmarkDescribeInstancesPage1000 measures DescribeInstances pages of
// 1000 instances served to the real SDK client over loopback, throttling
// off, from a 20,000-instance region. AWS allows one account-region 20
// non-mutating calls/s sustained (bucket 100); the goal is >= 10x that.
func BenchmarkDescribeInstancesPage1000(b *testing.B) {
	ts := startSim(b, Options{})
	if _, err := ts.SeedFleet(DefaultAccountID, FleetSpec{N: 20000, Regions: []string{"us-east-1"}, Seed: 1, Mix: FleetMix{Instances: 1}}); err != nil {
		b.Fatal(err)
	}
	c := ec2Client(ts, "us-east-1")
	ctx := context.Background()
	var token *string
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1000), NextToken: token})
		if err != nil {
			b.Fatal(err)
		}
		if n := len(instanceIDs(out)); n != 1000 {
			b.Fatalf("page of %d instances", n)
		}
		token = out.NextToken
	}
	elapsed := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/elapsed, "pages/s")
	b.ReportMetric(float64(b.N)*1000/elapsed, "instances/s")
}

// BenchmarkServeDescribeInstancesPage1000 is the simulator's side alone: the
// handler answers 1000-instance pages into in-memory recorders, without the
// SDK's decoding, which dominates the end-to-end figure above. A server
// answers its clients concurrently, so as many callers as CPUs ask at once
// (the agent fans out its calls); AWS allows one account-region 20
// non-mutating calls/s sustained, and the goal is >= 10x that.
func BenchmarkServeDescribeInstancesPage1000(b *testing.B) {
	sim, err := New(Options{Clock: NewManualClock(testStart), Throttle: ThrottleOptions{Disabled: true}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sim.SeedFleet(DefaultAccountID, FleetSpec{N: 20000, Regions: []string{"us-east-1"}, Seed: 1, Mix: FleetMix{Instances: 1}}); err != nil {
		b.Fatal(err)
	}
	h := sim.Handler()
	// One page checked in full, or the benchmark could measure an error.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, coreSignedRequest("ec2", "Action=DescribeInstances&Version=2016-11-15&MaxResults=1000"))
	if n := strings.Count(w.Body.String(), "<instanceId>"); w.Code != 200 || n != 1000 {
		b.Fatalf("status %d, page of %d instances", w.Code, n)
	}
	b.ResetTimer()
	cpuBefore := processCPU(b)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, coreSignedRequest("ec2", "Action=DescribeInstances&Version=2016-11-15&MaxResults=1000"))
			if w.Code != 200 {
				b.Errorf("status %d: %s", w.Code, w.Body)
				return
			}
		}
	})
	pages := float64(b.N) / time.Since(start).Seconds()
	cpuMS := (processCPU(b) - cpuBefore).Seconds() * 1000 / float64(b.N)
	b.ReportMetric(cpuMS, "cpu-ms/page")
	b.ReportMetric(1000/cpuMS, "pages/s/core")
	b.ReportMetric(pages, "pages/s")
	b.ReportMetric(pages/20, "x-AWS-quota")
}
