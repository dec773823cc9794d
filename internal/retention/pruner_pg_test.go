package retention_test

import (
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/retention"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/postgres"
)

// TestTwoReplicasPrunePostgres runs two replicas' pruners at once on one
// PostgreSQL database, then two replicas' batches at once without the
// pruners' lock: neither errs, nothing is deleted twice (the counts add
// up to exactly the old rows) and nothing old is left.
func TestTwoReplicasPrunePostgres(t *testing.T) {
	url := pgtest.Database(t)
	var stores [2]store.Store
	for i := range stores {
		s, err := postgres.Open(testCtx(t), url, postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	ages := make([]int, 0, 130)
	for i := range 120 {
		ages = append(ages, 40+i)
	}
	for i := range 10 {
		ages = append(ages, i)
	}
	days := proto.Int32(30)
	a := seed(t, stores[0], &sirsiv1.Tenant{Name: "a", UtilizationRetentionDays: days, ActionRetentionDays: days}, ages...)
	b := seed(t, stores[0], &sirsiv1.Tenant{Name: "b", UtilizationRetentionDays: days, ActionRetentionDays: days}, ages...)

	// The pruners: one run each, at once.
	var regs [2]*prometheus.Registry
	var reps [2]retention.Report
	var errs [2]error
	var wg sync.WaitGroup
	for i := range stores {
		regs[i] = prometheus.NewRegistry()
		p, err := retention.New(retention.Options{Store: stores[i], Interval: time.Hour, BatchSize: 7, Registerer: regs[i], AuditKey: auditKey, Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = p.PruneOnce(testCtx(t))
		}()
	}
	wg.Wait()
	var util, acts float64
	for i := range stores {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		util += prunedMetric(t, regs[i], "utilization")
		acts += prunedMetric(t, regs[i], "actions")
	}
	if util != 240 || acts != 240 {
		t.Errorf("the replicas' metrics count %v utilisation summaries and %v actions pruned, want 240 each (120 per tenant)", util, acts)
	}
	for _, sd := range []seeded{a, b} {
		if u, n := sd.left(t); u != 10 || n != 10 {
			t.Errorf("tenant %s keeps %d utilisation summaries and %d actions, want the 10 newer of each", sd.ts.TenantID(), u, n)
		}
	}

	// The batches: both replicas delete one tenant's old rows at once.
	c := seed(t, stores[0], &sirsiv1.Tenant{Name: "c"}, ages...)
	var deleted [2]int64
	before := now.AddDate(0, 0, -30)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ts := stores[i].Tenant(c.ts.TenantID())
			for {
				n, err := ts.PruneRetained(testCtx(t), store.RetainedUtilization, before, 5)
				deleted[i] += n
				if err != nil {
					errs[i] = err
					return
				}
				if n < 5 {
					return
				}
			}
		}()
	}
	wg.Wait()
	for i := range stores {
		if errs[i] != nil {
			t.Fatalf("replica %d's batches: %v", i, errs[i])
		}
	}
	if total := deleted[0] + deleted[1]; total != 120 {
		t.Errorf("the replicas deleted %d and %d utilisation summaries, %d in all, want 120", deleted[0], deleted[1], total)
	}
	if u, _ := c.left(t); u != 10 {
		t.Errorf("tenant c keeps %d utilisation summaries, want the 10 newer", u)
	}
}
