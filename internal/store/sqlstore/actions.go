package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/ledger"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

const actionCols = `id, tenant_id, cloud_account_id, policy_id, recommendation_id, resource_id, resource_type, region, action, from_size, to_size,
status, dry_run, realized_monthly_savings_micros, error, steps, start_time, end_time, plan_id, error_code`

func scanAction(row interface{ Scan(...any) error }) (*sirsiv1.Action, error) {
	var a sirsiv1.Action
	var status, dry, st, et int64
	var steps string
	var realized sql.NullInt64
	if err := row.Scan(&a.Id, &a.TenantId, &a.CloudAccountId, &a.PolicyId, &a.RecommendationId, &a.ResourceId, &a.ResourceType, &a.Region, &a.Action,
		&a.FromSize, &a.ToSize, &status, &dry, &realized, &a.Error, &steps, &st, &et, &a.PlanId, &a.ErrorCode); err != nil {
		return nil, err
	}
	a.Status, a.DryRun, a.StartTime, a.EndTime = sirsiv1.ActionStatus(status), dry != 0, ts(st), ts(et)
	a.RealizedMonthlySavings = usdMicros(realized)
	var raw []json.RawMessage
	if err := decodeJSON(steps, &raw); err != nil {
		return nil, err
	}
	for _, m := range raw {
		s := &sirsiv1.ActionStep{}
		if err := decodeProto(string(m), s); err != nil {
			return nil, err
		}
		a.Steps = append(a.Steps, s)
	}
	return &a, nil
}

func stepsJSON(steps []*sirsiv1.ActionStep) (string, error) {
	raw := make([]json.RawMessage, 0, len(steps))
	for _, s := range steps {
		j, err := encodeProto(s)
		if err != nil {
			return "", err
		}
		raw = append(raw, json.RawMessage(j))
	}
	return encodeJSON(raw)
}

func (t *tenantStore) ApplyActions(ctx context.Context, cloudAccountID, batchID string, actions []*sirsiv1.Action) (bool, error) {
	for i, a := range actions {
		if a == nil || a.Id == "" || a.ResourceId == "" || a.Action == "" {
			return false, invalid("apply action batch %q: actions[%d]: id, resource_id and action are required", batchID, i)
		}
	}
	dup, _, err := t.applyBatch(ctx, "actions", cloudAccountID, batchID, func(tx *sql.Tx) (string, error) {
		var plans []string
		var events []outboxEvent
		for _, a := range actions {
			if ev, ok := actionEvent(a); ok {
				stored := proto.CloneOf(a)
				stored.TenantId, stored.CloudAccountId = t.id, cloudAccountID
				ev.data = stored
				events = append(events, ev)
			}
			steps, err := stepsJSON(a.Steps)
			if err != nil {
				return "", err
			}
			// The id is the agent's; the tenant in the key keeps an id
			// chosen by one tenant's agent from touching another's row.
			if _, err := tx.ExecContext(ctx, t.q(`INSERT INTO actions (`+actionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, id) DO UPDATE SET status = excluded.status, realized_monthly_savings_micros = excluded.realized_monthly_savings_micros,
error = excluded.error, error_code = excluded.error_code, steps = excluded.steps, start_time = excluded.start_time, end_time = excluded.end_time, to_size = excluded.to_size`),
				a.Id, t.id, cloudAccountID, a.PolicyId, a.RecommendationId, a.ResourceId, a.ResourceType, a.Region, a.Action, a.FromSize, a.ToSize,
				int64(a.Status), boolInt(a.DryRun), microsArg(a.RealizedMonthlySavings), a.Error, steps, tsNanos(a.StartTime), tsNanos(a.EndTime), a.PlanId, a.ErrorCode); err != nil {
				return "", fmt.Errorf("upsert action %q: %w", a.Id, err)
			}
			if err := t.recordLedger(ctx, tx, cloudAccountID, a); err != nil {
				return "", err
			}
			if a.DryRun || !terminal(a.Status) {
				continue
			}
			if err := t.noteActionOutcome(ctx, tx, cloudAccountID, a); err != nil {
				return "", err
			}
			if a.PlanId != "" {
				plans = append(plans, a.PlanId)
			}
			// Any outcome uses the approval up: a failed or rolled-back
			// change is not tried again on the strength of it, and the
			// action record carries the outcome. The next optimizer run
			// proposes it afresh if it still makes sense.
			if a.RecommendationId != "" {
				// A sweep may have seen the change before this report and
				// credited it as external: a success is the agent's, and its
				// own entry replaces that one.
				ok := a.Status == sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED
				res, err := tx.ExecContext(ctx, t.q(`UPDATE recommendations SET status = ?, update_time = ?,
executed_by = CASE WHEN ? OR executed_by = '' THEN ? ELSE executed_by END WHERE tenant_id = ? AND id = ?`),
					int64(sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED), time.Now().UnixNano(), ok, ledger.ExecutedByAgent,
					t.id, a.RecommendationId)
				if err != nil {
					return "", fmt.Errorf("mark recommendation %q executed: %w", a.RecommendationId, err)
				}
				if n, err := res.RowsAffected(); err != nil {
					return "", fmt.Errorf("mark recommendation %q executed: %w", a.RecommendationId, err)
				} else if n > 0 {
					closed, err := t.recEvents(ctx, tx, validation.EventRecommendationClosed, []string{a.RecommendationId})
					if err != nil {
						return "", err
					}
					events = append(events, closed...)
				}
				if ok {
					if _, err := tx.ExecContext(ctx, t.q(`DELETE FROM savings_ledger WHERE tenant_id = ? AND id = ?`),
						t.id, ledger.ExternalEntryID(a.RecommendationId)); err != nil {
						return "", fmt.Errorf("replace the external ledger entry of recommendation %q: %w", a.RecommendationId, err)
					}
				}
			}
		}
		for _, id := range plans {
			if err := t.completePlan(ctx, tx, id); err != nil {
				return "", err
			}
		}
		return "", t.enqueueEvents(ctx, tx, events)
	})
	return dup, err
}

// terminal: the action has finished, one way or another.
func terminal(s sirsiv1.ActionStatus) bool {
	switch s {
	case sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, sirsiv1.ActionStatus_ACTION_STATUS_FAILED, sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK:
		return true
	}
	return false
}

func (t *tenantStore) ListActions(ctx context.Context, f store.ActionFilter, p store.Page) ([]*sirsiv1.Action, string, error) {
	var ms []match
	if f.PolicyID != "" {
		ms = append(ms, match{"policy_id", f.PolicyID})
	}
	if f.ResourceID != "" {
		ms = append(ms, match{"resource_id", f.ResourceID})
	}
	if f.Status != sirsiv1.ActionStatus_ACTION_STATUS_UNSPECIFIED {
		ms = append(ms, match{"status", int64(f.Status)})
	}
	return listWhere(ctx, t, "actions", actionCols, f, ms, p, scanAction, func(a *sirsiv1.Action) string { return a.Id })
}
