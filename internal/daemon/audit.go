package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// auditVerifyCommand is `agentd server audit verify`.
var auditVerifyCommand = offlineCommandWith("verify", "walk the audit log's hash chain, name the first bad entry, print the head",
	"(-data-dir DIR | -config FILE) [-expect-head SEQ:HASH | -expect-head-file FILE]", `
Walks the audit log's hash chain from the first entry to the last. Prints
"audit log intact: N entries, head SEQ:HASH" and exits 0, or names the
first bad entry and exits 1. Exit code 2 means bad flags or configuration.

The head is the newest entry's sequence and hash. Keep it somewhere the
database's writers cannot reach (a log sink, a ticket, another system) and
pass it back with -expect-head (or -expect-head-file, a file holding it):
the chain must then still reach that entry with that hash, so deleting the
newest entries, or rewriting the whole log, is reported as broken too.

-data-dir reads the SQLite database of that data dir; -config reads the
server configuration (database_url selects PostgreSQL). SIRSI_DATA_DIR and
SIRSI_DATABASE_URL apply as they do to agentd server.`, func(fs *flag.FlagSet) offlineBody {
		expect := fs.String("expect-head", "", "a head printed by an earlier verify (`SEQ:HASH`) the log must still reach")
		expectFile := fs.String("expect-head-file", "", "`file` holding such a head")
		return func(env *environment, cfg *config.Server, sqlitePath string) int {
			head, err := expectedHead(*expect, *expectFile)
			if err != nil {
				fmt.Fprintf(env.stderr, "agentd server audit verify: %s\n", err)
				return exitUsage
			}
			return runAuditVerify(env, cfg, sqlitePath, head)
		}
	})

// expectedHead reads -expect-head or -expect-head-file; nil when neither
// is given.
func expectedHead(v, file string) (*store.AuditHead, error) {
	switch {
	case v != "" && file != "":
		return nil, errors.New("-expect-head and -expect-head-file: give one, not both")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("-expect-head-file: %w", err)
		}
		v = string(b)
	case v == "":
		return nil, nil
	}
	h, err := store.ParseAuditHead(v)
	if err != nil {
		return nil, fmt.Errorf("expected head: %w", err)
	}
	return &h, nil
}

// auditLog is what verify needs beyond store.Store, to describe the log;
// both SQL back ends provide it.
type auditLog interface {
	AuditEvent(ctx context.Context, sequence int64) (*sirsiv1.AuditEvent, error)
	AuditLength(ctx context.Context) (int64, error)
	VerifyAuditHead(ctx context.Context, expect *store.AuditHead) (*store.AuditBreak, store.AuditHead, error)
}

func runAuditVerify(env *environment, cfg *config.Server, sqlitePath string, expect *store.AuditHead) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := hclog.New(&hclog.LoggerOptions{Name: "agentd", Output: env.stderr, Level: hclog.Warn})
	st, err := openStore(ctx, cfg, sqlitePath, offlineMaxConns, log)
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd server audit verify: %s\n", err)
		return exitFailure
	}
	defer st.Close()
	return verifyAudit(ctx, env, st, expect)
}

// offlineBody is the work of an offline command, given the loaded
// configuration and the SQLite database path ("" for PostgreSQL).
type offlineBody func(env *environment, cfg *config.Server, sqlitePath string) int

// offlineCommand is a server subcommand that works on a server's data
// (-config FILE or -data-dir DIR), maybe while the server runs. A mistyped
// data dir must not get a fresh database and key file, so the SQLite
// database must already be there (auditSQLitePath).
func offlineCommand(name, synopsis, about string, body offlineBody) *command {
	return offlineCommandWith(name, synopsis, "(-data-dir DIR | -config FILE)", about, func(*flag.FlagSet) offlineBody { return body })
}

// offlineCommandWith is offlineCommand for a command with flags of its
// own: flags binds them and returns the body that reads them.
func offlineCommandWith(name, synopsis, args, about string, flags func(fs *flag.FlagSet) offlineBody) *command {
	return &command{
		name: name, synopsis: synopsis, about: about, args: args,
		flags: func(env *environment, fs *flag.FlagSet) func() int {
			configFile := fs.String("config", "", "HCL configuration `file` of the server")
			fl := config.ServerFlags()
			fl.Bind(fs, "data_dir", "", "")
			body := flags(fs)
			return func() int {
				cfg, err := config.Loader{Defaults: config.Defaults(), File: *configFile, Env: env.lookupEnv, Flags: fl}.Load()
				var sqlitePath string
				if err == nil {
					sqlitePath, err = auditSQLitePath(cfg)
				}
				if err != nil {
					fmt.Fprintf(env.stderr, "%s: configuration:\n%s\n", fs.Name(), err)
					return exitUsage
				}
				return body(env, cfg, sqlitePath)
			}
		},
	}
}

// auditSQLitePath checks that the configuration names an existing store:
// opening SQLite creates a missing file, and verifying a fresh empty log
// would wrongly report a mistyped data dir as intact. It returns "" for
// PostgreSQL.
func auditSQLitePath(cfg *config.Server) (string, error) {
	if cfg.DatabaseURL != "" {
		return "", nil
	}
	if cfg.DataDir == "" {
		return "", errors.New("data_dir: required; set -data-dir, SIRSI_DATA_DIR, or data_dir (or database_url) in the -config file")
	}
	fi, err := os.Stat(cfg.DataDir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("data_dir: %s does not exist", cfg.DataDir)
	case err != nil:
		return "", fmt.Errorf("data_dir: %w", err)
	case !fi.IsDir():
		return "", fmt.Errorf("data_dir: %s is not a directory", cfg.DataDir)
	}
	path := filepath.Join(cfg.DataDir, sqliteFile)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("data_dir: %s holds no %s: not the data dir of an agentd server", cfg.DataDir, sqliteFile)
		}
		return "", fmt.Errorf("data_dir: %w", err)
	}
	return path, nil
}

// verifyAudit prints the verdict and returns the exit code.
func verifyAudit(ctx context.Context, env *environment, st store.Store, expect *store.AuditHead) int {
	al, ok := st.(auditLog)
	if !ok {
		fmt.Fprintf(env.stderr, "agentd server audit verify: the %T store cannot describe its audit log\n", st)
		return exitFailure
	}
	// Counted first: a running server may append while the walk runs, and
	// the walk then covers at least this many.
	n, err := al.AuditLength(ctx)
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd server audit verify: %s\n", err)
		return exitFailure
	}
	brk, head, err := al.VerifyAuditHead(ctx, expect)
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd server audit verify: %s\n", err)
		return exitFailure
	}
	if brk == nil {
		fmt.Fprintf(env.stdout, "audit log intact: %d entries, head %s\n", n, head)
		return exitOK
	}
	if brk.ID == "" {
		// Nothing is there to describe: the log ends before the head.
		fmt.Fprintf(env.stdout, "audit log BROKEN: %s (last intact head %s)\n", brk.Reason, head)
		return exitFailure
	}
	fmt.Fprintf(env.stdout, "audit log BROKEN: first bad entry: sequence %d, id %s", brk.Sequence, brk.ID)
	if e, err := al.AuditEvent(ctx, brk.Sequence); err == nil {
		fmt.Fprintf(env.stdout, ", time %s, action %s", e.Time.AsTime().UTC().Format(time.RFC3339Nano), e.Action)
	}
	fmt.Fprintf(env.stdout, ": %s\n", brk.Reason)
	return exitFailure
}
