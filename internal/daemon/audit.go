package daemon

import (
	"bytes"
	"context"
	"crypto/ed25519"
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
	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sealed"
)

// auditVerifyCommand is `agentd server audit verify`.
var auditVerifyCommand = offlineCommandWith("verify", "walk the audit log's hash chain and its signed checkpoints, name the first bad entry, print the head",
	"(-data-dir DIR | -config FILE) [-expect-head SEQ:HASH | -expect-head-file FILE]", `
Walks the audit log's hash chain from the first entry to the last. Prints
"audit log intact: N entries, head SEQ:HASH" and exits 0, or names the
first bad entry and exits 1. Exit code 2 means bad flags or configuration.

The server signs the chain's head every audit_checkpoint_interval, and
pruning signs what it removes (docs/security.md). Verify checks every
checkpoint's signature with the server's key (opened with the seal
settings), that the chain has each checkpoint's hash at its sequence, and
that it reaches the newest checkpoint: deleting entries the server has
checkpointed is reported without anything kept elsewhere.

The head is the newest entry's sequence and hash. Keep it somewhere the
database's writers cannot reach (a log sink, a ticket, another system) and
pass it back with -expect-head (or -expect-head-file, a file holding it,
or a checkpoint exported by "agentd server audit checkpoint", whose
signature is then checked too): the chain must then still reach that
entry with that hash, so deleting the newest entries, or rewriting the
whole log with the checkpoints, is reported as broken too.

-data-dir reads the SQLite database (and seal key) of that data dir;
-config reads the server configuration (database_url selects PostgreSQL,
seal and vault the seal). SIRSI_* variables apply as they do to agentd
server.`, func(fs *flag.FlagSet) offlineBody {
		expect := fs.String("expect-head", "", "a head printed by an earlier verify (`SEQ:HASH`) the log must still reach")
		expectFile := fs.String("expect-head-file", "", "`file` holding such a head, or an exported checkpoint")
		return func(env *environment, cfg *config.Server, sqlitePath string) int {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := hclog.New(&hclog.LoggerOptions{Name: "agentd", Output: env.stderr, Level: hclog.Warn})
			exp, err := expectedHead(*expect, *expectFile)
			if err != nil {
				fmt.Fprintf(env.stderr, "agentd server audit verify: %s\n", err)
				return exitUsage
			}
			st, pub, err := openAuditLog(ctx, cfg, sqlitePath, log)
			if err != nil {
				fmt.Fprintf(env.stderr, "agentd server audit verify: %s\n", err)
				return exitFailure
			}
			defer st.Close()
			head, err := exp.head(pub)
			if err != nil {
				fmt.Fprintf(env.stdout, "audit log BROKEN: the expected head: %s\n", err)
				return exitFailure
			}
			return verifyAudit(ctx, env, st, head, pub)
		}
	})

// expected is what -expect-head or -expect-head-file give: a head, or an
// exported checkpoint whose signature must be checked first.
type expected struct {
	h  *store.AuditHead
	cp *store.AuditCheckpoint
}

// head is the expected head; an exported checkpoint must be signed by
// pub, the server's checkpoint key.
func (e expected) head(pub ed25519.PublicKey) (*store.AuditHead, error) {
	if e.cp == nil {
		return e.h, nil
	}
	if pub == nil {
		return nil, errors.New("the file is a signed checkpoint, and this server has no checkpoint key")
	}
	if err := e.cp.Verify(pub); err != nil {
		return nil, err
	}
	h := e.cp.Head()
	return &h, nil
}

// expectedHead reads -expect-head or -expect-head-file.
func expectedHead(v, file string) (expected, error) {
	switch {
	case v != "" && file != "":
		return expected{}, errors.New("-expect-head and -expect-head-file: give one, not both")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return expected{}, fmt.Errorf("-expect-head-file: %w", err)
		}
		if bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
			cp, err := store.ParseAuditCheckpoint(b)
			if err != nil {
				return expected{}, fmt.Errorf("-expect-head-file: %w", err)
			}
			return expected{cp: cp}, nil
		}
		v = string(b)
	case v == "":
		return expected{}, nil
	}
	h, err := store.ParseAuditHead(v)
	if err != nil {
		return expected{}, fmt.Errorf("expected head: %w", err)
	}
	return expected{h: &h}, nil
}

// openAuditLog opens the store and reads the public checkpoint key with
// the server's seal, changing nothing: a data dir without a seal key file
// has none (an older server's), and the key is then read in clear if it
// is there at all.
func openAuditLog(ctx context.Context, cfg *config.Server, sqlitePath string, log hclog.Logger) (store.Store, ed25519.PublicKey, error) {
	st, err := openStore(ctx, cfg, sqlitePath, offlineMaxConns, log)
	if err != nil {
		return nil, nil, err
	}
	var sealer secrets.Sealer
	if cfg.Seal.Backend == "vault" || cfg.Seal.KeyFile != "" || sealKeyPresent(cfg) {
		if sealer, _, err = newSealer(ctx, cfg, log); err != nil {
			st.Close()
			return nil, nil, err
		}
	}
	pub, err := sealed.AuditCheckpointPublicKey(ctx, st, sealer)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, pub, nil
}

// sealKeyPresent: the data dir holds the local seal's key file.
func sealKeyPresent(cfg *config.Server) bool {
	if cfg.DataDir == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(cfg.DataDir, sealKeyFile))
	return err == nil
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
func verifyAudit(ctx context.Context, env *environment, st store.Store, expect *store.AuditHead, pub ed25519.PublicKey) int {
	v, err := st.VerifyAuditChain(ctx, expect, pub)
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd server audit verify: %s\n", err)
		return exitFailure
	}
	checked := "no signed checkpoints"
	if v.Newest != nil {
		checked = fmt.Sprintf("%d signed checkpoints, newest at sequence %d", v.Checkpoints, v.Newest.Sequence)
	}
	brk := v.Break
	if brk == nil {
		fmt.Fprintf(env.stdout, "audit log intact: %d entries (%d pruned), %s, head %s\n", v.Entries, v.Pruned, checked, v.Head)
		return exitOK
	}
	if brk.ID == "" {
		// Nothing is there to describe: the log ends before the head, a
		// checkpoint is bad, or the entry was pruned.
		fmt.Fprintf(env.stdout, "audit log BROKEN: at sequence %d: %s (last intact head %s)\n", brk.Sequence, brk.Reason, v.Head)
		return exitFailure
	}
	fmt.Fprintf(env.stdout, "audit log BROKEN: first bad entry: sequence %d, id %s", brk.Sequence, brk.ID)
	if al, ok := st.(interface {
		AuditEvent(ctx context.Context, sequence int64) (*sirsiv1.AuditEvent, error)
	}); ok {
		if e, err := al.AuditEvent(ctx, brk.Sequence); err == nil {
			fmt.Fprintf(env.stdout, ", time %s, action %s", e.Time.AsTime().UTC().Format(time.RFC3339Nano), e.Action)
		}
	}
	fmt.Fprintf(env.stdout, ": %s\n", brk.Reason)
	return exitFailure
}
