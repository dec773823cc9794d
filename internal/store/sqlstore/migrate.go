package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrationFile is one embedded file: NNNN_name.sql applies to every
// dialect, NNNN_name.<dialect>.sql only to that one (for schema features
// only one database has, such as PostgreSQL's JSONB and GIN indexes).
type migrationFile struct {
	migration
	dialect string
}

func migrationFilesAll() ([]migrationFile, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	var out []migrationFile
	for _, e := range entries {
		num, rest, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(rest, ".sql") {
			return nil, fmt.Errorf("embedded migration %q: name must be NNNN_name.sql or NNNN_name.<dialect>.sql", e.Name())
		}
		_, dialect, _ := strings.Cut(strings.TrimSuffix(rest, ".sql"), ".")
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("read embedded migration %q: %w", e.Name(), err)
		}
		out = append(out, migrationFile{migration{version: v, name: e.Name(), sql: string(b)}, dialect})
	}
	return out, nil
}

// migrations lists, in order, the embedded migrations that apply to the
// dialect. Every dialect must have every version, so that a schema
// version means the same thing whichever database holds it.
func migrations(dialect string) ([]migration, error) {
	files, err := migrationFilesAll()
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, f := range files {
		if f.dialect == "" || f.dialect == dialect {
			ms = append(ms, f.migration)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("embedded migrations for %s: expected version %d, found %q", dialect, i+1, m.name)
		}
	}
	if latest := LatestSchemaVersion(); len(ms) != latest {
		return nil, fmt.Errorf("embedded migrations for %s stop at version %d, the newest is %d", dialect, len(ms), latest)
	}
	return ms, nil
}

// LatestSchemaVersion is the newest migration embedded in this binary.
func LatestSchemaVersion() int {
	files, err := migrationFilesAll()
	if err != nil {
		return 0
	}
	latest := 0
	for _, f := range files {
		latest = max(latest, f.version)
	}
	return latest
}

// backfills complete a migration with what SQL alone cannot compute; each
// runs in its migration's transaction, after its SQL.
// Migration 8 rewrites every resource record (the monthly cost became a
// Money message), so the records migration 2 introduced are written there,
// by the code that knows the current columns.
var backfills = map[int]func(ctx context.Context, tx *sql.Tx, s *Store) error{
	8: backfillResourceRecords,
}

// migrate applies the missing migrations, each in its own transaction with
// its schema_migrations row, under the cluster-wide migration lock so that
// replicas starting together do not race.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations(s.d.Name)
	if err != nil {
		return err
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: get connection: %w", err)
	}
	defer conn.Close()
	if s.d.Lock != nil {
		key := lockKey("migrate")
		if err := s.d.Lock(ctx, conn, key); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		defer func() {
			if err := s.d.Unlock(context.WithoutCancel(ctx), conn, key); err != nil {
				s.log.Warn("migration unlock failed; the lock ends with the connection", "error", err)
				_ = conn.Raw(func(any) error { return errBadConn })
			}
		}()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, apply_time BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	for {
		done, err := s.migrateStep(ctx, conn, ms)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next missing migration, if any, in one
// transaction with its schema_migrations row. The version is read inside
// that transaction (on SQLite it holds the write lock from BEGIN), so a
// concurrent opener cannot apply the same migration twice.
func (s *Store) migrateStep(ctx context.Context, conn *sql.Conn, ms []migration) (done bool, err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil || done {
			err = errors.Join(err, rollback(tx))
		}
	}()
	current, err := schemaVersion(ctx, tx)
	if err != nil {
		return false, err
	}
	if current > len(ms) {
		return false, fmt.Errorf("database is at schema version %d, this binary knows up to %d: %w", current, len(ms), store.ErrSchemaTooNew)
	}
	if current == len(ms) {
		return true, nil
	}
	m := ms[current]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	if fill := backfills[m.version]; fill != nil {
		if err := fill(ctx, tx, s); err != nil {
			return false, fmt.Errorf("migration %s: backfill: %w", m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, name, apply_time) VALUES (?, ?, ?)`),
		m.version, m.name, time.Now().UnixNano()); err != nil {
		return false, fmt.Errorf("migration %s: record: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	s.log.Info("applied schema migration", "version", m.version, "name", m.name)
	return false, nil
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func schemaVersion(ctx context.Context, q queryRower) (int, error) {
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v.Int64), nil
}

func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, s.r)
}
