//go:build unix

package controlplane_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/auth"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
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
	// requestTimeout bounds a single request, so a wedged server fails the
	// benchmark instead of hanging it.
	requestTimeout = 2 * time.Minute
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
	clients := make([]sirsiv1.ManagementServiceClient, benchClients)
	for i := range clients {
		secret, err := auth.Generate(auth.KindAPIToken)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := env.Store.Tenant(tn.ID).CreateAPIToken(ctx, &sirsiv1.ApiToken{Role: sirsiv1.Role_ROLE_VIEWER}, auth.Hash(secret)); err != nil {
			b.Fatal(err)
		}
		clients[i] = env.Dial(b, secret)
		// Connect and authenticate once so the run measures steady state.
		if _, err := clients[i].GetIdentity(ctx, &sirsiv1.GetIdentityRequest{}); err != nil {
			b.Fatal(err)
		}
	}
	for _, m := range loadModels {
		b.Run(m.name, func(b *testing.B) {
			var runs []loadResult
			for range b.N {
				for range benchRuns {
					runs = append(runs, runLoad(b, clients, m.sched))
				}
			}
			reportRuns(b, runs)
			if m.offered > 0 {
				b.ReportMetric(m.offered, "offered-req/s")
			}
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
	name    string
	sched   schedule
	offered float64
}{
	{"open-500rps", openSchedule(2 * time.Second), 500},
	{"open-1000rps", openSchedule(time.Second), 1000},
	{"closed", closedSchedule, 0},
}

// reportRuns reports the median p99 of the runs and its spread (lowest and
// highest run), the median p50, throughput and CPU, and the load average
// of the machine during the runs, so a figure taken on a busy machine says
// so.
func reportRuns(b *testing.B, runs []loadResult) {
	var p50, p99, rate, cpu, busy []float64
	for _, r := range runs {
		slices.Sort(r.lat)
		p50 = append(p50, ms(r.lat[len(r.lat)/2]))
		p99 = append(p99, ms(r.lat[int(0.99*float64(len(r.lat)-1))]))
		rate = append(rate, float64(len(r.lat))/r.wall.Seconds())
		cpu = append(cpu, ms(r.cpu)/float64(len(r.lat)))
		busy = append(busy, r.cpu.Seconds()/r.wall.Seconds())
	}
	b.ReportMetric(median(p50), "p50-ms")
	b.ReportMetric(median(p99), "p99-ms")
	b.ReportMetric(slices.Min(p99), "p99-min-ms")
	b.ReportMetric(slices.Max(p99), "p99-max-ms")
	b.ReportMetric(median(rate), "req/s")
	b.ReportMetric(median(cpu), "cpu-ms/req")
	b.ReportMetric(median(busy), "cores-got")
	b.ReportMetric(float64(len(runs)), "runs")
	b.ReportMetric(loadAverage(b), "loadavg")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// loadAverage is the machine's one-minute load average.
func loadAverage(b *testing.B) float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		b.Logf("no load average: %v", err)
		return 0
	}
	var one float64
	if _, err := fmt.Sscanf(string(raw), "%f", &one); err != nil {
		b.Fatalf("reading /proc/loadavg %q: %v", raw, err)
	}
	return one
}

// A schedule gives a client's send times as offsets from the run's start;
// ok is false after its last request. A zero offset means "as soon as the
// previous response arrives" (closed loop).
type schedule func(rng *mrand.Rand) func(k int) (at time.Duration, ok bool)

func closedSchedule(*mrand.Rand) func(int) (time.Duration, bool) {
	return func(k int) (time.Duration, bool) { return 0, k < closedPages }
}

// openSchedule sends every interval from a random phase, for openDuration.
func openSchedule(interval time.Duration) schedule {
	return func(rng *mrand.Rand) func(int) (time.Duration, bool) {
		phase := time.Duration(rng.Int64N(int64(interval)))
		return func(k int) (time.Duration, bool) {
			at := phase + time.Duration(k)*interval
			return at, at < openDuration
		}
	}
}

// loadResult is one run: every request's latency, the wall time from the
// first send to the last response, and the process CPU time meanwhile.
type loadResult struct {
	lat       []time.Duration
	wall, cpu time.Duration
}

// runLoad has every client walk the list by its schedule and returns every
// request's latency, from its scheduled time when it has one.
func runLoad(b *testing.B, clients []sirsiv1.ManagementServiceClient, sched schedule) loadResult {
	var (
		mu   sync.Mutex
		all  []time.Duration
		wg   sync.WaitGroup
		fail error
		once sync.Once
	)
	plans := make([]func(int) (time.Duration, bool), len(clients))
	for i := range plans {
		plans[i] = sched(mrand.New(mrand.NewPCG(uint64(i), 1)))
	}
	start := make(chan struct{})
	var t0 time.Time
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var mine []time.Duration
			tok := ""
			for k := 0; ; k++ {
				at, ok := plans[i](k)
				if !ok {
					break
				}
				sent := time.Now()
				if at > 0 {
					due := t0.Add(at)
					time.Sleep(time.Until(due))
					sent = due
				}
				ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
				r, err := c.ListResources(ctx, &sirsiv1.ListResourcesRequest{PageSize: benchPageSize, PageToken: tok})
				cancel()
				mine = append(mine, time.Since(sent))
				if err == nil && len(r.Resources) != benchPageSize {
					err = fmt.Errorf("page %d has %d resources", k, len(r.Resources))
				}
				if err != nil {
					once.Do(func() { fail = err })
					return
				}
				tok = r.NextPageToken
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	cpu0 := cpuTime(b)
	t0 = time.Now()
	close(start)
	wg.Wait()
	wall := time.Since(t0)
	cpu := cpuTime(b) - cpu0
	if fail != nil {
		b.Fatal(fail)
	}
	return loadResult{lat: all, wall: wall, cpu: cpu}
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
	regions := []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"}
	types := []string{"aws_ec2_instance", "aws_ebs_volume", "aws_rds_instance", "aws_lambda_function"}
	now := time.Now()
	const batch = 1000
	for off := 0; off < n; off += batch {
		var ups []*sirsiv1.Resource
		for i := off; i < off+batch && i < n; i++ {
			ups = append(ups, &sirsiv1.Resource{
				ResourceId: fmt.Sprintf("i-%017x", i), AccountId: "123456789012", Region: regions[i%len(regions)],
				Type: types[i%len(types)], Name: fmt.Sprintf("web-%d", i), Size: "m5.large", State: "running",
				Tags: map[string]string{"env": "prod", "team": fmt.Sprintf("t%d", i%17)}, MonthlyCost: money.USDFromFloat(70.08),
				Attributes: map[string]string{"architecture": "x86_64"},
			})
		}
		id := make([]byte, 8)
		_, _ = rand.Read(id)
		if _, err := ts.ApplyInventory(context.Background(), accountID, fmt.Sprintf("seed-%x", id), store.InventoryBatch{Upserts: ups, ObservedAt: now}); err != nil {
			b.Fatal(err)
		}
	}
}
