package awssim

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim/awstest"
)

func ceClient(h *harness) *costexplorer.Client { return costexplorer.NewFromConfig(h.cfg) }

// day is a date relative to harnessEpoch's midnight (2026-03-04).
func day(n int) time.Time {
	return harnessEpoch.Truncate(24*time.Hour).AddDate(0, 0, n)
}

func record(s *Sim, e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Account == "" {
		e.Account = s.AccountID()
	}
	s.recordEvent(e)
}

// seedBill records a small history whose bill is easy to work out by hand
// (us-east-1 prices from the embedded catalogue):
//   - m5.large tagged team=web, running day -3 00:00 to day -1 12:00:
//     60 h × $0.096 = $5.76 (24 h = $2.304 on each full day, $1.152 on day -1);
//   - gp3 100 GiB at baseline IOPS/throughput from day -2 00:00 on:
//     $8/month ÷ 730 h = $0.010958904/h, i.e. $0.263013699 per day;
//   - an idle Elastic IP in eu-west-1 from day -1 00:00 on: $0.005/h = $0.12 per day;
//   - db.m5.large MySQL, Single-AZ, running day -1 00:00 to 10:00: 10 h × $0.171;
//   - an m5.large of account 210987654321 running all of day -2 ($2.304).
func seedBill(s *Sim) {
	const acct2 = "210987654321"
	inst := Event{Region: "us-east-1", Service: "ec2", ResourceType: "instance", ResourceID: "i-0aaaaaaaaaaaaaaaa", Type: "m5.large", Tags: map[string]string{"team": "web"}}
	e := inst
	e.Time, e.Kind, e.State = day(-3), EventCreated, "pending"
	record(s, e)
	e.Kind, e.State = EventState, "running"
	record(s, e)
	e.Time, e.State = day(-1).Add(12*time.Hour), "stopped"
	record(s, e)
	record(s, Event{Time: day(-2), Region: "us-east-1", Service: "ec2", ResourceType: "volume", ResourceID: "vol-0aaaaaaaaaaaaaaaa",
		Kind: EventCreated, State: "available", Type: "gp3", SizeGiB: 100, Iops: 3000, Throughput: 125})
	record(s, Event{Time: day(-1), Region: "eu-west-1", Service: "ec2", ResourceType: "address", ResourceID: "eipalloc-0aaaaaaaaaaaaaaaa",
		Kind: EventCreated, State: "unassociated"})
	db := Event{Region: "us-east-1", Service: "rds", ResourceType: "db-instance", ResourceID: "orders", Type: "db.m5.large",
		Attrs: map[string]string{"engine": "mysql", "multi-az": "false"}}
	e = db
	e.Time, e.Kind, e.State = day(-1), EventCreated, "available"
	record(s, e)
	e.Time, e.Kind, e.State = day(-1).Add(10*time.Hour), EventState, "stopped"
	record(s, e)
	other := Event{Account: acct2, Region: "us-east-1", Service: "ec2", ResourceType: "instance", ResourceID: "i-0bbbbbbbbbbbbbbbb", Type: "m5.large"}
	e = other
	e.Time, e.Kind, e.State = day(-2), EventCreated, "running"
	record(s, e)
	e.Time, e.Kind, e.State = day(-1), EventDeleted, "terminated"
	record(s, e)
}

func amount(t *testing.T, m map[string]cetypes.MetricValue, metric string) float64 {
	t.Helper()
	v, ok := m[metric]
	if !ok {
		t.Fatalf("metric %s missing from %v", metric, m)
	}
	if aws.ToString(v.Unit) != "USD" {
		t.Errorf("%s unit %q, want USD", metric, aws.ToString(v.Unit))
	}
	f, err := strconv.ParseFloat(aws.ToString(v.Amount), 64)
	if err != nil {
		t.Fatalf("%s amount %q: %v", metric, aws.ToString(v.Amount), err)
	}
	return f
}

func near6(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestCostAndUsageDailyBySERVICE(t *testing.T) {
	h := newHarness(t, 0)
	seedBill(h.sim)
	out, err := ceClient(h).GetCostAndUsage(context.Background(), &costexplorer.GetCostAndUsageInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(day(-3).Format(time.DateOnly)), End: aws.String(day(0).Format(time.DateOnly))},
		Granularity: cetypes.GranularityDaily, Metrics: []string{"UnblendedCost", "AmortizedCost"},
		GroupBy: []cetypes.GroupDefinition{{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("SERVICE")}},
	})
	if err != nil {
		t.Fatalf("GetCostAndUsage: %v", err)
	}
	h.checkLast(t, "ce", "GetCostAndUsage")
	ex, _ := h.rec.Last()
	canary{method: http.MethodPost, path: "/", contentType: "application/x-amz-json-1.1"}.check(t, ex)
	if tgt := ex.Header.Get("X-Amz-Target"); tgt != "AWSInsightsIndexService.GetCostAndUsage" {
		t.Errorf("X-Amz-Target = %q", tgt)
	}
	volDay := 8.0 / 730 * 24
	want := []map[string]float64{
		{ceServiceEC2Compute: 2.304},
		{ceServiceEC2Compute: 2.304 + 2.304, ceServiceEC2Other: volDay},
		{ceServiceEC2Compute: 1.152, ceServiceEC2Other: volDay + 0.12, ceServiceRDS: 1.71},
	}
	if len(out.ResultsByTime) != 3 {
		t.Fatalf("%d days, want 3", len(out.ResultsByTime))
	}
	for i, r := range out.ResultsByTime {
		if got := aws.ToString(r.TimePeriod.Start); got != day(i-3).Format(time.DateOnly) {
			t.Errorf("day %d starts %s", i, got)
		}
		if len(r.Groups) != len(want[i]) {
			t.Errorf("day %d: %d groups %+v, want %v", i, len(r.Groups), r.Groups, want[i])
			continue
		}
		for _, g := range r.Groups {
			svc := g.Keys[0]
			un, am := amount(t, g.Metrics, "UnblendedCost"), amount(t, g.Metrics, "AmortizedCost")
			if !near6(un, want[i][svc]) || un != am {
				t.Errorf("day %d %s: unblended %v amortized %v, want %v", i, svc, un, am, want[i][svc])
			}
		}
	}
	if len(out.GroupDefinitions) != 1 || aws.ToString(out.GroupDefinitions[0].Key) != "SERVICE" {
		t.Errorf("GroupDefinitions %+v", out.GroupDefinitions)
	}
}

func TestCostAndUsageMonthlyTwoGroupsAndFilter(t *testing.T) {
	h := newHarness(t, 0)
	seedBill(h.sim)
	period := &cetypes.DateInterval{Start: aws.String("2026-02-01"), End: aws.String("2026-04-01")}
	out, err := ceClient(h).GetCostAndUsage(context.Background(), &costexplorer.GetCostAndUsageInput{
		TimePeriod: period, Granularity: cetypes.GranularityMonthly, Metrics: []string{"UnblendedCost"},
		GroupBy: []cetypes.GroupDefinition{
			{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("LINKED_ACCOUNT")},
			{Type: cetypes.GroupDefinitionTypeTag, Key: aws.String("team")},
		},
	})
	if err != nil {
		t.Fatalf("GetCostAndUsage: %v", err)
	}
	h.checkLast(t, "ce", "GetCostAndUsage")
	if len(out.ResultsByTime) != 2 || len(out.ResultsByTime[0].Groups) != 0 {
		t.Fatalf("want February empty and March billed: %+v", out.ResultsByTime)
	}
	march := out.ResultsByTime[1]
	if !march.Estimated {
		t.Error("the current month is not marked Estimated")
	}
	// Until now (day 0 10:00): the volume ran 58 h and the address 34 h.
	untagged := 58*8.0/730 + 34*0.005 + 1.71
	want := map[[2]string]float64{
		{h.sim.AccountID(), "team$web"}: 5.76,
		{h.sim.AccountID(), "team$"}:    untagged,
		{"210987654321", "team$"}:       2.304,
	}
	if len(march.Groups) != len(want) {
		t.Fatalf("groups %+v, want %v", march.Groups, want)
	}
	for _, g := range march.Groups {
		k := [2]string{g.Keys[0], g.Keys[1]}
		if got := amount(t, g.Metrics, "UnblendedCost"); !near6(got, want[k]) {
			t.Errorf("%v: %v, want %v", k, got, want[k])
		}
	}
	// A filter on region and service leaves the idle address alone.
	out, err = ceClient(h).GetCostAndUsage(context.Background(), &costexplorer.GetCostAndUsageInput{
		TimePeriod: period, Granularity: cetypes.GranularityMonthly, Metrics: []string{"UnblendedCost"},
		Filter: &cetypes.Expression{And: []cetypes.Expression{
			{Dimensions: &cetypes.DimensionValues{Key: cetypes.DimensionRegion, Values: []string{"eu-west-1"}}},
			{Not: &cetypes.Expression{Dimensions: &cetypes.DimensionValues{Key: cetypes.DimensionService, Values: []string{ceServiceRDS}}}},
		}},
	})
	if err != nil {
		t.Fatalf("filtered GetCostAndUsage: %v", err)
	}
	h.checkLast(t, "ce", "GetCostAndUsage")
	if got := amount(t, out.ResultsByTime[1].Total, "UnblendedCost"); !near6(got, 34*0.005) {
		t.Errorf("eu-west-1 total %v, want %v", got, 34*0.005)
	}
}

func TestCostAndUsagePagination(t *testing.T) {
	h := newHarness(t, 0)
	seedBill(h.sim)
	old := ceMaxGroupsPerPage
	ceMaxGroupsPerPage = 2
	t.Cleanup(func() { ceMaxGroupsPerPage = old })
	in := &costexplorer.GetCostAndUsageInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(day(-3).Format(time.DateOnly)), End: aws.String(day(1).Format(time.DateOnly))},
		Granularity: cetypes.GranularityDaily, Metrics: []string{"UnblendedCost"},
		GroupBy: []cetypes.GroupDefinition{{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("SERVICE")}},
	}
	var days []string
	pages := 0
	for {
		out, err := ceClient(h).GetCostAndUsage(context.Background(), in)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		h.checkLast(t, "ce", "GetCostAndUsage")
		pages++
		for _, r := range out.ResultsByTime {
			days = append(days, aws.ToString(r.TimePeriod.Start))
		}
		if out.NextPageToken == nil {
			break
		}
		in.NextPageToken = out.NextPageToken
	}
	// Groups per day: 1, 2, 3, 1 (day 0 has only EC2 - Other). At most two
	// groups a page unless one day alone has more: one day per page.
	if pages != 4 || len(days) != 4 || days[0] != day(-3).Format(time.DateOnly) || days[3] != day(0).Format(time.DateOnly) {
		t.Errorf("%d pages over days %v", pages, days)
	}
	in.NextPageToken = aws.String("garbage")
	_, err := ceClient(h).GetCostAndUsage(context.Background(), in)
	wantAPIError(t, err, "InvalidNextTokenException", 400)
}

func TestCostExplorerErrors(t *testing.T) {
	h := newHarness(t, 0)
	period := &cetypes.DateInterval{Start: aws.String("2026-03-01"), End: aws.String("2026-03-04")}
	_, err := ceClient(h).GetCostAndUsage(context.Background(), &costexplorer.GetCostAndUsageInput{
		TimePeriod: period, Granularity: cetypes.GranularityDaily, Metrics: []string{"UnblendedCost"}})
	wantAPIError(t, err, "DataUnavailableException", 400)
	h.checkLast(t, "ce", "GetCostAndUsage")
	seedBill(h.sim)
	three := []cetypes.GroupDefinition{
		{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("SERVICE")},
		{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("REGION")},
		{Type: cetypes.GroupDefinitionTypeTag, Key: aws.String("team")},
	}
	for name, in := range map[string]*costexplorer.GetCostAndUsageInput{
		"three group-bys": {TimePeriod: period, Granularity: cetypes.GranularityDaily, Metrics: []string{"UnblendedCost"}, GroupBy: three},
		"end before start": {TimePeriod: &cetypes.DateInterval{Start: aws.String("2026-03-04"), End: aws.String("2026-03-01")},
			Granularity: cetypes.GranularityDaily, Metrics: []string{"UnblendedCost"}},
		"bad date":       {TimePeriod: &cetypes.DateInterval{Start: aws.String("03/01/2026"), End: aws.String("2026-03-04")}, Granularity: cetypes.GranularityDaily, Metrics: []string{"UnblendedCost"}},
		"unknown metric": {TimePeriod: period, Granularity: cetypes.GranularityDaily, Metrics: []string{"Profit"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ceClient(h).GetCostAndUsage(context.Background(), in)
			wantAPIError(t, err, "ValidationException", 400)
			h.checkLast(t, "ce", "GetCostAndUsage")
		})
	}
}

func TestCostExplorerRateLimit(t *testing.T) {
	clock := NewManualClock(harnessEpoch)
	sim, err := New(Options{Seed: 7, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	seedBill(sim)
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	rec := &awstest.RecordingTransport{}
	c := costexplorer.NewFromConfig(sdkConfig(srv.URL, "us-east-1", rec))
	in := &costexplorer.GetCostAndUsageInput{TimePeriod: &cetypes.DateInterval{Start: aws.String("2026-03-01"), End: aws.String("2026-03-04")},
		Granularity: cetypes.GranularityDaily, Metrics: []string{"UnblendedCost"}}
	for i := range 5 {
		if _, err := c.GetCostAndUsage(context.Background(), in); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	_, err = c.GetCostAndUsage(context.Background(), in)
	wantAPIError(t, err, "LimitExceededException", 400)
	ex, _ := rec.Last()
	if _, verr := awstest.RequireModel(t, "ce").ValidateError(ex.Status, ex.RespHeader, ex.RespBody); verr != nil {
		t.Error(verr)
	}
}

func TestCostForecastExtendsWhatRuns(t *testing.T) {
	h := newHarness(t, 0)
	seedBill(h.sim)
	// Still running at day 0 10:00: the volume and the idle address.
	rate := 8.0/730 + 0.005
	out, err := ceClient(h).GetCostForecast(context.Background(), &costexplorer.GetCostForecastInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(day(0).Format(time.DateOnly)), End: aws.String(day(3).Format(time.DateOnly))},
		Granularity: cetypes.GranularityDaily, Metric: cetypes.MetricUnblendedCost, PredictionIntervalLevel: aws.Int32(90),
	})
	if err != nil {
		t.Fatalf("GetCostForecast: %v", err)
	}
	h.checkLast(t, "ce", "GetCostForecast")
	ex, _ := h.rec.Last()
	if tgt := ex.Header.Get("X-Amz-Target"); tgt != "AWSInsightsIndexService.GetCostForecast" {
		t.Errorf("X-Amz-Target = %q", tgt)
	}
	if len(out.ForecastResultsByTime) != 3 {
		t.Fatalf("%d forecast days, want 3", len(out.ForecastResultsByTime))
	}
	wantDays := []float64{14 * rate, 24 * rate, 24 * rate}
	var total float64
	for i, r := range out.ForecastResultsByTime {
		mean, _ := strconv.ParseFloat(aws.ToString(r.MeanValue), 64)
		lo, _ := strconv.ParseFloat(aws.ToString(r.PredictionIntervalLowerBound), 64)
		hi, _ := strconv.ParseFloat(aws.ToString(r.PredictionIntervalUpperBound), 64)
		if !near6(mean, wantDays[i]) || !(lo < mean && mean < hi) || !near6(hi-mean, mean*0.18) {
			t.Errorf("day %d: mean %v [%v, %v], want mean %v ± 18 %%", i, mean, lo, hi, wantDays[i])
		}
		total += wantDays[i]
	}
	if got := amount(t, map[string]cetypes.MetricValue{"t": *out.Total}, "t"); !near6(got, total) {
		t.Errorf("total %v, want %v", got, total)
	}
	_, err = ceClient(h).GetCostForecast(context.Background(), &costexplorer.GetCostForecastInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(day(-2).Format(time.DateOnly)), End: aws.String(day(3).Format(time.DateOnly))},
		Granularity: cetypes.GranularityDaily, Metric: cetypes.MetricUnblendedCost,
	})
	wantAPIError(t, err, "ValidationException", 400)
}

func FuzzCostExplorerJSON(f *testing.F) {
	sim := fuzzSim(f)
	seedBill(sim)
	model := awstest.RequireModel(f, "ce")
	f.Add("GetCostAndUsage", `{"TimePeriod":{"Start":"2026-03-01","End":"2026-03-04"},"Granularity":"DAILY","Metrics":["UnblendedCost"],"GroupBy":[{"Type":"TAG","Key":"team"}],"Filter":{"Or":[{"Tags":{"Key":"team","Values":["web"]}},{"Not":{"Dimensions":{"Key":"REGION","Values":["x"]}}}]}}`)
	f.Add("GetCostForecast", `{"TimePeriod":{"Start":"2026-03-04","End":"2026-03-06"},"Granularity":"DAILY","Metric":"UNBLENDED_COST"}`)
	f.Add("GetCostAndUsage", `{"Filter":{}}`)
	f.Fuzz(func(t *testing.T, op, body string) {
		req := signedRequest(http.MethodPost, "http://sim/", "ce", body)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AWSInsightsIndexService."+op)
		rr := httptest.NewRecorder()
		sim.Handler().ServeHTTP(rr, req)
		if rr.Code == http.StatusOK {
			if err := model.ValidateResponse(op, rr.Body.Bytes()); err != nil {
				t.Fatalf("response: %v", err)
			}
			return
		}
		if rr.Code >= 500 {
			t.Fatalf("server error %d: %s", rr.Code, rr.Body.Bytes())
		}
		if _, err := model.ValidateError(rr.Code, rr.Header(), rr.Body.Bytes()); err != nil {
			t.Fatalf("error envelope: %v\n%s", err, rr.Body.Bytes())
		}
	})
}
