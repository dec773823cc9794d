package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sealed"
)

// Reservations from two connection pools (two replicas) on one window add
// up to the limit exactly, in leases of what is left; a lowered limit
// grants nothing more; another window and another scope start afresh.
func TestReserveQuotaAcrossReplicas(t *testing.T) {
	url := pgtest.Database(t)
	a, b := openAt(t, url).(store.SharedLimits), openAt(t, url).(store.SharedLimits)
	// agentd puts the sealing decorator in front of the store.
	if sl, ok := store.SharedLimitsOf(sealed.Wrap(a.(store.Store), nil)); !ok || sl != a {
		t.Fatal("the sealed store hides the shared limits")
	}
	ctx := context.Background()
	w := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var total int64
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sl := a
			if i%2 == 1 {
				sl = b
			}
			g, used, err := sl.ReserveQuota(ctx, "tenant/t1", w, 3, 100)
			if err != nil || g < 0 || g > 3 || used > 100 {
				t.Errorf("reserve: granted %d, used %d, %v", g, used, err)
			}
			mu.Lock()
			total += g
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 100 {
		t.Fatalf("40 leases of 3 from a limit of 100 granted %d, want 100", total)
	}
	if g, used, err := a.ReserveQuota(ctx, "tenant/t1", w, 3, 50); g != 0 || used != 100 || err != nil {
		t.Fatalf("under a lowered limit: granted %d, used %d, %v; want 0, 100", g, used, err)
	}
	if g, _, err := b.ReserveQuota(ctx, "tenant/t1", w.Add(time.Minute), 3, 100); g != 3 || err != nil {
		t.Fatalf("next window: granted %d, %v; want 3", g, err)
	}
	if g, _, err := b.ReserveQuota(ctx, "tenant/t2", w, 5, 2); g != 2 || err != nil {
		t.Fatalf("another scope, lease above its limit: granted %d, %v; want 2", g, err)
	}
	if _, _, err := a.ReserveQuota(ctx, "tenant/t3", w, -1, 2); err == nil {
		t.Fatal("a negative reservation was accepted")
	}
	until := w.Add(15 * time.Minute)
	if err := a.MarkUntil(ctx, "block/10.0.0.1", until); err != nil {
		t.Fatal(err)
	}
	if got, err := b.MarkedUntil(ctx, "block/10.0.0.1"); err != nil || !got.Equal(until) {
		t.Fatalf("mark read by the other replica: %s, %v; want %s", got, err, until)
	}
	if n, err := b.PruneQuotas(ctx, until.Add(time.Second)); err != nil || n != 4 {
		t.Fatalf("prune: %d rows, %v; want the 4 rows", n, err)
	}
	if got, err := a.MarkedUntil(ctx, "block/10.0.0.1"); err != nil || !got.IsZero() {
		t.Fatalf("mark after pruning: %s, %v; want none", got, err)
	}
}
