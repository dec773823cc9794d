package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

const agentCols = `id, tenant_id, cloud_account_id, version, hostname, status, enroll_time, last_seen_time, cert_expire_time, uptime, last_sweep_times, last_error, status_detail, last_sweep_failures`

func scanAgent(row interface{ Scan(...any) error }) (*sirsiv1.Agent, error) {
	var a sirsiv1.Agent
	var status, et, ls, ce, up int64
	var sweeps, failures string
	if err := row.Scan(&a.Id, &a.TenantId, &a.CloudAccountId, &a.Version, &a.Hostname, &status, &et, &ls, &ce, &up, &sweeps, &a.LastError, &a.StatusDetail, &failures); err != nil {
		return nil, err
	}
	a.Status = sirsiv1.AgentStatus(status)
	a.EnrollTime, a.LastSeenTime, a.CertExpireTime, a.Uptime = ts(et), ts(ls), ts(ce), dur(up)
	var m map[string]int64
	if err := decodeJSON(sweeps, &m); err != nil {
		return nil, err
	}
	if len(m) > 0 {
		a.LastSweepTimes = make(map[string]*timestamppb.Timestamp, len(m))
		for k, v := range m {
			a.LastSweepTimes[k] = ts(v)
		}
	}
	var f map[string]storedFailure
	if err := decodeJSON(failures, &f); err != nil {
		return nil, err
	}
	if len(f) > 0 {
		a.LastSweepFailures = make(map[string]*sirsiv1.SweepFailure, len(f))
		for k, v := range f {
			a.LastSweepFailures[k] = &sirsiv1.SweepFailure{Time: ts(v.At), Error: v.Error}
		}
	}
	return &a, nil
}

// storedFailure is a sweep failure in the last_sweep_failures column.
type storedFailure struct {
	At    int64  `json:"at"`
	Error string `json:"error"`
}

func failuresJSON(m map[string]store.SweepFailure) (string, error) {
	out := make(map[string]storedFailure, len(m))
	for k, v := range m {
		out[k] = storedFailure{At: nanos(v.At), Error: v.Error}
	}
	return encodeJSON(out)
}

func sweepJSON(m map[string]time.Time) (string, error) {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = nanos(v)
	}
	return encodeJSON(out)
}

func (t *tenantStore) CreateAgent(ctx context.Context, in *sirsiv1.Agent) (*sirsiv1.Agent, error) {
	var a *sirsiv1.Agent
	err := t.s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = t.createAgentTx(ctx, tx, in, time.Now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (t *tenantStore) createAgentTx(ctx context.Context, tx *sql.Tx, in *sirsiv1.Agent, at time.Time) (*sirsiv1.Agent, error) {
	now := at.UnixNano()
	a := &sirsiv1.Agent{
		Id: in.Id, TenantId: t.id, CloudAccountId: in.CloudAccountId, Version: in.Version, Hostname: in.Hostname,
		Status: sirsiv1.AgentStatus_AGENT_STATUS_CONNECTED, EnrollTime: ts(now), LastSeenTime: ts(now), CertExpireTime: in.CertExpireTime,
	}
	if a.Id == "" {
		a.Id = newID()
	}
	if err := t.requireAccount(ctx, tx, a.CloudAccountId); err != nil {
		return nil, err
	}
	_, err := tx.ExecContext(ctx, t.q(`INSERT INTO agents (`+agentCols+`, cert_serial) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '{}', '', '', '{}', '')`),
		a.Id, t.id, a.CloudAccountId, a.Version, a.Hostname, int64(a.Status), now, now, tsNanos(a.CertExpireTime))
	if t.s.d.IsUniqueViolation(err) {
		return nil, fmt.Errorf("create agent %q: %w", a.Id, store.ErrAlreadyExists)
	}
	if err != nil {
		return nil, fmt.Errorf("create agent: %w", err)
	}
	if err := t.enqueueEvents(ctx, tx, []outboxEvent{agentEvent(validation.EventAgentConnected, a, "enrolled")}); err != nil {
		return nil, err
	}
	return a, nil
}

func (t *tenantStore) GetAgent(ctx context.Context, id string) (*sirsiv1.Agent, error) {
	a, err := scanAgent(t.s.r.QueryRowContext(ctx, t.q(`SELECT `+agentCols+` FROM agents WHERE tenant_id = ? AND id = ?`), t.id, id))
	return a, notFound(err, "get agent %q", id)
}

func (t *tenantStore) getAgentTx(ctx context.Context, tx *sql.Tx, id string) (*sirsiv1.Agent, error) {
	a, err := scanAgent(tx.QueryRowContext(ctx, t.q(`SELECT `+agentCols+` FROM agents WHERE tenant_id = ? AND id = ?`), t.id, id))
	return a, notFound(err, "agent %q", id)
}

func (t *tenantStore) RecordHeartbeat(ctx context.Context, agentID string, hb store.Heartbeat) (*sirsiv1.Agent, error) {
	sweeps, err := sweepJSON(hb.LastSweepTimes)
	if err != nil {
		return nil, err
	}
	failures, err := failuresJSON(hb.LastSweepFailures)
	if err != nil {
		return nil, err
	}
	var out *sirsiv1.Agent
	err = t.s.inTx(ctx, func(tx *sql.Tx) error {
		a, err := t.getAgentTx(ctx, tx, agentID)
		if err != nil {
			return fmt.Errorf("record heartbeat: %w", err)
		}
		if a.Status == sirsiv1.AgentStatus_AGENT_STATUS_REVOKED {
			return fmt.Errorf("record heartbeat: agent %q is revoked: %w", agentID, store.ErrFailedPrecondition)
		}
		var staleMarked int64
		if err := tx.QueryRowContext(ctx, t.q(`SELECT stale_marked FROM agents WHERE tenant_id = ? AND id = ?`), t.id, agentID).Scan(&staleMarked); err != nil {
			return fmt.Errorf("record heartbeat of agent %q: read its stale mark: %w", agentID, err)
		}
		at := nanos(hb.At)
		agentStatus, detail := agentStatusOf(hb.CredentialsVerdict), hb.CredentialsDetail
		if hb.CredentialsVerdict == sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_UNSPECIFIED {
			// Not checked yet since the agent started: the last verdict
			// stands (connected for an agent that never had one).
			agentStatus, detail = a.Status, a.StatusDetail
		}
		if agentStatus == sirsiv1.AgentStatus_AGENT_STATUS_CONNECTED {
			detail = ""
		}
		accountStatus := accountStatusOf(agentStatus)
		if _, err := tx.ExecContext(ctx, t.q(`UPDATE agents SET version = ?, hostname = ?, status = ?, last_seen_time = ?, uptime = ?, last_sweep_times = ?, last_error = ?, status_detail = ?, last_sweep_failures = ?, stale_marked = 0 WHERE tenant_id = ? AND id = ?`),
			hb.Version, hb.Hostname, int64(agentStatus), at, int64(hb.Uptime), sweeps, hb.LastError, detail, failures, t.id, agentID); err != nil {
			return fmt.Errorf("record heartbeat of agent %q: %w", agentID, err)
		}
		// Not a configuration change: the account's version stays, so a
		// heartbeat never turns a user's pending update stale.
		// A connected agent leaves actions_denied as the actions set it
		// (see noteActionOutcome); a credentials verdict replaces it.
		deniedStatus := int64(sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_ACTIONS_DENIED)
		keep := accountStatus == sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CONNECTED
		if _, err := tx.ExecContext(ctx, t.q(`UPDATE cloud_accounts SET last_seen_time = ?, agent_version = ?,
status_detail = CASE WHEN ? AND status = ? THEN status_detail ELSE ? END,
status = CASE WHEN ? AND status = ? THEN status ELSE ? END
WHERE tenant_id = ? AND id = ?`),
			at, hb.Version, keep, deniedStatus, detail, keep, deniedStatus, int64(accountStatus), t.id, a.CloudAccountId); err != nil {
			return fmt.Errorf("record heartbeat on cloud account %q: %w", a.CloudAccountId, err)
		}
		out, err = t.getAgentTx(ctx, tx, agentID)
		if err != nil || staleMarked == 0 {
			return err
		}
		return t.enqueueEvents(ctx, tx, []outboxEvent{agentEvent(validation.EventAgentConnected, out, strconv.FormatInt(staleMarked, 10))})
	})
	return out, err
}

func (s *Store) MarkStaleAgents(ctx context.Context, silentSince time.Time) (int, error) {
	marked := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		marked = 0
		rows, err := tx.QueryContext(ctx, s.q(`SELECT `+agentCols+` FROM agents WHERE stale_marked = 0 AND status <> ? AND last_seen_time < ?`),
			int64(sirsiv1.AgentStatus_AGENT_STATUS_REVOKED), nanos(silentSince))
		if err != nil {
			return fmt.Errorf("find silent agents: %w", err)
		}
		silent, err := collect(rows, scanAgent)
		if err != nil {
			return fmt.Errorf("find silent agents: %w", err)
		}
		for _, a := range silent {
			seen := tsNanos(a.LastSeenTime)
			// The conditions again: a heartbeat or another replica may have
			// come first (on PostgreSQL the row lock makes this wait for it).
			res, err := tx.ExecContext(ctx, s.q(`UPDATE agents SET stale_marked = ? WHERE tenant_id = ? AND id = ? AND stale_marked = 0 AND last_seen_time = ?`),
				seen, a.TenantId, a.Id, seen)
			if err != nil {
				return fmt.Errorf("mark agent %q stale: %w", a.Id, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("mark agent %q stale: %w", a.Id, err)
			} else if n == 0 {
				continue
			}
			marked++
			a.Status = sirsiv1.AgentStatus_AGENT_STATUS_STALE
			t := &tenantStore{s: s, id: a.TenantId}
			if err := t.enqueueEvents(ctx, tx, []outboxEvent{agentEvent(validation.EventAgentStale, a, strconv.FormatInt(seen, 10))}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("mark stale agents: %w", err)
	}
	return marked, nil
}

// agentStatusOf is the stored status of a connected agent whose
// credentials check ended in v.
func agentStatusOf(v sirsiv1.CredentialsVerdict) sirsiv1.AgentStatus {
	switch v {
	case sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_MISMATCH:
		return sirsiv1.AgentStatus_AGENT_STATUS_CREDENTIALS_MISMATCH
	case sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_ASSUME_ROLE_FAILED:
		return sirsiv1.AgentStatus_AGENT_STATUS_ASSUME_ROLE_FAILED
	}
	return sirsiv1.AgentStatus_AGENT_STATUS_CONNECTED
}

// accountStatusOf is the cloud account's stored status for its agent's.
func accountStatusOf(s sirsiv1.AgentStatus) sirsiv1.CloudAccountStatus {
	switch s {
	case sirsiv1.AgentStatus_AGENT_STATUS_CREDENTIALS_MISMATCH:
		return sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CREDENTIALS_MISMATCH
	case sirsiv1.AgentStatus_AGENT_STATUS_ASSUME_ROLE_FAILED:
		return sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_ASSUME_ROLE_FAILED
	}
	return sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CONNECTED
}

// UpdateAgentCertificate shifts the current certificate to previous in the
// same statement (the right-hand sides read the old row), so concurrent
// renewals cannot both keep the same previous serial.
func (t *tenantStore) UpdateAgentCertificate(ctx context.Context, agentID string, serial string, expires time.Time) error {
	return t.s.inTx(ctx, func(tx *sql.Tx) error { return t.updateAgentCertificateTx(ctx, tx, agentID, serial, expires) })
}

func (t *tenantStore) updateAgentCertificateTx(ctx context.Context, tx *sql.Tx, agentID string, serial string, expires time.Time) error {
	res, err := tx.ExecContext(ctx, t.q(`UPDATE agents SET prev_cert_serial = cert_serial, prev_cert_expire_time = cert_expire_time, cert_serial = ?, cert_expire_time = ? WHERE tenant_id = ? AND id = ?`),
		serial, nanos(expires), t.id, agentID)
	if err != nil {
		return fmt.Errorf("update certificate of agent %q: %w", agentID, err)
	}
	return affectedOne(res, "update certificate of agent %q", agentID)
}

func (t *tenantStore) RevokeAgent(ctx context.Context, id string) (*sirsiv1.Agent, error) {
	var out *sirsiv1.Agent
	err := t.s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, t.q(`UPDATE agents SET status = ? WHERE tenant_id = ? AND id = ?`), int64(sirsiv1.AgentStatus_AGENT_STATUS_REVOKED), t.id, id)
		if err != nil {
			return fmt.Errorf("revoke agent %q: %w", id, err)
		}
		if err := affectedOne(res, "revoke agent %q", id); err != nil {
			return err
		}
		out, err = t.getAgentTx(ctx, tx, id)
		return err
	})
	return out, err
}

func (t *tenantStore) ListAgents(ctx context.Context, cloudAccountID string, p store.Page) ([]*sirsiv1.Agent, string, error) {
	filter := []string{t.id, cloudAccountID}
	key, err := stringKey("agents", filter, p.Token, 1)
	if err != nil {
		return nil, "", err
	}
	where, args := ` WHERE tenant_id = ?`, []any{t.id}
	if cloudAccountID != "" {
		where += ` AND cloud_account_id = ?`
		args = append(args, cloudAccountID)
	}
	cond, args := after("id", key, args)
	n := pageSize(p)
	rows, err := t.s.r.QueryContext(ctx, t.q(`SELECT `+agentCols+` FROM agents`+where+cond+` ORDER BY id LIMIT `+fmt.Sprint(n+1)), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list agents: %w", err)
	}
	out, err := collect(rows, scanAgent)
	if err != nil {
		return nil, "", fmt.Errorf("list agents: %w", err)
	}
	out, next := trim(out, n, func(a *sirsiv1.Agent) string { return encodePageToken("agents", filter, []string{a.Id}) })
	return out, next, nil
}

func (t *tenantStore) GetAgentAuth(ctx context.Context, agentID string) (*store.AgentAuth, error) {
	row := t.s.r.QueryRowContext(ctx, t.q(`SELECT `+agentCols+`, cert_serial, prev_cert_serial, prev_cert_expire_time,
(SELECT c.account_id FROM cloud_accounts c WHERE c.tenant_id = agents.tenant_id AND c.id = agents.cloud_account_id)
FROM agents WHERE tenant_id = ? AND id = ?`), t.id, agentID)
	var au store.AgentAuth
	var prevExp int64
	var account sql.NullString
	a, err := scanAgent(scanFunc(func(dest ...any) error {
		return row.Scan(append(dest, &au.CertSerial, &au.PrevCertSerial, &prevExp, &account)...)
	}))
	if err != nil {
		return nil, notFound(err, "get agent %q", agentID)
	}
	au.Agent, au.AccountID = a, account.String
	if prevExp != 0 {
		au.PrevCertExpire = time.Unix(0, prevExp).UTC()
	}
	return &au, nil
}

// scanFunc lets scanAgent read a row that carries extra columns.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// LookupEnrollmentToken is a read, unlike ConsumeEnrollmentToken: it never
// counts a use.
func (s *Store) LookupEnrollmentToken(ctx context.Context, secretHash []byte) (*sirsiv1.EnrollmentToken, error) {
	e, err := scanEnrollment(s.r.QueryRowContext(ctx, s.q(`SELECT `+enrollCols+` FROM enrollment_tokens WHERE secret_hash = ?`), hexHash(secretHash)))
	return e, notFound(err, "look up enrollment token")
}
