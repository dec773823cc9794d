package storetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlstore"
)

const benchBatch = 500

func benchResources(offset int) []*sirsiv1.Resource {
	out := make([]*sirsiv1.Resource, benchBatch)
	for i := range out {
		n := offset + i
		out[i] = resource(n, []string{"aws_ec2_instance", "aws_ebs_volume", "aws_rds_instance"}[n%3], []string{"us-east-1", "eu-west-1"}[n%2],
			map[string]string{"env": []string{"prod", "dev"}[n%2], "team": fmt.Sprint(n % 7)})
	}
	return out
}

func benchTenant(b *testing.B, s store.Store, name string) (store.TenantStore, *sirsiv1.CloudAccount, *sirsiv1.CloudAccount) {
	b.Helper()
	c := context.Background()
	tn, err := s.CreateTenant(c, &sirsiv1.Tenant{Name: name})
	if err != nil {
		b.Fatal(err)
	}
	ts := s.Tenant(tn.Id)
	var accts [2]*sirsiv1.CloudAccount
	for i := range accts {
		if accts[i], err = ts.CreateCloudAccount(c, &sirsiv1.CloudAccount{Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: fmt.Sprintf("%012d", i+1)}); err != nil {
			b.Fatal(err)
		}
	}
	return ts, accts[0], accts[1]
}

// BenchApplyInventory measures ApplyInventory against a raw-SQL baseline
// in the same run and database: each iteration writes one batch of new
// resources through the store and the same rows, already encoded, with a
// plain multi-row INSERTs in one transaction on raw, into a second account.
// The baseline's rows are encoded (JSON maps, protobuf record) before the
// clock starts; the store's encoding is part of what it is measured on.
func BenchApplyInventory(b *testing.B, s store.Store, raw *sql.DB, d *sqlstore.Dialect) {
	ts, acct, rawAcct := benchTenant(b, s, fmt.Sprintf("bench-inv-%d", time.Now().UnixNano()))
	c := context.Background()
	// The baseline is what a hand-written loader would do: multi-row
	// INSERTs of 100 rows in one transaction, no checks, no upsert.
	const chunk = 100
	values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", chunk), ", ")
	insert := d.Rebind(`INSERT INTO resources (tenant_id, cloud_account_id, region, type, resource_id, account_id, arn, name, size, state, tags,
monthly_cost, attributes, launch_time, first_seen_time, last_seen_time, record) VALUES ` + values)
	var storeTime, rawTime time.Duration
	rows := 0
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		ups := benchResources(i * benchBatch)
		now := time.Now()
		type enc struct {
			tags, attrs string
			record      []byte
		}
		encoded := make([]enc, len(ups))
		for j, r := range ups {
			// The same row the store writes, record included.
			rec := proto.CloneOf(r)
			rec.TenantId, rec.CloudAccountId, rec.LastSeenTime = ts.TenantID(), rawAcct.Id, timestamppb.New(now)
			blob, err := proto.MarshalOptions{Deterministic: true}.Marshal(rec)
			if err != nil {
				b.Fatal(err)
			}
			encoded[j] = enc{mustJSON(b, r.Tags), mustJSON(b, r.Attributes), blob}
		}
		b.StartTimer()

		t0 := time.Now()
		if _, err := ts.ApplyInventory(c, acct.Id, fmt.Sprintf("bench-%d", i), store.InventoryBatch{Upserts: ups, ObservedAt: now}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		tx, err := raw.BeginTx(c, nil)
		if err != nil {
			b.Fatal(err)
		}
		for start := 0; start < len(ups); start += chunk {
			args := make([]any, 0, 16*chunk)
			for j, r := range ups[start : start+chunk] {
				e := encoded[start+j]
				args = append(args, ts.TenantID(), rawAcct.Id, r.Region, r.Type, r.ResourceId, r.AccountId, r.Arn, r.Name, r.Size, r.State,
					e.tags, r.MonthlyCost, e.attrs, r.LaunchTime.AsTime().UnixNano(), now.UnixNano(), now.UnixNano(), e.record)
			}
			if _, err := tx.ExecContext(c, insert, args...); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		storeTime += t1.Sub(t0)
		rawTime += t2.Sub(t1)
		rows += len(ups)
	}
	b.StopTimer()
	storeRate := float64(rows) / storeTime.Seconds()
	rawRate := float64(rows) / rawTime.Seconds()
	b.ReportMetric(storeRate, "store_rows/s")
	b.ReportMetric(rawRate, "raw_rows/s")
	b.ReportMetric(storeRate/rawRate, "store/raw")
}

func mustJSON(b *testing.B, m map[string]string) string {
	b.Helper()
	if m == nil {
		m = map[string]string{}
	}
	j, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	return string(j)
}

// BenchListResources seeds 20k resources into one tenant and measures the
// latency of 100-item pages, each reader walking the list page by page,
// with one and with 32 readers per CPU. cpu-ms/op is this process's CPU
// time per page, steadier than wall time on a shared machine; for a
// database server in another process (PostgreSQL) it leaves out the
// server's share.
// settle, when not nil, runs after seeding: what the database would do on
// its own by the time a real tenant has that many resources (PostgreSQL's
// autovacuum analysing the table).
func BenchListResources(b *testing.B, s store.Store, settle func(b *testing.B)) {
	ts, acct, _ := benchTenant(b, s, fmt.Sprintf("bench-list-%d", time.Now().UnixNano()))
	c := context.Background()
	const total = 20000
	for i := 0; i < total; i += benchBatch {
		if _, err := ts.ApplyInventory(c, acct.Id, fmt.Sprintf("seed-%d", i), store.InventoryBatch{Upserts: benchResources(i), ObservedAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	if settle != nil {
		settle(b)
	}
	for _, tc := range []struct {
		name   string
		filter store.ResourceFilter
	}{
		{"all", store.ResourceFilter{}},
		{"type", store.ResourceFilter{Type: "aws_ec2_instance"}},
		{"tag", store.ResourceFilter{Tags: map[string]string{"env": "prod"}}},
	} {
		for _, par := range []int{1, 32} {
			b.Run(fmt.Sprintf("filter=%s/goroutines=%d", tc.name, par*runtime.GOMAXPROCS(0)), func(b *testing.B) {
				var mu sync.Mutex
				var lat []time.Duration
				b.SetParallelism(par)
				cpu0, err := processCPU()
				if err != nil {
					b.Fatal(err)
				}
				b.RunParallel(func(pb *testing.PB) {
					tok := ""
					var mine []time.Duration
					for pb.Next() {
						t0 := time.Now()
						l, next, err := ts.ListResources(c, tc.filter, store.Page{Size: 100, Token: tok})
						mine = append(mine, time.Since(t0))
						if err != nil || len(l) == 0 {
							b.Errorf("list: %d items, %v", len(l), err)
							return
						}
						tok = next
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				})
				b.StopTimer()
				cpu1, err := processCPU()
				if err != nil {
					b.Fatal(err)
				}
				reportLatency(b, lat)
				b.ReportMetric(float64(cpu1-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(q(0.50), "p50_ms")
	b.ReportMetric(q(0.99), "p99_ms")
}
