package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// unitIDChunk is how many ids one membership statement names, far below
// both databases' bind-parameter limits.
const unitIDChunk = 500

// applyUnit applies one part of a collection unit's membership in the
// sweep observed at observed (nanoseconds), inside the batch's
// transaction, and returns the ids it named that no resource has.
//
// Membership is a mark and sweep: every part sets the named resources'
// last_seen_time to the sweep's time, and the last part, once the parts
// named as many ids as the sweep found, deletes the unit's resources that
// were not marked. A part of an older sweep than the newest the unit has
// seen changes nothing, so parts re-sent or delivered out of order cannot
// delete what a newer sweep found. A failed unit marks its resources stale
// and leaves them otherwise as they were.
func (t *tenantStore) applyUnit(ctx context.Context, tx *sql.Tx, account string, observed int64, u *sirsiv1.InventoryUnit) ([]*sirsiv1.ResourceRef, error) {
	unit := []any{t.id, account, u.Region, u.Type}
	var sweep, named int64
	err := tx.QueryRowContext(ctx, t.q(`SELECT sweep_time, named FROM inventory_units WHERE tenant_id = ? AND cloud_account_id = ? AND region = ? AND type = ?`), unit...).Scan(&sweep, &named)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("read unit %s/%s: %w", u.Region, u.Type, err)
	case observed < sweep:
		return nil, nil
	}
	if observed > sweep {
		named = 0
	}
	const where = ` WHERE tenant_id = ? AND cloud_account_id = ? AND region = ? AND type = ?`
	if u.Error != "" {
		if _, err := tx.ExecContext(ctx, t.q(`UPDATE resources SET stale = 1`+where), unit...); err != nil {
			return nil, fmt.Errorf("mark unit %s/%s stale: %w", u.Region, u.Type, err)
		}
		return nil, t.saveUnit(ctx, tx, unit, observed, 0, u.Error)
	}
	ids := slices.Clone(u.ResourceIds)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var missing []*sirsiv1.ResourceRef
	for lo := 0; lo < len(ids); lo += unitIDChunk {
		chunk := ids[lo:min(lo+unitIDChunk, len(ids))]
		in := ` AND resource_id IN (?` + strings.Repeat(", ?", len(chunk)-1) + `)`
		args := slices.Clone(unit)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := tx.QueryContext(ctx, t.q(`SELECT resource_id FROM resources`+where+in), args...)
		if err != nil {
			return nil, fmt.Errorf("read unit %s/%s: %w", u.Region, u.Type, err)
		}
		found, err := collect(rows, func(r interface{ Scan(...any) error }) (string, error) {
			var id string
			return id, r.Scan(&id)
		})
		if err != nil {
			return nil, fmt.Errorf("read unit %s/%s: %w", u.Region, u.Type, err)
		}
		slices.Sort(found)
		for _, id := range chunk {
			if _, ok := slices.BinarySearch(found, id); !ok {
				missing = append(missing, &sirsiv1.ResourceRef{Type: u.Type, Region: u.Region, ResourceId: id})
			}
		}
		if _, err := tx.ExecContext(ctx, t.q(`UPDATE resources SET last_seen_time = ?, stale = 0`+where+in+` AND last_seen_time < ?`),
			slices.Concat([]any{observed}, args, []any{observed})...); err != nil {
			return nil, fmt.Errorf("mark unit %s/%s seen: %w", u.Region, u.Type, err)
		}
	}
	named += int64(len(ids))
	if u.Last && named == u.Total {
		if _, err := tx.ExecContext(ctx, t.q(`DELETE FROM resources`+where+` AND last_seen_time < ?`), append(unit, observed)...); err != nil {
			return nil, fmt.Errorf("delete resources absent from unit %s/%s: %w", u.Region, u.Type, err)
		}
	}
	return missing, t.saveUnit(ctx, tx, unit, observed, named, "")
}

func (t *tenantStore) saveUnit(ctx context.Context, tx *sql.Tx, unit []any, observed, named int64, unitErr string) error {
	if _, err := tx.ExecContext(ctx, t.q(`INSERT INTO inventory_units (tenant_id, cloud_account_id, region, type, sweep_time, named, error) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, cloud_account_id, region, type) DO UPDATE SET sweep_time = excluded.sweep_time, named = excluded.named, error = excluded.error`),
		append(unit, observed, named, unitErr)...); err != nil {
		return fmt.Errorf("record unit %s/%s: %w", unit[2], unit[3], err)
	}
	return nil
}
