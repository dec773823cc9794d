package validation

import (
	"testing"
	"time"
)

func TestCron(t *testing.T) {
	for _, ok := range []string{"0 2 * * *", "*/15 9-17 * * MON-FRI", "0 0 1 1 *", "30 22 * * 0,6", "@daily", "@hourly", "@weekly", "@monthly", "@yearly", "@midnight", "0 0 29 2 *"} {
		check(t, "Cron", ok, Cron(ok), true, "")
	}
	for _, tc := range []struct{ in, want string }{
		{"", "required"},
		{"   ", "required"},
		{"0 2 * *", "five-field"},
		{"0 0 2 * * *", "five-field"},
		{"61 * * * *", "five-field"},
		{"0 25 * * *", "five-field"},
		{"* * * * MOO", "five-field"},
		{"@every 5m", "interval"},
		{"@sometimes", "five-field"},
		{"CRON_TZ=UTC 0 2 * * *", "own field"},
		{"TZ=UTC 0 2 * * *", "own field"},
		{"0 0 30 2 *", "never fires"},
		{"0 0 31 4 *", "never fires"},
	} {
		check(t, "Cron", tc.in, Cron(tc.in), false, tc.want)
	}
	s, err := ParseCron("0 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	if got, want := s.Next(from), time.Date(2026, 1, 2, 2, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Next = %s, want %s", got, want)
	}
}

func TestTimeZone(t *testing.T) {
	for _, ok := range []string{"UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Asia/Kolkata"} {
		check(t, "TimeZone", ok, TimeZone(ok), true, "")
	}
	check(t, "TimeZone", "empty", TimeZone(""), false, "required")
	check(t, "TimeZone", "Local", TimeZone("Local"), false, "differs from host to host")
	check(t, "TimeZone", "bad", TimeZone("Mars/Olympus"), false, "not an IANA")
	check(t, "TimeZone", "path", TimeZone("../etc/passwd"), false, "not an IANA")
}

func TestDate(t *testing.T) {
	d, err := Date("2026-02-28")
	if err != nil || !d.Equal(time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Date = %v, %v", d, err)
	}
	for _, bad := range []string{"2026-02-30", "2026-2-3", "26-02-03", "2026/02/03", "2026-02-03T00:00:00Z"} {
		_, err := Date(bad)
		check(t, "Date", bad, err, false, "YYYY-MM-DD")
	}
	_, err = Date("")
	check(t, "Date", "", err, false, "required")
	a := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	check(t, "DateRange", "ok", DateRange(a, a.AddDate(0, 0, 366), MaxCostRangeDays), true, "")
	check(t, "DateRange", "equal", DateRange(a, a, MaxCostRangeDays), false, "must be after")
	check(t, "DateRange", "reverse", DateRange(a, a.AddDate(0, 0, -1), MaxCostRangeDays), false, "must be after")
	check(t, "DateRange", "long", DateRange(a, a.AddDate(0, 0, 367), MaxCostRangeDays), false, "at most 366")
}
