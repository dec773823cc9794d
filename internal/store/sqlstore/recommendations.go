package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

const recCols = `id, tenant_id, policy_id, cloud_account_id, resource_id, resource_type, region, action, current_size, proposed_size,
current_monthly_cost_micros, proposed_monthly_cost_micros, estimated_monthly_savings_micros, confidence, reason, status, evidence, create_time, update_time,
approved_by, approve_time, executed_by, skip_reason, skip_detail`

func scanRec(row interface{ Scan(...any) error }) (*sirsiv1.Recommendation, error) {
	var r sirsiv1.Recommendation
	var status, ct, ut, at, skip int64
	var evidence string
	var cur, prop, save sql.NullInt64
	if err := row.Scan(&r.Id, &r.TenantId, &r.PolicyId, &r.CloudAccountId, &r.ResourceId, &r.ResourceType, &r.Region, &r.Action, &r.CurrentSize, &r.ProposedSize,
		&cur, &prop, &save, &r.Confidence, &r.Reason, &status, &evidence, &ct, &ut,
		&r.ApprovedBy, &at, &r.ExecutedBy, &skip, &r.SkipDetail); err != nil {
		return nil, err
	}
	r.CurrentMonthlyCost, r.ProposedMonthlyCost, r.EstimatedMonthlySavings = usdMicros(cur), usdMicros(prop), usdMicros(save)
	r.Status, r.CreateTime, r.UpdateTime, r.ApproveTime = sirsiv1.RecommendationStatus(status), ts(ct), ts(ut), ts(at)
	r.SkipReason = sirsiv1.SkipReason(skip)
	var raw []json.RawMessage
	if err := decodeJSON(evidence, &raw); err != nil {
		return nil, err
	}
	for _, m := range raw {
		e := &sirsiv1.Evidence{}
		if err := decodeProto(string(m), e); err != nil {
			return nil, err
		}
		r.Evidence = append(r.Evidence, e)
	}
	return &r, nil
}

func evidenceJSON(ev []*sirsiv1.Evidence) (string, error) {
	raw := make([]json.RawMessage, 0, len(ev))
	for _, e := range ev {
		s, err := encodeProto(e)
		if err != nil {
			return "", err
		}
		raw = append(raw, json.RawMessage(s))
	}
	return encodeJSON(raw)
}

var (
	statusOpen     = int64(sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN)
	statusApproved = int64(sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED)
)

func (t *tenantStore) ApplyRecommendations(ctx context.Context, cloudAccountID, batchID, policyID string, resourceTypes []string, recs []*sirsiv1.Recommendation) ([]string, bool, error) {
	for i, r := range recs {
		if r == nil || r.ResourceId == "" || r.Action == "" {
			return nil, false, invalid("apply recommendation batch %q: recommendations[%d]: resource_id and action are required", batchID, i)
		}
	}
	dup, result, err := t.applyBatch(ctx, "recommendations", cloudAccountID, batchID, func(tx *sql.Tx) (string, error) {
		var one int
		if err := tx.QueryRowContext(ctx, t.q(`SELECT 1 FROM policies WHERE tenant_id = ? AND id = ?`), t.id, policyID).Scan(&one); err != nil {
			if err == sql.ErrNoRows {
				return "", fmt.Errorf("policy %q does not exist: %w", policyID, store.ErrFailedPrecondition)
			}
			return "", fmt.Errorf("check policy %q: %w", policyID, err)
		}
		// The live set: open or approved recommendations of this account
		// and policy, by what they are about.
		type live struct {
			id                string
			approved          bool
			curSize, propSize string
			seen              bool
		}
		rows, err := tx.QueryContext(ctx, t.q(`SELECT id, resource_id, resource_type, action, status, current_size, proposed_size FROM recommendations
WHERE tenant_id = ? AND cloud_account_id = ? AND policy_id = ? AND status IN (?, ?)`), t.id, cloudAccountID, policyID, statusOpen, statusApproved)
		if err != nil {
			return "", fmt.Errorf("read open recommendations: %w", err)
		}
		current := map[[2]string]*live{}
		for rows.Next() {
			var id, res, typ, action, cur, prop string
			var status int64
			if err := rows.Scan(&id, &res, &typ, &action, &status, &cur, &prop); err != nil {
				rows.Close()
				return "", fmt.Errorf("read open recommendations: %w", err)
			}
			if len(resourceTypes) > 0 && !slices.Contains(resourceTypes, typ) {
				// Outside the report's scope: another report decides it.
				continue
			}
			current[[2]string{res, action}] = &live{id: id, approved: status == statusApproved, curSize: cur, propSize: prop}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", fmt.Errorf("read open recommendations: %w", err)
		}
		now := time.Now().UnixNano()
		ids := make([]string, 0, len(recs))
		var opened, superseded []string
		for _, r := range recs {
			evidence, err := evidenceJSON(r.Evidence)
			if err != nil {
				return "", err
			}
			k := [2]string{r.ResourceId, r.Action}
			// An approval covers exactly the change it was given for: a
			// new proposal for the same resource replaces the approved one
			// (left unseen, so superseded below) instead of inheriting it.
			if l := current[k]; l != nil && !(l.approved && (l.curSize != r.CurrentSize || l.propSize != r.ProposedSize)) {
				l.seen = true
				if _, err := tx.ExecContext(ctx, t.q(`UPDATE recommendations SET resource_type = ?, region = ?, current_size = ?, proposed_size = ?,
current_monthly_cost_micros = ?, proposed_monthly_cost_micros = ?, estimated_monthly_savings_micros = ?, confidence = ?, reason = ?, evidence = ?, update_time = ?,
skip_reason = ?, skip_detail = ?
WHERE tenant_id = ? AND id = ?`),
					r.ResourceType, r.Region, r.CurrentSize, r.ProposedSize, microsArg(r.CurrentMonthlyCost), microsArg(r.ProposedMonthlyCost), microsArg(r.EstimatedMonthlySavings),
					r.Confidence, r.Reason, evidence, now, int64(r.SkipReason), r.SkipDetail, t.id, l.id); err != nil {
					return "", fmt.Errorf("update recommendation %q: %w", l.id, err)
				}
				ids = append(ids, l.id)
				continue
			}
			id := newID()
			if _, err := tx.ExecContext(ctx, t.q(`INSERT INTO recommendations (`+recCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, '', ?, ?)`),
				id, t.id, policyID, cloudAccountID, r.ResourceId, r.ResourceType, r.Region, r.Action, r.CurrentSize, r.ProposedSize,
				microsArg(r.CurrentMonthlyCost), microsArg(r.ProposedMonthlyCost), microsArg(r.EstimatedMonthlySavings), r.Confidence, r.Reason, statusOpen, evidence, now, now,
				int64(r.SkipReason), r.SkipDetail); err != nil {
				return "", fmt.Errorf("insert recommendation for %s: %w", r.ResourceId, err)
			}
			if l := current[k]; l != nil {
				superseded = append(superseded, l.id)
			}
			current[k] = &live{id: id, seen: true}
			ids = append(ids, id)
			opened = append(opened, id)
		}
		for _, l := range current {
			if !l.seen {
				superseded = append(superseded, l.id)
			}
		}
		for _, id := range superseded {
			if _, err := tx.ExecContext(ctx, t.q(`UPDATE recommendations SET status = ?, update_time = ? WHERE tenant_id = ? AND id = ?`),
				int64(sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_SUPERSEDED), now, t.id, id); err != nil {
				return "", fmt.Errorf("supersede recommendation %q: %w", id, err)
			}
		}
		events, err := t.recEvents(ctx, tx, validation.EventRecommendationOpened, opened)
		if err != nil {
			return "", err
		}
		closed, err := t.recEvents(ctx, tx, validation.EventRecommendationClosed, superseded)
		if err != nil {
			return "", err
		}
		if err := t.enqueueEvents(ctx, tx, append(events, closed...)); err != nil {
			return "", err
		}
		return encodeJSON(ids)
	})
	if err != nil {
		return nil, false, err
	}
	var ids []string
	if err := decodeJSON(result, &ids); err != nil {
		return nil, dup, err
	}
	return ids, dup, nil
}

func (t *tenantStore) GetRecommendation(ctx context.Context, id string) (*sirsiv1.Recommendation, error) {
	r, err := scanRec(t.s.r.QueryRowContext(ctx, t.q(`SELECT `+recCols+` FROM recommendations WHERE tenant_id = ? AND id = ?`), t.id, id))
	return r, notFound(err, "get recommendation %q", id)
}

func (t *tenantStore) SetRecommendationStatus(ctx context.Context, id string, status sirsiv1.RecommendationStatus) (*sirsiv1.Recommendation, error) {
	approvedStatus := status == sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED
	var out *sirsiv1.Recommendation
	err := t.s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, t.q(`UPDATE recommendations SET status = ?, update_time = ?,
approved_by = CASE WHEN ? THEN approved_by ELSE '' END, approve_time = CASE WHEN ? THEN approve_time ELSE 0 END WHERE tenant_id = ? AND id = ?`),
			int64(status), time.Now().UnixNano(), approvedStatus, approvedStatus, t.id, id)
		if err != nil {
			return fmt.Errorf("set status of recommendation %q: %w", id, err)
		}
		if err := affectedOne(res, "set status of recommendation %q", id); err != nil {
			return err
		}
		out, err = scanRec(tx.QueryRowContext(ctx, t.q(`SELECT `+recCols+` FROM recommendations WHERE tenant_id = ? AND id = ?`), t.id, id))
		if err != nil {
			return notFound(err, "read recommendation %q", id)
		}
		return t.enqueueRecClosed(ctx, tx, out)
	})
	return out, err
}

func (t *tenantStore) ListRecommendations(ctx context.Context, f store.RecommendationFilter, p store.Page) ([]*sirsiv1.Recommendation, string, *sirsiv1.Money, error) {
	key, err := stringKey("recommendations", f, p.Token, 1)
	if err != nil {
		return nil, "", nil, err
	}
	status := f.Status
	if status == sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_UNSPECIFIED {
		status = sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN
	}
	where, args := ` WHERE tenant_id = ? AND status = ?`, []any{t.id, int64(status)}
	if f.PolicyID != "" {
		where += ` AND policy_id = ?`
		args = append(args, f.PolicyID)
	}
	if f.ResourceType != "" {
		where += ` AND resource_type = ?`
		args = append(args, f.ResourceType)
	}
	if f.ResourceID != "" {
		where += ` AND resource_id = ?`
		args = append(args, f.ResourceID)
	}
	if f.MinMonthlySavingsMicros > 0 {
		where += ` AND estimated_monthly_savings_micros >= ?`
		args = append(args, f.MinMonthlySavingsMicros)
	}
	var total sql.NullInt64
	if err := t.s.r.QueryRowContext(ctx, t.q(`SELECT COALESCE(SUM(estimated_monthly_savings_micros), 0) FROM recommendations`+where), args...).Scan(&total); err != nil {
		return nil, "", nil, fmt.Errorf("list recommendations: total: %w", err)
	}
	cond, args := after("id", key, args)
	n := pageSize(p)
	rows, err := t.s.r.QueryContext(ctx, t.q(`SELECT `+recCols+` FROM recommendations`+where+cond+` ORDER BY id LIMIT `+fmt.Sprint(n+1)), args...)
	if err != nil {
		return nil, "", nil, fmt.Errorf("list recommendations: %w", err)
	}
	out, err := collect(rows, scanRec)
	if err != nil {
		return nil, "", nil, fmt.Errorf("list recommendations: %w", err)
	}
	out, next := trim(out, n, func(r *sirsiv1.Recommendation) string { return encodePageToken("recommendations", f, []string{r.Id}) })
	return out, next, usdMicros(total), nil
}

// transitionRec moves a recommendation to status to when it is in one of
// the statuses from, in one transaction; a recommendation already at to
// is returned unchanged when idempotent is set, any other status is
// ErrFailedPrecondition naming it. Leaving approved clears the approver.
func (t *tenantStore) transitionRec(ctx context.Context, doing, id string, from []sirsiv1.RecommendationStatus, to sirsiv1.RecommendationStatus,
	idempotent bool, approver string, at time.Time) (*sirsiv1.Recommendation, error) {
	var out *sirsiv1.Recommendation
	err := t.s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanRec(tx.QueryRowContext(ctx, t.q(`SELECT `+recCols+` FROM recommendations WHERE tenant_id = ? AND id = ?`), t.id, id))
		if err != nil {
			return notFound(err, "%s recommendation %q", doing, id)
		}
		if idempotent && cur.Status == to {
			out = cur
			return nil
		}
		allowed := false
		for _, f := range from {
			allowed = allowed || cur.Status == f
		}
		if !allowed {
			return fmt.Errorf("%s recommendation %q: it is %s: %w", doing, id, recStatusName(cur.Status), store.ErrFailedPrecondition)
		}
		now := time.Now().UnixNano()
		approvedAt := int64(0)
		if to == sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED {
			approvedAt = nanos(at)
		} else {
			approver = ""
		}
		// The status condition makes the change conditional on what was
		// read, whatever the isolation level.
		res, err := tx.ExecContext(ctx, t.q(`UPDATE recommendations SET status = ?, approved_by = ?, approve_time = ?, update_time = ?
WHERE tenant_id = ? AND id = ? AND status = ?`), int64(to), approver, approvedAt, now, t.id, id, int64(cur.Status))
		if err != nil {
			return fmt.Errorf("%s recommendation %q: %w", doing, id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("%s recommendation %q: %w", doing, id, err)
		} else if n != 1 {
			return fmt.Errorf("%s recommendation %q: its status changed meanwhile: %w", doing, id, store.ErrFailedPrecondition)
		}
		cur.Status, cur.ApprovedBy, cur.ApproveTime, cur.UpdateTime = to, approver, ts(approvedAt), ts(now)
		out = cur
		return t.enqueueRecClosed(ctx, tx, cur)
	})
	return out, err
}

func recStatusName(s sirsiv1.RecommendationStatus) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "RECOMMENDATION_STATUS_"))
}

func (t *tenantStore) ApproveRecommendation(ctx context.Context, id, approver string, at time.Time) (*sirsiv1.Recommendation, error) {
	return t.transitionRec(ctx, "approve", id, []sirsiv1.RecommendationStatus{sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN},
		sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED, false, approver, at)
}

func (t *tenantStore) RevokeRecommendationApproval(ctx context.Context, id string) (*sirsiv1.Recommendation, error) {
	return t.transitionRec(ctx, "revoke approval of", id, []sirsiv1.RecommendationStatus{sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED},
		sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN, true, "", time.Time{})
}

func (t *tenantStore) DismissRecommendation(ctx context.Context, id string) (*sirsiv1.Recommendation, error) {
	return t.transitionRec(ctx, "dismiss", id, []sirsiv1.RecommendationStatus{
		sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN, sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED,
	}, sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_DISMISSED, true, "", time.Time{})
}

// enqueueRecClosed writes the recommendation.closed event of r, as stored
// in tx, when its status closes it.
func (t *tenantStore) enqueueRecClosed(ctx context.Context, tx *sql.Tx, r *sirsiv1.Recommendation) error {
	if !recClosed(r.Status) {
		return nil
	}
	return t.enqueueEvents(ctx, tx, []outboxEvent{recEvent(validation.EventRecommendationClosed, r)})
}
