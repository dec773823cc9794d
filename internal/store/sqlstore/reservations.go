package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

func (t *tenantStore) ReserveActions(ctx context.Context, r store.Reservation) (store.Grant, error) {
	if r.ID == "" || r.PolicyID == "" || r.Count <= 0 || r.At.IsZero() {
		return store.Grant{}, invalid("reserve actions: id, policy id, a positive count and a time are required")
	}
	var g store.Grant
	err := t.s.inTx(ctx, func(tx *sql.Tx) error {
		// Writing the tenant row first makes concurrent reservations of the
		// tenant queue behind each other (a row lock on PostgreSQL; SQLite
		// has one writer anyway), so each one counts the grants committed
		// before it and two agents racing cannot both take the last slot.
		var limit sql.NullInt64
		res, err := tx.ExecContext(ctx, t.q(`UPDATE tenants SET max_actions_per_hour = max_actions_per_hour WHERE id = ?`), t.id)
		if err != nil {
			return fmt.Errorf("reserve actions: lock tenant: %w", err)
		}
		if err := affectedOne(res, "reserve actions: tenant %q", t.id); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, t.q(`SELECT max_actions_per_hour FROM tenants WHERE id = ?`), t.id).Scan(&limit); err != nil {
			return fmt.Errorf("reserve actions: read the tenant's cap: %w", err)
		}
		var granted, retry int64
		err = tx.QueryRowContext(ctx, t.q(`SELECT granted, retry_time FROM action_reservations WHERE tenant_id = ? AND id = ?`), t.id, r.ID).Scan(&granted, &retry)
		if err == nil {
			g = store.Grant{Granted: int(granted)}
			if retry != 0 {
				g.RetryAt = ts(retry).AsTime()
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reserve actions: read reservation %q: %w", r.ID, err)
		}
		var one int
		if err := tx.QueryRowContext(ctx, t.q(`SELECT 1 FROM policies WHERE tenant_id = ? AND id = ?`), t.id, r.PolicyID).Scan(&one); err != nil {
			return notFound(err, "reserve actions: policy %q", r.PolicyID)
		}
		now := r.At.UnixNano()
		since := r.At.Add(-store.ReservationWindow).UnixNano()
		var used int64
		var oldest sql.NullInt64
		if err := tx.QueryRowContext(ctx, t.q(`SELECT COALESCE(SUM(granted), 0), MIN(create_time) FROM action_reservations
WHERE tenant_id = ? AND create_time > ? AND granted > 0`), t.id, since).Scan(&used, &oldest); err != nil {
			return fmt.Errorf("reserve actions: count grants in the window: %w", err)
		}
		capacity := int64(r.DefaultLimit)
		if limit.Valid {
			capacity = limit.Int64
		}
		granted = min(int64(r.Count), max(capacity-used, 0))
		if granted < int64(r.Count) {
			retry = now + int64(store.ReservationWindow)
			if oldest.Valid {
				retry = oldest.Int64 + int64(store.ReservationWindow)
			}
		}
		if _, err := tx.ExecContext(ctx, t.q(`INSERT INTO action_reservations (tenant_id, id, cloud_account_id, policy_id, requested, granted, retry_time, create_time)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), t.id, r.ID, r.CloudAccountID, r.PolicyID, r.Count, granted, retry, now); err != nil {
			return fmt.Errorf("reserve actions: record reservation %q: %w", r.ID, err)
		}
		g = store.Grant{Granted: int(granted)}
		if retry != 0 {
			g.RetryAt = ts(retry).AsTime()
		}
		return nil
	})
	return g, err
}
