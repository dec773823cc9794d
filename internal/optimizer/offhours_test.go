package optimizer

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func transitions(ts []Transition) string {
	var b []string
	for _, t := range ts {
		kind := "start"
		if t.Stop {
			kind = "stop"
		}
		b = append(b, kind+"@"+t.At.UTC().Format(time.RFC3339))
	}
	return strings.Join(b, " ")
}

func TestOffHoursDue(t *testing.T) {
	cases := []struct {
		name     string
		s        *sirsiv1.OffHoursSettings
		from, to string
		want     string
	}{
		{
			// 02:30 does not exist on 2026-03-08 in New York (02:00 EST →
			// 03:00 EDT): it fires at 07:30Z (03:30 EDT, i.e. 02:30 EST).
			// The day before is 02:30 EST = 07:30Z, the day after 02:30 EDT
			// = 06:30Z.
			name: "New York spring forward",
			s:    &sirsiv1.OffHoursSettings{StopCron: "30 2 * * *", Timezone: "America/New_York"},
			from: "2026-03-07T00:00:00Z", to: "2026-03-09T12:00:00Z",
			want: "stop@2026-03-07T07:30:00Z stop@2026-03-08T07:30:00Z stop@2026-03-09T06:30:00Z",
		},
		{
			// 01:30 happens twice on 2026-11-01 (EDT 05:30Z, EST 06:30Z):
			// it fires once, at the first.
			name: "New York fall back fires once",
			s:    &sirsiv1.OffHoursSettings{StartCron: "30 1 * * *", Timezone: "America/New_York"},
			from: "2026-11-01T00:00:00Z", to: "2026-11-01T12:00:00Z",
			want: "start@2026-11-01T05:30:00Z",
		},
		{
			// Weekdays 19:00 stop, 07:00 start in London; BST ends on Sunday
			// 2026-10-25, so Friday is UTC+1 and Monday UTC+0.
			name: "London across the end of BST",
			s:    &sirsiv1.OffHoursSettings{StopCron: "0 19 * * 1-5", StartCron: "0 7 * * 1-5", Timezone: "Europe/London"},
			from: "2026-10-23T00:00:00Z", to: "2026-10-27T08:00:00Z",
			want: "start@2026-10-23T06:00:00Z stop@2026-10-23T18:00:00Z start@2026-10-26T07:00:00Z stop@2026-10-26T19:00:00Z start@2026-10-27T07:00:00Z",
		},
		{
			name: "skip dates are local dates",
			s: &sirsiv1.OffHoursSettings{StopCron: "0 19 * * 1-5", StartCron: "0 7 * * 1-5", Timezone: "Europe/London",
				SkipDates: []string{"2026-10-26"}},
			from: "2026-10-23T00:00:00Z", to: "2026-10-27T08:00:00Z",
			want: "start@2026-10-23T06:00:00Z stop@2026-10-23T18:00:00Z start@2026-10-27T07:00:00Z",
		},
		{
			// 23:30 in Los Angeles is the next UTC day; the skip date is the
			// local one.
			name: "stop only, skip date in the zone not UTC",
			s:    &sirsiv1.OffHoursSettings{StopCron: "30 23 * * *", Timezone: "America/Los_Angeles", SkipDates: []string{"2026-06-01"}},
			from: "2026-06-01T00:00:00Z", to: "2026-06-03T12:00:00Z",
			want: "stop@2026-06-01T06:30:00Z stop@2026-06-03T06:30:00Z",
		},
		{
			// (from, to]: a firing at from is not due, one at to is.
			name: "interval is open at from, closed at to",
			s:    &sirsiv1.OffHoursSettings{StopCron: "0 * * * *"},
			from: "2026-06-01T10:00:00Z", to: "2026-06-01T12:00:00Z",
			want: "stop@2026-06-01T11:00:00Z stop@2026-06-01T12:00:00Z",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			oh, err := ParseOffHours(c.s)
			if err != nil {
				t.Fatalf("ParseOffHours: %v", err)
			}
			if got := transitions(oh.Due(utc(c.from), utc(c.to))); got != c.want {
				t.Fatalf("Due =\n  %s\nwant\n  %s", got, c.want)
			}
		})
	}
}

func TestParseOffHoursErrors(t *testing.T) {
	cases := []struct {
		s     *sirsiv1.OffHoursSettings
		field string
	}{
		{&sirsiv1.OffHoursSettings{StopCron: "61 * * * *"}, "offhours.stop_cron"},
		{&sirsiv1.OffHoursSettings{StopCron: "0 19 * * *", StartCron: "@every 1h"}, "offhours.start_cron"},
		{&sirsiv1.OffHoursSettings{StopCron: "0 19 * * *", Timezone: "Mars/Olympus"}, "offhours.timezone"},
		{&sirsiv1.OffHoursSettings{StopCron: "0 19 * * *", SkipDates: []string{"2026-12-25", "2026-12-26", "26/12/2026"}}, "offhours.skip_dates[2]"},
		{&sirsiv1.OffHoursSettings{}, "offhours.stop_cron"},
	}
	for _, c := range cases {
		_, err := ParseOffHours(c.s)
		if err == nil || !strings.HasPrefix(err.Error(), c.field+":") {
			t.Errorf("ParseOffHours(%v) = %v, want an error naming %s", c.s, err, c.field)
		}
	}
}

func TestInWindow(t *testing.T) {
	p := &sirsiv1.OptimizationPolicy{Schedule: "0 2 * * *", Timezone: "Europe/Berlin"}
	cases := []struct {
		now    string
		window *int32
		in     bool
		firing string
	}{
		// 02:00 CEST is 00:00Z in June.
		{"2026-06-01T00:00:00Z", nil, true, "2026-06-01T00:00:00Z"},
		{"2026-06-01T00:59:00Z", nil, true, "2026-06-01T00:00:00Z"},
		{"2026-06-01T01:00:00Z", nil, false, ""},
		{"2026-06-01T01:00:00Z", proto.Int32(90), true, "2026-06-01T00:00:00Z"},
		{"2026-05-31T23:59:00Z", nil, false, ""},
	}
	for _, c := range cases {
		p.WindowMinutes = c.window
		in, firing, err := InWindow(p, utc(c.now))
		if err != nil {
			t.Fatalf("InWindow: %v", err)
		}
		got := ""
		if !firing.IsZero() {
			got = firing.UTC().Format(time.RFC3339)
		}
		if in != c.in || got != c.firing {
			t.Errorf("InWindow(%s, window %v) = %v, %q; want %v, %q", c.now, c.window, in, got, c.in, c.firing)
		}
	}
	if _, _, err := InWindow(&sirsiv1.OptimizationPolicy{Schedule: "nope"}, time.Now()); err == nil || !strings.HasPrefix(err.Error(), "schedule:") {
		t.Errorf("bad schedule: %v, want an error naming schedule", err)
	}
}
