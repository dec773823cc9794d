// Package sqlite is the embedded back end: one SQLite file in WAL mode,
// one writer connection (SQLite has one writer anyway; queuing in the pool
// is cheaper than busy retries) and a pool of readers.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"

	"github.com/hashicorp/go-hclog"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlstore"
)

// Dialect is SQLite's side of the shared implementation. There are no
// cross-process locks: a SQLite file belongs to one agentd process, whose
// single writer connection already serialises audit appends.
var Dialect = &sqlstore.Dialect{
	Name:              "sqlite",
	TenantTablesQuery: `SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND p.name = 'tenant_id'`,
	IsUniqueViolation: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
	// SQLite's built-in lower() changes ASCII letters only.
	LowerASCII: func(expr string) string { return `lower(` + expr + `)` },
	JSONEach:   func(column string) string { return `json_each(` + column + `)` },
	// A JSON path cannot quote a key containing '"'; json_each matches
	// any key exactly but is several times slower, so it is the fallback.
	JSONField: func(column, key string) (string, any) {
		if strings.Contains(key, `"`) {
			return `(SELECT value FROM json_each(` + column + `) WHERE key = ?)`, key
		}
		return `json_extract(` + column + `, ?)`, `$."` + key + `"`
	},
}

// DSN is the connection string for the database file at path; writer
// connections take the write lock at BEGIN so a transaction never fails
// half-way on an upgrade from reader to writer.
func DSN(path string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if writer {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens (creating if needed) and migrates the database file at path.
func Open(ctx context.Context, path string, logger hclog.Logger) (store.Store, error) {
	if path == "" {
		return nil, fmt.Errorf("open SQLite store: path is empty")
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	if err := restrictFiles(path); err != nil {
		return nil, fmt.Errorf("open SQLite store %s: %w", path, err)
	}
	if err := enableWAL(ctx, path); err != nil {
		return nil, fmt.Errorf("open SQLite store %s: %w", path, err)
	}
	w, err := sql.Open("sqlite", DSN(path, true))
	if err != nil {
		return nil, fmt.Errorf("open SQLite store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", DSN(path, false))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open SQLite store %s: %w", path, err)
	}
	// More readers than cores: WAL readers do not block each other, and
	// database/sql hands a freed connection to a random waiter, so with a
	// pool of 4 a request's wait under load was a lottery (1000 clients:
	// p99 twice as long as with 32). Each reader holds at most a 2 MB page
	// cache.
	readers := max(32, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	r.SetConnMaxLifetime(0)
	s, err := sqlstore.Open(ctx, sqlstore.Config{Dialect: Dialect, Writer: w, Reader: r, Logger: logger.Named("store")})
	if err != nil {
		return nil, fmt.Errorf("open SQLite store %s: %w", path, err)
	}
	return s, nil
}

// FileMode is the mode of the database file and its -wal and -shm
// companions: they hold every tenant's data, readable by the server's user
// only. SQLite creates the companions with the main file's mode.
const FileMode = 0o600

// restrictFiles creates the database file with FileMode before SQLite
// does (SQLite would use 0644), and narrows the mode of an existing file
// and companions left wider by an earlier version.
func restrictFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, FileMode)
	if err != nil {
		return fmt.Errorf("create the database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create the database file: %w", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("check the mode of %s: %w", p, err)
		}
		if fi.Mode().Perm()&^FileMode != 0 {
			if err := os.Chmod(p, FileMode); err != nil {
				return fmt.Errorf("restrict %s to mode %o: %w", p, FileMode, err)
			}
		}
	}
	return nil
}
