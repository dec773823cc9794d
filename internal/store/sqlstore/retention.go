package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// prunedActionOutcomes are the finished statuses of actions that retention
// may delete; a running action never is.
var prunedActionOutcomes = []sirsiv1.ActionStatus{
	sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED,
	sirsiv1.ActionStatus_ACTION_STATUS_FAILED,
	sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK,
}

// PruneRetained deletes one batch: the candidates are picked by a
// subquery bounded by limit (skipping rows another transaction holds on
// PostgreSQL), and the delete states the age condition again, so that a
// row updated meanwhile to be newer (a fresh utilisation window, an
// action reported again) is re-checked by PostgreSQL and kept.
func (t *tenantStore) PruneRetained(ctx context.Context, kind store.Retained, before time.Time, limit int) (int64, error) {
	if limit < 1 {
		return 0, invalid("prune %s: limit must be at least 1, is %d", kind, limit)
	}
	cutoff := before.UnixNano()
	var n int64
	err := t.s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		switch kind {
		case store.RetainedUtilization:
			n, err = t.pruneRows(ctx, tx, `utilization`, `tenant_id, cloud_account_id, region, resource_id, metric, statistic`,
				`window_end < ?`, limit, cutoff)
		case store.RetainedAnomalies:
			n, err = t.pruneRows(ctx, tx, `cost_anomalies`, `tenant_id, id`,
				`detect_time < ? AND day < ?`, limit, cutoff, before.UTC().Format(dayLayout))
		case store.RetainedActions:
			n, err = t.pruneActions(ctx, tx, cutoff, limit)
		default:
			return invalid("prune %q: not a kind of retained data", kind)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune %s of tenant %s older than %s: %w", kind, t.id, before.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}

// batchOf is the WITH clause naming one batch of table's rows (their key
// columns) matching where. MATERIALIZED makes it run once: as a subquery
// of the DELETE, PostgreSQL may run it again for each row, and with SKIP
// LOCKED each run skips the rows the delete already locked and finds the
// next ones, deleting far more than limit.
func batchOf(table, key, where string, limit int, skipLocked string) string {
	return `WITH batch AS MATERIALIZED (SELECT ` + key + ` FROM ` + table + ` WHERE ` + where + ` LIMIT ` + fmt.Sprint(limit) + skipLocked + `) `
}

// pruneRows deletes up to limit rows of table (keyed by key) matching
// cond, whose arguments follow the tenant id.
func (t *tenantStore) pruneRows(ctx context.Context, tx *sql.Tx, table, key, cond string, limit int, args ...any) (int64, error) {
	where := `tenant_id = ? AND ` + cond
	all := append([]any{t.id}, args...)
	res, err := tx.ExecContext(ctx, t.q(batchOf(table, key, where, limit, t.s.d.SkipLocked)+`DELETE FROM `+table+
		` WHERE (`+key+`) IN (SELECT `+key+` FROM batch) AND `+where), append(all, all...)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// actionPrunable is an action retention may delete: finished before the
// cutoff, or a dry run started before it; never one of an approved plan,
// whose completion (completePlan) still reads its actions.
const actionPrunable = `tenant_id = ? AND ((dry_run = 0 AND status IN (?, ?, ?) AND end_time > 0 AND end_time < ?)
  OR (dry_run = 1 AND status <> ? AND start_time < ?))
AND NOT EXISTS (SELECT 1 FROM action_plans p WHERE p.tenant_id = actions.tenant_id AND p.id = actions.plan_id AND p.status = ?)`

// pruneActions deletes a batch of actions and adds the executed ones to
// pruned_action_counts in the same transaction, so that the savings
// summary's counts of all time do not change.
func (t *tenantStore) pruneActions(ctx context.Context, tx *sql.Tx, cutoff int64, limit int) (int64, error) {
	args := []any{t.id}
	for _, s := range prunedActionOutcomes {
		args = append(args, int64(s))
	}
	args = append(args, cutoff, int64(sirsiv1.ActionStatus_ACTION_STATUS_RUNNING), cutoff, int64(sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_APPROVED))
	rows, err := tx.QueryContext(ctx, t.q(batchOf("actions", "tenant_id, id", actionPrunable, limit, t.s.d.SkipLocked)+
		`DELETE FROM actions WHERE (tenant_id, id) IN (SELECT tenant_id, id FROM batch) AND `+actionPrunable+` RETURNING status, dry_run`), append(args, args...)...)
	if err != nil {
		return 0, err
	}
	var n int64
	counts := map[sirsiv1.ActionStatus]int64{}
	for rows.Next() {
		var status, dry int64
		if err := rows.Scan(&status, &dry); err != nil {
			rows.Close()
			return 0, err
		}
		n++
		if dry == 0 {
			counts[sirsiv1.ActionStatus(status)]++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	succeeded := counts[sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED]
	rolledBack := counts[sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK]
	failed := counts[sirsiv1.ActionStatus_ACTION_STATUS_FAILED]
	if taken := succeeded + rolledBack + failed; taken > 0 {
		if _, err := tx.ExecContext(ctx, t.q(`INSERT INTO pruned_action_counts (tenant_id, taken, succeeded, rolled_back, failed) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (tenant_id) DO UPDATE SET taken = pruned_action_counts.taken + excluded.taken, succeeded = pruned_action_counts.succeeded + excluded.succeeded,
rolled_back = pruned_action_counts.rolled_back + excluded.rolled_back, failed = pruned_action_counts.failed + excluded.failed`),
			t.id, taken, succeeded, rolledBack, failed); err != nil {
			return 0, fmt.Errorf("count the pruned actions: %w", err)
		}
	}
	return n, nil
}
