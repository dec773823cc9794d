package validation

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Cron checks a standard five-field cron expression or a calendar
// descriptor (@daily...); see the package doc for what is refused and why.
func Cron(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("is required")
	}
	if strings.HasPrefix(s, "@every") {
		return fmt.Errorf("%q: @every is an interval, not a calendar schedule; use a five-field expression", s)
	}
	if strings.HasPrefix(s, "CRON_TZ=") || strings.HasPrefix(s, "TZ=") {
		return fmt.Errorf("%q: set the time zone in its own field, not in the expression", s)
	}
	sched, err := cronParser.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a five-field cron expression: %w", s, err)
	}
	// robfig/cron gives up after five years without a match: a schedule
	// like "0 0 30 2 *" (30 February) parses but never fires.
	if sched.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return fmt.Errorf("%q never fires (no date matches it)", s)
	}
	return nil
}

// ParseCron parses an expression Cron accepts.
func ParseCron(s string) (cron.Schedule, error) {
	if err := Cron(s); err != nil {
		return nil, err
	}
	return cronParser.Parse(s)
}

// TimeZone checks an IANA time zone name ("Europe/Berlin", "UTC").
func TimeZone(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	if s == "Local" {
		return errors.New(`"Local" differs from host to host; name an IANA zone such as "UTC" or "Europe/Berlin"`)
	}
	if _, err := time.LoadLocation(s); err != nil {
		return fmt.Errorf("%q is not an IANA time zone name", s)
	}
	return nil
}

// DateLayout is the YYYY-MM-DD layout of every date field.
const DateLayout = "2006-01-02"

// Date checks and parses a YYYY-MM-DD calendar date (midnight UTC).
func Date(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("is required")
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a YYYY-MM-DD date", s)
	}
	return t, nil
}

// MaxCostRangeDays bounds a cost query.
const MaxCostRangeDays = 366

// DateRange checks that end is after start and at most maxDays later.
func DateRange(start, end time.Time, maxDays int) error {
	if !end.After(start) {
		return fmt.Errorf("end %s must be after start %s", end.Format(DateLayout), start.Format(DateLayout))
	}
	if days := int(end.Sub(start).Hours() / 24); days > maxDays {
		return fmt.Errorf("covers %d days, at most %d are allowed", days, maxDays)
	}
	return nil
}
