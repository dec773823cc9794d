package loadgen

import (
	"math"
	"slices"
	"time"
)

// Percentile is the q-quantile (0 < q <= 1) of sorted by the nearest-rank
// method: the smallest value at or below which at least q of the values
// lie. So the p99 of 100 values is the 99th, and of 1000 the 990th. Zero
// for no values.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Spread is a figure over several runs: the median run's and the lowest
// and highest run's. docs/benchmarks.md quotes the median, never the best.
type Spread struct {
	Median, Min, Max float64
}

// SpreadOf is the median (the mean of the middle two for an even count),
// minimum and maximum of v; zero for no values.
func SpreadOf(v []float64) Spread {
	if len(v) == 0 {
		return Spread{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{Median: m, Min: s[0], Max: s[len(s)-1]}
}

// Ms is d in milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
