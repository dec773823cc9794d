package optimizer

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/robfig/cron/v3"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// calendar is a parsed five-field cron in a time zone. Firings are
// enumerated on the wall clock, date by date, rather than with
// cron.Schedule.Next, so that DST is handled by one explicit rule: each
// matching wall-clock time fires once per date. A time that does not
// exist (spring forward, 02:30 on 2026-03-08 in New York) fires at the
// same elapsed time past the previous offset, which is the instant the
// clock would have shown it (03:30 EDT = 02:30 EST); a time that exists
// twice (fall back, 01:30 on 2026-11-01) fires once, at its first
// occurrence.
type calendar struct {
	spec *cron.SpecSchedule
	loc  *time.Location
}

// starBit marks a cron field written as "*" (robfig/cron's convention),
// which changes how day-of-month and day-of-week combine.
const starBit = 1 << 63

func parseCalendar(expr string, loc *time.Location) (*calendar, error) {
	s, err := validation.ParseCron(expr)
	if err != nil {
		return nil, err
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("%q is not a calendar schedule", expr)
	}
	return &calendar{spec: spec, loc: loc}, nil
}

// dayMatches applies cron's rule: when either day field is "*", both must
// match; otherwise either may.
func (c *calendar) dayMatches(y int, m time.Month, d int) bool {
	s := c.spec
	if 1<<uint(m)&s.Month == 0 {
		return false
	}
	wd := time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()
	dom := 1<<uint(d)&s.Dom != 0
	dow := 1<<uint(wd)&s.Dow != 0
	if s.Dom&starBit != 0 || s.Dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}

// firings calls emit for each firing in (from, to], in order, with its
// local date. It walks the local dates from the day before from (a firing
// pushed over midnight by a DST gap) to the day after to.
func (c *calendar) firings(from, to time.Time, emit func(at time.Time, date string)) {
	if !to.After(from) {
		return
	}
	lf, lt := from.In(c.loc), to.In(c.loc)
	day := time.Date(lf.Year(), lf.Month(), lf.Day()-1, 12, 0, 0, 0, time.UTC)
	last := time.Date(lt.Year(), lt.Month(), lt.Day()+1, 12, 0, 0, 0, time.UTC)
	var prev time.Time
	for ; !day.After(last); day = day.AddDate(0, 0, 1) {
		y, m, d := day.Date()
		if !c.dayMatches(y, m, d) {
			continue
		}
		date := day.Format(validation.DateLayout)
		for h := 0; h < 24; h++ {
			if 1<<uint(h)&c.spec.Hour == 0 {
				continue
			}
			for mi := 0; mi < 60; mi++ {
				if 1<<uint(mi)&c.spec.Minute == 0 {
					continue
				}
				at := wallClock(y, m, d, h, mi, c.loc)
				if at.After(from) && !at.After(to) && !at.Equal(prev) {
					emit(at, date)
					prev = at
				}
			}
		}
	}
}

// wallClock is the first instant the local clock reads y-m-d h:mi, or,
// when the clock skips that reading, the instant it would have read it on
// the offset before the jump.
func wallClock(y int, m time.Month, d, h, mi int, loc *time.Location) time.Time {
	// The earlier of the two offsets around the reading, tried first,
	// gives the first occurrence of a repeated reading.
	probe := time.Date(y, m, d, h, mi, 0, 0, time.UTC)
	_, offBefore := probe.Add(-12 * time.Hour).In(loc).Zone()
	_, offAfter := probe.Add(12 * time.Hour).In(loc).Zone()
	for _, off := range []int{max(offBefore, offAfter), min(offBefore, offAfter)} {
		t := probe.Add(-time.Duration(off) * time.Second).In(loc)
		if t.Hour() == h && t.Minute() == mi && t.Day() == d {
			return t
		}
	}
	return probe.Add(-time.Duration(offBefore) * time.Second).In(loc)
}

// OffHours is a parsed off-hours schedule.
type OffHours struct {
	stop, start *calendar
	loc         *time.Location
	skip        map[string]bool
}

// ParseOffHours parses an off-hours schedule: a stop cron, a start cron
// (either may be empty, not both), an IANA time zone (empty: UTC; the
// control plane fills in the policy's) and skip dates (YYYY-MM-DD in that
// zone). Errors name the field: offhours.stop_cron, offhours.timezone,
// offhours.skip_dates[2].
func ParseOffHours(s *sirsiv1.OffHoursSettings) (*OffHours, error) {
	if s == nil {
		return nil, errors.New("offhours: not set")
	}
	loc := time.UTC
	if tz := s.GetTimezone(); tz != "" {
		if err := validation.TimeZone(tz); err != nil {
			return nil, fmt.Errorf("offhours.timezone: %w", err)
		}
		var err error
		if loc, err = time.LoadLocation(tz); err != nil {
			return nil, fmt.Errorf("offhours.timezone: %w", err)
		}
	}
	o := &OffHours{loc: loc, skip: map[string]bool{}}
	if s.GetStopCron() == "" && s.GetStartCron() == "" {
		return nil, errors.New("offhours.stop_cron: a stop or a start cron is required")
	}
	var err error
	if s.GetStopCron() != "" {
		if o.stop, err = parseCalendar(s.GetStopCron(), loc); err != nil {
			return nil, fmt.Errorf("offhours.stop_cron: %w", err)
		}
	}
	if s.GetStartCron() != "" {
		if o.start, err = parseCalendar(s.GetStartCron(), loc); err != nil {
			return nil, fmt.Errorf("offhours.start_cron: %w", err)
		}
	}
	for i, d := range s.GetSkipDates() {
		if _, err := validation.Date(d); err != nil {
			return nil, fmt.Errorf("offhours.skip_dates[%d]: %w", i, err)
		}
		o.skip[d] = true
	}
	return o, nil
}

// Transition is one off-hours firing: stop the resources, or start them.
type Transition struct {
	At   time.Time
	Stop bool
}

// Due lists the stop and start firings in (from, to], in time order (a
// stop before a start at the same instant), without those on skip dates
// (the firing's local date in the schedule's zone).
//
// The agent acts on firings only, never on the state between them: it
// stops what runs at a stop firing and starts what it stopped at a start
// firing. So a resource someone starts by hand during off-hours runs
// undisturbed until the next stop firing. DST: see calendar.
func (o *OffHours) Due(from, to time.Time) []Transition {
	var out []Transition
	for _, c := range []struct {
		cal  *calendar
		stop bool
	}{{o.stop, true}, {o.start, false}} {
		if c.cal == nil {
			continue
		}
		c.cal.firings(from, to, func(at time.Time, date string) {
			if !o.skip[date] {
				out = append(out, Transition{At: at, Stop: c.stop})
			}
		})
	}
	// Stops were appended first, so a stable sort keeps a stop before a
	// start at the same instant.
	slices.SortStableFunc(out, func(a, b Transition) int { return a.At.Compare(b.At) })
	return out
}

// InWindow reports whether now is within window_minutes (default 60)
// after a firing of the policy's schedule in its time zone (default UTC),
// and returns the latest such firing. A firing at exactly now counts; one
// exactly window_minutes ago does not.
func InWindow(p *sirsiv1.OptimizationPolicy, now time.Time) (bool, time.Time, error) {
	loc := time.UTC
	if tz := p.GetTimezone(); tz != "" {
		if err := validation.TimeZone(tz); err != nil {
			return false, time.Time{}, fmt.Errorf("timezone: %w", err)
		}
		var err error
		if loc, err = time.LoadLocation(tz); err != nil {
			return false, time.Time{}, fmt.Errorf("timezone: %w", err)
		}
	}
	cal, err := parseCalendar(p.GetSchedule(), loc)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("schedule: %w", err)
	}
	window := policy.WindowMinutes(p)
	if window <= 0 {
		return false, time.Time{}, fmt.Errorf("window_minutes: %d is not positive", window)
	}
	var last time.Time
	cal.firings(now.Add(-time.Duration(window)*time.Minute), now, func(at time.Time, _ string) { last = at })
	return !last.IsZero(), last, nil
}
