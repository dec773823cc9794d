package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// chainHash is SHA-256 over the previous hash and a canonical encoding of
// the event: every field in a fixed order, strings length-prefixed, so no
// two different events encode alike and the encoding never depends on a
// serialisation library's choices.
func chainHash(prev string, e *sirsiv1.AuditEvent) string {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	str := func(s string) {
		h.Write(buf[:binary.PutUvarint(buf[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	num := func(n int64) {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(n))
		h.Write(b[:])
	}
	str(prev)
	num(e.Sequence)
	str(e.Id)
	str(e.TenantId)
	num(tsNanos(e.Time))
	str(e.RequestId)
	str(e.Actor)
	str(e.SourceAddress)
	str(e.Action)
	str(e.Target)
	str(e.Outcome)
	str(e.Detail)
	return hex.EncodeToString(h.Sum(nil))
}

const auditCols = `sequence, id, tenant_id, time, request_id, actor, source_address, action, target, outcome, detail`

func scanAudit(row interface{ Scan(...any) error }) (*sirsiv1.AuditEvent, error) {
	var e sirsiv1.AuditEvent
	var tm int64
	if err := row.Scan(&e.Sequence, &e.Id, &e.TenantId, &tm, &e.RequestId, &e.Actor, &e.SourceAddress, &e.Action, &e.Target, &e.Outcome, &e.Detail); err != nil {
		return nil, err
	}
	e.Time = ts(tm)
	return &e, nil
}

func (s *Store) AppendAudit(ctx context.Context, in *sirsiv1.AuditEvent) (*sirsiv1.AuditEvent, error) {
	e := proto.Clone(in).(*sirsiv1.AuditEvent)
	if e.Id == "" {
		e.Id = newID()
	}
	if e.Time == nil {
		e.Time = ts(time.Now().UnixNano())
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The chain is one sequence across every writer: without the lock
		// two appends would read the same tail and fork it.
		if s.d.LockAudit != nil {
			if err := s.d.LockAudit(ctx, tx); err != nil {
				return fmt.Errorf("append audit event: lock: %w", err)
			}
		}
		// An id already in the log was appended by an earlier try of the
		// same report (a caller retrying after a crash): keep that one.
		stored, err := scanAudit(tx.QueryRowContext(ctx, s.q(`SELECT `+auditCols+` FROM audit_events WHERE id = ?`), e.Id))
		if err == nil {
			e = stored
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("append audit event: look up id %q: %w", e.Id, err)
		}
		var seq int64
		var prev string
		err = tx.QueryRowContext(ctx, `SELECT sequence, hash FROM audit_events ORDER BY sequence DESC LIMIT 1`).Scan(&seq, &prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("append audit event: read chain tail: %w", err)
		}
		e.Sequence = seq + 1
		hash := chainHash(prev, e)
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO audit_events (`+auditCols+`, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			e.Sequence, e.Id, e.TenantId, tsNanos(e.Time), e.RequestId, e.Actor, e.SourceAddress, e.Action, e.Target, e.Outcome, e.Detail, prev, hash); err != nil {
			return fmt.Errorf("append audit event: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (s *Store) ListOperatorAuditEvents(ctx context.Context, f store.AuditFilter, p store.Page) ([]*sirsiv1.AuditEvent, string, error) {
	return s.listAudit(ctx, "", f, p)
}

func (t *tenantStore) ListAuditEvents(ctx context.Context, f store.AuditFilter, p store.Page) ([]*sirsiv1.AuditEvent, string, error) {
	return t.s.listAudit(ctx, t.id, f, p)
}

func (s *Store) listAudit(ctx context.Context, tenantID string, f store.AuditFilter, p store.Page) ([]*sirsiv1.AuditEvent, string, error) {
	filter := struct {
		T string
		F store.AuditFilter
	}{tenantID, f}
	k, err := decodePageToken("audit", filter, p.Token, 1)
	if err != nil {
		return nil, "", err
	}
	var key []any
	if k != nil {
		seq, err := strconv.ParseInt(k[0], 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("page token is malformed: %w", store.ErrInvalidPageToken)
		}
		key = []any{seq}
	}
	where, args := ` WHERE tenant_id = ?`, []any{tenantID}
	for _, c := range []struct{ col, v string }{{"actor", f.Actor}, {"action", f.Action}, {"outcome", f.Outcome}, {"target", f.Target}} {
		if c.v != "" {
			where += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	if !f.Start.IsZero() {
		where += ` AND time >= ?`
		args = append(args, f.Start.UnixNano())
	}
	if !f.End.IsZero() {
		where += ` AND time < ?`
		args = append(args, f.End.UnixNano())
	}
	cond, args := after("sequence", key, args)
	n := pageSize(p)
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+auditCols+` FROM audit_events`+where+cond+` ORDER BY sequence LIMIT `+fmt.Sprint(n+1)), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	out, err := collect(rows, scanAudit)
	if err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	out, next := trim(out, n, func(e *sirsiv1.AuditEvent) string {
		return encodePageToken("audit", filter, []string{strconv.FormatInt(e.Sequence, 10)})
	})
	return out, next, nil
}

func (s *Store) VerifyAudit(ctx context.Context) (*store.AuditBreak, error) {
	brk, _, err := s.VerifyAuditHead(ctx, nil)
	return brk, err
}

// VerifyAuditHead walks the chain like VerifyAudit and returns its head
// (the zero AuditHead for an empty log). With expect set, the chain must
// also reach expect.Sequence with expect.Hash there: a log cut after a head
// was kept elsewhere, or rewritten from before it, is reported as broken
// even when what is left is consistent.
func (s *Store) VerifyAuditHead(ctx context.Context, expect *store.AuditHead) (*store.AuditBreak, store.AuditHead, error) {
	var head store.AuditHead
	rows, err := s.r.QueryContext(ctx, `SELECT `+auditCols+`, prev_hash, hash FROM audit_events ORDER BY sequence`)
	if err != nil {
		return nil, head, fmt.Errorf("verify audit log: %w", err)
	}
	defer rows.Close()
	var prev string
	var want int64 = 1
	for rows.Next() {
		var e sirsiv1.AuditEvent
		var tm int64
		var storedPrev, hash string
		if err := rows.Scan(&e.Sequence, &e.Id, &e.TenantId, &tm, &e.RequestId, &e.Actor, &e.SourceAddress, &e.Action, &e.Target, &e.Outcome, &e.Detail, &storedPrev, &hash); err != nil {
			return nil, head, fmt.Errorf("verify audit log: %w", err)
		}
		e.Time = ts(tm)
		switch {
		case e.Sequence != want:
			return &store.AuditBreak{Sequence: e.Sequence, ID: e.Id, Reason: fmt.Sprintf("missing sequence: sequence %d follows %d", e.Sequence, want-1)}, head, nil
		case storedPrev != prev:
			return &store.AuditBreak{Sequence: e.Sequence, ID: e.Id, Reason: "prev-hash mismatch: the stored previous hash is not the preceding event's hash"}, head, nil
		case chainHash(prev, &e) != hash:
			return &store.AuditBreak{Sequence: e.Sequence, ID: e.Id, Reason: "hash mismatch: the stored hash does not match the event's contents"}, head, nil
		case expect != nil && e.Sequence == expect.Sequence && hash != expect.Hash:
			return &store.AuditBreak{Sequence: e.Sequence, ID: e.Id, Reason: "head mismatch: the entry at the expected head's sequence has another hash (the log was rewritten)"}, head, nil
		}
		prev, want = hash, want+1
		head = store.AuditHead{Sequence: e.Sequence, Hash: hash}
	}
	if err := rows.Err(); err != nil {
		return nil, head, fmt.Errorf("verify audit log: %w", err)
	}
	if expect != nil && head.Sequence < expect.Sequence {
		return &store.AuditBreak{Sequence: head.Sequence + 1, Reason: fmt.Sprintf("truncated: the log ends at sequence %d, before the expected head %d", head.Sequence, expect.Sequence)}, head, nil
	}
	return nil, head, nil
}

// AuditEvent reads the event with this sequence number as stored, so a
// report of a broken chain can say when the bad entry was written and what
// it recorded; store.ErrNotFound when there is none.
func (s *Store) AuditEvent(ctx context.Context, sequence int64) (*sirsiv1.AuditEvent, error) {
	e, err := scanAudit(s.r.QueryRowContext(ctx, s.q(`SELECT `+auditCols+` FROM audit_events WHERE sequence = ?`), sequence))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read audit event %d: %w", sequence, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read audit event %d: %w", sequence, err)
	}
	return e, nil
}

// AuditLength counts the events in the log.
func (s *Store) AuditLength(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count audit events: %w", err)
	}
	return n, nil
}
