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

// VerifyAudit checks the chain and its checkpoints without checking the
// checkpoints' signatures (the store does not hold the key);
// VerifyAuditChain with the key checks those too.
func (s *Store) VerifyAudit(ctx context.Context) (*store.AuditBreak, error) {
	v, err := s.VerifyAuditChain(ctx, nil, nil)
	if err != nil {
		return nil, err
	}
	return v.Break, nil
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
