package monitor

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/prometheus/client_golang/prometheus"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// rawPoints reads a metric's raw datapoints from the simulator at its
// publishing resolution (one point per bucket, so each bucket's Average is
// the point itself), independently of the code under test.
func rawPoints(t *testing.T, cfg aws.Config, region, namespace, dim, id, metric string, resolution int32, start, end time.Time) []float64 {
	t.Helper()
	c := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.Region = region })
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), MetricDataQueries: []cwtypes.MetricDataQuery{{
		Id: aws.String("raw"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(resolution), Stat: aws.String("Average"),
			Metric: &cwtypes.Metric{Namespace: aws.String(namespace), MetricName: aws.String(metric),
				Dimensions: []cwtypes.Dimension{{Name: aws.String(dim), Value: aws.String(id)}}}},
	}}}
	var vals []float64
	p := cloudwatch.NewGetMetricDataPaginator(c, in)
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("raw points of %s %s: %v", id, metric, err)
		}
		for _, r := range out.MetricDataResults {
			vals = append(vals, r.Values...)
		}
	}
	return vals
}

// statOf computes a statistic over raw points the way CloudWatch (and the
// simulator, see awssim's nearestRank) defines it: percentiles by nearest
// rank, ceil(p/100 × n).
func statOf(t *testing.T, stat string, vals []float64) float64 {
	t.Helper()
	s := slices.Clone(vals)
	slices.Sort(s)
	var sum float64
	for _, v := range s {
		sum += v
	}
	switch stat {
	case "Average":
		return sum / float64(len(s))
	case "Sum":
		return sum
	case "Maximum":
		return s[len(s)-1]
	case "Minimum":
		return s[0]
	case "SampleCount":
		return float64(len(s))
	}
	p, err := strconv.ParseFloat(stat[1:], 64)
	if err != nil {
		t.Fatalf("statistic %q", stat)
	}
	rank := int(math.Ceil(math.Round(p/100*float64(len(s))*1e9) / 1e9))
	return s[max(rank, 1)-1]
}

func closeTo(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func newUtil(t testing.TB, cfg aws.Config, reg prometheus.Registerer) *Utilization {
	t.Helper()
	u, err := NewUtilization(UtilizationOptions{Configs: func(string) aws.Config { return cfg }, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

type expectation struct {
	series   Series
	value    float64
	coverage float64
}

// ec2Fleet seeds six instances in two regions with 36 h of history.
func ec2Fleet(t *testing.T) (*awssim.Sim, string, awssim.FleetManifest) {
	t.Helper()
	sim, url := startSim(t, awssim.Options{Seed: 7, Clock: awssim.NewManualClock(epoch), Backfill: 36 * time.Hour,
		Throttle: awssim.ThrottleOptions{Disabled: true}})
	man, err := sim.SeedFleet(sim.AccountID(), awssim.FleetSpec{N: 6, Regions: []string{"us-east-1", "eu-west-1"}, Seed: 3, Mix: awssim.FleetMix{Instances: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return sim, url, man
}

func TestSweepMatchesSimulatorStatistics(t *testing.T) {
	_, url, man := ec2Fleet(t)
	refCfg, _ := loadConfig(t, url, awsclient.Options{})
	lookback := 48 * time.Hour
	start, end := epoch.Add(-lookback), epoch
	metrics := map[string]string{"cpu_utilization": "CPUUtilization", "network_in_bytes": "NetworkIn", "network_out_bytes": "NetworkOut"}
	var want []expectation
	for i, r := range man.Resources {
		raw := map[string][]float64{}
		for m, cw := range metrics {
			raw[m] = rawPoints(t, refCfg, r.Region, "AWS/EC2", "InstanceId", r.ID, cw, 300, start, end)
		}
		// History began 36 h before the end of a 48 h window: 432 of 576
		// five-minute points.
		if n := len(raw["cpu_utilization"]); n != 432 {
			t.Fatalf("%s: %d raw CPU points, want 432", r.ID, n)
		}
		cov := float64(len(raw["cpu_utilization"])) / (48 * 12)
		for _, st := range []struct{ metric, stat string }{
			{"cpu_utilization", "Average"}, {"cpu_utilization", "Maximum"}, {"cpu_utilization", "p95"},
			{"cpu_utilization", "p99.9"}, {"network_in_bytes", "Sum"}, {"network_out_bytes", "p50"}, {"network_out_bytes", "Minimum"},
		} {
			if i%2 == 1 && st.stat == "p99.9" {
				continue
			}
			want = append(want, expectation{Series{validation.ResourceEC2Instance, r.ID, r.Region, st.metric, st.stat}, statOf(t, st.stat, raw[st.metric]), cov})
		}
	}
	want = append(want, expectation{Series{validation.ResourceEC2Instance, "i-0123456789abcdef0", "us-east-1", "cpu_utilization", "Average"}, 0, 0})

	cfg, _ := loadConfig(t, url, awsclient.Options{})
	u := newUtil(t, cfg, prometheus.NewRegistry())
	series := make([]Series, len(want))
	for i, w := range want {
		series[i] = w.series
	}
	got, err := u.Sweep(context.Background(), series, lookback, end.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	checkSummaries(t, got, want, start, end)
}

func checkSummaries(t *testing.T, got []*sirsiv1.UtilizationSummary, want []expectation, start, end time.Time) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d summaries, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.GetResourceId() != w.series.ResourceID || g.GetMetric() != w.series.Metric || g.GetStatistic() != w.series.Statistic || g.GetRegion() != w.series.Region {
			t.Errorf("summary %d is for %s/%s/%s/%s, want %+v", i, g.GetResourceId(), g.GetRegion(), g.GetMetric(), g.GetStatistic(), w.series)
			continue
		}
		if !closeTo(g.GetValue(), w.value) {
			t.Errorf("%s %s %s = %v, want %v", w.series.ResourceID, w.series.Metric, w.series.Statistic, g.GetValue(), w.value)
		}
		if !closeTo(g.GetCoverage(), w.coverage) {
			t.Errorf("%s %s coverage %v, want %v", w.series.ResourceID, w.series.Metric, g.GetCoverage(), w.coverage)
		}
		if !g.GetWindowStart().AsTime().Equal(start) || !g.GetWindowEnd().AsTime().Equal(end) {
			t.Errorf("%s window %v..%v, want %v..%v", w.series.ResourceID, g.GetWindowStart().AsTime(), g.GetWindowEnd().AsTime(), start, end)
		}
	}
}

// RDS and Lambda go through their own namespaces and dimensions; Lambda's
// coverage is the share of minutes with invocations. (The simulator
// backfills EC2 only, so the clock moves on after the fleet is created.)
func TestSweepRDSAndLambda(t *testing.T) {
	clock := awssim.NewManualClock(epoch)
	_, url := startSim(t, awssim.Options{Seed: 11, Clock: clock, Throttle: awssim.ThrottleOptions{Disabled: true}})
	cfg, _ := loadConfig(t, url, awsclient.Options{})
	man, err := awssim.GenerateFleet(context.Background(), cfg, awssim.FleetSpec{N: 4, Regions: []string{"us-east-1"}, Seed: 5,
		Mix: awssim.FleetMix{DBInstances: 1, Functions: 1}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Hour)
	lookback := 24 * time.Hour
	end := epoch.Add(30 * time.Hour)
	start := end.Add(-lookback)
	var want []expectation
	for _, r := range man.Resources {
		switch r.Kind {
		case "db-instance":
			for _, st := range []struct{ metric, cw, stat string }{
				{"cpu_utilization", "CPUUtilization", "p95"}, {"database_connections", "DatabaseConnections", "Maximum"},
				{"freeable_memory_bytes", "FreeableMemory", "Minimum"},
			} {
				raw := rawPoints(t, cfg, r.Region, "AWS/RDS", "DBInstanceIdentifier", r.ID, st.cw, 60, start, end)
				if len(raw) != 1440 {
					t.Fatalf("%s %s: %d raw points, want 1440", r.ID, st.cw, len(raw))
				}
				want = append(want, expectation{Series{validation.ResourceRDSInstance, r.ID, r.Region, st.metric, st.stat}, statOf(t, st.stat, raw), 1})
			}
		case "function":
			inv := rawPoints(t, cfg, r.Region, "AWS/Lambda", "FunctionName", r.ID, "Invocations", 60, start, end)
			dur := rawPoints(t, cfg, r.Region, "AWS/Lambda", "FunctionName", r.ID, "Duration", 60, start, end)
			cov := math.Min(1, float64(len(inv))/1440)
			want = append(want,
				expectation{Series{validation.ResourceLambdaFunction, r.ID, r.Region, "invocations", "Sum"}, statOf(t, "Sum", inv), cov},
				expectation{Series{validation.ResourceLambdaFunction, r.ID, r.Region, "duration_ms", "p99"}, statOf(t, "p99", dur), cov})
		}
	}
	if len(want) != 3*man.Count("db-instance")+2*man.Count("function") || man.Count("db-instance") == 0 || man.Count("function") == 0 {
		t.Fatalf("fleet %+v lacks DB instances or functions", man)
	}
	series := make([]Series, len(want))
	for i, w := range want {
		series[i] = w.series
	}
	got, err := newUtil(t, cfg, nil).Sweep(context.Background(), series, lookback, end)
	if err != nil {
		t.Fatal(err)
	}
	checkSummaries(t, got, want, start, end)
}

// 1,234 series of 247 instances are 1,481 queries with the coverage
// queries: three calls of at most 500.
func TestSweepBatchesFiveHundredQueries(t *testing.T) {
	sim, url := startSim(t, awssim.Options{Seed: 1, Clock: awssim.NewManualClock(epoch), Backfill: 48 * time.Hour,
		Throttle: awssim.ThrottleOptions{Disabled: true}})
	man, err := sim.SeedFleet(sim.AccountID(), awssim.FleetSpec{N: 247, Regions: []string{"us-west-2"}, Seed: 9, Mix: awssim.FleetMix{Instances: 1}})
	if err != nil {
		t.Fatal(err)
	}
	kinds := []struct{ metric, stat string }{
		{"cpu_utilization", "Average"}, {"cpu_utilization", "p95"}, {"network_in_bytes", "Average"}, {"network_out_bytes", "Maximum"}, {"cpu_utilization", "Maximum"},
	}
	var series []Series
	for i := 0; len(series) < 1234; i++ {
		r := man.Resources[i/len(kinds)]
		k := kinds[i%len(kinds)]
		series = append(series, Series{validation.ResourceEC2Instance, r.ID, r.Region, k.metric, k.stat})
	}
	cfg, counted := loadConfig(t, url, awsclient.Options{Region: "us-west-2"})
	got, err := newUtil(t, cfg, nil).Sweep(context.Background(), series, 24*time.Hour, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if n := counted.count("GetMetricData"); n != 3 {
		t.Errorf("%d GetMetricData calls, want 3", n)
	}
	total := 0
	for _, q := range counted.queries {
		total += q
		if q > 500 {
			t.Errorf("a call carried %d queries, AWS allows 500", q)
		}
	}
	if total != 1234+247 {
		t.Errorf("%d queries sent, want %d (series plus one coverage query per instance)", total, 1234+247)
	}
	for i, s := range got {
		if s.GetCoverage() != 1 || s.GetValue() <= 0 {
			t.Fatalf("summary %d (%s %s %s): value %v coverage %v, want data over the whole window", i, s.GetResourceId(), s.GetMetric(), s.GetStatistic(), s.GetValue(), s.GetCoverage())
		}
	}
}

func TestSweepRejectsInvalidSeriesBeforeAnyCall(t *testing.T) {
	_, url := startSim(t, awssim.Options{Clock: awssim.NewManualClock(epoch)})
	cfg, counted := loadConfig(t, url, awsclient.Options{})
	u := newUtil(t, cfg, nil)
	good := Series{validation.ResourceEC2Instance, "i-0123456789abcdef0", "us-east-1", "cpu_utilization", "p95"}
	for _, c := range []struct {
		name   string
		mutate func(*Series)
		want   string
	}{
		{"resource type", func(s *Series) { s.ResourceType = validation.ResourceEIP }, "series[1].resource_type"},
		{"metric of another type", func(s *Series) { s.Metric = "database_connections" }, "series[1].metric"},
		{"unknown metric", func(s *Series) { s.Metric = "cpu" }, "series[1].metric"},
		{"statistic", func(s *Series) { s.Statistic = "Median" }, "series[1].statistic"},
		{"percentile 100", func(s *Series) { s.Statistic = "p100" }, "series[1].statistic"},
		{"percentile precision", func(s *Series) { s.Statistic = "p99.99" }, "series[1].statistic"},
		{"empty id", func(s *Series) { s.ResourceID = "" }, "series[1].resource_id"},
		{"region", func(s *Series) { s.Region = "moon-1" }, "series[1].region"},
	} {
		bad := good
		c.mutate(&bad)
		_, err := u.Sweep(context.Background(), []Series{good, bad, good}, 24*time.Hour, epoch)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one starting %q", c.name, err, c.want)
		}
	}
	for _, lb := range []time.Duration{0, 90 * time.Second, 16*24*time.Hour + time.Minute, 64*24*time.Hour + 5*time.Minute, 456 * 24 * time.Hour} {
		if _, err := u.Sweep(context.Background(), []Series{good}, lb, epoch); err == nil || !strings.HasPrefix(err.Error(), "lookback") {
			t.Errorf("lookback %v: error %v, want one naming lookback", lb, err)
		}
	}
	if n := counted.count("GetMetricData"); n != 0 {
		t.Errorf("%d GetMetricData calls for invalid input, want none", n)
	}
}

// Under a storm that throttles 30 % of calls, with the SDK allowed a single
// attempt so every throttle reaches the sweep's own retry, the answers are
// exactly those of a calm run.
func TestSweepThrottleStormIsExact(t *testing.T) {
	sim, url, man := ec2Fleet(t)
	var series []Series
	for _, r := range man.Resources {
		for _, m := range []string{"cpu_utilization", "network_in_bytes", "network_out_bytes"} {
			series = append(series, Series{validation.ResourceEC2Instance, r.ID, r.Region, m, "p90"})
		}
	}
	// Many small sweeps make many calls, so the storm is felt.
	sweep := func(u *Utilization) [][]*sirsiv1.UtilizationSummary {
		var all [][]*sirsiv1.UtilizationSummary
		for _, s := range series {
			got, err := u.Sweep(context.Background(), []Series{s}, 24*time.Hour, epoch)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, got)
		}
		return all
	}
	calmCfg, _ := loadConfig(t, url, awsclient.Options{})
	calm := sweep(newUtil(t, calmCfg, nil))

	if err := sim.SetFaults(awssim.FaultConfig{ThrottleRatio: 0.3, Services: []string{"monitoring"}}); err != nil {
		t.Fatal(err)
	}
	stormCfg, _ := loadConfig(t, url, awsclient.Options{MaxAttempts: 1, RetryMode: "standard"})
	reg := prometheus.NewRegistry()
	u := newUtil(t, stormCfg, reg)
	u.backoff = awsclient.Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond}
	stormy := sweep(u)
	if retries := counterValue(t, reg, "sirsi_monitor_getmetricdata_throttle_retries_total"); retries == 0 {
		t.Fatal("no throttled call was retried: the storm did not reach the sweep")
	}
	for i := range calm {
		a, b := calm[i][0], stormy[i][0]
		if a.GetValue() != b.GetValue() || a.GetCoverage() != b.GetCoverage() {
			t.Errorf("%s %s: storm %v/%v, calm %v/%v", a.GetResourceId(), a.GetMetric(), b.GetValue(), b.GetCoverage(), a.GetValue(), a.GetCoverage())
		}
	}
}

func TestNewUtilizationValidates(t *testing.T) {
	if _, err := NewUtilization(UtilizationOptions{}); err == nil || !strings.Contains(err.Error(), "configs") {
		t.Errorf("missing configs: %v", err)
	}
	cfgs := func(string) aws.Config { return aws.Config{} }
	if _, err := NewUtilization(UtilizationOptions{Configs: cfgs, Concurrency: -1}); err == nil || !strings.Contains(err.Error(), "concurrency") {
		t.Errorf("negative concurrency: %v", err)
	}
	reg := prometheus.NewRegistry()
	if _, err := NewUtilization(UtilizationOptions{Configs: cfgs, Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	_, err := NewUtilization(UtilizationOptions{Configs: cfgs, Registerer: reg})
	if err == nil {
		t.Error("registering the metrics twice on one registry succeeded")
	}
}
