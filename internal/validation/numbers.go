package validation

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"
)

// Percent checks a percentage 0..100.
func Percent(v float64) error {
	if math.IsNaN(v) || v < 0 || v > 100 {
		return fmt.Errorf("%v is not a percentage between 0 and 100", v)
	}
	return nil
}

// NonNegative checks a finite amount >= 0 (money, bytes).
func NonNegative(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return fmt.Errorf("%v must be a finite number >= 0", v)
	}
	return nil
}

// IntRange checks lo <= v <= hi.
func IntRange(v, lo, hi int64) error {
	if v < lo || v > hi {
		return fmt.Errorf("%d is outside %d..%d", v, lo, hi)
	}
	return nil
}

const (
	MaxEnrollUses = 1000
	MaxPageSize   = 1000
)

// MaxUses checks an enrollment token's use count, 0 (meaning 1) ..1000.
func MaxUses(v int32) error { return IntRange(int64(v), 0, MaxEnrollUses) }

// PageSize checks a list page size, 0 (meaning 100) ..1000.
func PageSize(v int32) error { return IntRange(int64(v), 0, MaxPageSize) }

const (
	MinTTL               = time.Minute
	MaxEnrollmentTTL     = 720 * time.Hour
	MaxAPITokenTTL       = 8760 * time.Hour
	DefaultEnrollmentTTL = 24 * time.Hour
)

// EnrollmentTTL checks an enrollment token's lifetime, 1m..720h.
func EnrollmentTTL(d time.Duration) error { return durationRange(d, MinTTL, MaxEnrollmentTTL) }

// APITokenTTL checks an API token's lifetime: 0 (never expires) or 1m..8760h.
func APITokenTTL(d time.Duration) error {
	if d == 0 {
		return nil
	}
	return durationRange(d, MinTTL, MaxAPITokenTTL)
}

func durationRange(d, lo, hi time.Duration) error {
	if d < lo || d > hi {
		return fmt.Errorf("%s is outside %s..%s", d, lo, hi)
	}
	return nil
}

var groupTagRE = regexp.MustCompile(`^tag:(.*)$`)

// GroupBy checks a cost grouping: "", service, account, region or tag:<key>.
func GroupBy(s string) error {
	switch s {
	case "", "service", "account", "region":
		return nil
	}
	m := groupTagRE.FindStringSubmatch(s)
	if m == nil {
		return fmt.Errorf("%q is not service, account, region or tag:<key>", s)
	}
	if err := TagKey(m[1]); err != nil {
		return fmt.Errorf("%q: %w", s, err)
	}
	return nil
}

// ID checks an object id taken from a request: required, at most 128
// printable ASCII characters without spaces. Its existence is the store's
// business.
func ID(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	return OptionalID(s)
}

// OptionalID is ID for filters, where empty means "any".
func OptionalID(s string) error {
	if len(s) > 128 {
		return fmt.Errorf("is %d characters long, at most 128 are allowed", len(s))
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return fmt.Errorf("%q contains a character that is not printable ASCII", s)
		}
	}
	return nil
}

// Bounds of a tenant's own settings (sirsiv1.Tenant), checked by the
// control plane and by the provider at plan time.
const (
	// MaxRatePerMinute bounds every per-minute call budget: the server's
	// rate_limit settings and a tenant's own.
	MaxRatePerMinute = 100000
	// MaxTenantAPITokens bounds max_api_tokens, as the server's
	// max_api_tokens_per_tenant is bounded.
	MaxTenantAPITokens = 10000
	// MaxRetentionDays bounds the *_retention_days settings: a hundred
	// years, so a day count never overflows a time.Duration (292 years).
	MaxRetentionDays = 36500
)

// RetentionDays checks a number of days to keep data: 0 (keep for ever)
// to MaxRetentionDays.
func RetentionDays(v int64) error {
	if v < 0 || v > MaxRetentionDays {
		return fmt.Errorf("%d is not a number of days from 0 (keep for ever) to %d", v, MaxRetentionDays)
	}
	return nil
}
