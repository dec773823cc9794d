package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hashicorp/go-hclog"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/atomicfile"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// exportAction is what an offline export is audited as; exports through
// the API are audited under their RPC's name.
const exportAction = "agentd.server.export"

// exportCommand is `agentd server export`.
var exportCommand = offlineCommandWith("export", "write every row of one tenant as JSON lines, secrets left out",
	"(-data-dir DIR | -config FILE) -tenant ID [-o FILE]", `
Writes the tenant's row and every row it owns (cloud accounts, policies,
agents, inventory, utilisation, costs, recommendations, actions, plans,
ledger, webhook events, its audit events...) as JSON lines, one row per
line: {"table":"...","record":{column: value...}}. Token hashes, the
webhook secret and sealed values are left out. Everything is read in one
read transaction, so the export is one consistent snapshot even while the
server runs; a tenant that does not exist (or was deleted) is an error.

Without -o the lines go to standard output; with it, to FILE (mode 0600),
which appears only once the export is complete. The export is recorded in
the audit log as `+exportAction+`. ManagementService.ExportTenant does
the same through the API.`, func(fs *flag.FlagSet) offlineBody {
		tenant := fs.String("tenant", "", "`id` of the tenant to export (required)")
		out := fs.String("o", "", "write to `file` instead of standard output")
		return func(env *environment, cfg *config.Server, sqlitePath string) int {
			if err := validation.ID(*tenant); err != nil {
				fmt.Fprintf(env.stderr, "agentd server export: -tenant: %s\n", err)
				return exitUsage
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := hclog.New(&hclog.LoggerOptions{Name: "agentd", Output: env.stderr, Level: hclog.Warn})
			st, err := openStore(ctx, cfg, sqlitePath, offlineMaxConns, log)
			if err != nil {
				fmt.Fprintf(env.stderr, "agentd server export: %s\n", err)
				return exitFailure
			}
			defer st.Close()
			n, err := exportTenant(ctx, st, *tenant, *out, env.stdout)
			ev := &sirsiv1.AuditEvent{TenantId: *tenant, Actor: "operator", SourceAddress: "local", Action: exportAction, Target: "tenant/" + *tenant,
				Outcome: "ok", Detail: fmt.Sprintf("%d records", n)}
			if err != nil {
				ev.Outcome, ev.Detail = "failed", err.Error()
			}
			if _, aerr := st.AppendAudit(context.WithoutCancel(ctx), ev); aerr != nil {
				err = errors.Join(err, fmt.Errorf("audit the export: %w", aerr))
			}
			if err != nil {
				fmt.Fprintf(env.stderr, "agentd server export: %s\n", err)
				return exitFailure
			}
			if *out != "" {
				fmt.Fprintf(env.stderr, "exported %d records of tenant %s to %s\n", n, *tenant, *out)
			}
			return exitOK
		}
	})

// exportLine is one line of an export.
type exportLine struct {
	Table  string          `json:"table"`
	Record json.RawMessage `json:"record"`
}

// exportTenant writes the export to path (complete or not at all) or,
// when path is empty, to stdout; it returns the records written.
func exportTenant(ctx context.Context, st store.Store, tenantID, path string, stdout io.Writer) (int, error) {
	if path == "" {
		return writeExport(ctx, st, tenantID, stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), atomicfile.TempPattern(path))
	if err != nil {
		return 0, fmt.Errorf("-o: %w", err)
	}
	n, err := writeExport(ctx, st, tenantID, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	err = errors.Join(err, tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return n, errors.Join(err, os.Remove(tmp.Name()))
	}
	return n, atomicfile.SyncDir(filepath.Dir(path))
}

func writeExport(ctx context.Context, st store.Store, tenantID string, w io.Writer) (int, error) {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	n := 0
	err := st.ExportTenant(ctx, tenantID, func(table string, record []byte) error {
		n++
		return enc.Encode(exportLine{Table: table, Record: record})
	})
	if err != nil {
		return n, err
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("write the export: %w", err)
	}
	return n, nil
}
