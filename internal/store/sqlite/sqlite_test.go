package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/storetest"
)

func openAt(t testing.TB, path string) store.Store {
	t.Helper()
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openAt(t, filepath.Join(t.TempDir(), "sirsi.db"))
	})
}

func TestReopen(t *testing.T) {
	storetest.RunReopen(t, storetest.Backend{
		Fresh: func(t *testing.T) string { return filepath.Join(t.TempDir(), "sirsi.db") },
		Open: func(ctx context.Context, path string) (store.Store, error) {
			return Open(ctx, path, nil)
		},
		Exec: func(t *testing.T, path, stmt string) {
			db, err := sql.Open("sqlite", DSN(path, true))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(stmt); err != nil {
				t.Fatal(err)
			}
		},
		UndoResourceRecord: []string{`ALTER TABLE resources DROP COLUMN record`},
		UndoLedgerTotals:   []string{`DROP TRIGGER savings_ledger_totals_insert`, `DROP TRIGGER savings_ledger_totals_delete`, `DROP TRIGGER savings_ledger_totals_update`},
	})
}

const childEnv = "SIRSI_STORE_RESTART_CHILD"

// TestRestartAcrossProcesses writes in a child process (this test binary
// run again), which exits, and reads what it wrote back in this one.
func TestRestartAcrossProcesses(t *testing.T) {
	if dir := os.Getenv(childEnv); dir != "" {
		s, err := Open(context.Background(), filepath.Join(dir, "sirsi.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		f := storetest.Sample(t, s, "restart")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "fixture.json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRestartAcrossProcesses$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("writer process: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "fixture.json"))
	if err != nil {
		t.Fatalf("writer process left no fixture: %v", err)
	}
	var f storetest.Fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	storetest.CheckSample(t, openAt(t, filepath.Join(dir, "sirsi.db")), f)
}

// benchStore opens a store in a fresh file and a second, raw connection
// to the same database for a benchmark's baseline or seeding.
func benchStore(b *testing.B) (store.Store, *sql.DB) {
	path := filepath.Join(b.TempDir(), "bench.db")
	s := openAt(b, path)
	raw, err := sql.Open("sqlite", DSN(path, true))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	raw.SetMaxOpenConns(1)
	return s, raw
}

func BenchmarkApplyInventory(b *testing.B) {
	s, raw := benchStore(b)
	storetest.BenchApplyInventory(b, s, raw, Dialect)
}

func BenchmarkSavingsSummary(b *testing.B) {
	s, raw := benchStore(b)
	storetest.BenchSavingsSummary(b, s, raw, Dialect, nil)
}

func BenchmarkListResources(b *testing.B) {
	storetest.BenchListResources(b, openAt(b, filepath.Join(b.TempDir(), "bench.db")), nil)
}

// TestFilesAreOwnerOnly: the database and its WAL and shared-memory files
// hold every tenant's data and must not be readable by other users, both
// when created and when an earlier version left the database at 0644
// (SQLite gives the companions the database file's mode).
func TestFilesAreOwnerOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "agentd.db")
	check := func(when string) {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if m := fi.Mode().Perm(); m != FileMode {
				t.Errorf("%s: %s has mode %o, want %o", when, filepath.Base(p), m, FileMode)
			}
		}
	}
	st, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutSetting(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	check("new database")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	check("reopened after a chmod 644")
}
