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
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/postgres"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
)

const auditUsage = `Usage: agentd server audit verify (-data-dir DIR | -config FILE)

Walks the audit log's hash chain from the first entry to the last. Prints
"audit log intact: N entries" and exits 0, or names the first bad entry and
exits 1. Exit code 2 means bad flags or configuration.

-data-dir reads the SQLite database of that data dir; -config reads the
server configuration (database_url selects PostgreSQL). SIRSI_DATA_DIR and
SIRSI_DATABASE_URL apply as they do to agentd server.

Flags:
`

// auditLog is what verify needs beyond store.Store, to describe the log;
// both SQL back ends provide it.
type auditLog interface {
	AuditEvent(ctx context.Context, sequence int64) (*sirsiv1.AuditEvent, error)
	AuditLength(ctx context.Context) (int64, error)
}

// runServerAudit is `agentd server audit <subcommand>`.
func runServerAudit(env *environment, args []string) int {
	if len(args) == 0 || args[0] != "verify" {
		help := len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help")
		if len(args) > 0 && !help {
			fmt.Fprintf(env.stderr, "agentd server audit: unknown subcommand %q\n\n", args[0])
		}
		fmt.Fprint(env.stderr, auditUsage)
		if help {
			return exitOK
		}
		return exitUsage
	}
	return runAuditVerify(env, args[1:])
}

func runAuditVerify(env *environment, args []string) int {
	cfg, sqlitePath, code, ok := parseOfflineCommand(env, "agentd server audit verify", auditUsage, args)
	if !ok {
		return code
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := hclog.New(&hclog.LoggerOptions{Name: "agentd", Output: env.stderr, Level: hclog.Warn})
	st, err := openAuditStore(ctx, cfg, sqlitePath, log)
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd server audit verify: %s\n", err)
		return exitFailure
	}
	defer st.Close()
	return verifyAudit(ctx, env, st)
}

// auditSQLitePath checks that the configuration names an existing store:
// opening SQLite creates a missing file, and verifying a fresh empty log
// would wrongly report a mistyped data dir as intact. It returns "" for
// PostgreSQL.
// parseOfflineCommand reads the flags and configuration of a server
// subcommand that works on a server's data (-config FILE or -data-dir DIR).
// A mistyped data dir must not get a fresh database and key file, so the
// SQLite database must already be there. When ok is false, code is the
// exit code, the reason already printed.
func parseOfflineCommand(env *environment, name, usage string, args []string, bind ...func(*flag.FlagSet)) (cfg *config.Server, sqlitePath string, code int, ok bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	configFile := fs.String("config", "", "HCL configuration `file` of the server")
	fl := config.ServerFlags()
	fl.Bind(fs, "data_dir", "", "")
	for _, b := range bind {
		b(fs)
	}
	fs.Usage = func() {
		fmt.Fprint(env.stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, "", exitOK, false
		}
		return nil, "", exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "%s: unexpected arguments %q\n", name, fs.Args())
		return nil, "", exitUsage, false
	}
	cfg, err := config.Loader{Defaults: config.Defaults(), File: *configFile, Env: env.lookupEnv, Flags: fl}.Load()
	if err == nil {
		sqlitePath, err = auditSQLitePath(cfg)
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "%s: configuration:\n%s\n", name, err)
		return nil, "", exitUsage, false
	}
	return cfg, sqlitePath, 0, true
}

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

func openAuditStore(ctx context.Context, cfg *config.Server, sqlitePath string, log hclog.Logger) (store.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if cfg.DatabaseURL != "" {
		st, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{MaxConns: 2, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("database_url: %w", err)
		}
		return st, nil
	}
	st, err := sqlite.Open(ctx, sqlitePath, log)
	if err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	return st, nil
}

// verifyAudit prints the verdict and returns the exit code.
func verifyAudit(ctx context.Context, env *environment, st store.Store) int {
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
	brk, err := st.VerifyAudit(ctx)
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd server audit verify: %s\n", err)
		return exitFailure
	}
	if brk == nil {
		fmt.Fprintf(env.stdout, "audit log intact: %d entries\n", n)
		return exitOK
	}
	fmt.Fprintf(env.stdout, "audit log BROKEN: first bad entry: sequence %d, id %s", brk.Sequence, brk.ID)
	if e, err := al.AuditEvent(ctx, brk.Sequence); err == nil {
		fmt.Fprintf(env.stdout, ", time %s, action %s", e.Time.AsTime().UTC().Format(time.RFC3339Nano), e.Action)
	}
	fmt.Fprintf(env.stdout, ": %s\n", brk.Reason)
	return exitFailure
}
