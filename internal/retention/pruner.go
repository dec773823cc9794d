// Package retention is the control plane's pruner: on an interval it
// removes each tenant's utilisation summaries, finished actions, cost
// anomalies and audit events older than the tenant's retention (sirsiv1.Tenant's
// *_retention_days, else the server's defaults from internal/config), in
// bounded batches so that no delete holds a lock for long. One replica at
// a time prunes (the store's leader lock); the batches themselves skip
// rows another transaction holds, so even two pruners at once neither wait
// for each other nor delete a row twice.
//
// Audit events older than the tenant's audit retention are removed with
// the store's PruneAudit, which keeps the hash chain verifiable (a signed
// checkpoint of what it removed); the operator-level entries follow the
// server's default.
//
// The savings ledger and cost records are never pruned: every money
// figure (GetSavingsSummary, the cost summaries) reads them, and the
// savings summary's action counts include the pruned actions.
package retention

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// Days are the server's retention defaults, in days; 0 keeps for ever.
type Days struct {
	Utilization, Actions, Anomalies, Audit int
}

// Options configure a Pruner. Store, Interval and BatchSize are required.
type Options struct {
	Store store.Store
	// Defaults apply to tenants that leave a *_retention_days unset.
	Defaults Days
	// AuditKey signs the checkpoints of audit pruning (the server's audit
	// checkpoint key); required when any audit retention can be set.
	AuditKey  ed25519.PrivateKey
	Interval  time.Duration
	BatchSize int
	Logger    hclog.Logger
	// Registerer takes the pruner's metrics (agentd's own registry).
	Registerer prometheus.Registerer
	// Clock is time.Now unless a test sets it.
	Clock func() time.Time
}

// Pruner removes what retention no longer keeps.
type Pruner struct {
	o      Options
	pruned *prometheus.CounterVec
	runs   *prometheus.CounterVec
}

// New checks the options and registers the metrics.
func New(o Options) (*Pruner, error) {
	switch {
	case o.Store == nil:
		return nil, errors.New("retention: Options.Store is required")
	case o.Interval <= 0:
		return nil, fmt.Errorf("retention: Options.Interval must be positive, is %s", o.Interval)
	case o.BatchSize < 1:
		return nil, fmt.Errorf("retention: Options.BatchSize must be at least 1, is %d", o.BatchSize)
	case o.AuditKey == nil:
		return nil, errors.New("retention: Options.AuditKey is required: a tenant may set audit_retention_days")
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	p := &Pruner{
		o: o,
		pruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_retention_pruned_rows_total",
			Help: "Rows the retention pruner deleted, by table (utilization, actions, cost_anomalies, audit_events).",
		}, []string{"table"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_retention_runs_total",
			Help: "Retention pruner runs: ran, skipped (another replica was pruning) or failed.",
		}, []string{"outcome"}),
	}
	for _, c := range []prometheus.Collector{p.pruned, p.runs} {
		if err := o.Registerer.Register(c); err != nil {
			return nil, fmt.Errorf("retention: register metrics: %w", err)
		}
	}
	return p, nil
}

// Run prunes at start and then every Interval until ctx ends; a failed
// run is logged and tried again at the next interval. It returns nil when
// ctx is cancelled.
func (p *Pruner) Run(ctx context.Context) error {
	t := time.NewTicker(p.o.Interval)
	defer t.Stop()
	for {
		if _, err := p.PruneOnce(ctx); err != nil && ctx.Err() == nil {
			p.o.Logger.Error("retention pruning failed; trying again at the next interval", "interval", p.o.Interval, "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Report is what one run deleted, by table; Ran is false when another
// replica held the pruning lock and this one did nothing.
type Report struct {
	Ran     bool
	Tenants int
	Pruned  map[store.Retained]int64
}

// PruneOnce runs one pass over every tenant under the store's leader lock
// and logs one line with what it deleted.
func (p *Pruner) PruneOnce(ctx context.Context) (Report, error) {
	start := p.o.Clock()
	rep := Report{Pruned: map[store.Retained]int64{}}
	ran, err := p.o.Store.TryLeader(ctx, "retention", func(ctx context.Context) error {
		return p.pruneTenants(ctx, start, &rep)
	})
	rep.Ran = ran
	outcome := "ran"
	switch {
	case err != nil:
		outcome = "failed"
	case !ran:
		outcome = "skipped"
	}
	p.runs.WithLabelValues(outcome).Inc()
	if ran {
		args := []any{"tenants", rep.Tenants, "took", p.o.Clock().Sub(start).Round(time.Millisecond)}
		for _, k := range append(store.RetainedKinds, store.RetainedAudit) {
			args = append(args, string(k), rep.Pruned[k])
		}
		if err != nil {
			args = append(args, "error", err)
		}
		p.o.Logger.Info("retention pruned", args...)
	}
	return rep, err
}

func (p *Pruner) pruneTenants(ctx context.Context, now time.Time, rep *Report) error {
	if err := p.pruneAudit(ctx, "", p.o.Defaults.Audit, now, rep); err != nil {
		return err
	}
	page := store.Page{Size: store.MaxPageSize}
	for {
		tenants, next, err := p.o.Store.ListTenants(ctx, page)
		if err != nil {
			return fmt.Errorf("retention: list tenants: %w", err)
		}
		for _, t := range tenants {
			rep.Tenants++
			if err := p.pruneTenant(ctx, t, now, rep); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		page.Token = next
	}
}

// pruneTenant deletes batch after batch of each kind until a batch comes
// back short: nothing older is left.
func (p *Pruner) pruneTenant(ctx context.Context, t *sirsiv1.Tenant, now time.Time, rep *Report) error {
	ts := p.o.Store.Tenant(t.Id)
	for _, kind := range store.RetainedKinds {
		days := p.days(t, kind)
		if days == 0 {
			continue
		}
		before := now.Add(-time.Duration(days) * 24 * time.Hour)
		for {
			n, err := ts.PruneRetained(ctx, kind, before, p.o.BatchSize)
			rep.Pruned[kind] += n
			p.pruned.WithLabelValues(string(kind)).Add(float64(n))
			if err != nil {
				return fmt.Errorf("retention: %w", err)
			}
			if n < int64(p.o.BatchSize) {
				break
			}
		}
	}
	return p.pruneAudit(ctx, t.Id, p.days(t, store.RetainedAudit), now, rep)
}

// pruneAudit removes the audit events of tenantID ("" for the
// operator-level ones) older than days, in one call of the store's
// PruneAudit: the chain's checkpoint must cover exactly what one
// transaction removes, so it is not split into batches.
func (p *Pruner) pruneAudit(ctx context.Context, tenantID string, days int, now time.Time, rep *Report) error {
	if days == 0 {
		return nil
	}
	res, err := p.o.Store.PruneAudit(ctx, tenantID, now.Add(-time.Duration(days)*24*time.Hour), p.o.AuditKey)
	if err != nil {
		return fmt.Errorf("retention: audit events of tenant %q: %w", tenantID, err)
	}
	rep.Pruned[store.RetainedAudit] += res.Pruned
	p.pruned.WithLabelValues(string(store.RetainedAudit)).Add(float64(res.Pruned))
	return nil
}

// days is the tenant's retention of kind: its own setting, else the
// server's default.
func (p *Pruner) days(t *sirsiv1.Tenant, kind store.Retained) int {
	own, def := t.UtilizationRetentionDays, p.o.Defaults.Utilization
	switch kind {
	case store.RetainedActions:
		own, def = t.ActionRetentionDays, p.o.Defaults.Actions
	case store.RetainedAnomalies:
		own, def = t.AnomalyRetentionDays, p.o.Defaults.Anomalies
	case store.RetainedAudit:
		own, def = t.AuditRetentionDays, p.o.Defaults.Audit
	}
	if own != nil {
		return int(*own)
	}
	return def
}
