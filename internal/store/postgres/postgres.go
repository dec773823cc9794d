// Package postgres is the shared back end: several agentd server replicas
// use one database, coordinating through advisory locks.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlstore"
)

// auditLockKey is the transaction-level advisory lock that orders audit
// appends across replicas into one chain.
const auditLockKey int64 = 0x5157_0001_a0d1_7000

// Dialect is PostgreSQL's side of the shared implementation.
var Dialect = &sqlstore.Dialect{
	Name:   "postgres",
	Dollar: true,
	IsUniqueViolation: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == "23505"
	},
	JSONField: func(column, key string) (string, any) {
		return `(` + column + `::jsonb ->> ?::text)`, key
	},
	TagsContain: func(column string) string { return column + ` @> ?::jsonb` },
	// Under the "C" collation lower() changes ASCII letters only.
	LowerASCII:        func(expr string) string { return `lower((` + expr + `) COLLATE "C")` },
	JSONEach:          func(column string) string { return `jsonb_each_text(` + column + `::jsonb)` },
	SkipLocked:        ` FOR UPDATE SKIP LOCKED`,
	ForUpdate:         ` FOR UPDATE`,
	TenantTablesQuery: `SELECT table_name FROM information_schema.columns WHERE column_name = 'tenant_id' AND table_schema = current_schema()`,
	Snapshot:          &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
	LockAudit: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, auditLockKey)
		return err
	},
	Lock: func(ctx context.Context, conn *sql.Conn, key int64) error {
		_, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key)
		return err
	},
	TryLock: func(ctx context.Context, conn *sql.Conn, key int64) (bool, error) {
		var ok bool
		err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok)
		return ok, err
	},
	Unlock: func(ctx context.Context, conn *sql.Conn, key int64) error {
		var ok bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, key).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("advisory lock %d was not held", key)
		}
		return nil
	},
}

// Options tune the connection pool; zero values mean the defaults.
type Options struct {
	// MaxConns bounds this replica's connections (default 20); the sum over
	// replicas must stay under the server's max_connections.
	MaxConns int
	Logger   hclog.Logger
}

// Open connects to the database at url (a postgres:// URL or key=value
// DSN) and migrates it.
func Open(ctx context.Context, url string, opts Options) (store.Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL store: database URL: %w", err)
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 20
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(opts.MaxConns)
	db.SetMaxIdleConns(opts.MaxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open PostgreSQL store %s@%s/%s: %w", cfg.User, cfg.Host, cfg.Database, err)
	}
	s, err := sqlstore.Open(ctx, sqlstore.Config{Dialect: Dialect, Writer: db, Reader: db, Logger: opts.Logger.Named("store")})
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL store %s/%s: %w", cfg.Host, cfg.Database, err)
	}
	return &Store{Store: s, db: db}, nil
}
