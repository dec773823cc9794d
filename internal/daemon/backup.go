package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
)

// backupCommand is `agentd server backup`.
var backupCommand = offlineCommandWith("backup", "copy a SQLite server's data dir into a new directory while it runs", "(-data-dir DIR | -config FILE) -out DIR", `
Copies a SQLite server's data dir into a new directory while the server
runs: the database as one consistent snapshot (VACUUM INTO, checked with
PRAGMA integrity_check), and every other file of the data dir as it is (the
local seal key, the operator token, TLS material) — the database's sealed
values are useless without the seal key. Restore by stopping the server and
making the backup directory its data dir. For PostgreSQL use pg_dump
(docs/production.md).`, func(fs *flag.FlagSet) offlineBody {
	out := fs.String("out", "", "new `directory` for the backup (must not exist)")
	return func(env *environment, cfg *config.Server, sqlitePath string) int {
		return runServerBackup(env, cfg, sqlitePath, *out)
	}
})

func runServerBackup(env *environment, cfg *config.Server, sqlitePath, out string) int {
	if cfg.DatabaseURL != "" {
		fmt.Fprintln(env.stderr, "agentd server backup: the store is PostgreSQL (database_url): back it up with pg_dump, see docs/production.md")
		return exitUsage
	}
	if out == "" {
		fmt.Fprintln(env.stderr, "agentd server backup: -out: required, a directory that does not exist yet")
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := backupDataDir(ctx, cfg.DataDir, sqlitePath, out); err != nil {
		fmt.Fprintf(env.stderr, "agentd server backup: %s\n", err)
		return exitFailure
	}
	fmt.Fprintf(env.stdout, "backed up %s into %s\n", cfg.DataDir, out)
	return exitOK
}

// backupDataDir writes the backup into out, created 0700; on failure out
// is removed, so a directory that exists is a complete backup.
func backupDataDir(ctx context.Context, dataDir, sqlitePath, out string) (err error) {
	absOut, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	absData, err := filepath.Abs(dataDir)
	if err != nil {
		return fmt.Errorf("data_dir: %w", err)
	}
	if absOut == absData || strings.HasPrefix(absOut, absData+string(filepath.Separator)) {
		return fmt.Errorf("-out: %s is inside the data dir %s", out, dataDir)
	}
	if err := os.Mkdir(out, 0o700); err != nil {
		return fmt.Errorf("creating the backup directory: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(out)
		}
	}()
	if err := sqlite.Backup(ctx, sqlitePath, filepath.Join(out, sqliteFile)); err != nil {
		return err
	}
	return filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dataDir, path)
		if err != nil {
			return err
		}
		// The database and its WAL and shared-memory files are in the
		// snapshot already.
		if rel == "." || strings.HasPrefix(rel, sqliteFile) {
			return nil
		}
		if d.IsDir() {
			return os.Mkdir(filepath.Join(out, rel), 0o700)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file, not backed up", path)
		}
		return copyPrivate(path, filepath.Join(out, rel))
	})
}

// copyPrivate copies a file into a new file readable only by its owner.
func copyPrivate(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("backing up %s: %w", src, err)
	}
	defer in.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backing up %s: %w", src, err)
	}
	if _, err := io.Copy(f, in); err != nil {
		return errors.Join(fmt.Errorf("backing up %s: %w", src, err), f.Close())
	}
	if err := f.Sync(); err != nil {
		return errors.Join(fmt.Errorf("backing up %s: %w", src, err), f.Close())
	}
	return f.Close()
}
