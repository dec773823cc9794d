package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlstore"
)

// Store is the PostgreSQL back end: the shared SQL store plus the limit
// counters that replicas share (store.SharedLimits).
type Store struct {
	*sqlstore.Store
	db *sql.DB
}

var _ store.SharedLimits = (*Store)(nil)

// reserveQuota grants min(want, what is left) in one statement. ON CONFLICT
// DO UPDATE locks the row and computes from its latest version, so
// concurrent reservations from any replica add up and never exceed the
// limit. SET reads the row as it was before the update: granted and used
// see the same old used.
const reserveQuota = `
INSERT INTO limit_windows AS w (scope, window_start, used, granted)
VALUES ($1, $2, LEAST($3::bigint, $4::bigint), LEAST($3::bigint, $4::bigint))
ON CONFLICT (scope, window_start) DO UPDATE SET
	granted = GREATEST(0, LEAST($3::bigint, $4::bigint - w.used)),
	used = w.used + GREATEST(0, LEAST($3::bigint, $4::bigint - w.used))
RETURNING granted, used`

func (s *Store) ReserveQuota(ctx context.Context, scope string, window time.Time, want, limit int64) (granted, used int64, err error) {
	if want < 0 || limit < 0 {
		return 0, 0, fmt.Errorf("reserve quota %s: want (%d) and limit (%d) must not be negative", scope, want, limit)
	}
	if err := s.db.QueryRowContext(ctx, reserveQuota, scope, window.UnixMilli(), want, limit).Scan(&granted, &used); err != nil {
		return 0, 0, fmt.Errorf("reserve quota %s: %w", scope, err)
	}
	return granted, used, nil
}

func (s *Store) MarkUntil(ctx context.Context, scope string, until time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO limit_windows (scope, window_start, used, granted) VALUES ($1, $2, 0, 0) ON CONFLICT (scope, window_start) DO NOTHING`,
		scope, until.UnixMilli()); err != nil {
		return fmt.Errorf("mark %s until %s: %w", scope, until.UTC().Format(time.RFC3339), err)
	}
	return nil
}

func (s *Store) MarkedUntil(ctx context.Context, scope string) (time.Time, error) {
	var ms sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(window_start) FROM limit_windows WHERE scope = $1`, scope).Scan(&ms)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("read mark %s: %w", scope, err)
	}
	if !ms.Valid {
		return time.Time{}, nil
	}
	return time.UnixMilli(ms.Int64), nil
}

func (s *Store) PruneQuotas(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM limit_windows WHERE window_start < $1`, before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("prune limit windows before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return res.RowsAffected()
}
