// Package money is the one home of amounts of money: the conversion between
// the float64 dollars prices are computed in and the integer micro-units
// (sirsiv1.Money) every amount travels and is stored as, rounding to cents
// at the edges (Terraform, logs), and decimal formatting. An unknown amount
// is a nil *sirsiv1.Money everywhere, never a zero one.
package money

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// USD is the currency of every AWS price and bill this project reads.
const USD = "USD"

// MicrosPerUnit is how many micro-units make one unit of a currency.
const MicrosPerUnit = 1_000_000

const microsPerCent = MicrosPerUnit / 100

// MaxUnits is the largest amount, in currency units, anyone may enter or
// report: nine trillion, a round figure inside what int64 micro-units hold
// (about 9.2 trillion), so that the provider and the server agree exactly.
const (
	MaxUnits  = 9e12
	maxMicros = int64(MaxUnits * MicrosPerUnit)
)

// ErrNotFinite is returned for NaN and infinite amounts; ErrOverflow for
// amounts beyond what int64 micro-units hold (about 9.2 trillion).
var (
	ErrNotFinite = errors.New("amount is not a finite number")
	ErrOverflow  = errors.New("amount is out of range")
)

// MicrosFromFloat converts an amount in currency units to micro-units,
// rounding half to even so that sums of many rounded amounts carry no bias.
func MicrosFromFloat(v float64) (int64, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%w: %v", ErrNotFinite, v)
	}
	m := math.RoundToEven(v * MicrosPerUnit)
	// 2^63 is exactly representable; anything at or beyond it does not fit.
	if m >= math.MaxInt64 || m < math.MinInt64 {
		return 0, fmt.Errorf("%w: %v", ErrOverflow, v)
	}
	return int64(m), nil
}

// FromFloat returns v units of currency as a Money, or an error naming why
// it cannot be one (NaN, infinite, out of range).
func FromFloat(v float64, currency string) (*sirsiv1.Money, error) {
	m, err := MicrosFromFloat(v)
	if err != nil {
		return nil, err
	}
	return &sirsiv1.Money{CurrencyCode: currency, Micros: m}, nil
}

// FromFloatOrUnknown is FromFloat for amounts this process computed itself
// from validated prices; a non-finite amount there is a bug upstream,
// reported as unknown (nil) rather than as a wrong number.
func FromFloatOrUnknown(v float64, currency string) *sirsiv1.Money {
	m, err := FromFloat(v, currency)
	if err != nil {
		return nil
	}
	return m
}

// USDFromFloat is FromFloatOrUnknown in US dollars.
func USDFromFloat(v float64) *sirsiv1.Money { return FromFloatOrUnknown(v, USD) }

// Micros returns m in micro-units of currency.
func Micros(micros int64, currency string) *sirsiv1.Money {
	return &sirsiv1.Money{CurrencyCode: currency, Micros: micros}
}

// Float returns m in currency units; ok is false when m is unknown (nil).
func Float(m *sirsiv1.Money) (v float64, ok bool) {
	if m == nil {
		return 0, false
	}
	return float64(m.Micros) / MicrosPerUnit, true
}

// FloatOr returns m in currency units, or def when m is unknown. For
// arithmetic that treats an unknown amount explicitly (a filter bound, a
// minimum saving), never for display.
func FloatOr(m *sirsiv1.Money, def float64) float64 {
	if v, ok := Float(m); ok {
		return v
	}
	return def
}

// Cents rounds micro-units to whole cents, half to even.
func Cents(micros int64) int64 {
	q, r := micros/microsPerCent, micros%microsPerCent
	if r < 0 {
		q, r = q-1, r+microsPerCent
	}
	switch {
	case r > microsPerCent/2, r == microsPerCent/2 && q%2 != 0:
		q++
	}
	return q
}

// RoundCents rounds a float dollar figure to cents, half away from zero:
// the optimizer's figures and the texts explaining them are floats until
// they become Money, and are rounded here so the two agree.
func RoundCents(usd float64) float64 { return math.Round(usd*100) / 100 }

// CentsFloat returns m rounded to cents as a float of currency units (for
// Terraform number attributes); ok is false when m is unknown.
func CentsFloat(m *sirsiv1.Money) (v float64, ok bool) {
	if m == nil {
		return 0, false
	}
	return float64(Cents(m.Micros)) / 100, true
}

// Format writes m as a decimal string rounded to cents with its currency,
// "1234.50 USD"; "unknown" when m is nil.
func Format(m *sirsiv1.Money) string {
	if m == nil {
		return "unknown"
	}
	return FormatCents(Cents(m.Micros)) + " " + m.CurrencyCode
}

// FormatCents writes a whole number of cents as a decimal string, "-0.05".
func FormatCents(cents int64) string {
	sign := ""
	u := uint64(cents)
	if cents < 0 {
		sign, u = "-", uint64(-cents)
	}
	frac := strconv.FormatUint(u%100, 10)
	if len(frac) == 1 {
		frac = "0" + frac
	}
	return sign + strconv.FormatUint(u/100, 10) + "." + frac
}

// Sum adds amounts of one currency; unknown (nil) amounts are skipped and
// counted. The result is nil when every amount was unknown (or there were
// none). Amounts in another currency than the first known one are an error:
// they cannot be added.
func Sum(ms ...*sirsiv1.Money) (total *sirsiv1.Money, unknown int, err error) {
	for _, m := range ms {
		if m == nil {
			unknown++
			continue
		}
		if total == nil {
			total = &sirsiv1.Money{CurrencyCode: m.CurrencyCode}
		} else if m.CurrencyCode != total.CurrencyCode {
			return nil, unknown, fmt.Errorf("add %s to %s: currencies differ", m.CurrencyCode, total.CurrencyCode)
		}
		if (m.Micros > 0 && total.Micros > math.MaxInt64-m.Micros) || (m.Micros < 0 && total.Micros < math.MinInt64-m.Micros) {
			return nil, unknown, fmt.Errorf("add %d micros to %d: %w", m.Micros, total.Micros, ErrOverflow)
		}
		total.Micros += m.Micros
	}
	return total, unknown, nil
}

// Sub returns a - b, nil when either is unknown or currencies differ.
func Sub(a, b *sirsiv1.Money) *sirsiv1.Money {
	if a == nil || b == nil || a.CurrencyCode != b.CurrencyCode {
		return nil
	}
	return &sirsiv1.Money{CurrencyCode: a.CurrencyCode, Micros: a.Micros - b.Micros}
}

// Check reports what is wrong with an amount from outside (a report, a
// request): absent when required, a currency code that is not three
// upper-case letters, a negative amount where only costs can be.
func Check(m *sirsiv1.Money, required, nonNegative bool) error {
	if m == nil {
		if required {
			return errors.New("is required")
		}
		return nil
	}
	c := m.CurrencyCode
	if len(c) != 3 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' || c[2] < 'A' || c[2] > 'Z' {
		return fmt.Errorf("currency_code %q is not an ISO 4217 code such as USD", c)
	}
	if m.Micros > maxMicros || m.Micros < -maxMicros {
		return fmt.Errorf("must be between -%g and %g", MaxUnits, MaxUnits)
	}
	if nonNegative && m.Micros < 0 {
		return fmt.Errorf("must not be negative, got %s", Format(m))
	}
	return nil
}

// ParseDecimal reads a decimal string as AWS writes amounts ("12.3456789",
// "-0.5", "1E-7" is refused) into micro-units exactly, rounding digits
// beyond the sixth decimal half to even. Unlike parsing a float first, two
// strings that differ only past the micro never round differently.
func ParseDecimal(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("empty amount")
	}
	neg := false
	digits := s
	switch digits[0] {
	case '-':
		neg, digits = true, digits[1:]
	case '+':
		digits = digits[1:]
	}
	intPart, frac, _ := strings.Cut(digits, ".")
	if intPart == "" && frac == "" {
		return 0, fmt.Errorf("amount %q has no digits", s)
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, fmt.Errorf("amount %q is not a decimal number", s)
			}
		}
	}
	var whole uint64
	for i := 0; i < len(intPart); i++ {
		d := uint64(intPart[i] - '0')
		if whole > (math.MaxInt64/MicrosPerUnit-d)/10 {
			return 0, fmt.Errorf("amount %q: %w", s, ErrOverflow)
		}
		whole = whole*10 + d
	}
	var micros uint64
	for i := 0; i < 6; i++ {
		micros *= 10
		if i < len(frac) {
			micros += uint64(frac[i] - '0')
		}
	}
	if len(frac) > 6 {
		// Round the rest half to even: above half, or exactly half and odd.
		first, rest := frac[6], strings.TrimRight(frac[7:], "0")
		if first > '5' || (first == '5' && (rest != "" || micros%2 == 1)) {
			micros++
		}
	}
	v := int64(whole*MicrosPerUnit + micros)
	if v < 0 {
		return 0, fmt.Errorf("amount %q: %w", s, ErrOverflow)
	}
	if neg {
		v = -v
	}
	return v, nil
}
