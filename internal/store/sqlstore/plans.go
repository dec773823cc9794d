package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

const planCols = `id, tenant_id, cloud_account_id, policy_id, status, actions, estimated_monthly_savings_micros, create_time, approved_by, approve_time, skipped`

var (
	planPending  = int64(sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_PENDING)
	planApproved = int64(sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_APPROVED)
)

func scanPlan(row interface{ Scan(...any) error }) (*sirsiv1.ActionPlan, error) {
	var p sirsiv1.ActionPlan
	var status, ct, at int64
	var actions, skipped string
	var save sql.NullInt64
	if err := row.Scan(&p.Id, &p.TenantId, &p.CloudAccountId, &p.PolicyId, &status, &actions, &save, &ct, &p.ApprovedBy, &at, &skipped); err != nil {
		return nil, err
	}
	p.EstimatedMonthlySavings = usdMicros(save)
	p.Status, p.CreateTime, p.ApproveTime = sirsiv1.ActionPlanStatus(status), ts(ct), ts(at)
	var err error
	if p.Actions, err = decodeProtoList[sirsiv1.Action](actions); err != nil {
		return nil, fmt.Errorf("plan %s actions: %w", p.Id, err)
	}
	if p.Skipped, err = decodeProtoList[sirsiv1.PlanSkip](skipped); err != nil {
		return nil, fmt.Errorf("plan %s skipped: %w", p.Id, err)
	}
	return &p, nil
}

// encodeProtoList stores a list of messages as a JSON array of their
// encodings (the actions and skipped columns of a plan).
func encodeProtoList[M proto.Message](ms []M) (string, error) {
	raw := make([]json.RawMessage, 0, len(ms))
	for _, m := range ms {
		s, err := encodeProto(m)
		if err != nil {
			return "", err
		}
		raw = append(raw, json.RawMessage(s))
	}
	return encodeJSON(raw)
}

// decodeProtoList reads what encodeProtoList wrote.
func decodeProtoList[M any, PM interface {
	*M
	proto.Message
}](s string) ([]PM, error) {
	var raw []json.RawMessage
	if err := decodeJSON(s, &raw); err != nil {
		return nil, err
	}
	out := make([]PM, 0, len(raw))
	for _, r := range raw {
		m := PM(new(M))
		if err := decodeProto(string(r), m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func planStatusName(s sirsiv1.ActionPlanStatus) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "ACTION_PLAN_STATUS_"))
}

// SaveActionPlan keeps the plan's actions as given, with the tenant,
// account and plan ids of the plan they belong to.
func (t *tenantStore) SaveActionPlan(ctx context.Context, cloudAccountID, batchID string, in *sirsiv1.ActionPlan) (bool, error) {
	if in == nil || in.Id == "" || in.PolicyId == "" {
		return false, invalid("save action plan batch %q: plan id and policy_id are required", batchID)
	}
	p := proto.Clone(in).(*sirsiv1.ActionPlan)
	for i, a := range p.Actions {
		if a == nil {
			return false, invalid("save action plan %q: actions[%d] is empty", p.Id, i)
		}
		a.TenantId, a.CloudAccountId, a.PlanId = t.id, cloudAccountID, p.Id
	}
	actions, err := encodeProtoList(p.Actions)
	if err != nil {
		return false, err
	}
	for i, k := range p.Skipped {
		if k == nil {
			return false, invalid("save action plan %q: skipped[%d] is empty", p.Id, i)
		}
	}
	skipped, err := encodeProtoList(p.Skipped)
	if err != nil {
		return false, err
	}
	dup, result, err := t.applyBatch(ctx, "action_plan", cloudAccountID, batchID, func(tx *sql.Tx) (string, error) {
		var one int
		if err := tx.QueryRowContext(ctx, t.q(`SELECT 1 FROM policies WHERE tenant_id = ? AND id = ?`), t.id, p.PolicyId).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return "", fmt.Errorf("policy %q does not exist: %w", p.PolicyId, store.ErrFailedPrecondition)
			}
			return "", fmt.Errorf("check policy %q: %w", p.PolicyId, err)
		}
		var owner string
		err := tx.QueryRowContext(ctx, t.q(`SELECT cloud_account_id FROM action_plans WHERE tenant_id = ? AND id = ?`), t.id, p.Id).Scan(&owner)
		switch {
		case err == nil && owner != cloudAccountID:
			return "", fmt.Errorf("plan id %q is taken by another cloud account: %w", p.Id, store.ErrAlreadyExists)
		case err == nil:
			return planKept, nil
		case !errors.Is(err, sql.ErrNoRows):
			return "", fmt.Errorf("look up plan %q: %w", p.Id, err)
		}
		if _, err := tx.ExecContext(ctx, t.q(`UPDATE action_plans SET status = ? WHERE tenant_id = ? AND cloud_account_id = ? AND policy_id = ? AND status = ?`),
			int64(sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_SUPERSEDED), t.id, cloudAccountID, p.PolicyId, planPending); err != nil {
			return "", fmt.Errorf("supersede pending plans: %w", err)
		}
		if _, err := tx.ExecContext(ctx, t.q(`INSERT INTO action_plans (`+planCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?)`),
			p.Id, t.id, cloudAccountID, p.PolicyId, planPending, actions, microsArg(p.EstimatedMonthlySavings), time.Now().UnixNano(), skipped); err != nil {
			return "", fmt.Errorf("insert plan %q: %w", p.Id, err)
		}
		if want, err := t.wantsEvents(ctx, tx); err != nil || !want {
			return "", err
		}
		stored, err := scanPlan(tx.QueryRowContext(ctx, t.q(`SELECT `+planCols+` FROM action_plans WHERE tenant_id = ? AND id = ?`), t.id, p.Id))
		if err != nil {
			return "", fmt.Errorf("read plan %q for its event: %w", p.Id, err)
		}
		return "", t.enqueueEvents(ctx, tx, []outboxEvent{planEvent(stored)})
	})
	return dup || result == planKept, err
}

// planKept is the batch result of a plan that was saved before.
const planKept = "kept"

func (t *tenantStore) GetActionPlan(ctx context.Context, id string) (*sirsiv1.ActionPlan, error) {
	p, err := scanPlan(t.s.r.QueryRowContext(ctx, t.q(`SELECT `+planCols+` FROM action_plans WHERE tenant_id = ? AND id = ?`), t.id, id))
	return p, notFound(err, "get action plan %q", id)
}

func (t *tenantStore) ListActionPlans(ctx context.Context, f store.ActionPlanFilter, p store.Page) ([]*sirsiv1.ActionPlan, string, error) {
	var ms []match
	if f.PolicyID != "" {
		ms = append(ms, match{"policy_id", f.PolicyID})
	}
	if f.CloudAccountID != "" {
		ms = append(ms, match{"cloud_account_id", f.CloudAccountID})
	}
	if f.Status != sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_UNSPECIFIED {
		ms = append(ms, match{"status", int64(f.Status)})
	}
	return listWhere(ctx, t, "action_plans", planCols, f, ms, p, scanPlan, func(p *sirsiv1.ActionPlan) string { return p.Id })
}

func (t *tenantStore) ApproveActionPlan(ctx context.Context, id, approver string, at time.Time) (*sirsiv1.ActionPlan, error) {
	var out *sirsiv1.ActionPlan
	err := t.s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanPlan(tx.QueryRowContext(ctx, t.q(`SELECT `+planCols+` FROM action_plans WHERE tenant_id = ? AND id = ?`), t.id, id))
		if err != nil {
			return notFound(err, "approve action plan %q", id)
		}
		if cur.Status != sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_PENDING {
			return fmt.Errorf("approve action plan %q: it is %s: %w", id, planStatusName(cur.Status), store.ErrFailedPrecondition)
		}
		res, err := tx.ExecContext(ctx, t.q(`UPDATE action_plans SET status = ?, approved_by = ?, approve_time = ? WHERE tenant_id = ? AND id = ? AND status = ?`),
			planApproved, approver, nanos(at), t.id, id, planPending)
		if err != nil {
			return fmt.Errorf("approve action plan %q: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("approve action plan %q: %w", id, err)
		} else if n != 1 {
			return fmt.Errorf("approve action plan %q: its status changed meanwhile: %w", id, store.ErrFailedPrecondition)
		}
		cur.Status, cur.ApprovedBy, cur.ApproveTime = sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_APPROVED, approver, ts(nanos(at))
		out = cur
		return nil
	})
	return out, err
}

// completePlan marks an approved plan executed once every one of its
// actions has a finished, non-dry-run action reported from the plan. An
// executed action is matched to the planned one by recommendation id: the
// agent gives the actions it carries out ids of their own.
func (t *tenantStore) completePlan(ctx context.Context, tx *sql.Tx, id string) error {
	p, err := scanPlan(tx.QueryRowContext(ctx, t.q(`SELECT `+planCols+` FROM action_plans WHERE tenant_id = ? AND id = ?`), t.id, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read plan %q: %w", id, err)
	}
	if p.Status != sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_APPROVED {
		return nil
	}
	rows, err := tx.QueryContext(ctx, t.q(`SELECT DISTINCT recommendation_id FROM actions
WHERE tenant_id = ? AND plan_id = ? AND dry_run = 0 AND status IN (?, ?, ?)`), t.id, id,
		int64(sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED), int64(sirsiv1.ActionStatus_ACTION_STATUS_FAILED), int64(sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK))
	if err != nil {
		return fmt.Errorf("read actions of plan %q: %w", id, err)
	}
	done := map[string]bool{}
	for rows.Next() {
		var rec string
		if err := rows.Scan(&rec); err != nil {
			rows.Close()
			return fmt.Errorf("read actions of plan %q: %w", id, err)
		}
		done[rec] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read actions of plan %q: %w", id, err)
	}
	for _, a := range p.Actions {
		if !done[a.RecommendationId] {
			return nil
		}
	}
	if _, err := tx.ExecContext(ctx, t.q(`UPDATE action_plans SET status = ? WHERE tenant_id = ? AND id = ?`),
		int64(sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_EXECUTED), t.id, id); err != nil {
		return fmt.Errorf("mark plan %q executed: %w", id, err)
	}
	return nil
}
