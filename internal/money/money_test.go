package money

import (
	"errors"
	"math"
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

func TestMicrosFromFloatRoundsHalfToEven(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want int64
	}{
		{0.0000005, 0}, {0.0000015, 2}, {0.0000025, 2}, {-0.0000025, -2},
		{1.5, 1_500_000}, {26510.89961470639, 26_510_899_615}, {0.096, 96_000},
	} {
		got, err := MicrosFromFloat(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("MicrosFromFloat(%v) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := MicrosFromFloat(bad); !errors.Is(err, ErrNotFinite) {
			t.Errorf("MicrosFromFloat(%v) error %v, want ErrNotFinite", bad, err)
		}
	}
	if _, err := MicrosFromFloat(1e13); !errors.Is(err, ErrOverflow) {
		t.Errorf("MicrosFromFloat(1e13) error %v, want ErrOverflow", err)
	}
	if USDFromFloat(math.NaN()) != nil {
		t.Error("a NaN amount must be unknown (nil)")
	}
}

func TestCentsAndFormat(t *testing.T) {
	for _, tc := range []struct {
		micros int64
		cents  int64
		text   string
	}{
		{5_000, 0, "0.00"}, {15_000, 2, "0.02"}, {25_000, 2, "0.02"}, {25_001, 3, "0.03"},
		{-5_000, 0, "0.00"}, {-15_000, -2, "-0.02"}, {-25_001, -3, "-0.03"},
		{26_510_899_615, 2_651_090, "26510.90"}, {1_398_200_000, 139_820, "1398.20"},
	} {
		if got := Cents(tc.micros); got != tc.cents {
			t.Errorf("Cents(%d) = %d, want %d", tc.micros, got, tc.cents)
		}
		if got := Format(Micros(tc.micros, USD)); got != tc.text+" USD" {
			t.Errorf("Format(%d) = %q, want %q", tc.micros, got, tc.text+" USD")
		}
	}
	if Format(nil) != "unknown" {
		t.Errorf("Format(nil) = %q", Format(nil))
	}
	if v, ok := CentsFloat(Micros(12_345_678, USD)); !ok || v != 12.35 {
		t.Errorf("CentsFloat = %v, %v; want 12.35", v, ok)
	}
	if _, ok := CentsFloat(nil); ok {
		t.Error("CentsFloat(nil) must be unknown")
	}
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"12.3456789", 12_345_679}, {"0.0000005", 0}, {"0.0000015", 2}, {"0.00000250000", 2}, {"0.0000025000001", 3},
		{"-0.5", -500_000}, {"+3", 3_000_000}, {"7.", 7_000_000}, {".25", 250_000}, {"0", 0},
		{"9223372036854", 9_223_372_036_854_000_000},
	} {
		got, err := ParseDecimal(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDecimal(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "-", ".", "1e5", "12,5", "NaN", "1.2.3", "abc", "9223372036855"} {
		if got, err := ParseDecimal(bad); err == nil {
			t.Errorf("ParseDecimal(%q) = %d, want an error", bad, got)
		}
	}
}

func TestSumAndCheck(t *testing.T) {
	total, unknown, err := Sum(Micros(1, USD), nil, Micros(2, USD))
	if err != nil || unknown != 1 || total.GetMicros() != 3 || total.GetCurrencyCode() != USD {
		t.Errorf("Sum = %v, %d, %v", total, unknown, err)
	}
	if total, _, _ := Sum(nil, nil); total != nil {
		t.Errorf("Sum of unknowns = %v, want unknown", total)
	}
	if _, _, err := Sum(Micros(1, USD), Micros(1, "EUR")); err == nil {
		t.Error("Sum across currencies must fail")
	}
	if _, _, err := Sum(Micros(math.MaxInt64, USD), Micros(1, USD)); !errors.Is(err, ErrOverflow) {
		t.Errorf("Sum overflow error %v", err)
	}
	for _, tc := range []struct {
		m            *sirsiv1.Money
		required, nn bool
		ok           bool
	}{
		{nil, false, false, true}, {nil, true, false, false},
		{Micros(-1, USD), false, false, true}, {Micros(-1, USD), false, true, false},
		{Micros(1, "usd"), false, false, false}, {Micros(1, ""), false, false, false}, {Micros(1, "EURO"), false, false, false},
	} {
		if err := Check(tc.m, tc.required, tc.nn); (err == nil) != tc.ok {
			t.Errorf("Check(%v, %v, %v) = %v", tc.m, tc.required, tc.nn, err)
		}
	}
}
