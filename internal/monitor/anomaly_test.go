package monitor

import (
	"math"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

var day0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// daily turns amounts into one record per day from day0, for account 1 and
// EC2.
func daily(amounts ...float64) []*sirsiv1.CostRecord {
	out := make([]*sirsiv1.CostRecord, len(amounts))
	for i, a := range amounts {
		out[i] = &sirsiv1.CostRecord{Day: day0.AddDate(0, 0, i).Format(time.DateOnly), AccountId: "111111111111", Service: "EC2", Region: "us-east-1", Amount: money.USDFromFloat(a)}
	}
	return out
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// cycle is 100, 101, 102, 103, 104, 100, ... for n days. Over 28 days:
// six each of 100..102 and five each of 103, 104, so the median is 102;
// the deviations are six 0s, eleven 1s and eleven 2s, so the MAD is 1.
func cycle(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = 100 + float64(i%5)
	}
	return out
}

func TestDetectAnomalies(t *testing.T) {
	type want struct {
		day                     int
		expected, actual, score float64
	}
	for _, c := range []struct {
		name    string
		amounts []float64
		opts    AnomalyOptions
		want    []want
	}{
		{name: "flat", amounts: repeat(100, 40)},
		{name: "too short for a window", amounts: append(cycle(27), 500)},
		// 0.6745 × (200 − 102) / 1 = 66.101.
		{name: "one spike", amounts: append(append(cycle(28), 200), 102, 103), want: []want{{28, 102, 200, 66.101}}},
		// MAD 0 (more than half the window is 50): mean absolute deviation
		// 8 × 10 / 28 = 2.857142857; (100 − 50) / (1.253314 × 2.857142857) = 13.963.
		{name: "MAD zero", amounts: append(append(repeat(50, 20), repeat(60, 8)...), 100), want: []want{{28, 50, 100, 13.963}}},
		// Identical days: any rise is MaxScore.
		{name: "flat then spike", amounts: append(repeat(50, 28), 80), want: []want{{28, 50, 80, MaxScore}}},
		// z = 0.6745 × (110 − 102) = 5.396, but only $8 above the median.
		{name: "below MinDelta", amounts: append(cycle(28), 110)},
		// z = 0.6745 × (107 − 102) = 3.3725 ≤ 3.5 although MinDelta 1 is met.
		{name: "below threshold", amounts: append(cycle(28), 107), opts: AnomalyOptions{MinDelta: 1}},
		// A short window: days 7.. scored against the 7 before. Window of
		// 100..104,100,101: median 101, deviations 1,0,1,2,3,1,0 -> MAD 1;
		// z = 0.6745 × (150 − 101) = 33.0505.
		{name: "custom window", amounts: append(cycle(7), 150), opts: AnomalyOptions{Window: 7}, want: []want{{7, 101, 150, 33.0505}}},
		// A drop to $0 is not what this detector reports.
		{name: "drop is not a rise", amounts: append(cycle(28), 0)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := DetectAnomalies(daily(c.amounts...), c.opts, day0.AddDate(0, 2, 0))
			if len(got) != len(c.want) {
				t.Fatalf("%d anomalies, want %d: %v", len(got), len(c.want), got)
			}
			for i, w := range c.want {
				g := got[i]
				day := day0.AddDate(0, 0, w.day).Format(time.DateOnly)
				if g.GetDay() != day || g.GetService() != "EC2" || money.FloatOr(g.GetExpectedAmount(), math.NaN()) != w.expected || money.FloatOr(g.GetActualAmount(), math.NaN()) != w.actual {
					t.Errorf("anomaly %v, want day %s expected %v actual %v", g, day, w.expected, w.actual)
				}
				if math.Abs(g.GetScore()-w.score) > 1e-3 {
					t.Errorf("score %v, want %v", g.GetScore(), w.score)
				}
				if !g.GetDetectTime().AsTime().Equal(day0.AddDate(0, 2, 0)) {
					t.Errorf("detect time %v", g.GetDetectTime().AsTime())
				}
			}
		})
	}
}

func TestDetectAnomaliesGroupsAndIDs(t *testing.T) {
	recs := daily(append(cycle(28), 200)...)
	// The spike day's spend split over two regions still sums to 200.
	spike := recs[28]
	spike.Amount = money.USDFromFloat(150)
	recs = append(recs, &sirsiv1.CostRecord{Day: spike.GetDay(), AccountId: spike.GetAccountId(), Service: "EC2", Region: "eu-west-1", Amount: money.USDFromFloat(50)})
	// Tag records are another cut of the same spend and must not add up.
	recs = append(recs, &sirsiv1.CostRecord{Day: spike.GetDay(), AccountId: spike.GetAccountId(), Tags: map[string]string{"team": "web"}, Amount: money.USDFromFloat(5000)})
	// Another account's flat spend is its own series.
	for i := range 29 {
		recs = append(recs, &sirsiv1.CostRecord{Day: day0.AddDate(0, 0, i).Format(time.DateOnly), AccountId: "222222222222", Service: "EC2", Amount: money.USDFromFloat(100)})
	}
	a := DetectAnomalies(recs, AnomalyOptions{}, day0)
	b := DetectAnomalies(recs, AnomalyOptions{}, day0.Add(time.Hour))
	if len(a) != 1 || money.FloatOr(a[0].GetActualAmount(), math.NaN()) != 200 {
		t.Fatalf("anomalies %v, want the one spike of 200", a)
	}
	if a[0].GetId() == "" || a[0].GetId() != b[0].GetId() {
		t.Errorf("ids %q and %q: a re-detection must keep the id", a[0].GetId(), b[0].GetId())
	}
	if anomalyID("222222222222", "EC2", a[0].GetDay()) == a[0].GetId() || anomalyID("111111111111", "EC2", "2026-01-30") == a[0].GetId() {
		t.Error("ids of other accounts or days collide")
	}
}
