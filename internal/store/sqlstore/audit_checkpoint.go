package sqlstore

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

const checkpointCols = `id, kind, sequence, hash, time, scope, cutoff, pruned, digest, key_id, signature`

func scanCheckpoint(row interface{ Scan(...any) error }) (*store.AuditCheckpoint, error) {
	var c store.AuditCheckpoint
	var at, cutoff int64
	var sig string
	if err := row.Scan(&c.ID, &c.Kind, &c.Sequence, &c.Hash, &at, &c.Scope, &cutoff, &c.Pruned, &c.Digest, &c.KeyID, &sig); err != nil {
		return nil, err
	}
	c.Time, c.Before = fromNanos(at), fromNanos(cutoff)
	b, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		// Kept as read: the signature check then fails and names it.
		b = []byte(sig)
	}
	c.Signature = b
	return &c, nil
}

// fromNanos is nanos' inverse: 0 is the zero time, which signs as 0.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) insertCheckpoint(ctx context.Context, x execer, c *store.AuditCheckpoint) error {
	_, err := x.ExecContext(ctx, s.q(`INSERT INTO audit_checkpoints (`+checkpointCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`),
		c.ID, c.Kind, c.Sequence, c.Hash, nanos(c.Time), c.Scope, nanos(c.Before), c.Pruned, c.Digest, c.KeyID, base64.StdEncoding.EncodeToString(c.Signature))
	if err != nil {
		return fmt.Errorf("insert audit checkpoint %s: %w", c.ID, err)
	}
	return nil
}

// chainHead is the newest entry of the chain, pruned or not (zero for an
// empty log).
func chainHead(ctx context.Context, q querier) (store.AuditHead, error) {
	var head store.AuditHead
	for _, table := range []string{"audit_events", "audit_pruned"} {
		var h store.AuditHead
		err := q.QueryRowContext(ctx, `SELECT sequence, hash FROM `+table+` ORDER BY sequence DESC LIMIT 1`).Scan(&h.Sequence, &h.Hash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return head, fmt.Errorf("read the head of %s: %w", table, err)
		}
		if h.Sequence > head.Sequence {
			head = h
		}
	}
	return head, nil
}

// AuditCheckpoints lists every checkpoint, oldest sequence first.
func (s *Store) AuditCheckpoints(ctx context.Context) ([]*store.AuditCheckpoint, error) {
	return s.checkpoints(ctx, s.r)
}

func (s *Store) checkpoints(ctx context.Context, q querier) ([]*store.AuditCheckpoint, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+checkpointCols+` FROM audit_checkpoints ORDER BY sequence, id`)
	if err != nil {
		return nil, fmt.Errorf("list audit checkpoints: %w", err)
	}
	out, err := collect(rows, scanCheckpoint)
	if err != nil {
		return nil, fmt.Errorf("list audit checkpoints: %w", err)
	}
	return out, nil
}

// WriteAuditCheckpoint signs the chain's current head with key and
// records it, after checking the entries written since the newest
// periodic checkpoint (whose signature it checks too; a prune's
// checkpoint checked only what it removed): a chain already broken is not
// vouched for (the error says where, ErrFailedPrecondition). Replicas doing this
// at once write one row per head ("periodic-<sequence>"); an unchanged
// head returns the checkpoint already there. An empty log has nothing to
// sign: nil, nil.
func (s *Store) WriteAuditCheckpoint(ctx context.Context, key ed25519.PrivateKey, at time.Time) (*store.AuditCheckpoint, error) {
	pub := key.Public().(ed25519.PublicKey)
	// Entries up to a head never change by appending, so the check and
	// the signature need no lock against writers: one read snapshot.
	tx, err := s.r.BeginTx(ctx, s.d.Snapshot)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoint: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	head, err := chainHead(ctx, tx)
	if err != nil || head.Sequence == 0 {
		return nil, err
	}
	id := CheckpointID(head.Sequence)
	if c, err := scanCheckpoint(tx.QueryRowContext(ctx, s.q(`SELECT `+checkpointCols+` FROM audit_checkpoints WHERE id = ?`), id)); err == nil {
		return c, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("audit checkpoint: read %s: %w", id, err)
	}
	var from store.AuditHead
	last, err := scanCheckpoint(tx.QueryRowContext(ctx, s.q(`SELECT `+checkpointCols+` FROM audit_checkpoints WHERE kind = ? AND sequence <= ? ORDER BY sequence DESC LIMIT 1`), store.CheckpointPeriodic, head.Sequence))
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("audit checkpoint: read the newest checkpoint: %w", err)
	default:
		if err := last.Verify(pub); err != nil {
			return nil, fmt.Errorf("audit checkpoint: the previous %w", err)
		}
		from = last.Head()
	}
	brk, _, _, err := s.walkChain(ctx, tx, from, head.Sequence, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoint: %w", err)
	}
	if brk != nil {
		return nil, fmt.Errorf("audit checkpoint: not signing a broken chain: sequence %d: %s: %w", brk.Sequence, brk.Reason, store.ErrFailedPrecondition)
	}
	if err := tx.Rollback(); err != nil {
		return nil, fmt.Errorf("audit checkpoint: end read: %w", err)
	}
	c := &store.AuditCheckpoint{ID: id, Kind: store.CheckpointPeriodic, Sequence: head.Sequence, Hash: head.Hash, Time: at.UTC()}
	c.Sign(key)
	if err := s.insertCheckpoint(ctx, s.w, c); err != nil {
		return nil, err
	}
	// Another replica may have signed the same head first: its row is
	// the one kept, and the one returned.
	stored, err := scanCheckpoint(s.w.QueryRowContext(ctx, s.q(`SELECT `+checkpointCols+` FROM audit_checkpoints WHERE id = ?`), id))
	if err != nil {
		return nil, fmt.Errorf("audit checkpoint: read back %s: %w", id, err)
	}
	return stored, nil
}

// CheckpointID is the id of the periodic checkpoint of the head at
// sequence: one per head, whichever replica writes it.
func CheckpointID(sequence int64) string { return "periodic-" + strconv.FormatInt(sequence, 10) }

// PruneAudit removes the audit entries of one tenant (tenantID; "" for
// the operator-level entries) whose time is before `before`, keeping the
// chain verifiable. In one transaction, holding the chain's append lock:
// it checks each entry it is about to remove against its hash (a tampered
// entry is not pruned away: ErrFailedPrecondition), writes a checkpoint
// of the chain's head signed with key that also signs the scope, the
// cutoff, the count and a digest of the removed entries' links, keeps
// those links (sequence, previous hash, hash) in audit_pruned, and
// deletes the entries. Verify then walks over the pruned places and
// accepts them only as that signed checkpoint lists them. Nothing to
// prune returns a zero AuditPrune and writes nothing.
//
// key is the server's checkpoint key (sealed.AuditCheckpointKey); the
// retention pruner calls this per tenant with now minus the tenant's
// audit retention.
func (s *Store) PruneAudit(ctx context.Context, tenantID string, before time.Time, key ed25519.PrivateKey) (*store.AuditPrune, error) {
	if before.IsZero() {
		return nil, fmt.Errorf("prune audit events: a zero cutoff: %w", store.ErrInvalidArgument)
	}
	out := &store.AuditPrune{}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if s.d.LockAudit != nil {
			if err := s.d.LockAudit(ctx, tx); err != nil {
				return fmt.Errorf("prune audit events: lock: %w", err)
			}
		}
		head, err := chainHead(ctx, tx)
		if err != nil {
			return fmt.Errorf("prune audit events: %w", err)
		}
		const match = ` FROM audit_events WHERE tenant_id = ? AND time < ? AND sequence <= ?`
		args := []any{tenantID, before.UnixNano(), head.Sequence}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT `+auditCols+`, prev_hash, hash`+match+` ORDER BY sequence`), args...)
		if err != nil {
			return fmt.Errorf("prune audit events: %w", err)
		}
		var links []store.AuditLink
		for rows.Next() {
			e, l, err := scanChainRow(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("prune audit events: %w", err)
			}
			if chainHash(l.PrevHash, e) != l.Hash {
				rows.Close()
				return fmt.Errorf("prune audit events: entry %d does not match its hash; not pruning evidence of tampering (run agentd server audit verify): %w", e.Sequence, store.ErrFailedPrecondition)
			}
			links = append(links, l)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("prune audit events: %w", err)
		}
		rows.Close()
		if len(links) == 0 {
			return nil
		}
		c := &store.AuditCheckpoint{
			ID: newID(), Kind: store.CheckpointPrune, Sequence: head.Sequence, Hash: head.Hash, Time: time.Now().UTC(),
			Scope: tenantID, Before: before.UTC(), Pruned: int64(len(links)), Digest: store.AuditPruneDigest(links),
		}
		c.Sign(key)
		if err := s.insertCheckpoint(ctx, tx, c); err != nil {
			return fmt.Errorf("prune audit events: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO audit_pruned (sequence, prev_hash, hash, checkpoint_id) SELECT sequence, prev_hash, hash, ?`+match),
			append([]any{c.ID}, args...)...); err != nil {
			return fmt.Errorf("prune audit events: keep the links: %w", err)
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE`+match), args...)
		if err != nil {
			return fmt.Errorf("prune audit events: delete: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("prune audit events: count deleted: %w", err)
		}
		if n != c.Pruned {
			return fmt.Errorf("prune audit events: deleted %d entries, checked %d", n, c.Pruned)
		}
		out.Pruned, out.Checkpoint = c.Pruned, c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func scanChainRow(row interface{ Scan(...any) error }) (*sirsiv1.AuditEvent, store.AuditLink, error) {
	var e sirsiv1.AuditEvent
	var l store.AuditLink
	var tm int64
	if err := row.Scan(&e.Sequence, &e.Id, &e.TenantId, &tm, &e.RequestId, &e.Actor, &e.SourceAddress, &e.Action, &e.Target, &e.Outcome, &e.Detail, &l.PrevHash, &l.Hash); err != nil {
		return nil, l, err
	}
	e.Time = ts(tm)
	l.Sequence = e.Sequence
	return &e, l, nil
}

// walkChain checks the entries after from up to upTo (0: to the end), in
// sequence order, present and pruned alike: each must follow the one
// before it and, when present, match its hash; a pruned place must be
// listed by a prune in prunes (nil: any prune is taken on trust, for the
// walk a checkpoint does from an already verified point). At a sequence
// that has checkpoints in at, the hash must be theirs. It returns the
// first break, the head walked to, and how many present and pruned
// entries it saw.
func (s *Store) walkChain(ctx context.Context, q querier, from store.AuditHead, upTo int64, prunes map[string]bool, at map[int64][]*store.AuditCheckpoint) (*store.AuditBreak, store.AuditHead, [2]int64, error) {
	var counts [2]int64
	head := from
	bound := ` AND sequence <= ?`
	args := []any{from.Sequence, upTo, from.Sequence, upTo}
	if upTo == 0 {
		bound, args = ``, []any{from.Sequence, from.Sequence}
	}
	rows, err := q.QueryContext(ctx, s.q(`SELECT `+auditCols+`, prev_hash, hash, '' AS checkpoint_id FROM audit_events WHERE sequence > ?`+bound+`
		UNION ALL SELECT sequence, '', '', 0, '', '', '', '', '', '', '', prev_hash, hash, checkpoint_id FROM audit_pruned WHERE sequence > ?`+bound+`
		ORDER BY sequence`), args...)
	if err != nil {
		return nil, head, counts, fmt.Errorf("walk the audit chain: %w", err)
	}
	defer rows.Close()
	want := from.Sequence + 1
	for rows.Next() {
		var e sirsiv1.AuditEvent
		var tm int64
		var storedPrev, hash, prunedBy string
		if err := rows.Scan(&e.Sequence, &e.Id, &e.TenantId, &tm, &e.RequestId, &e.Actor, &e.SourceAddress, &e.Action, &e.Target, &e.Outcome, &e.Detail, &storedPrev, &hash, &prunedBy); err != nil {
			return nil, head, counts, fmt.Errorf("walk the audit chain: %w", err)
		}
		e.Time = ts(tm)
		brk := func(reason string) (*store.AuditBreak, store.AuditHead, [2]int64, error) {
			return &store.AuditBreak{Sequence: e.Sequence, ID: e.Id, Reason: reason}, head, counts, nil
		}
		switch {
		case e.Sequence != want:
			return brk(fmt.Sprintf("missing sequence: sequence %d follows %d", e.Sequence, want-1))
		case storedPrev != head.Hash:
			return brk("prev-hash mismatch: the stored previous hash is not the preceding event's hash")
		case prunedBy == "" && chainHash(head.Hash, &e) != hash:
			return brk("hash mismatch: the stored hash does not match the event's contents")
		case prunedBy != "" && prunes != nil && !prunes[prunedBy]:
			return brk(fmt.Sprintf("pruned entry not listed by a signed prune (it names checkpoint %q)", prunedBy))
		}
		for _, c := range at[e.Sequence] {
			if c.Hash != hash {
				return brk(fmt.Sprintf("checkpoint mismatch: signed checkpoint %s has another hash at this sequence (the log was rewritten)", c.ID))
			}
		}
		if prunedBy == "" {
			counts[0]++
		} else {
			counts[1]++
		}
		head, want = store.AuditHead{Sequence: e.Sequence, Hash: hash}, want+1
	}
	if err := rows.Err(); err != nil {
		return nil, head, counts, fmt.Errorf("walk the audit chain: %w", err)
	}
	return nil, head, counts, nil
}

// VerifyAuditChain walks the whole chain from its first entry and checks
// it against the signed checkpoints: each checkpoint's signature (with
// pub, the server's checkpoint key; nil checks none, for a store without
// a key yet), each prune's digest against the links it kept, the hash at
// every checkpoint's sequence, and that the chain reaches the newest
// checkpoint (so entries cut from the end are missed even without
// expect). With expect set, the chain must also reach expect.Sequence
// with expect.Hash there.
func (s *Store) VerifyAuditChain(ctx context.Context, expect *store.AuditHead, pub ed25519.PublicKey) (*store.AuditVerdict, error) {
	tx, err := s.r.BeginTx(ctx, s.d.Snapshot)
	if err != nil {
		return nil, fmt.Errorf("verify audit log: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	cps, err := s.checkpoints(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("verify audit log: %w", err)
	}
	v := &store.AuditVerdict{Checkpoints: len(cps)}
	at := map[int64][]*store.AuditCheckpoint{}
	prunes := map[string]bool{}
	for _, c := range cps {
		if pub != nil {
			if err := c.Verify(pub); err != nil {
				v.Break = &store.AuditBreak{Sequence: c.Sequence, Reason: "bad checkpoint: " + err.Error()}
				return v, nil
			}
		}
		if c.Kind == store.CheckpointPrune {
			if reason, err := s.checkPrune(ctx, tx, c); err != nil || reason != "" {
				v.Break = &store.AuditBreak{Sequence: c.Sequence, Reason: reason}
				return v, err
			}
			prunes[c.ID] = true
		}
		at[c.Sequence] = append(at[c.Sequence], c)
		v.Newest = c
	}
	if expect != nil {
		at[expect.Sequence] = append(at[expect.Sequence], &store.AuditCheckpoint{ID: "expected head " + expect.String(), Sequence: expect.Sequence, Hash: expect.Hash})
	}
	brk, head, counts, err := s.walkChain(ctx, tx, store.AuditHead{}, 0, prunes, at)
	if err != nil {
		return nil, fmt.Errorf("verify audit log: %w", err)
	}
	v.Break, v.Head, v.Entries, v.Pruned = brk, head, counts[0], counts[1]
	if brk != nil {
		return v, nil
	}
	switch {
	case expect != nil && head.Sequence < expect.Sequence:
		v.Break = &store.AuditBreak{Sequence: head.Sequence + 1, Reason: fmt.Sprintf("truncated: the log ends at sequence %d, before the expected head %d", head.Sequence, expect.Sequence)}
	case v.Newest != nil && head.Sequence < v.Newest.Sequence:
		v.Break = &store.AuditBreak{Sequence: head.Sequence + 1, Reason: fmt.Sprintf("truncated: the log ends at sequence %d, before signed checkpoint %s at sequence %d", head.Sequence, v.Newest.ID, v.Newest.Sequence)}
	}
	return v, nil
}

// checkPrune compares a prune checkpoint with the links it kept; it
// returns why they disagree, "" when they agree.
func (s *Store) checkPrune(ctx context.Context, q querier, c *store.AuditCheckpoint) (string, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT sequence, prev_hash, hash FROM audit_pruned WHERE checkpoint_id = ? ORDER BY sequence`), c.ID)
	if err != nil {
		return "", fmt.Errorf("read the links of prune %s: %w", c.ID, err)
	}
	links, err := collect(rows, func(r interface{ Scan(...any) error }) (store.AuditLink, error) {
		var l store.AuditLink
		return l, r.Scan(&l.Sequence, &l.PrevHash, &l.Hash)
	})
	if err != nil {
		return "", fmt.Errorf("read the links of prune %s: %w", c.ID, err)
	}
	if int64(len(links)) != c.Pruned || store.AuditPruneDigest(links) != c.Digest {
		return fmt.Sprintf("pruned links changed: prune %s signed %d links with digest %s, %d are stored", c.ID, c.Pruned, c.Digest, len(links)), nil
	}
	return "", nil
}
