package controlplane_test

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/auth"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

const (
	benchResources = 20000
	benchClients   = 1000
	benchPages     = 3
	benchPageSize  = 100
)

// BenchmarkListResources1000Clients: 20,000 resources in one tenant, 1000
// gRPC clients (each its own connection and its own viewer token) on
// loopback, each reading benchPages consecutive 100-item pages per
// iteration. "burst" starts every client at once and reads without pause
// (a saturation figure: latency is mostly queueing); "paced" spreads each
// client's requests one second apart with a random start, i.e. 1000 users
// offering ~1000 requests/s. p50/p99 are over every request of the run.
//
//	go test -run '^$' -bench BenchmarkListResources1000Clients -benchtime 1x ./internal/controlplane/
func BenchmarkListResources1000Clients(b *testing.B) {
	env := cptest.Start(b)
	tn := env.NewTenant(b, "bench")
	ctx := context.Background()
	acct, err := tn.Editor.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: newAccount("")})
	if err != nil {
		b.Fatal(err)
	}
	seedResources(b, env.Store.Tenant(tn.ID), acct.CloudAccount.Id, benchResources)
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
	for _, mode := range []struct {
		name  string
		pause time.Duration
	}{{"burst", 0}, {"paced", time.Second}} {
		b.Run(mode.name, func(b *testing.B) {
			var lat []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				lat = append(lat, listRound(b, clients, mode.pause)...)
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			pct := func(p float64) float64 {
				return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(len(lat))/float64(b.N), "requests/op")
		})
	}
}

// BenchmarkListResourcesSequential is the same page read by one client at
// a time: the cost of a request without queueing, to read the concurrent
// figures against.
//
//	go test -run '^$' -bench BenchmarkListResourcesSequential ./internal/controlplane/
func BenchmarkListResourcesSequential(b *testing.B) {
	env := cptest.Start(b)
	tn := env.NewTenant(b, "bench")
	ctx := context.Background()
	acct, err := tn.Editor.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: newAccount("")})
	if err != nil {
		b.Fatal(err)
	}
	seedResources(b, env.Store.Tenant(tn.ID), acct.CloudAccount.Id, benchResources)
	b.Run("grpc", func(b *testing.B) {
		tok := ""
		for i := 0; i < b.N; i++ {
			r, err := tn.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{PageSize: benchPageSize, PageToken: tok})
			if err != nil {
				b.Fatal(err)
			}
			tok = r.NextPageToken
		}
	})
	b.Run("store-only", func(b *testing.B) {
		ts := env.Store.Tenant(tn.ID)
		tok := ""
		for i := 0; i < b.N; i++ {
			_, next, err := ts.ListResources(ctx, store.ResourceFilter{}, store.Page{Size: benchPageSize, Token: tok})
			if err != nil {
				b.Fatal(err)
			}
			tok = next
		}
	})
}

func listRound(b *testing.B, clients []sirsiv1.ManagementServiceClient, pause time.Duration) []time.Duration {
	var (
		mu   sync.Mutex
		all  []time.Duration
		wg   sync.WaitGroup
		fail error
		once sync.Once
	)
	start := make(chan struct{})
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if pause > 0 {
				time.Sleep(time.Duration(mrand.Int64N(int64(pause))))
			}
			mine := make([]time.Duration, 0, benchPages)
			tok := ""
			for p := 0; p < benchPages; p++ {
				if p > 0 && pause > 0 {
					time.Sleep(pause)
				}
				t0 := time.Now()
				r, err := c.ListResources(context.Background(), &sirsiv1.ListResourcesRequest{PageSize: benchPageSize, PageToken: tok})
				mine = append(mine, time.Since(t0))
				if err == nil && len(r.Resources) != benchPageSize {
					err = fmt.Errorf("page %d has %d resources", p, len(r.Resources))
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
	close(start)
	wg.Wait()
	if fail != nil {
		b.Fatal(fail)
	}
	return all
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
				Tags: map[string]string{"env": "prod", "team": fmt.Sprintf("t%d", i%17)}, MonthlyCost: 70.08,
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
