package daemon

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
)

// auditCheckpointCommand is `agentd server audit checkpoint`.
var auditCheckpointCommand = offlineCommandWith("checkpoint", "print the newest signed checkpoint of the audit chain, for shipping elsewhere",
	"(-data-dir DIR | -config FILE) [-all]", `
Prints the newest signed checkpoint of the audit chain (the head's
sequence and hash, when it was signed, and for a prune what it removed)
as one JSON object with its Ed25519 signature and the server's public key;
-all prints every checkpoint, one per line, oldest first. Ship it where
the database's writers cannot reach; "agentd server audit verify
-expect-head-file FILE" checks its signature with the server's key and
that the chain still reaches it. Exits 1 when there is none yet (the
server signs one every audit_checkpoint_interval and when it stops).

-data-dir reads the SQLite database (and seal key) of that data dir;
-config reads the server configuration. SIRSI_* variables apply as they
do to agentd server.`, func(fs *flag.FlagSet) offlineBody {
		all := fs.Bool("all", false, "print every checkpoint, oldest first")
		return func(env *environment, cfg *config.Server, sqlitePath string) int {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := hclog.New(&hclog.LoggerOptions{Name: "agentd", Output: env.stderr, Level: hclog.Warn})
			fail := func(err error) int {
				fmt.Fprintf(env.stderr, "agentd server audit checkpoint: %s\n", err)
				return exitFailure
			}
			st, pub, err := openAuditLog(ctx, cfg, sqlitePath, log)
			if err != nil {
				return fail(err)
			}
			defer st.Close()
			cps, err := st.AuditCheckpoints(ctx)
			if err != nil {
				return fail(err)
			}
			if len(cps) == 0 {
				return fail(fmt.Errorf("no checkpoint yet"))
			}
			if !*all {
				// Oldest sequence first: the last is the newest head.
				cps = cps[len(cps)-1:]
			}
			enc := json.NewEncoder(env.stdout)
			for _, c := range cps {
				c.PublicKey = pub
				if err := enc.Encode(c); err != nil {
					return fail(err)
				}
			}
			return exitOK
		}
	})
