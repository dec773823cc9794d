package awssim

import (
	"slices"
	"testing"
	"time"
)

// TestProfilesShape checks each profile's utilisation over a week of
// minutes against the answer the optimizer is expected to reach.
func TestProfilesShape(t *testing.T) {
	week := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday
	stats := func(p Profile, seed int64, keep func(time.Time) bool) (mean, p95, maxv float64) {
		var xs []float64
		for m := 0; m < 7*24*60; m++ {
			ts := week.Add(time.Duration(m) * time.Minute)
			if keep != nil && !keep(ts) {
				continue
			}
			v := p.CPUAt(seed, ts)
			if v < 0 || v > 100 {
				t.Fatalf("%s: CPU %v out of range", p, v)
			}
			xs = append(xs, v)
		}
		slices.Sort(xs)
		sum := 0.0
		for _, x := range xs {
			sum += x
		}
		return sum / float64(len(xs)), xs[len(xs)*95/100], xs[len(xs)-1]
	}
	if _, p95, _ := stats(ProfileIdle, 1, nil); p95 >= 5 {
		t.Errorf("idle p95 = %.1f, want < 5", p95)
	}
	if _, p95, _ := stats(ProfileOverProvisioned, 1, nil); p95 >= 20 || p95 < 5 {
		t.Errorf("over-provisioned p95 = %.1f, want 5..20", p95)
	}
	if mean, _, _ := stats(ProfileRightSized, 1, nil); mean < 40 || mean > 70 {
		t.Errorf("right-sized mean = %.1f, want 40..70", mean)
	}
	if mean, _, maxv := stats(ProfileSpiky, 1, nil); mean > 25 || maxv < 80 {
		t.Errorf("spiky mean %.1f max %.1f, want a low mean with bursts above 80", mean, maxv)
	}
	work, _, _ := stats(ProfileBusinessHours, 1, businessHours)
	off, _, _ := stats(ProfileBusinessHours, 1, func(ts time.Time) bool { return !businessHours(ts) })
	if work < 50 || off > 5 {
		t.Errorf("business-hours: %.1f in hours, %.1f outside, want >= 50 and <= 5", work, off)
	}
	// Deterministic in (seed, time), different across seeds.
	at := week.Add(90 * time.Minute)
	if ProfileRightSized.CPUAt(3, at) != ProfileRightSized.CPUAt(3, at) {
		t.Fatal("CPUAt is not deterministic")
	}
	if ProfileRightSized.CPUAt(3, at) == ProfileRightSized.CPUAt(4, at) {
		t.Error("seeds 3 and 4 give the same value")
	}
	in, out := ProfileIdle.NetworkAt(1, at)
	bin, bout := ProfileRightSized.NetworkAt(1, at)
	if in <= 0 || out <= 0 || bin <= in || bout <= out {
		t.Errorf("network: idle %.0f/%.0f, right-sized %.0f/%.0f; want busy > idle > 0", in, out, bin, bout)
	}
	if _, err := ParseProfile("lazy"); err == nil {
		t.Error("unknown profile accepted")
	}
}
