package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/ledger"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// ApplyResourceCosts keeps the reported resource-level daily costs and
// reconciles the ledger entries of each resource named with them (see
// internal/ledger), in one transaction; unavailable instead notes on
// every estimated entry of the account why Cost Explorer cannot verify it.
func (t *tenantStore) ApplyResourceCosts(ctx context.Context, cloudAccountID, batchID string, costs []*sirsiv1.ResourceCost, unavailable string) (bool, error) {
	for i, c := range costs {
		if c == nil || c.ResourceId == "" || c.ResourceType == "" {
			return false, invalid("apply resource cost batch %q: resource_costs[%d]: resource_type and resource_id are required", batchID, i)
		}
		if _, err := time.Parse(dayLayout, c.Day); err != nil {
			return false, invalid("apply resource cost batch %q: resource_costs[%d].day %q is not YYYY-MM-DD", batchID, i, c.Day)
		}
	}
	dup, _, err := t.applyBatch(ctx, "resource_costs", cloudAccountID, batchID, func(tx *sql.Tx) (string, error) {
		if unavailable != "" {
			if _, err := tx.ExecContext(ctx, t.q(`UPDATE savings_ledger SET verify_note = ? WHERE tenant_id = ? AND cloud_account_id = ? AND verified_by = ? AND close_reason <> ?`),
				ledger.NoteUnavailablePrefix+unavailable, t.id, cloudAccountID, ledger.VerifiedByEstimate, ledger.ClosedByRollback); err != nil {
				return "", fmt.Errorf("note why the ledger stays estimated: %w", err)
			}
			return "", nil
		}
		if len(costs) == 0 {
			return "", nil
		}
		st, err := prepared(ctx, tx, t.q(`INSERT INTO resource_costs (tenant_id, cloud_account_id, resource_type, resource_id, day, amount_micros, currency)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, cloud_account_id, resource_type, resource_id, day) DO UPDATE SET amount_micros = excluded.amount_micros, currency = excluded.currency`))
		if err != nil {
			return "", err
		}
		defer st.Close()
		type res struct{ typ, id string }
		var order []res
		seen := map[res]bool{}
		for _, c := range costs {
			var amount any
			if c.Amount != nil {
				amount = c.Amount.Micros
			}
			if _, err := st.ExecContext(ctx, t.id, cloudAccountID, c.ResourceType, c.ResourceId, c.Day, amount, c.GetAmount().GetCurrencyCode()); err != nil {
				return "", fmt.Errorf("upsert resource cost %s %s: %w", c.ResourceId, c.Day, err)
			}
			if r := (res{c.ResourceType, c.ResourceId}); !seen[r] {
				seen[r] = true
				order = append(order, r)
			}
		}
		for _, r := range order {
			if err := t.reconcileResource(ctx, tx, cloudAccountID, r.typ, r.id); err != nil {
				return "", err
			}
		}
		return "", nil
	})
	return dup, err
}

// reconcileResource verifies the entries of one resource from its stored
// daily costs. An entry verified before keeps its figure when the days
// now stored cannot verify it (its baseline day aged out).
func (t *tenantStore) reconcileResource(ctx context.Context, tx *sql.Tx, account, typ, id string) error {
	rows, err := tx.QueryContext(ctx, t.q(`SELECT id, opened_at, closed_at, rate_before_micros - rate_after_micros, verified_by FROM savings_ledger
WHERE tenant_id = ? AND cloud_account_id = ? AND resource_id = ? AND resource_type = ? AND close_reason <> ?`), t.id, account, id, typ, ledger.ClosedByRollback)
	if err != nil {
		return fmt.Errorf("reconcile %s: read its ledger entries: %w", id, err)
	}
	verified := map[string]bool{}
	entries, err := collect(rows, func(r interface{ Scan(...any) error }) (ledger.BilledEntry, error) {
		var e ledger.BilledEntry
		var opened int64
		var closed, diff sql.NullInt64
		var by string
		if err := r.Scan(&e.ID, &opened, &closed, &diff, &by); err != nil {
			return e, err
		}
		e.Opened = time.Unix(0, opened).UTC()
		if closed.Valid {
			e.Closed = time.Unix(0, closed.Int64).UTC()
		}
		e.EstimatedHourly, e.Estimated = diff.Int64, diff.Valid
		verified[e.ID] = by == ledger.VerifiedByCostExplorer
		return e, nil
	})
	if err != nil {
		return fmt.Errorf("reconcile %s: read its ledger entries: %w", id, err)
	}
	if len(entries) == 0 {
		return nil
	}
	rows, err = tx.QueryContext(ctx, t.q(`SELECT day, amount_micros FROM resource_costs WHERE tenant_id = ? AND cloud_account_id = ? AND resource_type = ? AND resource_id = ?`),
		t.id, account, typ, id)
	if err != nil {
		return fmt.Errorf("reconcile %s: read its daily costs: %w", id, err)
	}
	days := map[time.Time]*int64{}
	_, err = collect(rows, func(r interface{ Scan(...any) error }) (struct{}, error) {
		var day string
		var amount sql.NullInt64
		if err := r.Scan(&day, &amount); err != nil {
			return struct{}{}, err
		}
		d, err := time.Parse(dayLayout, day)
		if err != nil {
			return struct{}{}, fmt.Errorf("stored day %q: %w", day, err)
		}
		days[d] = nil
		if amount.Valid {
			days[d] = &amount.Int64
		}
		return struct{}{}, nil
	})
	if err != nil {
		return fmt.Errorf("reconcile %s: read its daily costs: %w", id, err)
	}
	now := time.Now().UnixNano()
	for entryID, r := range ledger.Reconcile(entries, days) {
		if !r.Verified {
			if verified[entryID] {
				continue
			}
			if _, err := tx.ExecContext(ctx, t.q(`UPDATE savings_ledger SET verify_note = ?, reconcile_time = ? WHERE tenant_id = ? AND id = ?`), r.Note, now, t.id, entryID); err != nil {
				return fmt.Errorf("reconcile ledger entry %q: %w", entryID, err)
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, t.q(`UPDATE savings_ledger SET verified_by = ?, reconciled_hourly_savings_micros = ?, verify_note = '', reconcile_time = ? WHERE tenant_id = ? AND id = ?`),
			ledger.VerifiedByCostExplorer, r.HourlySavings, now, t.id, entryID); err != nil {
			return fmt.Errorf("reconcile ledger entry %q: %w", entryID, err)
		}
		// A closed entry's stored accrual follows its new rate (a second
		// statement: SET expressions see the row as it was).
		if _, err := tx.ExecContext(ctx, t.q(`UPDATE savings_ledger SET accrued_micros = `+accrualSQL("opened_at", "closed_at")+` WHERE tenant_id = ? AND id = ? AND closed_at IS NOT NULL`),
			t.id, entryID); err != nil {
			return fmt.Errorf("reconcile ledger entry %q: %w", entryID, err)
		}
		if !verified[entryID] {
			if err := t.enqueueSavingsVerified(ctx, tx, entryID); err != nil {
				return err
			}
		}
	}
	return nil
}

// enqueueSavingsVerified writes the savings.verified event of a ledger
// entry Cost Explorer has just verified for the first time: once per
// entry (a later revision of its figure makes none).
func (t *tenantStore) enqueueSavingsVerified(ctx context.Context, tx *sql.Tx, entryID string) error {
	if want, err := t.wantsEvents(ctx, tx); err != nil || !want {
		return err
	}
	v := &sirsiv1.SavingsVerification{LedgerEntryId: entryID}
	var estimated, reconciled, closed sql.NullInt64
	var opened, verified int64
	if err := tx.QueryRowContext(ctx, t.q(`SELECT cloud_account_id, policy_id, region, resource_type, resource_id, action, to_size,
rate_before_micros - rate_after_micros, reconciled_hourly_savings_micros, opened_at, closed_at, reconcile_time FROM savings_ledger WHERE tenant_id = ? AND id = ?`), t.id, entryID).Scan(
		&v.CloudAccountId, &v.PolicyId, &v.Region, &v.ResourceType, &v.ResourceId, &v.Action, &v.ToSize, &estimated, &reconciled, &opened, &closed, &verified); err != nil {
		return fmt.Errorf("read ledger entry %q for its savings.verified event: %w", entryID, err)
	}
	v.EstimatedHourlySavings, v.VerifiedHourlySavings = usdMicros(estimated), usdMicros(reconciled)
	v.OpenedTime, v.VerifyTime, v.ClosedTime = ts(opened), ts(verified), ts(closed.Int64)
	return t.enqueueEvents(ctx, tx, []outboxEvent{{
		dedupKey: validation.EventSavingsVerified + "/" + entryID, typ: validation.EventSavingsVerified, subject: "savings/" + entryID, data: v,
	}})
}
