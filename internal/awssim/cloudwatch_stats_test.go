package awssim

import (
	"math"
	"slices"
	"testing"
)

func TestStatisticsHandComputed(t *testing.T) {
	var a aggregator
	a.reset()
	for v := 1.0; v <= 10; v++ {
		a.addValue(v, 1, true)
	}
	cases := map[string]float64{
		"Average": 5.5, "Minimum": 1, "Maximum": 10, "Sum": 55, "SampleCount": 10,
		// nearest rank: ceil(p/100 × 10)
		"p50": 5, "p90": 9, "p95": 10, "p10": 1, "p0.1": 1, "p99.9": 10, "p100": 10, "p55.5": 6,
	}
	for stat, want := range cases {
		st, err := parseStatistic(stat)
		if err != nil {
			t.Fatalf("parseStatistic(%q): %v", stat, err)
		}
		got, ok := a.value(st)
		if !ok || math.Abs(got-want) > 1e-12 {
			t.Errorf("%s over 1..10 = %v, %v; want %v", stat, got, ok, want)
		}
	}
}

func TestPercentileWeightsAndStatisticSets(t *testing.T) {
	var a aggregator
	a.reset()
	// 3 seen four times, 7 once: N = 5.
	a.add(sample{value: 3, count: 4}, true)
	a.add(sample{value: 7, count: 1}, true)
	for stat, want := range map[string]float64{"p80": 3, "p81": 7, "Average": 19.0 / 5, "SampleCount": 5} {
		st, _ := parseStatistic(stat)
		if got, ok := a.value(st); !ok || math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %v, %v; want %v", stat, got, ok, want)
		}
	}
	// 20 values: p95 is the 19th (0.95 × 20 is exactly 19 despite float error).
	a.reset()
	for v := 1.0; v <= 20; v++ {
		a.addValue(v, 1, true)
	}
	st, _ := parseStatistic("p95")
	if got, _ := a.value(st); got != 19 {
		t.Errorf("p95 of 1..20 = %v, want 19", got)
	}
	// A statistic set carries no raw values: it counts for the standard
	// statistics, but a percentile over statistic sets only has no value.
	a.reset()
	a.add(sample{set: true, count: 4, sum: 40, min: 2, max: 20}, true)
	avg, _ := parseStatistic("Average")
	if got, ok := a.value(avg); !ok || got != 10 {
		t.Errorf("Average of a statistic set = %v, %v; want 10", got, ok)
	}
	p50, _ := parseStatistic("p50")
	if _, ok := a.value(p50); ok {
		t.Error("p50 over statistic sets only returned a value")
	}
	a.reset()
	if _, ok := a.value(avg); ok {
		t.Error("Average of nothing returned a value")
	}
}

func TestParseStatisticRejects(t *testing.T) {
	for _, s := range []string{"", "average", "p", "p0", "p101", "p99.999", "p-1", "tm99", "IQM", "p 50", "p1e1"} {
		if _, err := parseStatistic(s); err == nil {
			t.Errorf("parseStatistic(%q) accepted", s)
		}
	}
}

func TestPercentileAcrossBlocksMatchesRaw(t *testing.T) {
	// Three "days" of values merged as blocks must give the same
	// percentiles as the same values added one by one.
	days := [][]float64{{5, 1, 9, 3}, {2, 8, 8, 4}, {7, 6, 0, 10}}
	var blocks, raw aggregator
	blocks.reset()
	raw.reset()
	for _, d := range days {
		b := &dayBlock{byTime: d, sorted: slices.Sorted(slices.Values(d)), min: slices.Min(d), max: slices.Max(d)}
		for _, v := range d {
			b.sum += v
			raw.addValue(v, 1, true)
		}
		blocks.addBlock(b, true)
	}
	// One more loose point next to the blocks.
	blocks.addValue(11, 1, true)
	raw.addValue(11, 1, true)
	for _, stat := range []string{"p1", "p25", "p50", "p51", "p75", "p92.3", "p99", "p100", "Average", "Sum", "Minimum", "Maximum", "SampleCount"} {
		st, _ := parseStatistic(stat)
		b, okB := blocks.value(st)
		r, okR := raw.value(st)
		if !okB || !okR || b != r {
			t.Errorf("%s: blocks %v (%v), raw %v (%v)", stat, b, okB, r, okR)
		}
	}
	// 13 values 0..11 with 8 twice: p50 is the 7th smallest, 6.
	p50, _ := parseStatistic("p50")
	if v, _ := blocks.value(p50); v != 6 {
		t.Errorf("p50 = %v, want 6", v)
	}
}
