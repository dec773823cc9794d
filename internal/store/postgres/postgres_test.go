package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func openAt(t testing.TB, url string) store.Store {
	t.Helper()
	s, err := Open(context.Background(), url, Options{MaxConns: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func rawDB(t testing.TB, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openAt(t, pgtest.Database(t)) })
}

func TestReopen(t *testing.T) {
	storetest.RunReopen(t, storetest.Backend{
		Fresh: func(t *testing.T) string { return pgtest.Database(t) },
		Open: func(ctx context.Context, url string) (store.Store, error) {
			return Open(ctx, url, Options{MaxConns: 4})
		},
		Exec: func(t *testing.T, url, stmt string) {
			if _, err := rawDB(t, url).Exec(stmt); err != nil {
				t.Fatal(err)
			}
		},
		UndoResourceRecord: []string{
			`DROP INDEX resources_tags`,
			`ALTER TABLE resources ALTER COLUMN tags TYPE TEXT USING tags::text`,
			`ALTER TABLE resources DROP COLUMN record`,
		},
		UndoLedgerTotals: []string{
			`DROP TRIGGER savings_ledger_totals_write ON savings_ledger`,
			`DROP TRIGGER savings_ledger_totals_update ON savings_ledger`,
			`DROP FUNCTION savings_ledger_totals_apply`,
		},
	})
}

// TestTwoReplicas runs two stores on one database, as two agentd server
// replicas would: one leader at a time, one audit chain.
func TestTwoReplicas(t *testing.T) {
	url := pgtest.Database(t)
	r1, r2 := openAt(t, url), openAt(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var inside atomic.Int32
	var ran [2]atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i, r := range []store.Store{r1, r2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				ok, err := r.TryLeader(ctx, "sweep", func(context.Context) error {
					if n := inside.Add(1); n != 1 {
						errs <- fmt.Errorf("%d replicas lead at once", n)
					}
					time.Sleep(time.Millisecond)
					inside.Add(-1)
					return nil
				})
				if err != nil {
					errs <- err
				}
				if ok {
					ran[i].Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if ran[0].Load()+ran[1].Load() == 0 {
		t.Fatal("no replica ever led")
	}

	// While replica 1 leads, replica 2 cannot; afterwards it can.
	held, err := r1.TryLeader(ctx, "exclusive", func(ctx context.Context) error {
		ok, err := r2.TryLeader(ctx, "exclusive", func(context.Context) error { return nil })
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("replica 2 took a lock replica 1 holds")
		}
		return nil
	})
	if err != nil || !held {
		t.Fatalf("held %v, %v", held, err)
	}
	if ok, err := r2.TryLeader(ctx, "exclusive", func(context.Context) error { return nil }); err != nil || !ok {
		t.Fatalf("replica 2 after release: %v, %v", ok, err)
	}

	for i, r := range []store.Store{r1, r2} {
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range 10 {
					if _, err := r.AppendAudit(ctx, &sirsiv1.AuditEvent{Actor: fmt.Sprintf("replica%d/%d", i, g), Action: "append", Target: fmt.Sprint(j), Outcome: "ok"}); err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, r := range []store.Store{r1, r2} {
		br, err := r.VerifyAudit(ctx)
		if err != nil || br != nil {
			t.Fatalf("chain after concurrent appends from two replicas: %+v, %v", br, err)
		}
	}
	var n int
	tok := ""
	for {
		ev, next, err := r2.ListOperatorAuditEvents(ctx, store.AuditFilter{Action: "append"}, store.Page{Size: 1000, Token: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ev {
			if e.Sequence != int64(n+1) {
				t.Fatalf("event %d has sequence %d: the chain has gaps or forks", n+1, e.Sequence)
			}
			n++
		}
		if tok = next; tok == "" {
			break
		}
	}
	if n != 80 {
		t.Fatalf("%d audit events, want 80", n)
	}
}

func BenchmarkApplyInventory(b *testing.B) {
	url := pgtest.Database(b)
	storetest.BenchApplyInventory(b, openAt(b, url), rawDB(b, url), Dialect)
}

func BenchmarkSavingsSummary(b *testing.B) {
	url := pgtest.Database(b)
	raw := rawDB(b, url)
	storetest.BenchSavingsSummary(b, openAt(b, url), raw, Dialect, func(b *testing.B) {
		// What autovacuum does to a ledger in service: statistics, and a
		// visibility map that lets open entries be read from their index.
		if _, err := raw.Exec(`VACUUM ANALYZE savings_ledger`); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkListResources(b *testing.B) {
	url := pgtest.Database(b)
	storetest.BenchListResources(b, openAt(b, url), func(b *testing.B) {
		if _, err := rawDB(b, url).Exec(`ANALYZE resources`); err != nil {
			b.Fatal(err)
		}
	})
}

// TestClaimSkipsLockedEvents: while another replica's claim transaction
// holds an outbox row locked, a claim takes the other due rows at once
// (FOR UPDATE SKIP LOCKED) instead of waiting for the lock or taking
// the locked row too.
func TestClaimSkipsLockedEvents(t *testing.T) {
	url := pgtest.Database(t)
	s := openAt(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tn, err := s.CreateTenant(ctx, &sirsiv1.Tenant{Name: "skip", WebhookUrl: "https://hooks.example.com/x", WebhookSecret: "0123456789abcdef-first"})
	if err != nil {
		t.Fatal(err)
	}
	storetest.EveryEventType(t, s, tn.Id)
	all, _, err := s.Tenant(tn.Id).ListWebhookEvents(ctx, sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_PENDING, store.Page{Size: store.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	other, err := rawDB(t, url).BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Rollback() }()
	var locked string
	if err := other.QueryRowContext(ctx, `SELECT id FROM event_outbox WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tn.Id, all[0].Id).Scan(&locked); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimEvents(ctx, time.Now(), time.Minute, store.MaxPageSize)
	if err != nil {
		t.Fatalf("claim while a row is locked: %v", err)
	}
	if len(claimed) != len(all)-1 {
		t.Fatalf("claimed %d of %d events with one locked, want all the others", len(claimed), len(all))
	}
	for _, e := range claimed {
		if e.Event.Id == locked {
			t.Fatalf("claimed the locked event %s", locked)
		}
	}
}
