package optimizer

import "strings"

// burstableBaseline is the baseline CPU utilisation per vCPU, in percent,
// that a burstable instance sustains on the credits it earns, by size.
// t3, t3a and t4g (and the db.t3/db.t4g RDS classes built on them) share
// these figures. Source:
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/burstable-credits-baseline-concepts.html
var burstableBaseline = map[string]map[string]float64{
	"t3":  {"nano": 5, "micro": 10, "small": 20, "medium": 20, "large": 30, "xlarge": 40, "2xlarge": 40},
	"t3a": {"nano": 5, "micro": 10, "small": 20, "medium": 20, "large": 30, "xlarge": 40, "2xlarge": 40},
	"t4g": {"nano": 5, "micro": 10, "small": 20, "medium": 20, "large": 30, "xlarge": 40, "2xlarge": 40},
}

// baselinePercent returns the baseline of a burstable type ("t3.large" or
// "db.t3.large"); false for a type not in the table, which is then never
// proposed.
func baselinePercent(name string) (float64, bool) {
	family, size, ok := strings.Cut(strings.TrimPrefix(name, "db."), ".")
	if !ok {
		return 0, false
	}
	b, ok := burstableBaseline[family][size]
	return b, ok
}
