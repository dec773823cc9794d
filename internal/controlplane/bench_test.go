//go:build unix

package controlplane_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/auth"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/loadgen"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/postgres"
)

const (
	benchResources = 20000
	benchClients   = 1000
	benchPageSize  = 100
	// closedPages is how many consecutive pages each client reads in the
	// closed-loop run: 5000 requests in all.
	closedPages = 5
	// openDuration is how long an open-loop run offers load: 3000 requests
	// at 500 req/s, 6000 at 1000 req/s.
	openDuration = 6 * time.Second
)

// BenchmarkListResources1000Clients is the ListResources figure:
// 20,000 resources in one tenant, 1000 gRPC clients on loopback, each with
// its own connection and its own viewer token, each walking the list in
// 100-item pages. Server and clients share this machine's cores.
//
// Two load models, because they answer different questions:
//
//   - closed: every client sends its next request the moment the previous
//     one returns, no think time. The server is saturated by construction,
//     so latency is queueing: by Little's law p50 ~ clients x CPU per
//     request / cores. It yields the saturation throughput (req/s), the
//     capacity figure.
//   - open: every client sends one request per interval whatever the
//     responses do, the load of 1000 users paging through a UI: one page
//     every 2 s each (500 req/s offered), and every 1 s (1000 req/s) to show
//     where the knee is. Latency is measured from the scheduled send time,
//     so a slow response also delays, and is charged to, the requests
//     queued behind it (no coordinated omission).
//
// cpu-ms/req is the process's CPU time (server and the 1000 clients
// together) per request; BenchmarkListResourcesClientDecode gives the
// clients' share of decoding a page.
//
// The sqlite sub-benchmark is the embedded default; postgres is the same
// run against a throwaway PostgreSQL cluster (skipped without its
// binaries), whose server processes share the same cores.
//
//	go test -run '^$' -bench BenchmarkListResources1000Clients -benchtime 1x ./internal/controlplane/
func BenchmarkListResources1000Clients(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { listResources1000Clients(b, nil) })
	b.Run("postgres", func(b *testing.B) {
		url := pgtest.Database(b)
		st, err := postgres.Open(context.Background(), url, postgres.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		// What autovacuum would have done by the time a real tenant has
		// 20k resources: without statistics the planner takes the table
		// for a few rows and sorts every row after the page's start.
		analyze := func(b *testing.B) {
			db, err := sql.Open("pgx", url)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`ANALYZE`); err != nil {
				b.Fatal(err)
			}
		}
		listResources1000Clients(b, analyze, cptest.WithStore(st))
	})
}

// listResources1000Clients runs the load models; settle, when not nil,
// runs after seeding.
func listResources1000Clients(b *testing.B, settle func(*testing.B), opts ...cptest.Option) {
	env, tn := benchEnv(b, opts...)
	if settle != nil {
		settle(b)
	}
	ctx := context.Background()
	clients := make([]loadgen.Client, benchClients)
	for i := range clients {
		secret, err := auth.Generate(auth.KindAPIToken)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := env.Store.Tenant(tn.ID).CreateAPIToken(ctx, &sirsiv1.ApiToken{Role: sirsiv1.Role_ROLE_VIEWER}, auth.Hash(secret), store.TokenCap{}); err != nil {
			b.Fatal(err)
		}
		clients[i].API = env.Dial(b, secret)
		// Connect and authenticate once so the run measures steady state.
		if _, err := clients[i].API.GetIdentity(ctx, &sirsiv1.GetIdentityRequest{}); err != nil {
			b.Fatal(err)
		}
	}
	for _, m := range loadModels {
		b.Run(m.name, func(b *testing.B) {
			var runs []loadgen.Sample
			for range b.N {
				for range benchRuns {
					s, err := loadgen.Measure(ctx, clients, m.model, benchPageSize, loadgen.Watch{})
					if err != nil {
						b.Fatal(err)
					}
					runs = append(runs, s)
				}
			}
			reportRuns(b, m.model, runs)
		})
	}
}

// benchRuns is how many times each load model runs per benchmark
// iteration: the figures are the median of the runs' p99 and its spread,
// never one run's.
const benchRuns = 3

// loadModels are the three: open loop at 500 and 1000 req/s (each
// client one page every 2 s or every 1 s), and closed loop.
var loadModels = []struct {
	name  string
	model loadgen.Model
}{
	{"open-500rps", loadgen.Open(500, benchClients, openDuration)},
	{"open-1000rps", loadgen.Open(1000, benchClients, openDuration)},
	{"closed", loadgen.Closed(benchClients, closedPages)},
}

// reportRuns reports the median p99 of the runs and its spread (lowest and
// highest run), the median p50, throughput and CPU, and the load average
// of the machine during the runs, so a figure taken on a busy machine says
// so. Server and clients share this process, so its CPU is both's.
func reportRuns(b *testing.B, m loadgen.Model, runs []loadgen.Sample) {
	row := loadgen.Summarize(m, benchClients, runs)
	var busy []float64
	for _, r := range runs {
		busy = append(busy, r.ClientCPU.Seconds()/r.Wall.Seconds())
	}
	b.ReportMetric(row.P50.Median, "p50-ms")
	b.ReportMetric(row.P99.Median, "p99-ms")
	b.ReportMetric(row.P99.Min, "p99-min-ms")
	b.ReportMetric(row.P99.Max, "p99-max-ms")
	b.ReportMetric(row.Rate.Median, "req/s")
	b.ReportMetric(row.ClientCPU.Median, "cpu-ms/req")
	b.ReportMetric(loadgen.SpreadOf(busy).Median, "cores-got")
	b.ReportMetric(float64(row.Runs), "runs")
	b.ReportMetric(row.Load.Max, "loadavg")
	if off := row.Offered; off > 0 {
		b.ReportMetric(off, "offered-req/s")
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkListResourcesSequential is one client reading one page at a
// time: the cost of a request without queueing, to read the concurrent
// figures against. cpu-ms/op counts the process's CPU (server and client
// for grpc), which wall time on a shared machine does not.
//
//	go test -run '^$' -bench BenchmarkListResourcesSequential ./internal/controlplane/
func BenchmarkListResourcesSequential(b *testing.B) {
	env, tn := benchEnv(b)
	ctx := context.Background()
	b.Run("grpc", func(b *testing.B) {
		tok := ""
		cpu0 := cpuTime(b)
		for b.Loop() {
			r, err := tn.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{PageSize: benchPageSize, PageToken: tok})
			if err != nil {
				b.Fatal(err)
			}
			tok = r.NextPageToken
		}
		b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	})
	b.Run("store-only", func(b *testing.B) {
		ts := env.Store.Tenant(tn.ID)
		tok := ""
		cpu0 := cpuTime(b)
		for b.Loop() {
			_, next, err := ts.ListResources(ctx, store.ResourceFilter{}, store.Page{Size: benchPageSize, Token: tok})
			if err != nil {
				b.Fatal(err)
			}
			tok = next
		}
		b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	})
}

// BenchmarkListResourcesClientDecode is the client's part of a page that
// the server does not pay for: decoding a 100-resource response. In the
// 1000-client runs the clients do this on the same cores as the server.
//
//	go test -run '^$' -bench BenchmarkListResourcesClientDecode ./internal/controlplane/
func BenchmarkListResourcesClientDecode(b *testing.B) {
	_, tn := benchEnv(b)
	r, err := tn.Viewer.ListResources(context.Background(), &sirsiv1.ListResourcesRequest{PageSize: benchPageSize})
	if err != nil {
		b.Fatal(err)
	}
	wire, err := proto.Marshal(r)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		var got sirsiv1.ListResourcesResponse
		if err := proto.Unmarshal(wire, &got); err != nil {
			b.Fatal(err)
		}
		if len(got.Resources) != benchPageSize {
			b.Fatalf("decoded %d resources, want %d", len(got.Resources), benchPageSize)
		}
	}
}

// benchEnv is a control plane with a tenant holding benchResources
// resources in one cloud account.
func benchEnv(b *testing.B, opts ...cptest.Option) (*cptest.Env, *cptest.Tenant) {
	env := cptest.Start(b, opts...)
	tn := env.NewTenant(b, "bench")
	acct, err := tn.Editor.CreateCloudAccount(context.Background(), &sirsiv1.CreateCloudAccountRequest{CloudAccount: newAccount("")})
	if err != nil {
		b.Fatal(err)
	}
	seedResources(b, env.Store.Tenant(tn.ID), acct.CloudAccount.Id, benchResources)
	return env, tn
}

func seedResources(b *testing.B, ts store.TenantStore, accountID string, n int) {
	b.Helper()
	const batch = 1000
	for off := 0; off < n; off += batch {
		id := make([]byte, 8)
		_, _ = rand.Read(id)
		if _, err := ts.ApplyInventory(context.Background(), accountID, fmt.Sprintf("seed-%x", id), store.InventoryBatch{Upserts: loadgen.Resources(off, min(off+batch, n)), ObservedAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
}
