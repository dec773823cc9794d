package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

const enrollCols = `id, tenant_id, cloud_account_id, ttl, max_uses, uses, expire_time, create_time`

func scanEnrollment(row interface{ Scan(...any) error }) (*sirsiv1.EnrollmentToken, error) {
	var e sirsiv1.EnrollmentToken
	var ttl, maxUses, uses, et, ct int64
	if err := row.Scan(&e.Id, &e.TenantId, &e.CloudAccountId, &ttl, &maxUses, &uses, &et, &ct); err != nil {
		return nil, err
	}
	e.Ttl, e.MaxUses, e.Uses = dur(ttl), int32(maxUses), int32(uses)
	e.ExpireTime, e.CreateTime = ts(et), ts(ct)
	return &e, nil
}

// expiry is create time plus ttl, or 0 (never) without a ttl.
func expiry(now time.Time, ttl int64) int64 {
	if ttl <= 0 {
		return 0
	}
	return now.Add(time.Duration(ttl)).UnixNano()
}

func (t *tenantStore) CreateEnrollmentToken(ctx context.Context, in *sirsiv1.EnrollmentToken, secretHash []byte) (*sirsiv1.EnrollmentToken, error) {
	if len(secretHash) == 0 {
		return nil, fmt.Errorf("create enrollment token: secret hash is empty: %w", store.ErrInvalidArgument)
	}
	now := time.Now()
	e := &sirsiv1.EnrollmentToken{
		Id: in.Id, TenantId: t.id, CloudAccountId: in.CloudAccountId, Ttl: in.Ttl, MaxUses: in.MaxUses,
		ExpireTime: ts(expiry(now, durNanos(in.Ttl))), CreateTime: ts(now.UnixNano()),
	}
	if e.Id == "" {
		e.Id = newID()
	}
	err := t.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := t.requireAccount(ctx, tx, e.CloudAccountId); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, t.q(`INSERT INTO enrollment_tokens (`+enrollCols+`, secret_hash) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)`),
			e.Id, t.id, e.CloudAccountId, durNanos(e.Ttl), int64(e.MaxUses), tsNanos(e.ExpireTime), now.UnixNano(), hexHash(secretHash))
		if t.s.d.IsUniqueViolation(err) {
			return fmt.Errorf("create enrollment token: %w", store.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("create enrollment token: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (t *tenantStore) GetEnrollmentToken(ctx context.Context, id string) (*sirsiv1.EnrollmentToken, error) {
	e, err := scanEnrollment(t.s.r.QueryRowContext(ctx, t.q(`SELECT `+enrollCols+` FROM enrollment_tokens WHERE tenant_id = ? AND id = ?`), t.id, id))
	return e, notFound(err, "get enrollment token %q", id)
}

func (t *tenantStore) DeleteEnrollmentToken(ctx context.Context, id string) error {
	return t.deleteRow(ctx, "enrollment_tokens", "enrollment token", id)
}

// deleteRow deletes one unversioned row of this tenant by id.
func (t *tenantStore) deleteRow(ctx context.Context, table, what, id string) error {
	res, err := t.s.w.ExecContext(ctx, t.q(`DELETE FROM `+table+` WHERE tenant_id = ? AND id = ?`), t.id, id)
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", what, id, err)
	}
	return affectedOne(res, "delete %s %q", what, id)
}

func affectedOne(res sql.Result, format string, args ...any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf(format+": %w", append(args, err)...)
	}
	if n == 0 {
		return fmt.Errorf(format+": %w", append(args, store.ErrNotFound)...)
	}
	return nil
}

func (t *tenantStore) ListEnrollmentTokens(ctx context.Context, p store.Page) ([]*sirsiv1.EnrollmentToken, string, error) {
	return listByID(ctx, t, "enrollment_tokens", enrollCols, p, scanEnrollment, func(e *sirsiv1.EnrollmentToken) string { return e.Id })
}

func (s *Store) EnrollAgent(ctx context.Context, in store.Enrollment) (*store.Enrolled, error) {
	var out store.Enrolled
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		h := hexHash(in.SecretHash)
		// A write first: it locks the token's row, so concurrent
		// enrollments with one token (on PostgreSQL; SQLite has one
		// writer) see each other's agent and uses.
		res, err := tx.ExecContext(ctx, s.q(`UPDATE enrollment_tokens SET uses = uses WHERE secret_hash = ?`), h)
		if err != nil {
			return fmt.Errorf("enroll agent: locking the enrollment token: %w", err)
		}
		if err := affectedOne(res, "enroll agent: enrollment token"); err != nil {
			return err
		}
		e, err := scanEnrollment(tx.QueryRowContext(ctx, s.q(`SELECT `+enrollCols+` FROM enrollment_tokens WHERE secret_hash = ?`), h))
		if err != nil {
			return notFound(err, "enroll agent: enrollment token")
		}
		if e.Id != in.TokenID {
			return fmt.Errorf("enroll agent: enrollment token %q was replaced: %w", in.TokenID, store.ErrNotFound)
		}
		if e.ExpireTime != nil && !in.At.Before(e.ExpireTime.AsTime()) {
			return fmt.Errorf("enrollment token %q expired at %s: %w", e.Id, e.ExpireTime.AsTime().Format(time.RFC3339), store.ErrFailedPrecondition)
		}
		t := &tenantStore{s: s, id: e.TenantId}
		a, err := t.getAgentTx(ctx, tx, in.AgentID)
		switch {
		case err == nil:
			if a.Status == sirsiv1.AgentStatus_AGENT_STATUS_REVOKED {
				return fmt.Errorf("enroll agent %q: %w", in.AgentID, store.ErrRevoked)
			}
			if err := t.updateAgentCertificateTx(ctx, tx, in.AgentID, in.CertSerial, in.CertExpire); err != nil {
				return err
			}
			out = store.Enrolled{Token: e, Agent: a, Replayed: true}
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		// The guard in the statement, not the read above, is what makes
		// two concurrent enrollments unable to overspend the token.
		res, err = tx.ExecContext(ctx, s.q(`UPDATE enrollment_tokens SET uses = uses + 1 WHERE tenant_id = ? AND id = ? AND (max_uses = 0 OR uses < max_uses)`), e.TenantId, e.Id)
		if err != nil {
			return fmt.Errorf("consume enrollment token %q: %w", e.Id, err)
		}
		if err := affectedOne(res, "consume enrollment token %q", e.Id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("enrollment token %q is used up (%d uses): %w", e.Id, e.MaxUses, store.ErrFailedPrecondition)
			}
			return err
		}
		e.Uses++
		a, err = t.createAgentTx(ctx, tx, &sirsiv1.Agent{
			Id: in.AgentID, CloudAccountId: e.CloudAccountId, Version: in.Version, Hostname: in.Hostname, CertExpireTime: ts(nanos(in.CertExpire)),
		}, in.At)
		if err != nil {
			return err
		}
		if err := t.updateAgentCertificateTx(ctx, tx, in.AgentID, in.CertSerial, in.CertExpire); err != nil {
			return err
		}
		out = store.Enrolled{Token: e, Agent: a}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

const apiTokenCols = `id, tenant_id, role, description, ttl, expire_time, create_time, last_used_time, version`

func scanAPIToken(row interface{ Scan(...any) error }) (*sirsiv1.ApiToken, error) {
	var a sirsiv1.ApiToken
	var role, ttl, et, ct, lu int64
	if err := row.Scan(&a.Id, &a.TenantId, &role, &a.Description, &ttl, &et, &ct, &lu, &a.Version); err != nil {
		return nil, err
	}
	a.Role, a.Ttl = sirsiv1.Role(role), dur(ttl)
	a.ExpireTime, a.CreateTime, a.LastUsedTime = ts(et), ts(ct), ts(lu)
	return &a, nil
}

func (t *tenantStore) CreateAPIToken(ctx context.Context, in *sirsiv1.ApiToken, secretHash []byte, limit store.TokenCap) (*sirsiv1.ApiToken, error) {
	if len(secretHash) == 0 {
		return nil, fmt.Errorf("create API token: secret hash is empty: %w", store.ErrInvalidArgument)
	}
	now := time.Now()
	a := &sirsiv1.ApiToken{
		Id: in.Id, TenantId: t.id, Role: in.Role, Description: in.Description, Ttl: in.Ttl,
		ExpireTime: ts(expiry(now, durNanos(in.Ttl))), CreateTime: ts(now.UnixNano()), Version: 1,
	}
	if a.Id == "" {
		a.Id = newID()
	}
	err := t.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := t.lockTenant(ctx, tx); err != nil {
			return err
		}
		if limit.Max > 0 {
			var live int
			if err := tx.QueryRowContext(ctx, t.q(`SELECT COUNT(*) FROM api_tokens WHERE tenant_id = ? AND (expire_time = 0 OR expire_time > ?)`), t.id, limit.Now.UnixNano()).Scan(&live); err != nil {
				return fmt.Errorf("count the tenant's live API tokens: %w", err)
			}
			if live >= limit.Max {
				return fmt.Errorf("create API token: tenant %q already holds %d live API tokens, at most %d: %w", t.id, live, limit.Max, store.ErrLimitReached)
			}
		}
		_, err := tx.ExecContext(ctx, t.q(`INSERT INTO api_tokens (`+apiTokenCols+`, secret_hash) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`),
			a.Id, t.id, int64(a.Role), a.Description, durNanos(a.Ttl), tsNanos(a.ExpireTime), now.UnixNano(), a.Version, hexHash(secretHash))
		if t.s.d.IsUniqueViolation(err) {
			return fmt.Errorf("create API token: %w", store.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("create API token: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (t *tenantStore) GetAPIToken(ctx context.Context, id string) (*sirsiv1.ApiToken, error) {
	a, err := scanAPIToken(t.s.r.QueryRowContext(ctx, t.q(`SELECT `+apiTokenCols+` FROM api_tokens WHERE tenant_id = ? AND id = ?`), t.id, id))
	return a, notFound(err, "get API token %q", id)
}

func (t *tenantStore) UpdateAPIToken(ctx context.Context, id, description string, version int64) (*sirsiv1.ApiToken, error) {
	var out *sirsiv1.ApiToken
	err := t.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := t.checkVersion(ctx, tx, "api_tokens", "API token", id, version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, t.q(`UPDATE api_tokens SET description = ?, version = version + 1 WHERE tenant_id = ? AND id = ?`), description, t.id, id); err != nil {
			return fmt.Errorf("update API token %q: %w", id, err)
		}
		var err error
		out, err = scanAPIToken(tx.QueryRowContext(ctx, t.q(`SELECT `+apiTokenCols+` FROM api_tokens WHERE tenant_id = ? AND id = ?`), t.id, id))
		return notFound(err, "read updated API token %q", id)
	})
	return out, err
}

func (t *tenantStore) DeleteAPIToken(ctx context.Context, id string) error {
	return t.deleteRow(ctx, "api_tokens", "API token", id)
}

func (t *tenantStore) ListAPITokens(ctx context.Context, p store.Page) ([]*sirsiv1.ApiToken, string, error) {
	return listByID(ctx, t, "api_tokens", apiTokenCols, p, scanAPIToken, func(a *sirsiv1.ApiToken) string { return a.Id })
}

func (s *Store) LookupAPIToken(ctx context.Context, secretHash []byte) (*sirsiv1.ApiToken, error) {
	// Every authenticated call runs this.
	a, err := scanAPIToken(s.queryRowReader(ctx, s.q(`SELECT `+apiTokenCols+` FROM api_tokens WHERE secret_hash = ?`), hexHash(secretHash)))
	return a, notFound(err, "look up API token")
}

func (s *Store) TouchAPIToken(ctx context.Context, tenantID, id string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE api_tokens SET last_used_time = ? WHERE tenant_id = ? AND id = ?`), nanos(at), tenantID, id)
	if err != nil {
		return fmt.Errorf("record use of API token %q: %w", id, err)
	}
	return affectedOne(res, "record use of API token %q", id)
}
