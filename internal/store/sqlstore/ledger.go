package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/ledger"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// recordLedger applies one reported action to the savings ledger inside the
// action batch's transaction (see internal/ledger for the rules).
func (t *tenantStore) recordLedger(ctx context.Context, tx *sql.Tx, account string, a *sirsiv1.Action) error {
	if a.DryRun {
		return nil
	}
	switch a.Status {
	case sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED:
	case sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK, sirsiv1.ActionStatus_ACTION_STATUS_FAILED:
		// An action reported succeeded and then rolled back (a re-sent
		// outcome) accrues nothing: its entry closes where it opened.
		if _, err := tx.ExecContext(ctx, t.q(`UPDATE savings_ledger SET closed_at = opened_at, accrued_micros = 0, close_reason = ? WHERE tenant_id = ? AND id = ?`),
			ledger.ClosedByRollback, t.id, a.Id); err != nil {
			return fmt.Errorf("close the ledger entry of rolled-back action %q: %w", a.Id, err)
		}
		return nil
	default:
		return nil
	}
	changed, opened := tsNanos(a.StartTime), tsNanos(a.EndTime)
	if opened == 0 {
		opened = changed
	}
	if changed == 0 {
		changed = opened
	}
	if opened == 0 {
		// An outcome reported without its times counts from its report.
		opened = time.Now().UnixNano()
		changed = opened
	}
	// The change ends whatever an earlier action on the resource saved, from
	// the moment it began. An entry already closed later (by an inventory
	// sweep that saw the change before this report arrived) moves back to
	// it; one closed earlier keeps its time.
	if _, err := tx.ExecContext(ctx, t.q(`UPDATE savings_ledger SET closed_at = ?, close_reason = ?, accrued_micros = `+accrualSQL("opened_at", changed)+`
WHERE tenant_id = ? AND cloud_account_id = ? AND resource_id = ? AND region = ? AND id <> ? AND opened_at < ? AND (closed_at IS NULL OR closed_at > ?)`),
		changed, ledger.ClosedByAction, t.id, account, a.ResourceId, a.Region, a.Id, changed, changed); err != nil {
		return fmt.Errorf("close ledger entries of %s before action %q: %w", a.ResourceId, a.Id, err)
	}
	if _, opens := ledger.EffectOf(a.Action, a.ToSize); !opens {
		return nil
	}
	before, after, source, err := t.ledgerRates(ctx, tx, a)
	if err != nil {
		return err
	}
	if err := t.openLedgerEntry(ctx, tx, a.Id, account, a.PolicyId, a.Region, a.ResourceType, a.ResourceId, a.Action, a.ToSize, before, after, source, opened); err != nil {
		return fmt.Errorf("open the ledger entry of action %q: %w", a.Id, err)
	}
	return nil
}

// openLedgerEntry opens entry id, once: a re-sent report opens nothing
// twice. before and after are hourly micro-units, or nil when unknown.
func (t *tenantStore) openLedgerEntry(ctx context.Context, tx *sql.Tx, id, account, policy, region, typ, resourceID, action, toSize string,
	before, after any, source string, opened int64) error {
	_, err := tx.ExecContext(ctx, t.q(`INSERT INTO savings_ledger (tenant_id, id, cloud_account_id, policy_id, region, resource_type, resource_id, action, to_size,
rate_before_micros, rate_after_micros, rate_source, opened_at, verified_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, id) DO NOTHING`),
		t.id, id, account, policy, region, typ, resourceID, action, toSize, before, after, source, opened, ledger.VerifiedByEstimate)
	return err
}

// ledgerRates prices an entry: the hourly costs the agent reported with
// the action, else the recommendation's monthly estimates, else unknown
// (NULL).
func (t *tenantStore) ledgerRates(ctx context.Context, tx *sql.Tx, a *sirsiv1.Action) (before, after any, source string, err error) {
	if a.HourlyCostBefore != nil && a.HourlyCostAfter != nil {
		return a.HourlyCostBefore.Micros, a.HourlyCostAfter.Micros, ledger.RateFromAgent, nil
	}
	if a.RecommendationId != "" {
		var cur, prop sql.NullInt64
		err := tx.QueryRowContext(ctx, t.q(`SELECT current_monthly_cost_micros, proposed_monthly_cost_micros FROM recommendations WHERE tenant_id = ? AND id = ?`),
			t.id, a.RecommendationId).Scan(&cur, &prop)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return nil, nil, "", fmt.Errorf("price the ledger entry of action %q: read recommendation %q: %w", a.Id, a.RecommendationId, err)
		case cur.Valid && prop.Valid:
			return ledger.HourlyFromMonthly(cur.Int64), ledger.HourlyFromMonthly(prop.Int64), ledger.RateFromRecommendation, nil
		}
	}
	return nil, nil, ledger.RateUnknown, nil
}

// ledgerIDsPerQuery bounds the resource ids one read of open entries
// lists (bind parameters per statement stay far below SQLite's and
// PostgreSQL's limits).
const ledgerIDsPerQuery = 500

// ledgerKey names a resource within one cloud account.
type ledgerKey struct{ region, typ, id string }

// openEntry is an open ledger entry as an inventory check needs it.
type openEntry struct {
	id     string
	key    ledgerKey
	effect ledger.Effect
	opened int64
	// present is 0 when inventory no longer holds the resource.
	present int64
}

// closeLedgerOnInventory closes, inside an inventory batch's transaction,
// the open entries of resources the batch shows changed by someone else:
// upserted in a size or state their action did not leave them in, or
// deleted (explicitly, or by a unit's membership) when the action did not
// delete them. The entry closes at the time the sweep saw the change.
func (t *tenantStore) closeLedgerOnInventory(ctx context.Context, tx *sql.Tx, account string, b store.InventoryBatch, ups []*sirsiv1.Resource, observed int64) error {
	// Only the entries this batch can close are read: those of the
	// resources it names, and those of the units whose complete membership
	// it carries (a resource absent from one is gone). The work is the
	// batch's, not the account's open ledger's.
	swept := map[[2]string]bool{}
	for _, u := range b.Units {
		if u.Last && u.Error == "" {
			swept[[2]string{u.Region, u.Type}] = true
		}
	}
	named := map[string]bool{}
	for _, r := range ups {
		named[r.ResourceId] = true
	}
	for _, d := range b.Deletions {
		named[d.ResourceId] = true
	}
	const sel = `SELECT l.id, l.region, l.resource_type, l.resource_id, l.action, l.to_size, l.opened_at,
CASE WHEN r.resource_id IS NULL THEN 0 ELSE 1 END
FROM savings_ledger l LEFT JOIN resources r ON r.tenant_id = l.tenant_id AND r.cloud_account_id = l.cloud_account_id
AND r.region = l.region AND r.type = l.resource_type AND r.resource_id = l.resource_id
WHERE l.tenant_id = ? AND l.cloud_account_id = ? AND l.closed_at IS NULL`
	var queries []string
	var args [][]any
	ids := slices.Sorted(maps.Keys(named))
	for i := 0; i < len(ids); i += ledgerIDsPerQuery {
		part := ids[i:min(i+ledgerIDsPerQuery, len(ids))]
		a := []any{t.id, account}
		for _, id := range part {
			a = append(a, id)
		}
		queries = append(queries, sel+` AND l.resource_id IN (?`+strings.Repeat(`, ?`, len(part)-1)+`)`)
		args = append(args, a)
	}
	for _, u := range slices.SortedFunc(maps.Keys(swept), func(a, b [2]string) int { return strings.Compare(a[0]+"/"+a[1], b[0]+"/"+b[1]) }) {
		queries = append(queries, sel+` AND l.region = ? AND l.resource_type = ?`)
		args = append(args, []any{t.id, account, u[0], u[1]})
	}
	var gone, list []openEntry
	read := map[string]bool{}
	open := map[ledgerKey][]openEntry{}
	for i, q := range queries {
		rows, err := tx.QueryContext(ctx, t.q(q), args[i]...)
		if err != nil {
			return fmt.Errorf("read open ledger entries: %w", err)
		}
		part, err := collect(rows, func(r interface{ Scan(...any) error }) (openEntry, error) {
			var e openEntry
			var action, toSize string
			if err := r.Scan(&e.id, &e.key.region, &e.key.typ, &e.key.id, &action, &toSize, &e.opened, &e.present); err != nil {
				return e, err
			}
			e.effect, _ = ledger.EffectOf(action, toSize)
			return e, nil
		})
		if err != nil {
			return fmt.Errorf("read open ledger entries: %w", err)
		}
		for _, e := range part {
			if read[e.id] {
				continue
			}
			read[e.id] = true
			list = append(list, e)
			if e.present == 0 {
				gone = append(gone, e)
			}
		}
	}
	if len(list) == 0 {
		return nil
	}
	for _, e := range list {
		open[e.key] = append(open[e.key], e)
	}
	if observed == 0 {
		observed = time.Now().UnixNano()
	}
	closeAt := func(e openEntry, at int64, reason string) error {
		if at <= e.opened {
			// The sweep predates the action: what it saw is the resource
			// before the change.
			return nil
		}
		if _, err := tx.ExecContext(ctx, t.q(`UPDATE savings_ledger SET closed_at = ?, close_reason = ?, accrued_micros = `+accrualSQL("opened_at", at)+`
WHERE tenant_id = ? AND id = ? AND closed_at IS NULL`),
			at, reason, t.id, e.id); err != nil {
			return fmt.Errorf("close ledger entry %q: %w", e.id, err)
		}
		return nil
	}
	for _, r := range ups {
		seen := tsNanos(r.LastSeenTime)
		if seen == 0 {
			seen = observed
		}
		for _, e := range open[ledgerKey{r.Region, r.Type, r.ResourceId}] {
			if !e.effect.Holds(true, r.Size, r.State) {
				if err := closeAt(e, seen, ledger.ClosedByInventory); err != nil {
					return err
				}
			}
		}
	}
	for _, d := range b.Deletions {
		for _, e := range open[ledgerKey{d.Region, d.Type, d.ResourceId}] {
			if !e.effect.Gone {
				if err := closeAt(e, observed, ledger.ClosedByDeletion); err != nil {
					return err
				}
			}
		}
	}
	// A unit's complete membership deletes resources without naming them;
	// a resource absent without one (an action reported before any sweep
	// of its type) is not known to be gone.
	for _, e := range gone {
		if !e.effect.Gone && swept[[2]string{e.key.region, e.key.typ}] {
			if err := closeAt(e, observed, ledger.ClosedByDeletion); err != nil {
				return err
			}
		}
	}
	return nil
}

// diffSQL is an entry's saving per hour: reconciled when Cost Explorer
// verified it, else its estimated rates; NULL when unknown.
const diffSQL = `COALESCE(reconciled_hourly_savings_micros, rate_before_micros - rate_after_micros)`

// accrualSQL is the SQL expression of what an entry accrues from lo to hi
// (a column name, or Unix nanoseconds this code computed, never input):
// whole seconds x hourly saving / 3600 in micro-units, truncated (an entry
// is off by less than a micro-unit), written as whole hours x rate plus the
// remaining seconds' share so that no product of seconds and rate can
// leave 64 bits. 0 for an empty or reversed range; NULL when the rate is
// unknown.
func accrualSQL[T string | int64](lo string, hi T) string {
	h := fmt.Sprint(hi)
	secs := `((` + h + ` - ` + lo + `) / 1000000000)`
	return `(CASE WHEN ` + h + ` > ` + lo + ` THEN (` + secs + ` / 3600) * ` + diffSQL + ` + (` + secs + ` % 3600) * ` + diffSQL + ` / 3600 ELSE 0 END)`
}

// SavingsSummary reports the ledger at now in four small reads: the
// per-group totals migration 19's triggers keep of closed entries and of
// entries per verification (to date); the first closed entry's opening,
// from an index; entries open at now, accrued up to now per period; entries closed
// within the periods, their overlap with each. Periods, run-rates and
// breakdowns are added up from the groups. Every entry accrues exactly
// what accrualSQL gives it: closed entries stored it when they closed.
func (t *tenantStore) SavingsSummary(ctx context.Context, now time.Time) (*sirsiv1.GetSavingsSummaryResponse, error) {
	now = now.UTC()
	out := &sirsiv1.GetSavingsSummaryResponse{AsOfTime: timestamppb.New(now)}
	if err := t.countActions(ctx, out); err != nil {
		return nil, err
	}
	last30, month := ledger.Periods(now)
	end := now.UnixNano()
	starts := []int64{0, last30.Start.UnixNano(), month.Start.UnixNano()}
	periods := []*periodSum{newPeriodSum(), newPeriodSum(), newPeriodSum()}
	if err := t.addLedgerTotals(ctx, out, periods[0]); err != nil {
		return nil, err
	}
	// To date starts with the first entry that has accrued: every closed
	// one, and those open by now.
	var first sql.NullInt64
	if err := t.s.r.QueryRowContext(ctx, t.q(`SELECT MIN(opened_at) FROM savings_ledger WHERE tenant_id = ? AND closed_at IS NOT NULL`), t.id).Scan(&first); err != nil {
		return nil, fmt.Errorf("savings summary: first closed entry: %w", err)
	}
	seen := func(opened sql.NullInt64) {
		if opened.Valid && (!first.Valid || opened.Int64 < first.Int64) {
			first = opened
		}
	}
	const groups = `action, policy_id, cloud_account_id, verified_by`
	// Entries open at now: accrued from the later of their opening and the
	// period's start, up to now.
	var openRate int64
	sum := func(expr string) string { return `CAST(COALESCE(SUM(` + expr + `), 0) AS BIGINT)` }
	from := func(start int64) string {
		return fmt.Sprintf(`(CASE WHEN opened_at < %d THEN %d ELSE opened_at END)`, start, start)
	}
	q := `SELECT ` + groups
	for _, start := range starts {
		q += `, ` + sum(accrualSQL(from(start), end))
	}
	q += `, ` + sum(diffSQL) + `, COUNT(` + diffSQL + `), COUNT(*) - COUNT(` + diffSQL + `), MIN(opened_at)
FROM savings_ledger WHERE tenant_id = ? AND closed_at IS NULL AND opened_at <= ` + fmt.Sprint(end) + ` GROUP BY ` + groups
	err := t.eachGroup(ctx, q, func(g ledgerGroup, vals []any) error {
		for i, p := range periods {
			p.add(g, *vals[i].(*int64))
		}
		openRate += *vals[3].(*int64)
		out.OpenEntries += *vals[4].(*int64)
		out.UnknownEntries += *vals[5].(*int64)
		seen(*vals[6].(*sql.NullInt64))
		return nil
	}, new(int64), new(int64), new(int64), new(int64), new(int64), new(int64), new(sql.NullInt64))
	if err != nil {
		return nil, err
	}
	// Entries closed within the periods: their overlap with each; those
	// wholly inside one are what they accrued.
	earliest := min(starts[1], starts[2])
	q = `SELECT ` + groups
	for _, start := range starts[1:] {
		q += `, ` + sum(fmt.Sprintf(`CASE WHEN opened_at >= %d THEN accrued_micros ELSE %s END`, start, accrualSQL(fmt.Sprint(start), "closed_at")))
	}
	q += ` FROM savings_ledger WHERE tenant_id = ? AND closed_at > ` + fmt.Sprint(earliest) + ` GROUP BY ` + groups
	err = t.eachGroup(ctx, q, func(g ledgerGroup, vals []any) error {
		for i, p := range periods[1:] {
			p.add(g, *vals[i].(*int64))
		}
		return nil
	}, new(int64), new(int64))
	if err != nil {
		return nil, err
	}
	toDate := ledger.Period{Start: now, End: now}
	if first.Valid {
		toDate.Start = time.Unix(0, first.Int64).UTC()
	}
	out.ToDate = periods[0].period(toDate)
	out.Last_30Days = periods[1].period(last30)
	out.ThisMonth = periods[2].period(month)
	out.AnnualizedRunRate = money.Micros(openRate*ledger.HoursPerYear, money.USD)
	out.MonthlyRunRate = money.Micros(openRate*pricing.HoursPerMonth, money.USD)
	return out, nil
}

// addLedgerTotals adds the per-group totals the ledger's triggers keep:
// closed entries' accrual to toDate, their unknown accruals to the count,
// and the entries by verification (Cost Explorer verified, or estimated by
// why), rolled-back entries aside.
func (t *tenantStore) addLedgerTotals(ctx context.Context, out *sirsiv1.GetSavingsSummaryResponse, toDate *periodSum) error {
	rows, err := t.s.queryReader(ctx, t.q(`SELECT action, policy_id, cloud_account_id, verified_by, verify_note, close_reason, entries, closed_accrued_micros, closed_unknown
FROM savings_ledger_totals WHERE tenant_id = ? ORDER BY verified_by, verify_note`), t.id)
	if err != nil {
		return fmt.Errorf("savings summary: ledger totals: %w", err)
	}
	defer rows.Close()
	// Rows come in (verified_by, verify_note) order: one reason each.
	var reason *sirsiv1.SavingsEstimateReason
	var reasonKey [2]string
	for rows.Next() {
		var g ledgerGroup
		var note, closeReason string
		var entries, accrued, unknown int64
		if err := rows.Scan(&g.action, &g.policy, &g.account, &g.verifiedBy, &note, &closeReason, &entries, &accrued, &unknown); err != nil {
			return fmt.Errorf("savings summary: ledger totals: %w", err)
		}
		toDate.add(g, accrued)
		out.UnknownEntries += unknown
		switch {
		case closeReason == ledger.ClosedByRollback:
		case g.verifiedBy == ledger.VerifiedByCostExplorer:
			out.VerifiedEntries += entries
		case reason != nil && reasonKey == [2]string{g.verifiedBy, note}:
			reason.Entries += entries
		default:
			reason, reasonKey = &sirsiv1.SavingsEstimateReason{Reason: ledger.DescribeNote(note), Entries: entries}, [2]string{g.verifiedBy, note}
			out.EstimateReasons = append(out.EstimateReasons, reason)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("savings summary: ledger totals: %w", err)
	}
	return nil
}

// ledgerGroup is the key the summary groups entries by.
type ledgerGroup struct{ action, policy, account, verifiedBy string }

// eachGroup runs a summary query whose rows are a ledgerGroup followed by
// vals and calls fn with each.
func (t *tenantStore) eachGroup(ctx context.Context, q string, fn func(g ledgerGroup, vals []any) error, vals ...any) error {
	rows, err := t.s.queryReader(ctx, t.q(q), t.id)
	if err != nil {
		return fmt.Errorf("savings summary: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g ledgerGroup
		if err := rows.Scan(append([]any{&g.action, &g.policy, &g.account, &g.verifiedBy}, vals...)...); err != nil {
			return fmt.Errorf("savings summary: %w", err)
		}
		if err := fn(g, vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("savings summary: %w", err)
	}
	return nil
}

// countActions counts the executed actions of all time by outcome: those
// stored and those retention pruned (pruned_action_counts), read in one
// statement so that a prune committing meanwhile is counted once.
func (t *tenantStore) countActions(ctx context.Context, out *sirsiv1.GetSavingsSummaryResponse) error {
	succeeded := int64(sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED)
	err := t.s.r.QueryRowContext(ctx, t.q(`SELECT a.taken + COALESCE(p.taken, 0), a.succeeded + COALESCE(p.succeeded, 0),
a.rolled_back + COALESCE(p.rolled_back, 0), a.failed + COALESCE(p.failed, 0)
FROM (SELECT COUNT(*) AS taken,
COALESCE(SUM(CASE WHEN status = ? THEN 1 ELSE 0 END), 0) AS succeeded,
COALESCE(SUM(CASE WHEN status = ? THEN 1 ELSE 0 END), 0) AS rolled_back,
COALESCE(SUM(CASE WHEN status = ? THEN 1 ELSE 0 END), 0) AS failed
FROM actions WHERE tenant_id = ? AND dry_run = 0 AND status <> ?) a
LEFT JOIN pruned_action_counts p ON p.tenant_id = ?`),
		succeeded, int64(sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK), int64(sirsiv1.ActionStatus_ACTION_STATUS_FAILED),
		t.id, int64(sirsiv1.ActionStatus_ACTION_STATUS_PLANNED), t.id).
		Scan(&out.ActionsTaken, &out.ActionsSucceeded, &out.ActionsRolledBack, &out.ActionsFailed)
	if err != nil {
		return fmt.Errorf("savings summary: count actions: %w", err)
	}
	return nil
}

// periodSum adds up one period's accrual and its breakdowns.
type periodSum struct {
	accrued, verified             int64
	byAction, byPolicy, byAccount map[string]int64
}

func newPeriodSum() *periodSum {
	return &periodSum{byAction: map[string]int64{}, byPolicy: map[string]int64{}, byAccount: map[string]int64{}}
}

func (p *periodSum) add(g ledgerGroup, accrued int64) {
	if accrued == 0 {
		return
	}
	p.accrued += accrued
	if g.verifiedBy == ledger.VerifiedByCostExplorer {
		p.verified += accrued
	}
	p.byAction[g.action] += accrued
	p.byPolicy[g.policy] += accrued
	p.byAccount[g.account] += accrued
}

func (p *periodSum) period(r ledger.Period) *sirsiv1.SavingsPeriod {
	return &sirsiv1.SavingsPeriod{
		StartTime: timestamppb.New(r.Start), EndTime: timestamppb.New(r.End),
		AccruedSavings: money.Micros(p.accrued, money.USD), VerifiedSavings: money.Micros(p.verified, money.USD),
		EstimatedSavings: money.Micros(p.accrued-p.verified, money.USD),
		ByAction:         amounts(p.byAction), ByPolicy: amounts(p.byPolicy), ByCloudAccount: amounts(p.byAccount),
	}
}

// amounts lists a breakdown in key order, leaving out keys that net to 0.
func amounts(m map[string]int64) []*sirsiv1.SavingsAmount {
	var out []*sirsiv1.SavingsAmount
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != 0 {
			out = append(out, &sirsiv1.SavingsAmount{Key: k, AccruedSavings: money.Micros(m[k], money.USD)})
		}
	}
	return out
}
