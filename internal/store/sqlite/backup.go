package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
)

// Backup writes a consistent copy of the database file at path to dst
// while other connections (a running server) keep reading and writing:
// VACUUM INTO reads one snapshot of the database in a read transaction,
// which WAL mode lets run beside the writer, and writes a compact,
// self-contained file (no -wal to carry along), mode 0600. dst must not
// exist. The copy is checked with PRAGMA integrity_check before Backup
// returns.
func Backup(ctx context.Context, path, dst string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backing up %s: %w", path, err)
	}
	// Created empty first (VACUUM INTO accepts an empty file), so the copy
	// of sealed secrets is never readable by others, and an existing dst
	// is refused.
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backing up %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("backing up %s: %w", path, err)
	}
	// Not the reader DSN: query_only forbids VACUUM INTO's writes to dst.
	// Outside a transaction, _txlock (the writer DSN's) does not apply, so
	// this takes no write lock on path.
	db, err := sql.Open("sqlite", DSN(path, true))
	if err != nil {
		return fmt.Errorf("backing up %s: %w", path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		_ = os.Remove(dst)
		return fmt.Errorf("backing up %s into %s: %w", path, dst, err)
	}
	if err := checkIntegrity(ctx, dst); err != nil {
		return fmt.Errorf("checking the backup %s: %w", dst, err)
	}
	return nil
}

func checkIntegrity(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", DSN(path, false))
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return fmt.Errorf("integrity_check: %s", res)
	}
	return nil
}
