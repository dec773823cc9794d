// Package ledger holds the rules of the realised-savings ledger; the store
// keeps the entries and sums them in SQL.
//
// An executed action that changes what a resource costs per hour opens an
// entry with the hourly cost before and after, priced when it acted. The
// entry accrues (before - after) for every second it is in effect and
// closes when the resource is changed again: the next action on it (an
// off-hours start closes the stop's entry), or an inventory sweep that
// finds it in a size or state the action did not leave it in, or gone.
// A rolled-back action's entry is closed where it opened and accrues
// nothing. Savings are therefore hours in effect x rate, never a month per
// action.
//
// A right-sizing recommendation carried out by other means (a Terraform
// apply: an inventory sweep finds the resource at the proposed size with
// no action of the agent) is credited the same way: the recommendation
// closes as executed by "external" and opens an entry from the time the
// sweep saw the change, priced from the recommendation's monthly
// estimates. Should the agent's own action for it be reported after all,
// the action's entry replaces that one.
package ledger

import (
	"fmt"
	"slices"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/optimizer"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

// Who verified an entry's saving.
const (
	// VerifiedByEstimate: the saving is the hourly costs priced when the
	// action ran.
	VerifiedByEstimate = "estimate"
	// VerifiedByCostExplorer: the agent compared the resource's daily cost
	// in Cost Explorer before and after the change.
	VerifiedByCostExplorer = "cost_explorer"
)

// Where an entry's hourly costs came from.
const (
	// RateFromAgent: the action carried them, priced by the agent's
	// catalogue when it acted.
	RateFromAgent = "agent"
	// RateFromRecommendation: the recommendation's monthly estimates over
	// a 730-hour month.
	RateFromRecommendation = "recommendation"
	// RateUnknown: neither; the entry is counted as unknown.
	RateUnknown = "unknown"
)

// Why an entry closed.
const (
	ClosedByAction    = "next_action"
	ClosedByInventory = "inventory_changed"
	ClosedByDeletion  = "deleted"
	ClosedByRollback  = "rolled_back"
)

// Who carried out an executed recommendation (Recommendation.executed_by).
const (
	ExecutedByAgent    = "agent"
	ExecutedByExternal = "external"
)

// ExternalEntryID is the id of the entry crediting a recommendation
// executed externally: derived from it, so a re-sent inventory batch
// opens it once and the agent's late action report finds it.
func ExternalEntryID(recommendationID string) string { return "external:" + recommendationID }

// HoursPerYear is the year the annualised run-rate counts (365 days).
const HoursPerYear = 8760

// Effect is what inventory shows while an action's change is in effect.
type Effect struct {
	// Size the resource must have; empty: not checked.
	Size string
	// States the resource may be in; nil: not checked.
	States []string
	// Gone: the action removes the resource, so its disappearance is the
	// change itself, not someone else's.
	Gone bool
}

// EffectOf returns what an executed action leaves the resource as, and
// whether it opens an entry at all (a start ends savings, it makes none).
func EffectOf(action, toSize string) (Effect, bool) {
	switch action {
	case optimizer.ActionStart:
		return Effect{}, false
	case optimizer.ActionStop:
		return Effect{States: []string{"stopping", "stopped"}}, true
	case optimizer.ActionSnapshotAndDelete, optimizer.ActionRelease, optimizer.ActionDeleteSnapshot:
		return Effect{Gone: true}, true
	}
	// resize, migrate_gp3, set_memory and RDS class changes set the size.
	return Effect{Size: toSize}, true
}

// Holds reports whether a resource as inventory found it (present, with
// size and state) still shows the effect; when it does not, someone
// changed it and the entry closes.
func (e Effect) Holds(present bool, size, state string) bool {
	if !present {
		return e.Gone
	}
	if e.Size != "" && size != e.Size {
		return false
	}
	return e.States == nil || slices.Contains(e.States, state)
}

// MaxHourlyMicros bounds an hourly cost the ledger accepts ($100,000 an
// hour, far above any single AWS resource): accrual multiplies it by hours
// in 64-bit integers, and this keeps decades of it far from overflow.
const MaxHourlyMicros = 100_000 * 1_000_000

// CheckHourlyCost checks an hourly cost an agent reports: optional, US
// dollars (the catalogue's currency), not negative, within MaxHourlyMicros.
func CheckHourlyCost(m *sirsiv1.Money) error {
	if err := money.Check(m, false, true); err != nil || m == nil {
		return err
	}
	if m.CurrencyCode != money.USD {
		return fmt.Errorf("currency_code %q: hourly costs are in %s", m.CurrencyCode, money.USD)
	}
	if m.Micros > MaxHourlyMicros {
		return fmt.Errorf("%s an hour is above the bound of %s", money.Format(m), money.Format(money.Micros(MaxHourlyMicros, money.USD)))
	}
	return nil
}

// HourlyFromMonthly turns a monthly amount in micro-units into an hourly
// one over pricing's 730-hour month, rounded half to even (monthly
// estimates are hourly prices x 730, so this is exact for them).
func HourlyFromMonthly(micros int64) int64 {
	q, r := micros/pricing.HoursPerMonth, micros%pricing.HoursPerMonth
	if r < 0 {
		q, r = q-1, r+pricing.HoursPerMonth
	}
	if 2*r > pricing.HoursPerMonth || (2*r == pricing.HoursPerMonth && q%2 != 0) {
		q++
	}
	return q
}

// Period is a named range [Start, End) the summary reports accrual over.
type Period struct {
	Start, End time.Time
}

// Periods are the summary's ranges ending at now (UTC): the last 30 days
// (720 hours) and this calendar month. "To date" starts at the first
// entry, which the store knows.
func Periods(now time.Time) (last30Days, thisMonth Period) {
	now = now.UTC()
	return Period{now.Add(-30 * 24 * time.Hour), now},
		Period{time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC), now}
}
