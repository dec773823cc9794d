package retention_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/retention"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// auditKey signs the checkpoints of audit pruning in these tests.
var auditKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// seeded is a tenant with utilisation summaries and finished actions at
// the ages given (days before now), one of each per age.
type seeded struct {
	ts store.TenantStore
}

func seed(t *testing.T, s store.Store, tenant *sirsiv1.Tenant, ages ...int) seeded {
	t.Helper()
	ctx := testCtx(t)
	tn, err := s.CreateTenant(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	ts := s.Tenant(tn.Id)
	a, err := ts.CreateCloudAccount(ctx, &sirsiv1.CloudAccount{Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: "123456789012", Regions: []string{"us-east-1"},
		RoleArn: "arn:aws:iam::123456789012:role/sirsi"})
	if err != nil {
		t.Fatal(err)
	}
	var sums []*sirsiv1.UtilizationSummary
	var acts []*sirsiv1.Action
	for i, age := range ages {
		at := timestamppb.New(now.AddDate(0, 0, -age))
		sums = append(sums, &sirsiv1.UtilizationSummary{ResourceId: fmt.Sprintf("i-%d", i), Region: "us-east-1", Metric: "cpu_utilization", Statistic: "p95",
			Value: 1, WindowStart: at, WindowEnd: at})
		acts = append(acts, &sirsiv1.Action{Id: fmt.Sprintf("act-%d", i), ResourceId: fmt.Sprintf("i-%d", i), ResourceType: "aws_ec2_instance", Region: "us-east-1",
			Action: "stop", Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, StartTime: at, EndTime: at})
	}
	if _, err := ts.ApplyUtilization(ctx, a.Id, "util", sums); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.ApplyActions(ctx, a.Id, "acts", acts); err != nil {
		t.Fatal(err)
	}
	for i, age := range ages {
		if _, err := s.AppendAudit(ctx, &sirsiv1.AuditEvent{TenantId: tn.Id, Time: timestamppb.New(now.AddDate(0, 0, -age)), Actor: "token:x",
			Action: fmt.Sprintf("test.%d", i), Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	return seeded{ts: ts}
}

// leftAll counts the tenant's utilisation summaries, actions and audit
// events.
func (sd seeded) leftAll(t *testing.T) (util, actions, audit int) {
	t.Helper()
	util, actions = sd.left(t)
	ev, _, err := sd.ts.ListAuditEvents(testCtx(t), store.AuditFilter{}, store.Page{Size: store.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return util, actions, len(ev)
}

// left counts the tenant's utilisation summaries and actions.
func (sd seeded) left(t *testing.T) (util, actions int) {
	t.Helper()
	ctx := testCtx(t)
	u, _, err := sd.ts.ListUtilization(ctx, store.UtilizationFilter{}, store.Page{Size: store.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := sd.ts.ListActions(ctx, store.ActionFilter{}, store.Page{Size: store.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return len(u), len(a)
}

// prunedMetric is sirsi_retention_pruned_rows_total{table} in reg.
func prunedMetric(t *testing.T, reg *prometheus.Registry, table string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "sirsi_retention_pruned_rows_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "table" && l.GetValue() == table {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(testCtx(t), filepath.Join(t.TempDir(), "sirsi.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPrunerAppliesEachTenantsRetention: a tenant without settings gets
// the server's defaults (30 days of utilisation, actions for ever), one
// with 0 keeps everything, one with its own days loses what is older;
// the metrics and the run's log line count exactly what went.
func TestPrunerAppliesEachTenantsRetention(t *testing.T) {
	s := openSQLite(t)
	ages := []int{1, 10, 40, 41, 42, 400}
	def := seed(t, s, &sirsiv1.Tenant{Name: "defaults"}, ages...)
	forever := seed(t, s, &sirsiv1.Tenant{Name: "forever", UtilizationRetentionDays: proto.Int32(0), ActionRetentionDays: proto.Int32(0)}, ages...)
	short := seed(t, s, &sirsiv1.Tenant{Name: "short", UtilizationRetentionDays: proto.Int32(5), ActionRetentionDays: proto.Int32(41),
		AuditRetentionDays: proto.Int32(41)}, ages...)
	// Operator-level entries follow the server's audit default.
	for _, age := range []int{1, 100} {
		if _, err := s.AppendAudit(testCtx(t), &sirsiv1.AuditEvent{Time: timestamppb.New(now.AddDate(0, 0, -age)), Actor: "operator", Action: "op", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}

	reg := prometheus.NewRegistry()
	var log bytes.Buffer
	p, err := retention.New(retention.Options{
		Store: s, Defaults: retention.Days{Utilization: 30, Audit: 60}, Interval: time.Hour, BatchSize: 2, Registerer: reg, AuditKey: auditKey,
		Logger: hclog.New(&hclog.LoggerOptions{Output: &log}), Clock: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.PruneOnce(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name                          string
		sd                            seeded
		wantUtil, wantActs, wantAudit int
	}{
		// 40, 41, 42 and 400 days old are past 30 days; actions stay;
		// 400 is past the audit default of 60 (forever sets no audit
		// retention of its own).
		{"defaults", def, 2, 6, 5},
		{"forever", forever, 6, 6, 5},
		// Past 5 days: all but 1; past 41 days: 42 and 400 (41 is
		// exactly at the cutoff, not before it).
		{"short", short, 1, 4, 4},
	} {
		if u, a, au := c.sd.leftAll(t); u != c.wantUtil || a != c.wantActs || au != c.wantAudit {
			t.Errorf("tenant %s keeps %d utilisation summaries, %d actions and %d audit events, want %d, %d and %d", c.name, u, a, au, c.wantUtil, c.wantActs, c.wantAudit)
		}
	}
	if !rep.Ran || rep.Tenants != 3 || rep.Pruned[store.RetainedUtilization] != 9 || rep.Pruned[store.RetainedActions] != 2 || rep.Pruned[store.RetainedAudit] != 5 {
		t.Errorf("report %+v, want 3 tenants, 9 utilisation summaries, 2 actions and 5 audit events (1 operator-level)", rep)
	}
	// The audit chain still verifies, the pruned entries accounted for by
	// signed checkpoints.
	v, err := s.VerifyAuditChain(testCtx(t), nil, auditKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if v.Break != nil || v.Pruned != 5 {
		t.Errorf("after pruning the audit chain verifies as %+v (break %+v), want intact with 5 pruned", v, v.Break)
	}
	if got := prunedMetric(t, reg, "utilization"); got != 9 {
		t.Errorf("sirsi_retention_pruned_rows_total{table=utilization} = %v, want 9", got)
	}
	if got := prunedMetric(t, reg, "actions"); got != 2 {
		t.Errorf("sirsi_retention_pruned_rows_total{table=actions} = %v, want 2", got)
	}
	if line := log.String(); strings.Count(line, "retention pruned") != 1 || !strings.Contains(line, "utilization=9") || !strings.Contains(line, "actions=2") ||
		!strings.Contains(line, "audit_events=5") {
		t.Errorf("want one log line naming what was pruned, got %q", line)
	}
}

func TestPrunerRefusesBadOptions(t *testing.T) {
	s := openSQLite(t)
	for name, o := range map[string]retention.Options{
		"no store":     {Interval: time.Hour, BatchSize: 1, AuditKey: auditKey},
		"no interval":  {Store: s, BatchSize: 1, AuditKey: auditKey},
		"no batch":     {Store: s, Interval: time.Hour, AuditKey: auditKey},
		"no audit key": {Store: s, Interval: time.Hour, BatchSize: 1},
	} {
		if _, err := retention.New(o); err == nil {
			t.Errorf("%s: New accepted %+v", name, o)
		}
	}
}
