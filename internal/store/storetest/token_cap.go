package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// testAPITokenCap: CreateAPIToken's cap on live tokens holds when many
// creations race (each its own connection: on PostgreSQL, as replicas
// would), an expired token does not count, a deleted one frees a place,
// and another tenant's tokens are not counted.
func testAPITokenCap(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	other := newTenant(t, s, "bravo")
	must(other.CreateAPIToken(c, &sirsiv1.ApiToken{Role: sirsiv1.Role_ROLE_VIEWER}, []byte("bravo-1"), store.TokenCap{}))
	// Expired almost at once: its nanosecond is over before the racers
	// below read the clock.
	must(ts.CreateAPIToken(c, &sirsiv1.ApiToken{Role: sirsiv1.Role_ROLE_VIEWER, Ttl: durationpb.New(time.Nanosecond)}, []byte("expired"), store.TokenCap{}))
	raceTokenCap(t, []store.Store{s}, ts.TenantID())
	list, _, err := ts.ListAPITokens(c, store.Page{Size: 100})
	ok(t, err)
	if len(list) != tokenCapRaced+1 { // and the expired one
		t.Fatalf("%d tokens stored, want %d", len(list), tokenCapRaced+1)
	}
	var live *sirsiv1.ApiToken
	for _, tok := range list {
		if tok.ExpireTime == nil {
			live = tok
		}
	}
	ok(t, ts.DeleteAPIToken(c, live.Id))
	must(ts.CreateAPIToken(c, &sirsiv1.ApiToken{Role: sirsiv1.Role_ROLE_VIEWER}, []byte("after-delete"), store.TokenCap{Max: tokenCapRaced, Now: time.Now()}))
	_, err = ts.CreateAPIToken(c, &sirsiv1.ApiToken{Role: sirsiv1.Role_ROLE_VIEWER}, []byte("one-too-many"), store.TokenCap{Max: tokenCapRaced, Now: time.Now()})
	wantErr(t, err, store.ErrLimitReached, "a token beyond the cap")
}

// tokenCapRaced is the cap raceTokenCap creates under.
const tokenCapRaced = 3

// raceTokenCap creates 12 tokens of the tenant at once, spread over the
// stores (replicas on one database), under a cap of tokenCapRaced, and
// checks that exactly the cap's worth were created.
func raceTokenCap(t *testing.T, stores []store.Store, tenantID string) {
	t.Helper()
	const racers = 12
	c := ctx(t)
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Go(func() {
			ts := stores[i%len(stores)].Tenant(tenantID)
			_, errs[i] = ts.CreateAPIToken(c, &sirsiv1.ApiToken{Role: sirsiv1.Role_ROLE_VIEWER}, fmt.Appendf(nil, "racer-%d", i), store.TokenCap{Max: tokenCapRaced, Now: time.Now()})
		})
	}
	wg.Wait()
	created, refused := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			created++
		case errors.Is(err, store.ErrLimitReached):
			refused++
		default:
			t.Fatalf("racer %d: %v", i, err)
		}
	}
	if created != tokenCapRaced || refused != racers-tokenCapRaced {
		t.Fatalf("%d tokens created and %d refused under a cap of %d, want %d and %d", created, refused, tokenCapRaced, tokenCapRaced, racers-tokenCapRaced)
	}
}
