package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
)

// applyBatch runs fn at most once per (tenant, batch id), in the same
// transaction that records the batch id, so a batch is either applied and
// recorded or neither. On a duplicate it returns the result stored by the
// first application.
func (t *tenantStore) applyBatch(ctx context.Context, kind, accountID, batchID string, fn func(tx *sql.Tx) (string, error)) (dup bool, result string, err error) {
	if batchID == "" {
		return false, "", fmt.Errorf("apply %s batch: batch id is empty: %w", kind, store.ErrInvalidArgument)
	}
	ctx, span := tracer.Start(ctx, "store.apply_batch", trace.WithAttributes(
		attribute.String("sirsi.batch.kind", kind), attribute.String("sirsi.batch.id", batchID), attribute.String("sirsi.tenant.id", t.id)))
	defer func() {
		span.SetAttributes(attribute.Bool("sirsi.batch.duplicate", dup))
		tracing.End(span, err)
	}()
	err = t.s.inTx(ctx, func(tx *sql.Tx) error {
		// Inserting first makes a concurrent twin of this batch wait for
		// our commit and then see the row, instead of applying it again.
		res, err := tx.ExecContext(ctx, t.q(`INSERT INTO applied_batches (tenant_id, batch_id, kind, result, apply_time) VALUES (?, ?, ?, '', ?) ON CONFLICT (tenant_id, batch_id) DO NOTHING`),
			t.id, batchID, kind, time.Now().UnixNano())
		if err != nil {
			return fmt.Errorf("apply %s batch %q: record batch: %w", kind, batchID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("apply %s batch %q: %w", kind, batchID, err)
		} else if n == 0 {
			dup = true
			if err := tx.QueryRowContext(ctx, t.q(`SELECT result FROM applied_batches WHERE tenant_id = ? AND batch_id = ?`), t.id, batchID).Scan(&result); err != nil {
				return fmt.Errorf("apply %s batch %q: read earlier result: %w", kind, batchID, err)
			}
			return nil
		}
		if err := t.requireAccount(ctx, tx, accountID); err != nil {
			return fmt.Errorf("apply %s batch %q: %w", kind, batchID, err)
		}
		result, err = fn(tx)
		if err != nil {
			return fmt.Errorf("apply %s batch %q: %w", kind, batchID, err)
		}
		if result != "" {
			if _, err := tx.ExecContext(ctx, t.q(`UPDATE applied_batches SET result = ? WHERE tenant_id = ? AND batch_id = ?`), result, t.id, batchID); err != nil {
				return fmt.Errorf("apply %s batch %q: record result: %w", kind, batchID, err)
			}
		}
		return nil
	})
	if err != nil {
		return false, "", err
	}
	return dup, result, nil
}

// prepared runs one statement many times inside tx.
func prepared(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	return st, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, store.ErrInvalidArgument)...)
}
