package awssim

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
)

// statKind is a GetMetricData statistic.
type statKind int

const (
	statAverage statKind = iota
	statMinimum
	statMaximum
	statSum
	statSampleCount
	statPercentile
)

// statistic is a parsed MetricStat.Stat.
type statistic struct {
	kind statKind
	// pct is the percentile in (0, 100] for statPercentile.
	pct float64
}

var percentilePattern = regexp.MustCompile(`^p([0-9]{1,2}(\.[0-9]{1,2})?|100(\.0{1,2})?)$`)

// parseStatistic accepts the five standard statistics and percentiles
// pNN, pNN.N and pNN.NN. The other extended statistics AWS knows (tm, wm,
// tc, ts, pr, IQM) are not simulated and are rejected by name.
func parseStatistic(s string) (statistic, error) {
	switch s {
	case "Average":
		return statistic{kind: statAverage}, nil
	case "Minimum":
		return statistic{kind: statMinimum}, nil
	case "Maximum":
		return statistic{kind: statMaximum}, nil
	case "Sum":
		return statistic{kind: statSum}, nil
	case "SampleCount":
		return statistic{kind: statSampleCount}, nil
	}
	if percentilePattern.MatchString(s) {
		p, err := strconv.ParseFloat(s[1:], 64)
		if err == nil && p > 0 && p <= 100 {
			return statistic{kind: statPercentile, pct: p}, nil
		}
	}
	return statistic{}, fmt.Errorf("statistic %q: want Average, Minimum, Maximum, Sum, SampleCount or a percentile pNN / pNN.N (0 < NN <= 100); other extended statistics are not simulated", s)
}

// sample is one stored observation: a raw value seen count times, or (when
// set is true) a pre-aggregated statistic set from PutMetricData's
// StatisticValues, which carries no individual values.
type sample struct {
	t     int64 // Unix seconds
	value float64
	count float64
	set   bool
	sum   float64
	min   float64
	max   float64
}

// aggregator accumulates the samples of one period.
type aggregator struct {
	count, sum, min, max float64
	// flat keeps raw values seen once, for percentiles; raw keeps those
	// with another count, weighted by it.
	flat []float64
	raw  []weighted
	// blocks are whole days of unit-weight builtin points, each sorted
	// ascending (see dayBlock), kept whole for percentiles.
	blocks [][]float64
}

type weighted struct{ v, w float64 }

func (a *aggregator) reset() {
	a.count, a.sum, a.min, a.max = 0, 0, math.Inf(1), math.Inf(-1)
	a.flat = a.flat[:0]
	a.raw = a.raw[:0]
	a.blocks = a.blocks[:0]
}

// addBlock adds a whole precomputed day of builtin points.
func (a *aggregator) addBlock(b *dayBlock, keepRaw bool) {
	a.count += float64(len(b.sorted))
	a.sum += b.sum
	if b.min < a.min {
		a.min = b.min
	}
	if b.max > a.max {
		a.max = b.max
	}
	if keepRaw {
		a.blocks = append(a.blocks, b.sorted)
	}
}

func (a *aggregator) add(s sample, keepRaw bool) {
	if s.set {
		a.count += s.count
		a.sum += s.sum
		a.min = math.Min(a.min, s.min)
		a.max = math.Max(a.max, s.max)
		return
	}
	a.addValue(s.value, s.count, keepRaw)
}

func (a *aggregator) addValue(v, count float64, keepRaw bool) {
	a.count += count
	a.sum += v * count
	if v < a.min {
		a.min = v
	}
	if v > a.max {
		a.max = v
	}
	if keepRaw {
		if count == 1 {
			a.flat = append(a.flat, v)
		} else {
			a.raw = append(a.raw, weighted{v, count})
		}
	}
}

// addRun adds consecutive raw points seen once each (part of a day block).
func (a *aggregator) addRun(vals []float64, keepRaw bool) {
	for _, v := range vals {
		a.sum += v
		if v < a.min {
			a.min = v
		}
		if v > a.max {
			a.max = v
		}
	}
	a.count += float64(len(vals))
	if keepRaw {
		a.flat = append(a.flat, vals...)
	}
}

// value returns the statistic over the period, false when there is none
// (no samples, or a percentile over statistic sets only).
func (a *aggregator) value(st statistic) (float64, bool) {
	if a.count == 0 {
		return 0, false
	}
	switch st.kind {
	case statAverage:
		return a.sum / a.count, true
	case statMinimum:
		return a.min, true
	case statMaximum:
		return a.max, true
	case statSum:
		return a.sum, true
	case statSampleCount:
		return a.count, true
	}
	if len(a.raw) > 0 {
		// Weighted values (custom metrics with Counts) never meet blocks.
		// A copy: value is asked once per statistic of the same period, and
		// folding flat into raw in place would count it again each time.
		all := make([]weighted, 0, len(a.raw)+len(a.flat))
		all = append(all, a.raw...)
		for _, v := range a.flat {
			all = append(all, weighted{v, 1})
		}
		return nearestRank(all, st.pct)
	}
	// Rank among raw points only: statistic sets carry no values.
	n := len(a.flat)
	for _, b := range a.blocks {
		n += len(b)
	}
	if n == 0 {
		return 0, false
	}
	k := int(nearestRankIndex(st.pct, float64(n)))
	if len(a.blocks) == 0 {
		return quickselect(a.flat, k-1), true
	}
	slices.Sort(a.flat)
	runs := a.blocks
	if len(a.flat) > 0 {
		runs = append(runs, a.flat)
	}
	return kthSmallest(runs, k), true
}

// quickselect returns the (i+1)-th smallest of vals (reordering them) in
// linear expected time; the pivot is the middle element, so sorted input
// stays linear.
func quickselect(vals []float64, i int) float64 {
	lo, hi := 0, len(vals)-1
	for lo < hi {
		pivot := vals[lo+(hi-lo)/2]
		l, r := lo, hi
		for l <= r {
			for vals[l] < pivot {
				l++
			}
			for vals[r] > pivot {
				r--
			}
			if l <= r {
				vals[l], vals[r] = vals[r], vals[l]
				l++
				r--
			}
		}
		switch {
		case i <= r:
			hi = r
		case i >= l:
			lo = l
		default:
			return vals[i]
		}
	}
	return vals[lo]
}

// nearestRankIndex is the 1-based nearest rank of percentile p among n
// values: ceil(p/100 × n), at least 1. The product is rounded first so that
// p/100 × n landing on an integer is not pushed up by binary floating-point
// error (0.95 × 20 = 19.000000000000004).
func nearestRankIndex(p, n float64) float64 {
	return math.Max(1, math.Ceil(math.Round(p/100*n*1e9)/1e9))
}

// kthSmallest returns the k-th smallest (1-based) value across sorted runs,
// walking from whichever end is nearer: p95 of two weeks of 5-minute points
// pops about 200 values instead of sorting 4,032.
func kthSmallest(runs [][]float64, k int) float64 {
	n := 0
	for _, r := range runs {
		n += len(r)
	}
	if len(runs) == 1 {
		return runs[0][k-1]
	}
	fromTop := k > n/2
	steps := k
	if fromTop {
		steps = n - k + 1
	}
	// pos[i] is the next unread index of run i from the chosen end.
	pos := make([]int, len(runs))
	for i, r := range runs {
		if fromTop {
			pos[i] = len(r) - 1
		}
	}
	var v float64
	for range steps {
		best := -1
		for i, r := range runs {
			if pos[i] < 0 || pos[i] >= len(r) {
				continue
			}
			if best < 0 || (fromTop && r[pos[i]] > runs[best][pos[best]]) || (!fromTop && r[pos[i]] < runs[best][pos[best]]) {
				best = i
			}
		}
		v = runs[best][pos[best]]
		if fromTop {
			pos[best]--
		} else {
			pos[best]++
		}
	}
	return v
}

// nearestRank is the percentile definition the simulator uses: sort the raw
// values (each repeated by its count), take the value at 1-based rank
// ceil(p/100 × N). p100 is the maximum; for N = 10 values 1..10, p50 is 5,
// p90 is 9 and p95 is 10. It never interpolates: every answer is a value
// that was actually observed, as CloudWatch's percentiles over raw points
// are, so tests can compute the expected figure by hand.
func nearestRank(vals []weighted, p float64) (float64, bool) {
	var n float64
	for _, w := range vals {
		n += w.w
	}
	if n == 0 {
		return 0, false
	}
	slices.SortFunc(vals, func(a, b weighted) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	rank := nearestRankIndex(p, n)
	var seen float64
	for _, w := range vals {
		seen += w.w
		if seen >= rank {
			return w.v, true
		}
	}
	return vals[len(vals)-1].v, true
}
