package controlplane_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/postgres"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/storetest"
)

// TestWebhookTwoReplicasEachEventOnce: two control planes on one
// PostgreSQL database, as two replicas run, start delivering at once an
// outbox holding one change of every event type for three tenants (each
// change reported twice, as a resending agent would). The receiver must
// get every event exactly once, signed, with nothing extra: the replicas'
// workers claim with FOR UPDATE SKIP LOCKED and leases, so none is sent
// by both.
func TestWebhookTwoReplicasEachEventOnce(t *testing.T) {
	url := pgtest.Database(t)
	open := func() store.Store {
		st, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	const token = "webhook-replicas-operator-token"
	rcv := newReceiver(t, http.StatusOK)
	first := startHooks(t, false, cptest.WithStore(open()), cptest.WithOperatorToken(token))
	second := startHooks(t, false, cptest.WithStore(open()), cptest.WithOperatorToken(token))

	var want []string
	tenants := map[string]bool{}
	for _, name := range []string{"acme", "globex", "initech"} {
		tn := first.hookedTenant(t, name, rcv.srv.URL+"/hook")
		tenants[tn.Id] = true
		for _, w := range storetest.EveryEventType(t, first.Store, tn.Id) {
			want = append(want, tn.Id+" "+w)
		}
	}
	var wg sync.WaitGroup
	for _, h := range []*hookEnv{first, second} {
		wg.Go(func() { h.run(t) })
	}
	wg.Wait()

	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		pending := 0
		for id := range tenants {
			pending += len(first.events(t, id, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_PENDING))
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending", pending)
		}
	}
	for id := range tenants {
		if dead := first.events(t, id, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_DEAD); len(dead) != 0 {
			t.Fatalf("dead-lettered: %v", dead)
		}
	}
	var got []string
	ids := map[string]int{}
	for _, r := range rcv.requests() {
		ev := checkSigned(t, r, hookSecret)
		ids[ev.ID]++
		got = append(got, strings.TrimPrefix(ev.Source, "/sirsi/tenants/")+" "+ev.Type+" "+ev.Subject)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("event %s received %d times, want once", id, n)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("received:\n%s\nwant each once:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	t.Logf("%d events received once each; replica 1 delivered %.0f, replica 2 %.0f", len(got), first.deliveryCount(t, "ok"), second.deliveryCount(t, "ok"))
}
