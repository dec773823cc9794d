package controlplane_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/postgres"
)

// TestLimitsSharedAcrossReplicasPostgres runs two control plane replicas,
// each with its own connection pool, on one PostgreSQL database, with
// their clocks frozen at the same instant so no window rolls unless the
// test moves them. Calls alternate between the replicas: the tenant's
// aggregate budget and a source's lockout are each cut at their one limit,
// not at one limit per replica (today's code before sharing admitted 80
// of the tenant's calls and evaluated 40 guesses).
func TestLimitsSharedAcrossReplicasPostgres(t *testing.T) {
	const (
		tenantPerMinute = 40
		blockAfter      = 20
		operator        = "sxo-shared-limits-test-operator"
	)
	url := pgtest.Database(t)
	start := time.Date(2030, 1, 1, 0, 0, 10, 0, time.UTC)
	replica := func() *cptest.Env {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		st, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		e := cptest.Start(t, cptest.WithStore(st), cptest.WithOperatorToken(operator), cptest.WithServerOptions(func(o *controlplane.Options) {
			o.RateLimits = controlplane.RateLimits{ManagementPerMinute: 30, TenantPerMinute: tenantPerMinute, UnauthenticatedPerMinute: 1000}
			// DelayAfter = BlockAfter: no slow-down, so no call waits.
			o.Lockout = controlplane.LockoutPolicy{Window: 5 * time.Minute, DelayAfter: blockAfter, BlockAfter: blockAfter, BlockFor: 15 * time.Minute}
		}))
		e.Clock.Set(start)
		return e
	}
	reps := []*cptest.Env{replica(), replica()}
	tn := reps[0].NewTenant(t, "shared")
	// Four tokens, each dialled at each replica: minting tokens or
	// spreading calls over replicas buys no more than the tenant's budget.
	var clients [2][]sirsiv1.ManagementServiceClient
	for range 4 {
		tok, _ := reps[0].NewAPIToken(t, tn.ID, sirsiv1.Role_ROLE_VIEWER, 0)
		for r := range reps {
			clients[r] = append(clients[r], reps[r].Dial(t, tok))
		}
	}
	ctx := context.Background()
	call := func(c sirsiv1.ManagementServiceClient) error {
		_, err := c.GetTenant(ctx, &sirsiv1.GetTenantRequest{Id: tn.ID})
		return err
	}
	admitted := [2]int{}
	for i := range 100 {
		r := i % 2
		err := call(clients[r][(i/2)%4])
		switch {
		case err == nil:
			admitted[r]++
		case status.Code(err) == codes.ResourceExhausted && strings.Contains(err.Error(), "tenant (all its API tokens together)"):
		default:
			t.Fatalf("call %d at replica %d: %v", i, r, err)
		}
	}
	if admitted[0]+admitted[1] != tenantPerMinute || admitted[0] == 0 || admitted[1] == 0 {
		t.Fatalf("100 calls over two replicas admitted %v, want %d in total from both", admitted, tenantPerMinute)
	}
	// The next minute is a new window on both replicas.
	for _, e := range reps {
		e.Clock.Advance(time.Minute)
	}
	for r := range reps {
		if err := call(clients[r][0]); err != nil {
			t.Fatalf("replica %d in the next minute: %v", r, err)
		}
	}

	// 50 concurrent guesses from 127.0.0.1, half at each replica: the
	// source's attempts are reserved from one shared window.
	var guessers [2]sirsiv1.ManagementServiceClient
	for r, e := range reps {
		guessers[r] = e.Dial(t, "sxa_"+strings.Repeat("x", 40))
	}
	var mu sync.Mutex
	codesSeen := map[codes.Code]int{}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := guessers[i%2].ListTenants(ctx, &sirsiv1.ListTenantsRequest{})
			mu.Lock()
			codesSeen[status.Code(err)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codesSeen[codes.Unauthenticated] != blockAfter || codesSeen[codes.ResourceExhausted] != 50-blockAfter {
		t.Fatalf("50 concurrent guesses over two replicas: %v; want %d evaluated (Unauthenticated), the rest ResourceExhausted", codesSeen, blockAfter)
	}
	// The block holds on both replicas, for a valid token too.
	for r := range reps {
		err := call(clients[r][1])
		if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "too many failed authentications") {
			t.Fatalf("replica %d during the block: %v, want the lockout's ResourceExhausted", r, err)
		}
	}
	shared := reps[1].Store.(store.SharedLimits)
	if until, err := shared.MarkedUntil(ctx, "block/127.0.0.1"); err != nil || !until.After(reps[1].Clock.Now()) {
		t.Fatalf("the block recorded for every replica ends at %s (%v), want after now", until, err)
	}
	for _, e := range reps {
		e.Clock.Advance(15 * time.Minute)
	}
	for r := range reps {
		if err := call(clients[r][2]); err != nil {
			t.Fatalf("replica %d after the block: %v", r, err)
		}
	}
	// The prune job deletes the windows and blocks that ended at least a
	// lockout window ago.
	reps[0].Clock.Advance(6 * time.Minute)
	if ran, err := reps[0].Server.RunJobNamed(ctx, "prune-limit-windows"); !ran || err != nil {
		t.Fatalf("prune job: ran %v, %v", ran, err)
	}
	if until, err := shared.MarkedUntil(ctx, "block/127.0.0.1"); err != nil || !until.IsZero() {
		t.Fatalf("after pruning, the ended block is still there (%s, %v)", until, err)
	}
}
