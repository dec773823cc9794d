// Package sqlstore implements store.Store once over database/sql; the
// SQLite and PostgreSQL packages supply a Dialect and connections, so the
// conformance suite exercises one codebase on both.
package sqlstore

import (
	"context"
	"database/sql"

	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
)

// Config is what a back end hands over.
type Config struct {
	Dialect *Dialect
	// Writer runs every transaction; Reader serves reads outside them.
	// They may be the same pool.
	Writer *sql.DB
	Reader *sql.DB
	Logger hclog.Logger
}

// Store is the database/sql implementation of store.Store.
type Store struct {
	d      *Dialect
	w, r   *sql.DB
	log    hclog.Logger
	closer sync.Once

	// Leader locks when the dialect has no cluster-wide lock: the process
	// owns the database alone, so an in-process lock is the whole story.
	localMu      sync.Mutex
	localLeaders map[string]bool

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
}

// maxPreparedStatements bounds the reader statement cache; queries are
// built from a handful of filter shapes, so the bound is never reached in
// practice and only guards against an unforeseen variety.
const maxPreparedStatements = 128

var _ store.Store = (*Store)(nil)

// Open migrates the database to the newest schema this binary knows and
// returns the store. The connections are owned by the store from here on.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	s := &Store{d: cfg.Dialect, w: cfg.Writer, r: cfg.Reader, log: cfg.Logger, localLeaders: map[string]bool{}, stmts: map[string]*sql.Stmt{}}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.checkTenantTables(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the connections.
func (s *Store) Close() error {
	var err error
	s.closer.Do(func() {
		s.stmtMu.Lock()
		for _, st := range s.stmts {
			err = errors.Join(err, st.Close())
		}
		s.stmts = nil
		s.stmtMu.Unlock()
		err = errors.Join(err, s.w.Close())
		if s.r != s.w {
			err = errors.Join(err, s.r.Close())
		}
	})
	return err
}

func (s *Store) q(query string) string { return s.d.Rebind(query) }

// readStmt returns the reader statement for a hot query, prepared once per
// reader connection: parsing and planning the query again for every page
// was a sixth of a list call on SQLite. It returns nil once the cache is
// full; the caller then runs the query unprepared.
func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	st, ok := s.stmts[query]
	full := len(s.stmts) >= maxPreparedStatements
	s.stmtMu.Unlock()
	if ok || full {
		return st, nil
	}
	prepared, err := s.r.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if existing, raced := s.stmts[query]; raced {
		return existing, prepared.Close()
	}
	if s.stmts == nil {
		return nil, errors.Join(errors.New("store is closed"), prepared.Close())
	}
	s.stmts[query] = prepared
	return prepared, nil
}

// queryReader runs a hot read through readStmt.
func (s *Store) queryReader(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return s.r.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// queryRowReader is queryReader for a single row.
func (s *Store) queryRowReader(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := s.readStmt(ctx, query)
	if err != nil || st == nil {
		// A failed prepare reports itself again, through the row.
		return s.r.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// tagsMatch is the condition that a resource carries every tag in tags,
// with its arguments.
func (s *Store) tagsMatch(tags map[string]string) (string, []any, error) {
	if s.d.TagsContain != nil {
		obj, err := stringMap(tags)
		if err != nil {
			return "", nil, err
		}
		return s.d.TagsContain("tags"), []any{obj}, nil
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var conds []string
	var args []any
	for _, k := range keys {
		expr, arg := s.d.JSONField("tags", k)
		conds = append(conds, expr+` = ?`)
		args = append(args, arg, tags[k])
	}
	return strings.Join(conds, ` AND `), args, nil
}

// inTx runs fn in a writer transaction, committing when fn returns nil;
// a span covers the transaction from begin to commit or rollback.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	ctx, span := s.startTx(ctx)
	defer func() { tracing.End(span, err) }()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, rollback(tx))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// lockKey maps a lock name to the 64-bit key PostgreSQL advisory locks use;
// the prefix keeps our keys apart from anything else sharing the database.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("sirsi:" + name))
	return int64(h.Sum64())
}

func (s *Store) GetSetting(ctx context.Context, key string) ([]byte, error) {
	var v string
	err := s.r.QueryRowContext(ctx, s.q(`SELECT value FROM settings WHERE key = ?`), key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("setting %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read setting %q: %w", key, err)
	}
	return decodeSetting(key, v)
}

func (s *Store) PutSettingIfAbsent(ctx context.Context, key string, value []byte) ([]byte, error) {
	var stored []byte
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`),
			key, base64.StdEncoding.EncodeToString(value)); err != nil {
			return fmt.Errorf("insert setting %q: %w", key, err)
		}
		var v string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT value FROM settings WHERE key = ?`), key).Scan(&v); err != nil {
			return fmt.Errorf("read setting %q: %w", key, err)
		}
		var err error
		stored, err = decodeSetting(key, v)
		return err
	})
	return stored, err
}

func (s *Store) PutSetting(ctx context.Context, key string, value []byte) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
		key, base64.StdEncoding.EncodeToString(value))
	if err != nil {
		return fmt.Errorf("write setting %q: %w", key, err)
	}
	return nil
}

func decodeSetting(key, v string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("setting %q is corrupt: %w", key, err)
	}
	return b, nil
}

func (s *Store) TryLeader(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error) {
	if s.d.TryLock == nil {
		s.localMu.Lock()
		if s.localLeaders[name] {
			s.localMu.Unlock()
			return false, nil
		}
		s.localLeaders[name] = true
		s.localMu.Unlock()
		defer func() {
			s.localMu.Lock()
			delete(s.localLeaders, name)
			s.localMu.Unlock()
		}()
		return true, fn(ctx)
	}
	// A dedicated connection: session advisory locks belong to the
	// connection, and the pool must not hand it to anyone else meanwhile.
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("leader %q: get connection: %w", name, err)
	}
	defer conn.Close()
	key := lockKey("leader:" + name)
	ok, err := s.d.TryLock(ctx, conn, key)
	if err != nil {
		return false, fmt.Errorf("leader %q: try lock: %w", name, err)
	}
	if !ok {
		return false, nil
	}
	fnErr := fn(ctx)
	// Unlock with a fresh context: fn's context may be cancelled, and a
	// lock left behind would keep every other replica from leading.
	if err := s.d.Unlock(context.WithoutCancel(ctx), conn, key); err != nil {
		// The connection is unusable for the lock's bookkeeping; dropping
		// it ends the session and with it the lock.
		_ = conn.Raw(func(any) error { return errBadConn })
		return true, errors.Join(fnErr, fmt.Errorf("leader %q: unlock: %w", name, err))
	}
	return true, fnErr
}
