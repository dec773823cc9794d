package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/ledger"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlstore"
)

// ledgerBenchEntries is the ledger size the summary's goal (under 100 ms)
// is stated for.
const ledgerBenchEntries = 100_000

// BenchSavingsSummary seeds 100k ledger entries into one tenant over two
// cloud accounts (raw multi-row INSERTs: seeding through ApplyActions
// would measure the seeding) and measures SavingsSummary: every period,
// breakdown and run-rate in one call. The entries span 400 days, 8 action
// types and 20 policies; a tenth are open, one in twenty unknown, one in
// twenty verified by Cost Explorer. It reports the median and worst call
// in ms, and the median CPU time of this process per call, besides ns/op.
// settle, when not nil, runs after seeding (analyse).
func BenchSavingsSummary(b *testing.B, s store.Store, raw *sql.DB, d *sqlstore.Dialect, settle func(b *testing.B)) {
	ts, acct, acct2 := benchTenant(b, s, fmt.Sprintf("bench-ledger-%d", time.Now().UnixNano()))
	c := context.Background()
	now := time.Now().UTC()
	actions := []string{"resize", "stop", "migrate_gp3", "snapshot_and_delete", "release", "set_memory", "delete_snapshot", "resize"}
	const cols, chunk = 16, 500
	values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", chunk), ", ")
	insert := d.Rebind(`INSERT INTO savings_ledger (tenant_id, id, cloud_account_id, policy_id, region, resource_type, resource_id, action, to_size,
rate_before_micros, rate_after_micros, rate_source, opened_at, closed_at, accrued_micros, verified_by) VALUES ` + values)
	args := make([]any, 0, cols*chunk)
	for lo := 0; lo < ledgerBenchEntries; lo += chunk {
		args = args[:0]
		for n := lo; n < lo+chunk; n++ {
			opened := now.Add(-time.Duration(n%9600) * time.Hour)
			// Closed entries carry what they accrued, whole hours x rate,
			// as closing them through the store would have stored.
			hours, before, after := int64(1+n%72), int64(10_000+n%500_000), int64(n%9_000)
			var closed, accrued, rateBefore, rateAfter any = opened.Add(time.Duration(hours) * time.Hour).UnixNano(), hours * (before - after), before, after
			if n%10 == 0 {
				closed, accrued = nil, nil
			}
			if n%20 == 1 {
				rateBefore, rateAfter, accrued = nil, nil, nil
			}
			verified := ledger.VerifiedByEstimate
			if n%20 == 2 {
				verified = ledger.VerifiedByCostExplorer
			}
			account := acct.Id
			if n%2 == 1 {
				account = acct2.Id
			}
			args = append(args, ts.TenantID(), fmt.Sprintf("entry-%07d", n), account, fmt.Sprintf("policy-%02d", n%20), "us-east-1", "aws_ec2_instance",
				fmt.Sprintf("i-%08d", n%30_000), actions[n%len(actions)], "m5.large", rateBefore, rateAfter, ledger.RateFromAgent, opened.UnixNano(), closed, accrued, verified)
		}
		if _, err := raw.ExecContext(c, insert, args...); err != nil {
			b.Fatalf("seed the ledger: %v", err)
		}
	}
	if settle != nil {
		settle(b)
	}
	var lat, cpu []time.Duration
	b.ResetTimer()
	for range b.N {
		cpu0, err := processCPU()
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		sum, err := ts.SavingsSummary(c, now)
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		cpu1, err := processCPU()
		if err != nil {
			b.Fatal(err)
		}
		cpu = append(cpu, cpu1-cpu0)
		if sum.ToDate.GetAccruedSavings().GetMicros() <= 0 || sum.UnknownEntries != ledgerBenchEntries/20 {
			b.Fatalf("summary over the seeded ledger: %v", sum)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	slices.Sort(cpu)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	// This process's CPU per summary: what the summary costs whatever else
	// the machine runs (SQLite runs in this process; PostgreSQL's own work
	// is not in it).
	b.ReportMetric(float64(cpu[len(cpu)/2].Microseconds())/1000, "p50-cpu-ms")
}
