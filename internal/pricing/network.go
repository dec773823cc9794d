package pricing

import (
	"fmt"
	"strconv"
	"strings"
)

// Ranks of the words AWS used before it quoted bandwidth in Gigabit.
var legacyNetwork = map[string]int{
	"Very Low":        1,
	"Low":             2,
	"Low to Moderate": 3,
	"Moderate":        4,
	"High":            5,
}

// NetworkRank turns the AWS networkPerformance text into an orderable rank:
// the legacy words rank lowest, then burstable "Up to N Gigabit" classes by
// N, then sustained "N Gigabit" classes by N. Every "Up to" class ranks
// below every sustained one because its baseline is a fraction of the
// burst figure (an "Up to 12.5 Gigabit" instance sustains less than a
// "10 Gigabit" one).
func NetworkRank(perf string) (int, error) {
	if r, ok := legacyNetwork[perf]; ok {
		return r, nil
	}
	text, upTo := strings.CutPrefix(perf, "Up to ")
	num, ok := strings.CutSuffix(text, " Gigabit")
	if !ok {
		return 0, fmt.Errorf("%w: network performance %q: want \"N Gigabit\", \"Up to N Gigabit\" or a legacy class", ErrInvalidInput, perf)
	}
	g, err := strconv.ParseFloat(num, 64)
	if err != nil || !(g > 0 && g <= 10000) {
		return 0, fmt.Errorf("%w: network performance %q: bad bandwidth %q", ErrInvalidInput, perf, num)
	}
	// Hundredths of a Gigabit keep "18.75" distinct from "18.7".
	rank := int(g*100 + 0.5)
	if upTo {
		return 100 + rank, nil
	}
	return 10_000_000 + rank, nil
}
