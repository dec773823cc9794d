package monitor

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"sort"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

// AnomalyOptions tune DetectAnomalies; zero fields take the defaults.
type AnomalyOptions struct {
	// Window is the number of trailing days a day is compared with;
	// default 28.
	Window int
	// Threshold is the robust z-score above which a day is anomalous;
	// default 3.5 (Iglewicz and Hoaglin's cut-off).
	Threshold float64
	// MinDelta is how many USD above the window's median a day must be;
	// default 10, so a $0.40 service doubling is not news.
	MinDelta float64
}

// MaxScore is the score of a rise after a window of identical days: any
// rise is then infinitely unusual, and the score stays a finite number that
// every encoder and database accepts.
const MaxScore = 1e6

// meanADScale turns a mean absolute deviation into a standard deviation
// estimate for normal data (sqrt(pi/2)); used when the MAD is 0.
const meanADScale = 1.253314

// DetectAnomalies sums records per (account, service, day), and for each
// day after the first Window days scores it against the Window days before
// it: 0.6745*(x-median)/MAD. When more than half the window is the same
// figure the MAD is 0; the score then uses the mean absolute deviation,
// (x-median)/(1.253314*meanAD), and a window of identical days gives
// MaxScore to any rise. Days scoring above Threshold and at least MinDelta
// above the median are reported, with the median as the expected amount.
// Days missing from the records count as 0. Tag-grouped records (Tags set)
// are another cut of the same spend and are left out. Anomaly ids hash
// account, service and day, so a re-report of the same anomaly is
// idempotent; the caller fills in tenant and cloud account.
func DetectAnomalies(records []*sirsiv1.CostRecord, o AnomalyOptions, now time.Time) []*sirsiv1.CostAnomaly {
	if o.Window <= 0 {
		o.Window = 28
	}
	if o.Threshold <= 0 {
		o.Threshold = 3.5
	}
	if o.MinDelta <= 0 {
		o.MinDelta = 10
	}
	type key struct{ account, service string }
	sums := map[key]map[time.Time]float64{}
	currency := map[key]string{}
	for _, r := range records {
		amount, known := money.Float(r.GetAmount())
		if len(r.GetTags()) > 0 || !known {
			continue
		}
		d, err := time.Parse(time.DateOnly, r.GetDay())
		if err != nil {
			continue
		}
		k := key{r.GetAccountId(), r.GetService()}
		if sums[k] == nil {
			sums[k] = map[time.Time]float64{}
		}
		sums[k][d] += amount
		currency[k] = r.GetAmount().GetCurrencyCode()
	}
	keys := make([]key, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].account != keys[j].account {
			return keys[i].account < keys[j].account
		}
		return keys[i].service < keys[j].service
	})
	detect := timestamppb.New(now)
	var out []*sirsiv1.CostAnomaly
	for _, k := range keys {
		byDay := sums[k]
		first, last := time.Time{}, time.Time{}
		for d := range byDay {
			if first.IsZero() || d.Before(first) {
				first = d
			}
			if d.After(last) {
				last = d
			}
		}
		var series []float64
		for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
			series = append(series, byDay[d])
		}
		for i := o.Window; i < len(series); i++ {
			x := series[i]
			med, score := robustZ(series[i-o.Window:i], x)
			if score <= o.Threshold || x-med < o.MinDelta {
				continue
			}
			day := first.AddDate(0, 0, i).Format(time.DateOnly)
			out = append(out, &sirsiv1.CostAnomaly{Id: anomalyID(k.account, k.service, day), Day: day, Service: k.service,
				ExpectedAmount: money.FromFloatOrUnknown(med, currency[k]), ActualAmount: money.FromFloatOrUnknown(x, currency[k]), Score: score, DetectTime: detect})
		}
	}
	return out
}

// robustZ returns the window's median and x's robust z-score against it.
func robustZ(window []float64, x float64) (median, score float64) {
	median = medianOf(window)
	dev := make([]float64, len(window))
	var sumAD float64
	for i, v := range window {
		dev[i] = math.Abs(v - median)
		sumAD += dev[i]
	}
	if mad := medianOf(dev); mad > 0 {
		return median, 0.6745 * (x - median) / mad
	}
	if meanAD := sumAD / float64(len(window)); meanAD > 0 {
		return median, (x - median) / (meanADScale * meanAD)
	}
	switch {
	case x > median:
		return median, MaxScore
	case x < median:
		return median, -MaxScore
	}
	return median, 0
}

func medianOf(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func anomalyID(account, service, day string) string {
	h := sha256.Sum256([]byte(account + "\x00" + service + "\x00" + day))
	return "anom-" + hex.EncodeToString(h[:16])
}
