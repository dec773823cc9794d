package daemon

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/protobuf/encoding/protojson"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// auditListCommand is `agentd server audit list`.
var auditListCommand = offlineCommandWith("list", "print audit events, filtered by tenant, actor, action, target, outcome and time",
	"(-data-dir DIR | -config FILE) [-tenant ID] [-actor A] [-action M] [-target T] [-outcome O] [-since TIME] [-until TIME]", `
Prints the audit events that match every filter given, oldest first, one
JSON object per line (protobuf's JSON mapping of sirsi.v1.AuditEvent).
Without -tenant it lists operator-level events (tenant management, refused
calls whose tenant is unknown); with it, that tenant's events. -action is
the RPC's full method name (/sirsi.v1.ManagementService/DeleteTenant) or a
domain action (agent.enroll); -target as events carry it (tenant/ID,
cloud_account/ID...); -since and -until are RFC 3339 times, the window
[since, until). ManagementService.ListAuditEvents and the sirsi provider
read the same log through the API.`, func(fs *flag.FlagSet) offlineBody {
		tenant := fs.String("tenant", "", "`id` of the tenant whose events to list (default: operator-level events)")
		var f store.AuditFilter
		fs.StringVar(&f.Actor, "actor", "", "only events of this `actor` (operator, token:ID, agent:ID, anonymous)")
		fs.StringVar(&f.Action, "action", "", "only events of this `action`")
		fs.StringVar(&f.Target, "target", "", "only events on this `target`")
		fs.StringVar(&f.Outcome, "outcome", "", "only events with this `outcome` (ok, or a gRPC code name)")
		since := fs.String("since", "", "only events at or after this RFC 3339 `time`")
		until := fs.String("until", "", "only events before this RFC 3339 `time`")
		return func(env *environment, cfg *config.Server, sqlitePath string) int {
			var e validation.Errors
			e.Check("-tenant", validation.OptionalID(*tenant))
			for _, t := range []struct {
				flag string
				v    string
				to   *time.Time
			}{{"-since", *since, &f.Start}, {"-until", *until, &f.End}} {
				if t.v == "" {
					continue
				}
				at, err := time.Parse(time.RFC3339Nano, t.v)
				if err != nil {
					e.Add(t.flag, "is not an RFC 3339 time")
					continue
				}
				*t.to = at
			}
			if !f.Start.IsZero() && !f.End.IsZero() && !f.End.After(f.Start) {
				e.Add("-until", "must be after -since")
			}
			if err := e.Err(); err != nil {
				fmt.Fprintf(env.stderr, "agentd server audit list: %s\n", err)
				return exitUsage
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := hclog.New(&hclog.LoggerOptions{Name: "agentd", Output: env.stderr, Level: hclog.Warn})
			st, err := openStore(ctx, cfg, sqlitePath, offlineMaxConns, log)
			if err != nil {
				fmt.Fprintf(env.stderr, "agentd server audit list: %s\n", err)
				return exitFailure
			}
			defer st.Close()
			if err := listAudit(ctx, st, *tenant, f, bufio.NewWriter(env.stdout)); err != nil {
				fmt.Fprintf(env.stderr, "agentd server audit list: %s\n", err)
				return exitFailure
			}
			return exitOK
		}
	})

// listAudit writes every matching event, page by page.
func listAudit(ctx context.Context, st store.Store, tenant string, f store.AuditFilter, w *bufio.Writer) error {
	p := store.Page{Size: store.MaxPageSize}
	for {
		var evs []*sirsiv1.AuditEvent
		var err error
		if tenant == "" {
			evs, p.Token, err = st.ListOperatorAuditEvents(ctx, f, p)
		} else {
			evs, p.Token, err = st.Tenant(tenant).ListAuditEvents(ctx, f, p)
		}
		if err != nil {
			return err
		}
		for _, ev := range evs {
			b, err := protojson.Marshal(ev)
			if err != nil {
				return fmt.Errorf("encode audit event %d: %w", ev.Sequence, err)
			}
			w.Write(b)
			w.WriteByte('\n')
		}
		if p.Token == "" {
			return w.Flush()
		}
	}
}
