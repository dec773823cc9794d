package validation

import (
	"math"
	"testing"
	"time"
)

func TestNumbers(t *testing.T) {
	check(t, "Percent", "0", Percent(0), true, "")
	check(t, "Percent", "100", Percent(100), true, "")
	check(t, "Percent", "-1", Percent(-0.1), false, "between 0 and 100")
	check(t, "Percent", "101", Percent(100.5), false, "between 0 and 100")
	check(t, "Percent", "NaN", Percent(math.NaN()), false, "between 0 and 100")
	check(t, "NonNegative", "0", NonNegative(0), true, "")
	check(t, "NonNegative", "-1", NonNegative(-1), false, ">= 0")
	check(t, "NonNegative", "inf", NonNegative(math.Inf(1)), false, "finite")
	check(t, "MaxUses", "1000", MaxUses(1000), true, "")
	check(t, "MaxUses", "1001", MaxUses(1001), false, "outside 0..1000")
	check(t, "MaxUses", "-1", MaxUses(-1), false, "outside 0..1000")
	check(t, "PageSize", "0", PageSize(0), true, "")
	check(t, "PageSize", "1000", PageSize(1000), true, "")
	check(t, "PageSize", "1001", PageSize(1001), false, "outside 0..1000")
	check(t, "PageSize", "-5", PageSize(-5), false, "outside 0..1000")
}

func TestTTLs(t *testing.T) {
	check(t, "EnrollmentTTL", "1m", EnrollmentTTL(time.Minute), true, "")
	check(t, "EnrollmentTTL", "720h", EnrollmentTTL(720*time.Hour), true, "")
	check(t, "EnrollmentTTL", "59s", EnrollmentTTL(59*time.Second), false, "outside 1m0s..720h0m0s")
	check(t, "EnrollmentTTL", "721h", EnrollmentTTL(721*time.Hour), false, "outside")
	check(t, "APITokenTTL", "0", APITokenTTL(0), true, "")
	check(t, "APITokenTTL", "8760h", APITokenTTL(8760*time.Hour), true, "")
	check(t, "APITokenTTL", "30s", APITokenTTL(30*time.Second), false, "outside")
	check(t, "APITokenTTL", "-1h", APITokenTTL(-time.Hour), false, "outside")
	check(t, "APITokenTTL", "8761h", APITokenTTL(8761*time.Hour), false, "outside")
}

func TestGroupByAndIDs(t *testing.T) {
	for _, ok := range []string{"", "service", "account", "region", "tag:team", "tag:Cost Center"} {
		check(t, "GroupBy", ok, GroupBy(ok), true, "")
	}
	check(t, "GroupBy", "bad", GroupBy("day"), false, "not service, account, region or tag:<key>")
	check(t, "GroupBy", "Service", GroupBy("Service"), false, "not service")
	check(t, "GroupBy", "tag:", GroupBy("tag:"), false, "must not be empty")
	check(t, "GroupBy", "tag:aws:x", GroupBy("tag:aws:x"), false, "reserved")
	check(t, "ID", "ok", ID("ten_01HXYZ"), true, "")
	check(t, "ID", "empty", ID(""), false, "required")
	check(t, "ID", "space", ID("a b"), false, "printable ASCII")
	check(t, "OptionalID", "empty", OptionalID(""), true, "")
	check(t, "OptionalID", "long", OptionalID(string(make([]byte, 129))), false, "at most 128")
}
