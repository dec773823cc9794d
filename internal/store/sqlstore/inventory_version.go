package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// bumpInventoryVersion changes the tenant's inventory version inside tx,
// the transaction that changes its resources. A tenant's first version is
// the time of its first change rather than 1, so a tenant deleted and
// created again under the same id does not count through versions its
// earlier incarnation's cached pages were stored under.
func (t *tenantStore) bumpInventoryVersion(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, t.q(`INSERT INTO inventory_versions (tenant_id, version) VALUES (?, ?)
ON CONFLICT (tenant_id) DO UPDATE SET version = inventory_versions.version + 1`), t.id, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("bump inventory version: %w", err)
	}
	return nil
}

func (t *tenantStore) InventoryVersion(ctx context.Context) (int64, error) {
	var v int64
	err := t.s.queryRowReader(ctx, t.q(`SELECT version FROM inventory_versions WHERE tenant_id = ?`), t.id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read inventory version: %w", err)
	}
	return v, nil
}
