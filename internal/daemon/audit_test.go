package daemon

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/postgres"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sealed"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
)

func runVerify(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(append([]string{"server", "audit", "verify"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// rawSQLite opens the database file behind the store's back, as someone
// with write access to the data dir could.
func rawSQLite(t *testing.T, dataDir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dataDir, sqliteFile), true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, stmt string, args ...any) {
	t.Helper()
	res, err := db.Exec(stmt, args...)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("%s: %d rows affected (%v), want 1", stmt, n, err)
	}
}

func TestAuditVerifyDetectsTampering(t *testing.T) {
	dir := t.TempDir()
	p, endpoint := startServer(t, "-data-dir", dir)
	tok, _ := readToken(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	cl := dial(t, endpoint, filepath.Join(dir, pkiDir, "ca.pem"))
	for _, name := range []string{"acme", "bravo", "charlie"} {
		if _, err := cl.CreateTenant(withToken(ctx, tok), &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{Name: name, DisplayName: name, Tier: sirsiv1.Tier_TIER_STANDARD}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.CreateTenant(withToken(ctx, tok), &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{Name: "acme", DisplayName: "again", Tier: sirsiv1.Tier_TIER_STANDARD}}); err == nil {
		t.Fatal("a second tenant named acme was created")
	}
	stopServer(t, p)

	code, out, errOut := runVerify(t, "-data-dir", dir)
	if code != exitOK {
		t.Fatalf("intact log: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	db := rawSQLite(t, dir)
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM audit_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < 4 {
		t.Fatalf("%d audit events after four tenant calls", n)
	}
	var headHash string
	if err := db.QueryRow(`SELECT hash FROM audit_events WHERE sequence = ?`, n).Scan(&headHash); err != nil {
		t.Fatal(err)
	}
	head := strconv.Itoa(n) + ":" + headHash
	// The server signed its head when it stopped.
	if want := "audit log intact: " + strconv.Itoa(n) + " entries (0 pruned), 1 signed checkpoints, newest at sequence " + strconv.Itoa(n) + ", head " + head + "\n"; out != want {
		t.Fatalf("stdout %q, want %q", out, want)
	}
	headFile := filepath.Join(t.TempDir(), "head")
	if err := os.WriteFile(headFile, []byte(head+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runVerify(t, "-data-dir", dir, "-expect-head-file", headFile); code != exitOK {
		t.Fatalf("intact log against its own head: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := runVerify(t, "-data-dir", dir, "-expect-head", "12:nothex"); code != exitUsage || !strings.Contains(errOut, "hexadecimal") {
		t.Fatalf("malformed head: exit %d, stderr %q", code, errOut)
	}

	var id, action, outcome string
	if err := db.QueryRow(`SELECT id, action, outcome FROM audit_events WHERE sequence = 2`).Scan(&id, &action, &outcome); err != nil {
		t.Fatal(err)
	}

	t.Run("edited outcome", func(t *testing.T) {
		mustExec(t, db, `UPDATE audit_events SET outcome = 'PermissionDenied' WHERE sequence = 2`)
		code, out, errOut := runVerify(t, "-data-dir", dir)
		if code != exitFailure {
			t.Fatalf("exit %d, want %d; stderr %q", code, exitFailure, errOut)
		}
		for _, w := range []string{"BROKEN", "sequence 2,", "id " + id, "action " + action, "time 20", "hash mismatch"} {
			if !strings.Contains(out, w) {
				t.Errorf("stdout lacks %q: %q", w, out)
			}
		}
		// Undoing the edit restores the chain: the verdict is about the
		// contents, not about the row having been written to.
		mustExec(t, db, `UPDATE audit_events SET outcome = ? WHERE sequence = 2`, outcome)
		if code, out, _ := runVerify(t, "-data-dir", dir); code != exitOK {
			t.Fatalf("after undoing the edit: exit %d, %q", code, out)
		}
	})

	t.Run("newest entries deleted", func(t *testing.T) {
		exec := func(stmt string, args ...any) {
			t.Helper()
			if _, err := db.Exec(stmt, args...); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		// The two newest entries go, kept aside to be put back after. The
		// copy's tenant_id column is renamed: the store refuses to open a
		// schema with a tenant_id table it does not know (tenant_tables.go).
		exec(`CREATE TABLE cut_audit AS SELECT * FROM audit_events WHERE sequence >= ?`, n-1)
		exec(`ALTER TABLE cut_audit RENAME COLUMN tenant_id TO cut_tenant_id`)
		exec(`DELETE FROM audit_events WHERE sequence >= ?`, n-1)
		defer exec(`DROP TABLE cut_audit`)
		defer exec(`INSERT INTO audit_events SELECT * FROM cut_audit`)
		// What is left is a consistent chain, but the checkpoint the
		// server signed when it stopped shows the cut.
		code, out, _ := runVerify(t, "-data-dir", dir)
		if want := "before signed checkpoint periodic-" + strconv.Itoa(n); code != exitFailure || !strings.Contains(out, want) {
			t.Fatalf("without -expect-head: exit %d, %q, want %q", code, out, want)
		}
		code, out, errOut := runVerify(t, "-data-dir", dir, "-expect-head", head)
		if code != exitFailure {
			t.Fatalf("-expect-head after cutting the tail: exit %d, want %d; stdout %q, stderr %q", code, exitFailure, out, errOut)
		}
		want := "truncated: the log ends at sequence " + strconv.Itoa(n-2) + ", before the expected head " + strconv.Itoa(n)
		if !strings.Contains(out, "BROKEN") || !strings.Contains(out, want) {
			t.Fatalf("stdout %q, want BROKEN and %q", out, want)
		}
	})
	if code, out, _ := runVerify(t, "-data-dir", dir, "-expect-head", head); code != exitOK {
		t.Fatalf("with the entries put back: exit %d, %q", code, out)
	}

	t.Run("deleted entry", func(t *testing.T) {
		var nextID string
		if err := db.QueryRow(`SELECT id FROM audit_events WHERE sequence = 3`).Scan(&nextID); err != nil {
			t.Fatal(err)
		}
		mustExec(t, db, `DELETE FROM audit_events WHERE sequence = 2`)
		code, out, errOut := runVerify(t, "-data-dir", dir)
		if code != exitFailure {
			t.Fatalf("exit %d, want %d; stderr %q", code, exitFailure, errOut)
		}
		for _, w := range []string{"sequence 3,", "id " + nextID, "missing sequence"} {
			if !strings.Contains(out, w) {
				t.Errorf("stdout lacks %q: %q", w, out)
			}
		}
	})
}

func TestAuditVerifyConfigErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	empty := t.TempDir()
	cfgMissing := filepath.Join(t.TempDir(), "server.hcl")
	if err := os.WriteFile(cfgMissing, []byte("data_dir = \""+missing+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgNone := filepath.Join(t.TempDir(), "none.hcl")
	if err := os.WriteFile(cfgNone, []byte("log_level = \"info\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no subcommand", []string{"server", "audit"}, []string{"Usage: agentd server audit verify"}},
		{"unknown subcommand", []string{"server", "audit", "repair"}, []string{`unknown subcommand "repair"`}},
		{"no store named", []string{"server", "audit", "verify"}, []string{"data_dir: required"}},
		{"missing data dir", []string{"server", "audit", "verify", "-data-dir", missing}, []string{"data_dir: " + missing + " does not exist"}},
		{"config names a missing data dir", []string{"server", "audit", "verify", "-config", cfgMissing}, []string{"data_dir: " + missing + " does not exist"}},
		{"config names no store", []string{"server", "audit", "verify", "-config", cfgNone}, []string{"data_dir: required"}},
		{"data dir is a file", []string{"server", "audit", "verify", "-data-dir", notDir}, []string{"is not a directory"}},
		{"data dir without database", []string{"server", "audit", "verify", "-data-dir", empty}, []string{"holds no agentd.db"}},
		{"stray argument", []string{"server", "audit", "verify", "-data-dir", empty, "extra"}, []string{"unexpected arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SIRSI_DATA_DIR", "")
			t.Setenv("SIRSI_DATABASE_URL", "")
			var stdout, stderr bytes.Buffer
			if code := Main(tt.args, &stdout, &stderr); code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
	entries, err := os.ReadDir(empty)
	if err != nil || len(entries) != 0 {
		t.Errorf("verify left files in a data dir it refused: %v, %v", entries, err)
	}
}

// The -config path: database_url selects PostgreSQL, written through the
// store API and tampered with by SQL.
func TestAuditVerifyPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitBound)
	defer cancel()
	cluster, err := pgtest.Start(ctx)
	if errors.Is(err, pgtest.ErrNoBinaries) && os.Getenv("CI") != "true" {
		t.Skipf("SKIPPING audit verify on PostgreSQL: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	dbURL, err := cluster.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(ctx, dbURL, postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, action := range []string{"tenant.create", "api_token.create", "tenant.delete"} {
		e, err := st.AppendAudit(ctx, &sirsiv1.AuditEvent{Actor: "operator", Action: action, Target: "tenant/t1", Outcome: "ok"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.Id)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "server.hcl")
	if err := os.WriteFile(cfg, []byte("database_url = \""+dbURL+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SIRSI_DATA_DIR", "")
	t.Setenv("SIRSI_DATABASE_URL", "")

	if code, out, errOut := runVerify(t, "-config", cfg); code != exitOK || !strings.HasPrefix(out, "audit log intact: 3 entries (0 pruned), no signed checkpoints, head 3:") {
		t.Fatalf("intact log: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE audit_events SET actor = 'someone-else' WHERE sequence = 3`); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runVerify(t, "-config", cfg)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitFailure, errOut)
	}
	for _, w := range []string{"sequence 3,", "id " + ids[2], "action tenant.delete", "hash mismatch"} {
		if !strings.Contains(out, w) {
			t.Errorf("stdout lacks %q: %q", w, out)
		}
	}
	if strings.Contains(out+errOut, dbURL) {
		t.Error("the database URL (it may carry a password) was printed")
	}
}

// TestAuditCheckpointExportedAndPruned follows a checkpoint from the
// server to a file shipped elsewhere and back: the server signs its head
// when it stops, `audit checkpoint` exports it, verify accepts it as the
// expected head after one tenant's entries are pruned, and refuses it
// once its hash is edited or the entries it covers are cut.
func TestAuditCheckpointExportedAndPruned(t *testing.T) {
	dir := t.TempDir()
	p, endpoint := startServer(t, "-data-dir", dir)
	tok, _ := readToken(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	cl := dial(t, endpoint, filepath.Join(dir, pkiDir, "ca.pem"))
	var tenants []string
	for _, name := range []string{"acme", "bravo"} {
		tn, err := cl.CreateTenant(withToken(ctx, tok), &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{Name: name, DisplayName: name, Tier: sirsiv1.Tier_TIER_STANDARD}})
		if err != nil {
			t.Fatal(err)
		}
		tenants = append(tenants, tn.Tenant.Id)
	}
	// One entry of the tenant, after the operator's two.
	if _, err := cl.CreateApiToken(withToken(ctx, tok), &sirsiv1.CreateApiTokenRequest{TenantId: tenants[0], Role: sirsiv1.Role_ROLE_VIEWER}); err != nil {
		t.Fatal(err)
	}
	stopServer(t, p)

	var stdout, stderr bytes.Buffer
	if code := Main([]string{"server", "audit", "checkpoint", "-data-dir", dir}, &stdout, &stderr); code != exitOK {
		t.Fatalf("audit checkpoint: exit %d, %s", code, stderr.String())
	}
	exported, err := store.ParseAuditCheckpoint(stdout.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if exported.Verify(exported.PublicKey) != nil || exported.Kind != store.CheckpointPeriodic {
		t.Fatalf("exported checkpoint %s does not verify with its own key", stdout.String())
	}
	shipped := filepath.Join(t.TempDir(), "checkpoint.json")
	if err := os.WriteFile(shipped, stdout.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	// The operator-level entries (the tenants' creation) are pruned, with
	// the server's own key opened with its seal.
	sealer, err := secrets.NewLocalSealer(filepath.Join(dir, sealKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, sqliteFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := sealed.AuditCheckpointKey(ctx, st, sealer)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := st.PruneAudit(ctx, "", time.Now().Add(time.Hour), key)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if pr.Pruned != 2 || pr.Checkpoint.Sequence != exported.Sequence {
		t.Fatalf("pruned %d entries at head %d, want the two creations at %d", pr.Pruned, pr.Checkpoint.Sequence, exported.Sequence)
	}
	code, out, errOut := runVerify(t, "-data-dir", dir, "-expect-head-file", shipped)
	if want := "1 entries (2 pruned), 2 signed checkpoints"; code != exitOK || !strings.Contains(out, want) {
		t.Fatalf("after the prune: exit %d, stdout %q (want %q), stderr %q", code, out, want, errOut)
	}

	t.Run("edited export", func(t *testing.T) {
		edited := *exported
		edited.Hash = strings.Repeat("0", 64)
		b, err := json.Marshal(&edited)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "edited.json")
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, _ := runVerify(t, "-data-dir", dir, "-expect-head-file", file)
		if code != exitFailure || !strings.Contains(out, "signature does not match") {
			t.Fatalf("edited checkpoint: exit %d, %q", code, out)
		}
	})
	t.Run("checkpoints and newest entries deleted", func(t *testing.T) {
		db := rawSQLite(t, dir)
		if _, err := db.Exec(`DELETE FROM audit_checkpoints WHERE kind = 'periodic'`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`DELETE FROM audit_events WHERE sequence = ?`, exported.Sequence); err != nil {
			t.Fatal(err)
		}
		// The prune's own checkpoint still shows the cut ...
		if code, out, _ := runVerify(t, "-data-dir", dir); code != exitFailure || !strings.Contains(out, "truncated") {
			t.Fatalf("without the periodic checkpoints: exit %d, %q", code, out)
		}
		// ... and so does the shipped one, were that one gone too.
		if _, err := db.Exec(`DELETE FROM audit_checkpoints`); err != nil {
			t.Fatal(err)
		}
		code, out, _ := runVerify(t, "-data-dir", dir, "-expect-head-file", shipped)
		if code != exitFailure || !strings.Contains(out, "BROKEN") {
			t.Fatalf("against the shipped checkpoint: exit %d, %q", code, out)
		}
	})
}
