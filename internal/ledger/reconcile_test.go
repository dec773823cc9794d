package ledger

import (
	"testing"
	"time"
)

func costs(first time.Time, perDay ...int64) map[time.Time]*int64 {
	out := map[time.Time]*int64{}
	for i, c := range perDay {
		if c < 0 {
			out[first.Add(time.Duration(i)*Day)] = nil
			continue
		}
		out[first.Add(time.Duration(i)*Day)] = &c
	}
	return out
}

// TestReconcile: a resize verified at the bill's rate (not its estimate)
// over the billed days, an unknown day left out rather than counted as 0;
// entries without a clean day before them or a billed day since say so.
func TestReconcile(t *testing.T) {
	d0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// $1/h before; from day 2 06:00 $0.25/h; day 4 unknown.
	const before, after = 1_000_000, 250_000
	days := costs(d0, 24*before, 24*before, 6*before+18*after, 24*after, -1, 24*after)
	resize := BilledEntry{ID: "resize", Opened: d0.Add(2*Day + 6*time.Hour), EstimatedHourly: 500_000, Estimated: true}
	tooEarly := BilledEntry{ID: "early", Opened: d0.Add(-time.Hour), Closed: d0.Add(time.Hour), EstimatedHourly: 1, Estimated: true}
	today := BilledEntry{ID: "today", Opened: d0.Add(6*Day + time.Hour), EstimatedHourly: 1, Estimated: true}
	got := Reconcile([]BilledEntry{resize, tooEarly, today}, days)
	if r := got["resize"]; !r.Verified || r.HourlySavings != before-after {
		t.Errorf("resize: %+v, want verified at %d an hour", r, before-after)
	}
	if r := got["early"]; r.Verified || r.Note != NoteNoBaseline {
		t.Errorf("entry before the first billed day: %+v, want %q", r, NoteNoBaseline)
	}
	if r := got["today"]; r.Verified || r.Note != NoteNoDayYet {
		t.Errorf("entry after the last billed day: %+v, want %q", r, NoteNoDayYet)
	}
	if len(Reconcile([]BilledEntry{resize}, nil)) != 0 {
		t.Error("no billed days verified something")
	}
}
