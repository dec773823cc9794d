package awssim

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// Lambda Insights memory_utilization comes back through GetMetricData
// under its own namespace and function_name dimension, one point a
// minute, 20 % plus half the profile's load.
func TestCloudWatchLambdaInsightsMemory(t *testing.T) {
	h := newHarness(t, 0)
	start := harnessEpoch.Add(-48 * time.Hour)
	h.sim.mu.Lock()
	h.sim.recordEvent(Event{Account: h.sim.AccountID(), Region: "us-east-1", Service: "lambda", ResourceType: "function",
		ResourceID: "arn:aws:lambda:us-east-1:" + h.sim.AccountID() + ":function:resize-me", Type: "1024",
		Profile: ProfileOverProvisioned, Time: start, Kind: EventCreated, State: "Active"})
	h.sim.mu.Unlock()
	q := func(id, ns, dim, stat string, period int32) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: aws.String(id), MetricStat: metricStat(ns, "memory_utilization", stat, period, dim, "resize-me")}
	}
	out, err := cwClient(h).GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(start), EndTime: aws.Time(harnessEpoch), ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{
			q("raw", "LambdaInsights", "function_name", "Average", 60),
			q("peak", "LambdaInsights", "function_name", "Maximum", 48*3600),
			q("count", "LambdaInsights", "function_name", "SampleCount", 48*3600),
			q("wrongns", "AWS/Lambda", "FunctionName", "Maximum", 48*3600),
		},
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	h.checkLast(t, "cloudwatch", "GetMetricData")
	res := map[string]cwtypes.MetricDataResult{}
	for _, r := range out.MetricDataResults {
		res[aws.ToString(r.Id)] = r
	}
	if c := res["count"]; len(c.Values) != 1 || c.Values[0] != 48*60 {
		t.Fatalf("SampleCount over 48 h = %v, want [2880] (one point a minute)", c.Values)
	}
	raw := res["raw"]
	if len(raw.Values) != 48*60 {
		t.Fatalf("%d raw points, want 2880", len(raw.Values))
	}
	seed := resourceSeed(7, "arn:aws:lambda:us-east-1:"+h.sim.AccountID()+":function:resize-me")
	peak := 0.0
	for i, v := range raw.Values {
		want := math.Round(100*(20+0.5*ProfileOverProvisioned.CPUAt(seed, raw.Timestamps[i]))) / 100
		if v != want {
			t.Fatalf("point at %v = %v, want 20 + 0.5 × load = %v", raw.Timestamps[i], v, want)
		}
		peak = max(peak, v)
	}
	if p := res["peak"]; len(p.Values) != 1 || p.Values[0] != peak || peak < 20 || peak > 70 {
		t.Errorf("Maximum = %v, want [%v] within 20-70 %%", p.Values, peak)
	}
	if v := res["wrongns"].Values; len(v) != 0 {
		t.Errorf("AWS/Lambda memory_utilization: %d points; the metric is only in LambdaInsights", len(v))
	}
}
