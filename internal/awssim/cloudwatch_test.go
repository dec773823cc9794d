package awssim

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/fxamacker/cbor/v2"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim/awstest"
)

func cwClient(h *harness) *cloudwatch.Client { return cloudwatch.NewFromConfig(h.cfg) }

func metricStat(ns, name, stat string, period int32, dims ...string) *cwtypes.MetricStat {
	m := &cwtypes.Metric{Namespace: aws.String(ns), MetricName: aws.String(name)}
	for i := 0; i+1 < len(dims); i += 2 {
		m.Dimensions = append(m.Dimensions, cwtypes.Dimension{Name: aws.String(dims[i]), Value: aws.String(dims[i+1])})
	}
	return &cwtypes.MetricStat{Metric: m, Stat: aws.String(stat), Period: aws.Int32(period)}
}

// putValues stores v[i] at base + i minutes through the SDK.
func putValues(t *testing.T, h *harness, ns, name string, base time.Time, vals []float64, dims ...string) {
	t.Helper()
	var data []cwtypes.MetricDatum
	for i, v := range vals {
		d := cwtypes.MetricDatum{MetricName: aws.String(name), Value: aws.Float64(v), Unit: cwtypes.StandardUnitCount,
			Timestamp: aws.Time(base.Add(time.Duration(i) * time.Minute))}
		for j := 0; j+1 < len(dims); j += 2 {
			d.Dimensions = append(d.Dimensions, cwtypes.Dimension{Name: aws.String(dims[j]), Value: aws.String(dims[j+1])})
		}
		data = append(data, d)
	}
	if _, err := cwClient(h).PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{Namespace: aws.String(ns), MetricData: data}); err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}
	h.checkLast(t, "cloudwatch", "PutMetricData")
}

func TestCloudWatchPutThenGetStatistics(t *testing.T) {
	h := newHarness(t, 0)
	base := harnessEpoch.Add(-2 * time.Hour)
	// Minutes 0..9 hold 1..10; minutes 10..19 hold 10, 20, ..., 100.
	vals := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	putValues(t, h, "Sim/Test", "Jobs", base, vals, "Queue", "q1")
	putValues(t, h, "Sim/Test", "Jobs", base, []float64{1000}, "Queue", "other")

	stats := []string{"Average", "Minimum", "Maximum", "Sum", "SampleCount", "p50", "p90", "p99.5"}
	var queries []cwtypes.MetricDataQuery
	for i, st := range stats {
		queries = append(queries, cwtypes.MetricDataQuery{Id: aws.String(fmt.Sprintf("q%d", i)),
			MetricStat: metricStat("Sim/Test", "Jobs", st, 600, "Queue", "q1")})
	}
	queries = append(queries, cwtypes.MetricDataQuery{Id: aws.String("whole"), Label: aws.String("all of it"),
		MetricStat: metricStat("Sim/Test", "Jobs", "Sum", 86400, "Queue", "q1")})
	out, err := cwClient(h).GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(base), EndTime: aws.Time(base.Add(20 * time.Minute)), MetricDataQueries: queries,
		ScanBy: cwtypes.ScanByTimestampAscending,
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	h.checkLast(t, "cloudwatch", "GetMetricData")
	ex, _ := h.rec.Last()
	if ex.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		t.Errorf("the SDK no longer speaks RPC v2 CBOR: Smithy-Protocol %q", ex.Header.Get("Smithy-Protocol"))
	}
	// Two 10-minute periods: 1..10 and 10..100.
	want := map[string][2]float64{
		"q0": {5.5, 55}, "q1": {1, 10}, "q2": {10, 100}, "q3": {55, 550}, "q4": {10, 10},
		"q5": {5, 50}, "q6": {9, 90}, "q7": {10, 100},
	}
	if len(out.MetricDataResults) != len(queries) {
		t.Fatalf("%d results, want %d", len(out.MetricDataResults), len(queries))
	}
	for _, r := range out.MetricDataResults {
		id := aws.ToString(r.Id)
		if r.StatusCode != cwtypes.StatusCodeComplete {
			t.Errorf("%s: status %s", id, r.StatusCode)
		}
		if id == "whole" {
			// A period longer than the window gives one point at StartTime.
			if len(r.Values) != 1 || r.Values[0] != 605 || !r.Timestamps[0].Equal(base) || aws.ToString(r.Label) != "all of it" {
				t.Errorf("whole window: %v at %v label %q; want [605] at %v", r.Values, r.Timestamps, aws.ToString(r.Label), base)
			}
			continue
		}
		w := want[id]
		if len(r.Values) != 2 || math.Abs(r.Values[0]-w[0]) > 1e-9 || math.Abs(r.Values[1]-w[1]) > 1e-9 {
			t.Errorf("%s: values %v, want %v", id, r.Values, w)
			continue
		}
		if !r.Timestamps[0].Equal(base) || !r.Timestamps[1].Equal(base.Add(10*time.Minute)) {
			t.Errorf("%s: timestamps %v", id, r.Timestamps)
		}
		if aws.ToString(r.Label) != "Jobs" {
			t.Errorf("%s: default label %q, want the metric name", id, aws.ToString(r.Label))
		}
	}
}

func TestCloudWatchPaginationAndScanOrder(t *testing.T) {
	h := newHarness(t, 0)
	base := harnessEpoch.Add(-time.Hour)
	putValues(t, h, "Sim/Test", "A", base, []float64{1, 2, 3, 4, 5})
	putValues(t, h, "Sim/Test", "B", base, []float64{10, 20, 30, 40, 50})
	in := &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(base), EndTime: aws.Time(base.Add(time.Hour)), MaxDatapoints: aws.Int32(3),
		MetricDataQueries: []cwtypes.MetricDataQuery{
			{Id: aws.String("a"), MetricStat: metricStat("Sim/Test", "A", "Maximum", 60)},
			{Id: aws.String("b"), MetricStat: metricStat("Sim/Test", "B", "Maximum", 60)},
			{Id: aws.String("hidden"), ReturnData: aws.Bool(false), MetricStat: metricStat("Sim/Test", "B", "Sum", 60)},
		},
	}
	got := map[string][]float64{}
	pages := 0
	p := cloudwatch.NewGetMetricDataPaginator(cwClient(h), in)
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		h.checkLast(t, "cloudwatch", "GetMetricData")
		pages++
		n := 0
		for _, r := range out.MetricDataResults {
			if aws.ToString(r.Id) == "hidden" {
				t.Error("ReturnData false was returned")
			}
			n += len(r.Values)
			got[aws.ToString(r.Id)] = append(got[aws.ToString(r.Id)], r.Values...)
			if len(r.Timestamps) != len(r.Values) {
				t.Errorf("%d timestamps for %d values", len(r.Timestamps), len(r.Values))
			}
		}
		if n > 3 {
			t.Errorf("page %d carries %d datapoints, MaxDatapoints is 3", pages, n)
		}
	}
	// TimestampDescending (the default) returns the newest first.
	if pages != 4 || !slices.Equal(got["a"], []float64{5, 4, 3, 2, 1}) || !slices.Equal(got["b"], []float64{50, 40, 30, 20, 10}) {
		t.Errorf("%d pages, got %v", pages, got)
	}
	_, err := cwClient(h).GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{
		StartTime: in.StartTime, EndTime: in.EndTime, MetricDataQueries: in.MetricDataQueries[:1], NextToken: aws.String("bm90LWEtdG9rZW4"),
	})
	wantAPIError(t, err, "InvalidNextToken", 400)
	h.checkLast(t, "cloudwatch", "GetMetricData")
}

func TestCloudWatchValidationErrors(t *testing.T) {
	h := newHarness(t, 0)
	start, end := harnessEpoch.Add(-time.Hour), harnessEpoch
	q := func(id string, ms *cwtypes.MetricStat) []cwtypes.MetricDataQuery {
		return []cwtypes.MetricDataQuery{{Id: aws.String(id), MetricStat: ms}}
	}
	many := make([]cwtypes.MetricDataQuery, 501)
	for i := range many {
		many[i] = cwtypes.MetricDataQuery{Id: aws.String(fmt.Sprintf("m%d", i)), MetricStat: metricStat("N", "M", "Sum", 60)}
	}
	ok := metricStat("N", "M", "Sum", 60)
	cases := []struct {
		name string
		in   cloudwatch.GetMetricDataInput
		code string
	}{
		{"end before start", cloudwatch.GetMetricDataInput{StartTime: aws.Time(end), EndTime: aws.Time(start), MetricDataQueries: q("a", ok)}, "InvalidParameterValue"},
		{"period not a multiple of 60", cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), MetricDataQueries: q("a", metricStat("N", "M", "Sum", 90))}, "InvalidParameterValue"},
		{"unknown statistic", cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), MetricDataQueries: q("a", metricStat("N", "M", "Median", 60))}, "InvalidParameterValue"},
		{"id not lowercase first", cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), MetricDataQueries: q("Abc", ok)}, "InvalidParameterValue"},
		{"501 queries", cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), MetricDataQueries: many}, "InvalidParameterValue"},
		{"too many datapoints", cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), MetricDataQueries: q("a", ok), MaxDatapoints: aws.Int32(100801)}, "InvalidParameterValue"},
		{"expression", cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("e"), Expression: aws.String("SUM(METRICS())")}}}, "InvalidParameterValue"},
		{"both stat and expression", cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("e"), Expression: aws.String("m1"), MetricStat: ok}}}, "InvalidParameterCombination"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cwClient(h).GetMetricData(context.Background(), &tc.in)
			wantAPIError(t, err, tc.code, 400)
			h.checkLast(t, "cloudwatch", "GetMetricData")
		})
	}
	putCases := []struct {
		name string
		in   cloudwatch.PutMetricDataInput
		code string
	}{
		{"reserved namespace", cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/EC2"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1)}}}, "InvalidParameterValue"},
		{"value and values", cloudwatch.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1), Values: []float64{1}}}}, "InvalidParameterCombination"},
		{"counts mismatch", cloudwatch.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("x"), Values: []float64{1, 2}, Counts: []float64{1}}}}, "InvalidParameterCombination"},
		{"too old", cloudwatch.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1), Timestamp: aws.Time(harnessEpoch.Add(-15 * 24 * time.Hour))}}}, "InvalidParameterValue"},
		{"not a number", cloudwatch.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(math.NaN())}}}, "InvalidParameterValue"},
	}
	for _, tc := range putCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cwClient(h).PutMetricData(context.Background(), &tc.in)
			wantAPIError(t, err, tc.code, 400)
			h.checkLast(t, "cloudwatch", "PutMetricData")
		})
	}
}

// addInstanceHistory records an instance that ran from start until stop
// (zero: still running) as the EC2 service records it.
func addInstanceHistory(s *Sim, id string, p Profile, start, stop time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	base := Event{Account: s.AccountID(), Region: "us-east-1", Service: "ec2", ResourceType: "instance", ResourceID: id, Type: "m5.large", Profile: p}
	e := base
	e.Time, e.Kind, e.State = start, EventCreated, "running"
	s.recordEvent(e)
	if !stop.IsZero() {
		e = base
		e.Time, e.Kind, e.State = stop, EventState, "stopped"
		s.recordEvent(e)
	}
}

func TestCloudWatchBuiltinEC2MetricsFollowHistory(t *testing.T) {
	h := newHarness(t, 0)
	start := harnessEpoch.Add(-72 * time.Hour)
	stop := harnessEpoch.Add(-24 * time.Hour)
	addInstanceHistory(h.sim, "i-0000000000000idle", ProfileIdle, start, stop)
	addInstanceHistory(h.sim, "i-00000000000000busy", ProfileRightSized, start, time.Time{})
	query := func(id, metric, stat string, period int32) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: aws.String(id), MetricStat: metricStat("AWS/EC2", metric, stat, period, "InstanceId", map[string]string{
			"idle": "i-0000000000000idle", "busy": "i-00000000000000busy"}[strings.SplitN(id, "_", 2)[0]])}
	}
	out, err := cwClient(h).GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(harnessEpoch.Add(-96 * time.Hour)), EndTime: aws.Time(harnessEpoch), ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{
			query("idle_hourly", "CPUUtilization", "Maximum", 3600),
			query("idle_raw", "CPUUtilization", "Average", 300),
			query("idle_count", "CPUUtilization", "SampleCount", 96*3600),
			query("busy_p95", "CPUUtilization", "p95", 96*3600),
			query("busy_net", "NetworkIn", "Sum", 3600),
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
	// The idle instance ran 48 hours: 48 hourly points, all within its
	// profile's 1-3 % band, none after it stopped.
	hourly := res["idle_hourly"]
	if len(hourly.Values) != 48 || !hourly.Timestamps[0].Equal(start) || !hourly.Timestamps[47].Equal(stop.Add(-time.Hour)) {
		t.Fatalf("idle hourly: %d points from %v to %v", len(hourly.Values), hourly.Timestamps[0], hourly.Timestamps[len(hourly.Timestamps)-1])
	}
	for _, v := range hourly.Values {
		if v < 1 || v > 3 {
			t.Errorf("idle CPU %v outside 1-3 %%", v)
		}
	}
	// Raw points are 5 minutes apart (basic monitoring): 48 × 12 of them,
	// each the mean of the profile's five one-minute values.
	if c := res["idle_count"]; len(c.Values) != 1 || c.Values[0] != 48*12 {
		t.Errorf("idle SampleCount over the window = %v, want [576]", c.Values)
	}
	raw := res["idle_raw"]
	seed := resourceSeed(7, "i-0000000000000idle")
	for i := range 3 {
		ts := raw.Timestamps[i]
		var sum float64
		for m := range 5 {
			sum += ProfileIdle.CPUAt(seed, ts.Add(time.Duration(m)*time.Minute))
		}
		if math.Abs(raw.Values[i]-sum/5) > 1e-9 {
			t.Errorf("raw point at %v = %v, want the 5-minute mean %v", ts, raw.Values[i], sum/5)
		}
	}
	// The busy instance still runs; points stop at the last complete slot.
	if p := res["busy_p95"]; len(p.Values) != 1 || p.Values[0] < 40 || p.Values[0] > 70 {
		t.Errorf("right-sized p95 = %v, want one value within 40-70", p.Values)
	}
	if n := res["busy_net"]; len(n.Values) != 72 || n.Values[0] <= 0 {
		t.Errorf("busy NetworkIn: %d hourly points (want 72), first %v", len(n.Values), n.Values)
	}
	// The same seed gives the same series in a fresh simulator.
	h2 := newHarness(t, 0)
	addInstanceHistory(h2.sim, "i-0000000000000idle", ProfileIdle, start, stop)
	out2, err := cwClient(h2).GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(harnessEpoch.Add(-96 * time.Hour)), EndTime: aws.Time(harnessEpoch), ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{query("idle_hourly", "CPUUtilization", "Maximum", 3600)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out2.MetricDataResults[0].Values, hourly.Values) {
		t.Error("same seed, different series")
	}
}

func TestCloudWatchThrottling(t *testing.T) {
	clock := NewManualClock(harnessEpoch)
	sim, err := New(Options{Seed: 1, Clock: clock, Throttle: ThrottleOptions{Scale: 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	rec := &awstest.RecordingTransport{}
	c := cloudwatch.NewFromConfig(sdkConfig(srv.URL, "us-east-1", rec))
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(harnessEpoch.Add(-time.Hour)), EndTime: aws.Time(harnessEpoch),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("a"), MetricStat: metricStat("N", "M", "Sum", 60)}}}
	// 50 TPS scaled by 0.1: a bucket of 5.
	for i := range 5 {
		if _, err := c.GetMetricData(context.Background(), in); err != nil {
			t.Fatalf("call %d within the bucket: %v", i+1, err)
		}
	}
	_, err = c.GetMetricData(context.Background(), in)
	wantAPIError(t, err, "ThrottlingException", 400)
	ex, _ := rec.Last()
	if _, verr := awstest.RequireModel(t, "cloudwatch").ValidateError(ex.Status, ex.RespHeader, ex.RespBody); verr != nil {
		t.Errorf("throttling envelope: %v", verr)
	}
	// The query protocol answers Throttling in its XML envelope.
	status, body := postQuery(t, srv.URL, url.Values{"Action": {"GetMetricData"}, "Version": {"2010-08-01"}})
	if status != 400 || !bytes.Contains(body, []byte("<Code>Throttling</Code>")) {
		t.Errorf("query throttling: %d %s", status, body)
	}
	clock.Advance(time.Second)
	if _, err := c.GetMetricData(context.Background(), in); err != nil {
		t.Errorf("after a second's refill: %v", err)
	}
}

func postQuery(t *testing.T, endpoint string, form url.Values) (int, []byte) {
	t.Helper()
	req := signedRequest(http.MethodPost, endpoint+"/", "monitoring", form.Encode())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes()
}

func TestCloudWatchQueryProtocolDocument(t *testing.T) {
	h := newHarness(t, 0)
	base := harnessEpoch.Add(-time.Hour)
	put := url.Values{"Action": {"PutMetricData"}, "Version": {"2010-08-01"}, "Namespace": {"Sim/Q"},
		"MetricData.member.1.MetricName": {"Depth"}, "MetricData.member.1.Timestamp": {base.Format(time.RFC3339)},
		"MetricData.member.1.Values.member.1": {"2"}, "MetricData.member.1.Values.member.2": {"8"},
		"MetricData.member.1.Counts.member.1": {"3"}, "MetricData.member.1.Counts.member.2": {"1"},
		"MetricData.member.1.Dimensions.member.1.Name": {"Q"}, "MetricData.member.1.Dimensions.member.1.Value": {"x"}}
	status, body := postQuery(t, h.url, put)
	model := *awstest.RequireModel(t, "cloudwatch")
	model.Protocol = "query"
	if status != 200 {
		t.Fatalf("PutMetricData: %d %s", status, body)
	}
	model.Check(t, "PutMetricData", body)
	get := url.Values{"Action": {"GetMetricData"}, "Version": {"2010-08-01"},
		"StartTime": {base.Format(time.RFC3339)}, "EndTime": {harnessEpoch.Format(time.RFC3339)},
		"MetricDataQueries.member.1.Id":                                          {"m"},
		"MetricDataQueries.member.1.MetricStat.Metric.Namespace":                 {"Sim/Q"},
		"MetricDataQueries.member.1.MetricStat.Metric.MetricName":                {"Depth"},
		"MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name":  {"Q"},
		"MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value": {"x"},
		"MetricDataQueries.member.1.MetricStat.Period":                           {"3600"},
		"MetricDataQueries.member.1.MetricStat.Stat":                             {"Average"}}
	status, body = postQuery(t, h.url, get)
	if status != 200 {
		t.Fatalf("GetMetricData: %d %s", status, body)
	}
	model.Check(t, "GetMetricData", body)
	// (2×3 + 8×1) / 4
	if !bytes.Contains(body, []byte("<Values><member>3.5</member></Values>")) || !bytes.Contains(body, []byte("<member>"+base.Format(time.RFC3339)+"</member>")) {
		t.Errorf("GetMetricData body lacks the 3.5 average at %s: %s", base.Format(time.RFC3339), body)
	}
	get.Set("MetricDataQueries.member.1.MetricStat.Period", "61")
	status, body = postQuery(t, h.url, get)
	if code := model.CheckError(t, status, http.Header{}, body); code != "InvalidParameterValue" {
		t.Errorf("bad period over query: %s", code)
	}
}

// cliQueryDataPath writes a botocore data directory whose CloudWatch model
// speaks awsquery only, so the installed aws CLI sends what older CLIs send.
func cliQueryDataPath(t *testing.T) string {
	t.Helper()
	dataDir, err := awstest.BotocoreDataDir()
	if err != nil {
		t.Skipf("botocore data: %v", err)
	}
	src := filepath.Join(dataDir, "cloudwatch", "2010-08-01")
	raw, err := os.ReadFile(filepath.Join(src, "service-2.json"))
	if err != nil {
		gz, gzErr := exec.Command("gzip", "-dc", filepath.Join(src, "service-2.json.gz")).Output()
		if gzErr != nil {
			t.Skipf("reading the CloudWatch model: %v / %v", err, gzErr)
		}
		raw = gz
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	meta := m["metadata"].(map[string]any)
	meta["protocol"] = "query"
	meta["protocols"] = []string{"query"}
	out, _ := json.Marshal(m)
	dir := t.TempDir()
	dst := filepath.Join(dir, "cloudwatch", "2010-08-01")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "service-2.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runAWS runs the aws CLI with extra environment (RunCLI drops AWS_*).
func runAWS(t *testing.T, endpoint string, env []string, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json"}, args...)...)
	dir := t.TempDir()
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") }),
		append([]string{"AWS_ACCESS_KEY_ID=AKIDCLI", "AWS_SECRET_ACCESS_KEY=x", "AWS_CONFIG_FILE=" + filepath.Join(dir, "c"),
			"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "k"), "AWS_MAX_ATTEMPTS=1", "AWS_EC2_METADATA_DISABLED=true"}, env...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func TestCloudWatchThroughAWSCLI(t *testing.T) {
	h := newHarness(t, 0)
	// The CLI signs with the wall clock; the simulator's clock is pinned
	// at harnessEpoch, so timestamps are chosen relative to it.
	base := harnessEpoch.Add(-30 * time.Minute)
	// Front the simulator to see which protocol the CLI really spoke.
	var mu sync.Mutex
	var contentTypes []string
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		contentTypes = append(contentTypes, r.Header.Get("Content-Type"))
		mu.Unlock()
		h.sim.Handler().ServeHTTP(w, r)
	}))
	defer front.Close()
	for _, proto := range []struct {
		name, contentType string
		env               []string
		ns                string
	}{
		{"json (botocore 1.43 default)", "application/x-amz-json-1.0", nil, "Sim/CLIJSON"},
		{"query (older CLIs)", "application/x-www-form-urlencoded", []string{"AWS_DATA_PATH=" + cliQueryDataPath(t)}, "Sim/CLIQuery"},
	} {
		t.Run(proto.name, func(t *testing.T) {
			mu.Lock()
			contentTypes = nil
			mu.Unlock()
			defer func() {
				mu.Lock()
				defer mu.Unlock()
				if len(contentTypes) != 2 || !strings.HasPrefix(contentTypes[0], proto.contentType) || !strings.HasPrefix(contentTypes[1], proto.contentType) {
					t.Errorf("CLI sent Content-Types %q, want two %s requests", contentTypes, proto.contentType)
				}
			}()
			data := fmt.Sprintf(`[{"MetricName":"Lag","Timestamp":"%s","Value":4},{"MetricName":"Lag","Timestamp":"%s","Value":10}]`,
				base.Format(time.RFC3339), base.Add(time.Minute).Format(time.RFC3339))
			runAWS(t, front.URL, proto.env, "cloudwatch", "put-metric-data", "--namespace", proto.ns, "--metric-data", data)
			queries := fmt.Sprintf(`[{"Id":"lag","MetricStat":{"Metric":{"Namespace":"%s","MetricName":"Lag"},"Period":3600,"Stat":"p50"}}]`, proto.ns)
			out := runAWS(t, front.URL, proto.env, "cloudwatch", "get-metric-data", "--metric-data-queries", queries,
				"--start-time", base.Format(time.RFC3339), "--end-time", harnessEpoch.Format(time.RFC3339))
			var res struct {
				MetricDataResults []struct {
					ID         string    `json:"Id"`
					Values     []float64 `json:"Values"`
					StatusCode string    `json:"StatusCode"`
				} `json:"MetricDataResults"`
			}
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("CLI output %s: %v", out, err)
			}
			if len(res.MetricDataResults) != 1 || res.MetricDataResults[0].ID != "lag" ||
				!slices.Equal(res.MetricDataResults[0].Values, []float64{4}) || res.MetricDataResults[0].StatusCode != "Complete" {
				t.Errorf("CLI parsed %+v, want p50 of {4, 10} = 4", res)
			}
		})
	}
}

func TestCloudWatchProtocolCanaries(t *testing.T) {
	h := newHarness(t, 0)
	putValues(t, h, "Sim/Canary", "X", harnessEpoch.Add(-time.Minute), []float64{1})
	ex, _ := h.rec.Last()
	checkCWCanary(t, ex, "PutMetricData")
	_, err := cwClient(h).GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(harnessEpoch.Add(-time.Hour)), EndTime: aws.Time(harnessEpoch),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("x"), MetricStat: metricStat("Sim/Canary", "X", "Sum", 60)}}})
	if err != nil {
		t.Fatal(err)
	}
	ex, _ = h.rec.Last()
	checkCWCanary(t, ex, "GetMetricData")
}

func checkCWCanary(t *testing.T, ex awstest.Exchange, op string) {
	t.Helper()
	canary{method: http.MethodPost, path: "/service/GraniteServiceVersion20100801/operation/" + op, contentType: "application/cbor"}.check(t, ex)
	if ex.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" || ex.Header.Get("X-Amzn-Query-Mode") != "true" || ex.Header.Get("X-Amz-Target") != "" {
		t.Errorf("%s: Smithy-Protocol %q, X-Amzn-Query-Mode %q, X-Amz-Target %q; want rpc-v2-cbor, true, none", op,
			ex.Header.Get("Smithy-Protocol"), ex.Header.Get("X-Amzn-Query-Mode"), ex.Header.Get("X-Amz-Target"))
	}
	body := ex.Body
	if op == "PutMetricData" {
		// The model's requestCompression trait: the SDK gzips PutMetricData.
		if ce := ex.Header.Get("Content-Encoding"); ce != "gzip" {
			t.Fatalf("PutMetricData Content-Encoding = %q, want gzip", ce)
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	var doc map[string]any
	if err := cbor.Unmarshal(body, &doc); err != nil {
		t.Errorf("%s request body is not a CBOR map: %v", op, err)
	}
}

// fuzzCloudWatch sends one request straight to the handler and checks that
// the answer is a success or an error in the protocol's own envelope.
func fuzzCloudWatch(t *testing.T, sim *Sim, req *http.Request, model *awstest.Model) {
	rr := httptest.NewRecorder()
	sim.Handler().ServeHTTP(rr, req)
	if rr.Code == http.StatusOK {
		return
	}
	if rr.Code >= 500 {
		t.Fatalf("server error %d: %s", rr.Code, rr.Body.Bytes())
	}
	if _, err := model.ValidateError(rr.Code, rr.Header(), rr.Body.Bytes()); err != nil {
		t.Fatalf("error envelope: %v\n%s", err, rr.Body.Bytes())
	}
}

func fuzzSim(t *testing.F) *Sim {
	sim, err := New(Options{Seed: 1, Clock: NewManualClock(harnessEpoch), Throttle: ThrottleOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	return sim
}

func FuzzCloudWatchCBOR(f *testing.F) {
	sim := fuzzSim(f)
	model := awstest.RequireModel(f, "cloudwatch")
	good, _ := cbor.Marshal(map[string]any{"StartTime": cbor.Tag{Number: 1, Content: float64(harnessEpoch.Unix() - 3600)},
		"EndTime":           cbor.Tag{Number: 1, Content: float64(harnessEpoch.Unix())},
		"MetricDataQueries": []any{map[string]any{"Id": "a", "MetricStat": map[string]any{"Metric": map[string]any{"Namespace": "N", "MetricName": "M"}, "Period": 60, "Stat": "p99"}}}})
	put, _ := cbor.Marshal(map[string]any{"Namespace": "N", "MetricData": []any{map[string]any{"MetricName": "M", "Values": []float64{1, 2}, "Counts": []float64{1}}}})
	f.Add("GetMetricData", good)
	f.Add("PutMetricData", put)
	f.Add("GetMetricData", []byte{0xbf, 0xff})
	f.Add("DeleteAlarms", []byte{})
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		req := signedRequest(http.MethodPost, "http://sim/service/GraniteServiceVersion20100801/operation/"+url.PathEscape(op), "monitoring", string(body))
		req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
		req.Header.Set("Content-Type", "application/cbor")
		fuzzCloudWatch(t, sim, req, model)
	})
}

func FuzzCloudWatchJSON(f *testing.F) {
	sim := fuzzSim(f)
	model := *awstest.RequireModel(f, "cloudwatch")
	model.Protocol = "json"
	f.Add("GetMetricData", `{"StartTime":1772614800,"EndTime":1772618400,"MetricDataQueries":[{"Id":"a","MetricStat":{"Metric":{"Namespace":"N","MetricName":"M"},"Period":60,"Stat":"Sum"}}]}`)
	f.Add("PutMetricData", `{"Namespace":"N","MetricData":[{"MetricName":"M","Value":1}]}`)
	f.Add("GetMetricData", `{"StartTime":"yesterday"}`)
	f.Fuzz(func(t *testing.T, op, body string) {
		req := signedRequest(http.MethodPost, "http://sim/", "monitoring", body)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801."+op)
		fuzzCloudWatch(t, sim, req, &model)
	})
}

func FuzzCloudWatchQuery(f *testing.F) {
	sim := fuzzSim(f)
	model := *awstest.RequireModel(f, "cloudwatch")
	model.Protocol = "query"
	f.Add("Action=GetMetricData&Version=2010-08-01&StartTime=2026-03-04T09:00:00Z&EndTime=2026-03-04T10:00:00Z&MetricDataQueries.member.1.Id=a&MetricDataQueries.member.1.MetricStat.Metric.Namespace=N&MetricDataQueries.member.1.MetricStat.Metric.MetricName=M&MetricDataQueries.member.1.MetricStat.Period=60&MetricDataQueries.member.1.MetricStat.Stat=Sum")
	f.Add("Action=PutMetricData&Version=2010-08-01&Namespace=N&MetricData.member.1.MetricName=M&MetricData.member.1.Value=1")
	f.Add("Action=PutMetricData&Version=2010-08-01&MetricData.member.01.Value=x")
	f.Fuzz(func(t *testing.T, body string) {
		if _, err := url.ParseQuery(body); err != nil {
			// The router rejects unparsable forms before CloudWatch sees
			// them, in the service's registered (CBOR) envelope.
			t.Skip("form the router rejects before dispatch")
		}
		req := signedRequest(http.MethodPost, "http://sim/", "monitoring", body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		fuzzCloudWatch(t, sim, req, &model)
	})
}

// cborEpochs writes by hand what the generic encoder writes for a list of
// tag-1 float64 timestamps, for every length form of the array head.
func TestCBOREpochsMatchGenericEncoder(t *testing.T) {
	for _, n := range []int{0, 1, 23, 24, 255, 256, 65535, 65536} {
		ts := make([]int64, n)
		tags := make([]cbor.Tag, n)
		for i := range ts {
			ts[i] = 1772582400 + int64(i)*86400
			tags[i] = cbor.Tag{Number: 1, Content: float64(ts[i])}
		}
		want, err := cbor.Marshal(tags)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cbor.Marshal(map[string]any{"Timestamps": cborEpochs(ts)})
		if err != nil {
			t.Fatalf("%d timestamps: %v", n, err)
		}
		wantDoc, _ := cbor.Marshal(map[string]any{"Timestamps": cbor.RawMessage(want)})
		if !bytes.Equal(got, wantDoc) {
			t.Fatalf("%d timestamps: got % x..., want % x...", n, got[:min(len(got), 24)], wantDoc[:min(len(wantDoc), 24)])
		}
	}
}

// Answers over windows wholly in the past are memoised; they must follow
// the history (a stop recorded inside the window) and survive being
// returned in descending order. Expected values are computed here from the
// profile: the nearest-rank p95 of each day's 5-minute means.
func TestCloudWatchMemoisedAnswersFollowHistory(t *testing.T) {
	h := newHarness(t, 0)
	const id = "i-00000000000memo01"
	end := harnessEpoch.Truncate(24 * time.Hour)
	begin := end.Add(-5 * 24 * time.Hour)
	addInstanceHistory(h.sim, id, ProfileSpiky, begin.Add(-2*time.Hour), time.Time{})
	seed := resourceSeed(7, id)
	dailyP95 := func(day, stop time.Time) float64 {
		var vals []float64
		for ts := day; ts.Before(day.Add(24*time.Hour)) && ts.Before(stop); ts = ts.Add(5 * time.Minute) {
			var sum float64
			for m := range 5 {
				sum += ProfileSpiky.CPUAt(seed, ts.Add(time.Duration(m)*time.Minute))
			}
			vals = append(vals, sum/5)
		}
		slices.Sort(vals)
		return vals[int(math.Ceil(0.95*float64(len(vals))))-1]
	}
	ask := func(scan cwtypes.ScanBy) cwtypes.MetricDataResult {
		t.Helper()
		out, err := cwClient(h).GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{
			StartTime: aws.Time(begin), EndTime: aws.Time(end), ScanBy: scan,
			MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("p95"),
				MetricStat: metricStat("AWS/EC2", "CPUUtilization", "p95", 86400, "InstanceId", id)}},
		})
		if err != nil {
			t.Fatalf("GetMetricData: %v", err)
		}
		return out.MetricDataResults[0]
	}
	check := func(what string, r cwtypes.MetricDataResult, stop time.Time, days int) {
		t.Helper()
		if len(r.Values) != days {
			t.Fatalf("%s: %d daily points, want %d", what, len(r.Values), days)
		}
		for i, v := range r.Values {
			day := begin.Add(time.Duration(i) * 24 * time.Hour)
			if want := dailyP95(day, stop); !r.Timestamps[i].Equal(day) || v != want {
				t.Errorf("%s: point %d = %v at %v, want %v at %v", what, i, v, r.Timestamps[i], want, day)
			}
		}
	}
	forever := end.Add(24 * time.Hour)
	check("running", ask(cwtypes.ScanByTimestampAscending), forever, 5)
	check("running, asked again", ask(cwtypes.ScanByTimestampAscending), forever, 5)
	desc := ask(cwtypes.ScanByTimestampDescending)
	slices.Reverse(desc.Values)
	slices.Reverse(desc.Timestamps)
	check("descending", desc, forever, 5)
	check("after descending", ask(cwtypes.ScanByTimestampAscending), forever, 5)

	stop := end.Add(-2*24*time.Hour + 3*time.Hour)
	h.sim.mu.Lock()
	h.sim.recordEvent(Event{Account: h.sim.AccountID(), Region: "us-east-1", Service: "ec2", ResourceType: "instance",
		ResourceID: id, Type: "m5.large", Profile: ProfileSpiky, Time: stop, Kind: EventState, State: "stopped"})
	h.sim.mu.Unlock()
	check("stopped inside the window", ask(cwtypes.ScanByTimestampAscending), stop, 4)
}

// validCWID accepts exactly what the documented id pattern accepts.
func TestValidCWIDMatchesPattern(t *testing.T) {
	pattern := regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)
	for _, id := range []string{"", "a", "q0", "q_1", "qA9_", "Q1", "0q", "_q", "q-1", "q 1", "q\n", "é", "qé", "a\x00", "zZ"} {
		if got, want := validCWID(id), pattern.MatchString(id); got != want {
			t.Errorf("validCWID(%q) = %v, want %v", id, got, want)
		}
	}
}

// The hand-written GetMetricData CBOR answer is byte for byte the generic
// encoder's, across the length forms of every head, with and without a
// NextToken; non-finite values are left to the generic encoder.
func TestGetMetricDataCBORMatchesGenericEncoder(t *testing.T) {
	var many []cwResult
	for i, n := range []int{0, 1, 23, 24, 255, 256, 300} {
		r := cwResult{ID: fmt.Sprintf("q%d", i), Label: strings.Repeat("é", n), Complete: i%2 == 0}
		for j := range n {
			r.Timestamps = append(r.Timestamps, 1772582400+int64(j)*60)
			r.Values = append(r.Values, float64(j)*1.37-50)
		}
		many = append(many, r)
	}
	for j := range 300 {
		many = append(many, cwResult{ID: fmt.Sprintf("r%d", j), Label: "CPUUtilization", Complete: true})
	}
	for _, res := range []*cwResults{
		{},
		{results: []cwResult{{ID: "a", Label: "x", Timestamps: []int64{1}, Values: []float64{0.5}, Complete: true}}},
		{results: many, nextToken: strings.Repeat("t", 300)},
		{results: many[:3], nextToken: "abc"},
	} {
		want, err := cbor.Marshal(getMetricDataDoc(ProtoCBOR, res))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendGetMetricDataCBOR(nil, res)
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("%d results: hand-written CBOR differs (ok %v, %d vs %d bytes)", len(res.results), ok, len(got), len(want))
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, ok := appendGetMetricDataCBOR(nil, &cwResults{results: []cwResult{{ID: "a", Timestamps: []int64{1}, Values: []float64{v}}}}); ok {
			t.Errorf("value %v encoded by hand", v)
		}
	}
}
