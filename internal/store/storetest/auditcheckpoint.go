package storetest

import (
	"crypto/ed25519"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// auditKey is a fixed checkpoint key, so a failure reproduces.
func auditKey(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	return ed25519.NewKeyFromSeed(s)
}

// auditDay0 is when the sample audit log starts; entry i of a tenant is
// written i days later, so a cutoff selects a known prefix.
var auditDay0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// fillAudit appends, round by round, one entry per tenant id in tenants
// (day r for round r) and returns every entry appended.
func fillAudit(t *testing.T, s store.Store, rounds int, tenants ...string) []*sirsiv1.AuditEvent {
	var out []*sirsiv1.AuditEvent
	for r := range rounds {
		for _, tn := range tenants {
			out = append(out, must(s.AppendAudit(ctx(t), &sirsiv1.AuditEvent{
				TenantId: tn, Time: timestamppb.New(auditDay0.AddDate(0, 0, r)), RequestId: fmt.Sprintf("req-%d", r),
				Actor: "token:" + tn, SourceAddress: "127.0.0.1:1", Action: "/sirsi.v1.ManagementService/UpdatePolicy",
				Target: fmt.Sprintf("policy/p%d", r), Outcome: "ok", Detail: "round " + fmt.Sprint(r),
			})))
		}
	}
	return out
}

func wantIntact(t *testing.T, s store.Store, pub ed25519.PublicKey, what string) *store.AuditVerdict {
	t.Helper()
	v := must(s.VerifyAuditChain(ctx(t), nil, pub))
	if v.Break != nil {
		t.Fatalf("%s: chain reported broken: %+v", what, v.Break)
	}
	return v
}

func wantBroken(t *testing.T, s store.Store, pub ed25519.PublicKey, reason, what string) *store.AuditVerdict {
	t.Helper()
	v := must(s.VerifyAuditChain(ctx(t), nil, pub))
	if v.Break == nil || !strings.Contains(v.Break.Reason, reason) {
		t.Fatalf("%s: verdict %+v, want a break saying %q", what, v.Break, reason)
	}
	return v
}

// testAuditCheckpoints: periodic checkpoints are signed, one per head;
// pruning one tenant's old entries removes exactly those, leaves every
// other entry as it was, and the chain still verifies with the signatures
// checked; another key's signatures are refused.
func testAuditCheckpoints(t *testing.T, s store.Store) {
	key := auditKey(7)
	pub := key.Public().(ed25519.PublicKey)
	if cp := must(s.WriteAuditCheckpoint(ctx(t), key, time.Now())); cp != nil {
		t.Fatalf("an empty log got checkpoint %+v", cp)
	}
	a, b := newTenant(t, s, "audit-a"), newTenant(t, s, "audit-b")
	all := fillAudit(t, s, 10, a.TenantID(), b.TenantID(), "")
	head := all[len(all)-1]
	// Replicas (here writers on several connections) checkpointing the
	// same head at once write one checkpoint and all return it.
	var wg sync.WaitGroup
	got := make([]*store.AuditCheckpoint, 4)
	errs := make([]error, len(got))
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = s.WriteAuditCheckpoint(ctx(t), key, time.Now())
		}()
	}
	wg.Wait()
	for i := range got {
		ok(t, errs[i])
		if got[i].ID != got[0].ID || !got[i].Time.Equal(got[0].Time) {
			t.Fatalf("concurrent checkpoints differ: %+v and %+v", got[i], got[0])
		}
	}
	if n := len(must(s.AuditCheckpoints(ctx(t)))); n != 1 {
		t.Fatalf("%d checkpoints after four concurrent writes of one head, want 1", n)
	}
	cp := got[0]
	if cp == nil || cp.Sequence != head.Sequence || cp.Kind != store.CheckpointPeriodic || cp.Verify(pub) != nil {
		t.Fatalf("checkpoint %+v, want a periodic one at %d signed by the key", cp, head.Sequence)
	}
	if again := must(s.WriteAuditCheckpoint(ctx(t), key, time.Now().Add(time.Hour))); again.ID != cp.ID || !again.Time.Equal(cp.Time) {
		t.Fatalf("an unchanged head got a second checkpoint %+v after %+v", again, cp)
	}
	v := wantIntact(t, s, pub, "after a checkpoint")
	if v.Entries != int64(len(all)) || v.Checkpoints != 1 || v.Head.Sequence != head.Sequence {
		t.Fatalf("verdict %+v, want %d entries, 1 checkpoint, head %d", v, len(all), head.Sequence)
	}

	// Tenant a's entries of days 0..3 go; b's and the operator's stay.
	cutoff := auditDay0.AddDate(0, 0, 4)
	pr := must(s.PruneAudit(ctx(t), a.TenantID(), cutoff, key))
	if pr.Pruned != 4 || pr.Checkpoint == nil || pr.Checkpoint.Kind != store.CheckpointPrune || pr.Checkpoint.Scope != a.TenantID() ||
		pr.Checkpoint.Sequence != head.Sequence || pr.Checkpoint.Pruned != 4 || !pr.Checkpoint.Before.Equal(cutoff) {
		t.Fatalf("prune %+v (checkpoint %+v), want 4 of tenant a signed at head %d", pr, pr.Checkpoint, head.Sequence)
	}
	v = wantIntact(t, s, pub, "after the prune")
	if v.Entries != int64(len(all)-4) || v.Pruned != 4 || v.Checkpoints != 2 || v.Head.Sequence != head.Sequence {
		t.Fatalf("verdict %+v, want %d entries, 4 pruned, 2 checkpoints", v, len(all)-4)
	}
	left := listAllAudit(t, a)
	if len(left) != 6 {
		t.Fatalf("tenant a has %d entries after the prune, want 6", len(left))
	}
	for _, e := range left {
		if e.Time.AsTime().Before(cutoff) {
			t.Fatalf("entry %d of %s survived the prune", e.Sequence, e.Time.AsTime())
		}
	}
	// Everything else is as appended, field by field.
	kept := map[int64]*sirsiv1.AuditEvent{}
	for _, e := range append(listAllAudit(t, b), listAllAudit(t, s.Tenant(""))...) {
		kept[e.Sequence] = e
	}
	for _, e := range all {
		if e.TenantId == a.TenantID() {
			continue
		}
		if got := kept[e.Sequence]; !proto.Equal(got, e) {
			t.Fatalf("entry %d changed by the prune: %v, want %v", e.Sequence, got, e)
		}
	}
	if again := must(s.PruneAudit(ctx(t), a.TenantID(), cutoff, key)); again.Pruned != 0 || again.Checkpoint != nil {
		t.Fatalf("a second prune with the same cutoff did %+v", again)
	}
	if _, err := s.PruneAudit(ctx(t), a.TenantID(), time.Time{}, key); err == nil {
		t.Fatal("a zero cutoff was accepted")
	}
	// New entries after the prune chain on, and a new checkpoint covers
	// them.
	more := fillAudit(t, s, 1, a.TenantID())
	if cp := must(s.WriteAuditCheckpoint(ctx(t), key, time.Now())); cp.Sequence != more[0].Sequence {
		t.Fatalf("checkpoint at %d, want the new head %d", cp.Sequence, more[0].Sequence)
	}
	wantIntact(t, s, pub, "after appending past the prune")
	wantBroken(t, s, auditKey(8).Public().(ed25519.PublicKey), "signed by key", "checked with another key")
}

// listAllAudit lists a tenant's audit entries (the operator's for tenant
// "").
func listAllAudit(t *testing.T, ts store.TenantStore) []*sirsiv1.AuditEvent {
	var out []*sirsiv1.AuditEvent
	p := store.Page{Size: 3}
	for {
		got, next := must2(ts.ListAuditEvents(ctx(t), store.AuditFilter{}, p))
		out = append(out, got...)
		if next == "" {
			return out
		}
		p.Token = next
	}
}

// testAuditPruneTampering: what someone with write access to
// the database could do after a prune is reported.
func testAuditPruneTampering(t *testing.T, b Backend) {
	key := auditKey(9)
	pub := key.Public().(ed25519.PublicKey)
	setup := func(t *testing.T) (string, store.Store, []*sirsiv1.AuditEvent, *store.AuditCheckpoint) {
		loc := b.Fresh(t)
		s, err := b.Open(ctx(t), loc)
		ok(t, err)
		t.Cleanup(func() { s.Close() })
		a := newTenant(t, s, "tamper-a")
		all := fillAudit(t, s, 6, a.TenantID(), "")
		pr := must(s.PruneAudit(ctx(t), a.TenantID(), auditDay0.AddDate(0, 0, 3), key))
		if pr.Pruned != 3 {
			t.Fatalf("pruned %d, want 3", pr.Pruned)
		}
		wantIntact(t, s, pub, "after the prune")
		return loc, s, all, pr.Checkpoint
	}
	t.Run("NewestDeleted", func(t *testing.T) {
		defer guard(t)
		loc, s, all, _ := setup(t)
		b.Exec(t, loc, fmt.Sprintf(`DELETE FROM audit_events WHERE sequence >= %d`, all[len(all)-2].Sequence))
		wantBroken(t, s, pub, "truncated", "newest two entries deleted")
		wantBroken(t, s, nil, "truncated", "newest two entries deleted, signatures unchecked")
	})
	t.Run("SignatureEdited", func(t *testing.T) {
		defer guard(t)
		loc, s, _, cp := setup(t)
		b.Exec(t, loc, fmt.Sprintf(`UPDATE audit_checkpoints SET pruned = 2 WHERE id = '%s'`, cp.ID))
		wantBroken(t, s, pub, "signature does not match", "prune count edited")
		b.Exec(t, loc, fmt.Sprintf(`UPDATE audit_checkpoints SET pruned = 3, signature = 'AAAA' WHERE id = '%s'`, cp.ID))
		wantBroken(t, s, pub, "signature does not match", "signature replaced")
	})
	t.Run("LiveEntryPassedOffAsPruned", func(t *testing.T) {
		defer guard(t)
		loc, s, all, cp := setup(t)
		victim := all[len(all)-1]
		b.Exec(t, loc, fmt.Sprintf(`INSERT INTO audit_pruned (sequence, prev_hash, hash, checkpoint_id) SELECT sequence, prev_hash, hash, '%s' FROM audit_events WHERE sequence = %d`, cp.ID, victim.Sequence))
		b.Exec(t, loc, fmt.Sprintf(`DELETE FROM audit_events WHERE sequence = %d`, victim.Sequence))
		wantBroken(t, s, pub, "pruned links changed", "a live entry moved into the pruned links")
	})
	t.Run("PrunedLinkDeleted", func(t *testing.T) {
		defer guard(t)
		loc, s, _, cp := setup(t)
		b.Exec(t, loc, fmt.Sprintf(`DELETE FROM audit_pruned WHERE checkpoint_id = '%s' AND sequence = (SELECT MIN(sequence) FROM audit_pruned)`, cp.ID))
		wantBroken(t, s, pub, "pruned links changed", "a pruned link deleted")
	})
	t.Run("TamperedEntryNotPruned", func(t *testing.T) {
		defer guard(t)
		loc, s, all, _ := setup(t)
		var victim *sirsiv1.AuditEvent
		for _, e := range all {
			if e.TenantId == "" && e.Time.AsTime().Before(auditDay0.AddDate(0, 0, 2)) {
				victim = e
			}
		}
		b.Exec(t, loc, fmt.Sprintf(`UPDATE audit_events SET outcome = 'PermissionDenied' WHERE sequence = %d`, victim.Sequence))
		_, err := s.PruneAudit(ctx(t), "", auditDay0.AddDate(0, 0, 2), key)
		wantErr(t, err, store.ErrFailedPrecondition, "pruning a tampered entry")
		v := wantBroken(t, s, pub, "hash mismatch", "the tampered entry is still reported")
		if v.Break.Sequence != victim.Sequence {
			t.Fatalf("break at %d, want %d", v.Break.Sequence, victim.Sequence)
		}
		if _, err := s.WriteAuditCheckpoint(ctx(t), key, time.Now()); err == nil {
			t.Fatal("a broken chain was checkpointed")
		}
	})
}
