package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// walSwitchTimeout bounds how long enableWAL waits for other openers; it
// matches the busy_timeout of the DSN.
const walSwitchTimeout = 10 * time.Second

// enableWAL puts the database file in WAL mode (persistent in the file)
// before the pools connect. Switching a fresh file to WAL takes an
// exclusive lock from a connection that already holds a shared one, and
// when two connections do that at once SQLite answers SQLITE_BUSY at once
// instead of calling the busy handler (it would be a deadlock). Two
// processes, or two stores of one process, opening the same fresh file
// therefore need a retry here; once the file is in WAL mode the pragma in
// the DSN only reads the mode and cannot deadlock.
func enableWAL(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", DSN(path, true))
	if err != nil {
		return fmt.Errorf("switch to WAL mode: %w", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, walSwitchTimeout)
	defer cancel()
	wait := time.Millisecond
	for {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
		if err == nil {
			return nil
		}
		if !isBusy(err) {
			return fmt.Errorf("switch to WAL mode: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("switch to WAL mode: other connections held the file for %s: %w", walSwitchTimeout, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}
