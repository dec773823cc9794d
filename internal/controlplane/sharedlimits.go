package controlplane

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// sharedLimits makes replicas on one PostgreSQL enforce one rate budget
// and one lockout: every budget (and every source's attempts) is counted
// in fixed windows in the database (store.SharedLimits), and each replica
// spends from a lease it reserved there, a tenth of the limit at a time,
// so most calls need no database round trip. The consistency model
// (docs/security.md, "Limits across replicas"):
//
//   - inside one window the replicas together admit at most the limit:
//     a lease is granted from what is left, in one atomic upsert;
//   - a replica may refuse while others still hold unused leases, at most
//     (replicas-1) x (lease-1) units of the window: under-admission, never
//     over-admission;
//   - windows are fixed, so across a window boundary a client may spend
//     the end of one window and the start of the next; each replica's own
//     token bucket (ratelimit.go) still bounds what it admits in any
//     minute;
//   - a store error admits the call on the local limits alone, logged:
//     the call itself needs the same store and fails there if it is down.
//
// The lockout's leases are attempts: a credential that checks out gives
// its attempt back to the replica's lease, a failure keeps it, so failures
// plus attempts in flight plus idle leases of one source never exceed
// BlockAfter within a window, whichever replicas the guesses reach.
// Failures are also counted one by one, and the replica whose failure
// reaches BlockAfter records the block, which every replica reads before
// reserving a new lease for the source.
type sharedLimits struct {
	st store.SharedLimits

	mu      sync.Mutex
	leases  map[string]*lease
	sweptAt time.Time
}

// lease is what this replica holds of one scope's window.
type lease struct {
	window, end time.Time
	left        int64
}

// leaseDivisor: a replica reserves a tenth of a limit at a time (at least
// one unit), which bounds both the round trips (one per tenth of the
// budget) and what other replicas may be refused while it holds them.
const leaseDivisor = 10

func leaseSize(limit int) int64 { return max(1, int64(limit/leaseDivisor)) }

// Scopes of the lockout in the shared table (rate budgets use their
// bucket keys).
const (
	scopeAttempts = "lockout/"
	scopeFailures = "lockfail/"
	scopeBlock    = "block/"
)

func newSharedLimits(st store.Store) *sharedLimits {
	sl, ok := store.SharedLimitsOf(st)
	if !ok {
		return nil
	}
	return &sharedLimits{st: sl, leases: map[string]*lease{}}
}

// leaseLocked is this replica's lease of key in the window [w, w+length),
// empty when it held none or one of another window.
func (sl *sharedLimits) leaseLocked(key string, w time.Time, length time.Duration, now time.Time) *lease {
	if now.Sub(sl.sweptAt) >= time.Minute {
		for k, l := range sl.leases {
			if !now.Before(l.end) {
				delete(sl.leases, k)
			}
		}
		sl.sweptAt = now
	}
	l, ok := sl.leases[key]
	if !ok || !l.window.Equal(w) {
		l = &lease{window: w, end: w.Add(length)}
		sl.leases[key] = l
	}
	return l
}

// take spends one unit of every budget (limit units per window of length)
// or of none: from this replica's leases, reserving a new lease from the
// store whenever one runs out. refused is the index of the first budget
// with nothing left in the window, -1 when all were spent.
func (sl *sharedLimits) take(ctx context.Context, now time.Time, length time.Duration, budgets ...spend) (refused int, err error) {
	w := now.Truncate(length)
	for {
		sl.mu.Lock()
		need := -1
		for i, sp := range budgets {
			if sp.limit > 0 && sl.leaseLocked(sp.key, w, length, now).left < 1 {
				need = i
				break
			}
		}
		if need < 0 {
			for _, sp := range budgets {
				if sp.limit > 0 {
					sl.leases[sp.key].left--
				}
			}
			sl.mu.Unlock()
			return -1, nil
		}
		sl.mu.Unlock()
		// Each turn either spends or reserves at least one unit of a
		// finite window, so the loop ends even when concurrent calls take
		// what this one reserved.
		sp := budgets[need]
		granted, _, err := sl.st.ReserveQuota(ctx, sp.key, w, leaseSize(sp.limit), int64(sp.limit))
		if err != nil {
			return -1, err
		}
		if granted == 0 {
			return need, nil
		}
		sl.mu.Lock()
		sl.leaseLocked(sp.key, w, length, now).left += granted
		sl.mu.Unlock()
	}
}

// giveBack returns one unit of key's lease of window w, if this replica
// still holds that window.
func (sl *sharedLimits) giveBack(key string, w time.Time) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if l, ok := sl.leases[key]; ok && l.window.Equal(w) {
		l.left++
	}
}

// countFailure counts one failed credential of src in its window and
// reports the window's total over all replicas.
func (sl *sharedLimits) countFailure(ctx context.Context, src string, now time.Time, window time.Duration) (int64, error) {
	_, used, err := sl.st.ReserveQuota(ctx, scopeFailures+src, now.Truncate(window), 1, math.MaxInt64)
	return used, err
}

// pruneLimitWindows deletes the shared windows no replica reads any more:
// those that ended, and blocks that are over.
func (s *Server) pruneLimitWindows(ctx context.Context) error {
	longest := max(time.Minute, s.abuse.lock.p.Window)
	n, err := s.abuse.shared.st.PruneQuotas(ctx, s.now().Add(-longest))
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.Debug("pruned shared limit windows", "rows", n)
	}
	return nil
}

// windowEnd is when the window of length holding now ends.
func windowEnd(now time.Time, length time.Duration) time.Time {
	return now.Truncate(length).Add(length)
}
