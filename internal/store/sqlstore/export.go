package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// ExportTenant reads the tenant's row and then every row of tenantTables
// it owns, all in one read transaction: the export is a snapshot, so a
// concurrent write or a forced delete committed meanwhile is either wholly
// in it or not at all.
func (s *Store) ExportTenant(ctx context.Context, tenantID string, emit func(table string, record []byte) error) (err error) {
	tx, err := s.r.BeginTx(ctx, s.d.Snapshot)
	if err != nil {
		return fmt.Errorf("export tenant %q: begin snapshot: %w", tenantID, err)
	}
	// Read only: ending it is all there is to do.
	defer func() { err = errors.Join(err, rollback(tx)) }()
	n, err := s.exportRows(ctx, tx, "tenants", `SELECT * FROM tenants WHERE id = ?`, tenantID, nil /* no secret columns: webhook secrets live in webhooks */, emit)
	if err != nil {
		return fmt.Errorf("export tenant %q: %w", tenantID, err)
	}
	if n == 0 {
		return fmt.Errorf("export tenant %q: %w", tenantID, store.ErrNotFound)
	}
	for _, t := range tenantTables {
		if _, err := s.exportRows(ctx, tx, t.name, `SELECT * FROM `+t.name+` WHERE tenant_id = ?`, tenantID, t.secret, emit); err != nil {
			return fmt.Errorf("export tenant %q: %w", tenantID, err)
		}
	}
	return nil
}

// exportRows hands each row of query to emit as a JSON object in column
// order, without the secret columns, and counts them.
func (s *Store) exportRows(ctx context.Context, tx *sql.Tx, table, query, tenantID string, secret []string, emit func(string, []byte) error) (int, error) {
	rows, err := tx.QueryContext(ctx, s.q(query), tenantID)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", table, err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, fmt.Errorf("read %s: %w", table, err)
		}
		rec, err := exportRecord(cols, vals, secret)
		if err != nil {
			return n, fmt.Errorf("encode a row of %s: %w", table, err)
		}
		if err := emit(table, rec); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("read %s: %w", table, err)
	}
	return n, nil
}

// exportRecord encodes one row. Text a driver hands over as bytes is
// written as a string; other bytes as base64, encoding/json's form.
func exportRecord(cols []string, vals []any, secret []string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for i, c := range cols {
		if slices.Contains(secret, c) {
			continue
		}
		v := vals[i]
		if raw, ok := v.([]byte); ok && utf8.Valid(raw) {
			v = string(raw)
		}
		k, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c, err)
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.Write(k)
		b.WriteByte(':')
		b.Write(enc)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
