package ledger

import (
	"math"
	"sort"
	"time"
)

// Reconciliation: where Cost Explorer bills a resource per day
// (GetCostAndUsageWithResources), an entry's saving is what the bill shows
// rather than what the prices said. The baseline is the resource's cost on
// the latest complete day before the change on which no entry of it was in
// effect; on each later day the bill shows (baseline - that day's cost)
// saved, shared among the entries in effect that day by their estimated
// savings that day (by their hours when an estimate is unknown). An entry's
// reconciled hourly saving is its share over the days the bill covers,
// divided by its hours in them; it then accrues at that rate.

// Why an entry is still an estimate.
const (
	// NoteNotReported: no resource-level cost of the resource has reached
	// the control plane (Cost Explorer bills EC2 instances per resource;
	// volumes, addresses, databases and functions stay estimates).
	NoteNotReported = ""
	// NoteNoBaseline: Cost Explorer's resource-level days (14 of them) hold
	// no complete day before the change free of the resource's entries.
	NoteNoBaseline = "no day before the change in Cost Explorer's resource-level data (it keeps 14 days)"
	// NoteNoDayYet: the bill has no complete day since the change yet.
	NoteNoDayYet = "no complete day since the change in Cost Explorer's resource-level data yet"
	// NoteUnavailablePrefix starts the note of an account whose Cost
	// Explorer gave no resource-level data; the agent's reason follows.
	NoteUnavailablePrefix = "Cost Explorer has no resource-level data: "
)

// DescribeNote is how the summary names the reason of a note.
func DescribeNote(note string) string {
	if note == NoteNotReported {
		return "no resource-level cost from Cost Explorer for the resource (it bills EC2 instances per resource)"
	}
	return note
}

// Day is 24 hours: Cost Explorer's days are UTC dates.
const Day = 24 * time.Hour

// BilledEntry is an entry of the resource being reconciled.
type BilledEntry struct {
	ID string
	// Closed is zero while the entry is open.
	Opened, Closed time.Time
	// EstimatedHourly is the estimated saving per hour in micro-units,
	// valid when Estimated.
	EstimatedHourly int64
	Estimated       bool
}

// Reconciled is one entry's outcome: Verified with the hourly saving the
// bill shows, or Note saying why not.
type Reconciled struct {
	Verified      bool
	HourlySavings int64
	Note          string
}

// Reconcile verifies the entries of one resource (none rolled back) from
// its daily costs in micro-units, keyed by the day's UTC midnight; a nil
// cost is unknown and that day is left out. Entries wholly before the
// first day are not in the result.
func Reconcile(entries []BilledEntry, days map[time.Time]*int64) map[string]Reconciled {
	if len(days) == 0 {
		return nil
	}
	var first, last time.Time
	for d := range days {
		if first.IsZero() || d.Before(first) {
			first = d
		}
		if d.After(last) {
			last = d
		}
	}
	billedUntil := last.Add(Day)
	end := func(e BilledEntry) time.Time {
		if e.Closed.IsZero() || e.Closed.After(billedUntil) {
			return billedUntil
		}
		return e.Closed
	}
	inEffect := func(e BilledEntry, d time.Time) time.Duration {
		lo, hi := maxTime(e.Opened, d), minTime(end(e), d.Add(Day))
		if !lo.Before(hi) {
			return 0
		}
		return hi.Sub(lo)
	}
	sorted := append([]BilledEntry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Opened.Before(sorted[j].Opened) })
	// baseline is the cost of the latest clean day before t.
	baseline := func(t time.Time) (int64, bool) {
		for d := t.UTC().Truncate(Day).Add(-Day); !d.Before(first); d = d.Add(-Day) {
			c := days[d]
			if c == nil {
				continue
			}
			clean := true
			for _, e := range sorted {
				if inEffect(e, d) > 0 {
					clean = false
					break
				}
			}
			if clean {
				return *c, true
			}
		}
		return 0, false
	}
	out := map[string]Reconciled{}
	for _, e := range sorted {
		if !end(e).After(first) {
			continue
		}
		base, ok := baseline(e.Opened)
		if !ok {
			out[e.ID] = Reconciled{Note: NoteNoBaseline}
			continue
		}
		var saved float64
		var hours time.Duration
		for d := e.Opened.UTC().Truncate(Day); d.Before(end(e)); d = d.Add(Day) {
			c := days[d]
			h := inEffect(e, d)
			if c == nil || h == 0 {
				continue
			}
			saved += float64(base-*c) * share(sorted, e, d, inEffect)
			hours += h
		}
		if hours == 0 {
			out[e.ID] = Reconciled{Note: NoteNoDayYet}
			continue
		}
		out[e.ID] = Reconciled{Verified: true, HourlySavings: int64(math.RoundToEven(saved / hours.Hours()))}
	}
	return out
}

// share is e's part of what the entries in effect on day d saved: by
// estimated saving that day when every estimate is known and they add up
// to more than 0, else by hours.
func share(entries []BilledEntry, e BilledEntry, d time.Time, inEffect func(BilledEntry, time.Time) time.Duration) float64 {
	var est, hours float64
	known := true
	for _, f := range entries {
		h := inEffect(f, d)
		if h == 0 {
			continue
		}
		hours += h.Hours()
		if f.Estimated {
			est += h.Hours() * float64(f.EstimatedHourly)
		} else {
			known = false
		}
	}
	if known && est > 0 && e.Estimated {
		return inEffect(e, d).Hours() * float64(e.EstimatedHourly) / est
	}
	return inEffect(e, d).Hours() / hours
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
