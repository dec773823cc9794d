package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// The outbox of webhook deliveries (migrations 0014, 0023). Events are
// written by enqueueEvents inside the transaction of the change they
// report, one row per enabled endpoint whose filter takes the event, so
// nothing piles up for tenants without one and each endpoint's delivery
// keeps its own attempts, backoff and dead-letter state.

const eventCols = `tenant_id, id, type, subject, state, attempts, last_error, create_time, next_attempt_time, finish_time, webhook_id`

// outboxEvent is an event to write: its dedup key makes the same change,
// reported again, one event per endpoint.
type outboxEvent struct {
	dedupKey string
	typ      string
	subject  string
	data     proto.Message
}

func scanEvent(row interface{ Scan(...any) error }) (*sirsiv1.WebhookEvent, error) {
	return scanEventWith(row)
}

// scanEventWith scans eventCols, then extra columns into extra.
func scanEventWith(row interface{ Scan(...any) error }, extra ...any) (*sirsiv1.WebhookEvent, error) {
	var e sirsiv1.WebhookEvent
	var state int64
	var ct, nt, ft int64
	if err := row.Scan(append([]any{&e.TenantId, &e.Id, &e.Type, &e.Subject, &state, &e.Attempts, &e.LastError, &ct, &nt, &ft, &e.WebhookId}, extra...)...); err != nil {
		return nil, err
	}
	e.State = sirsiv1.WebhookEventState(state)
	e.CreateTime, e.FinishTime = ts(ct), ts(ft)
	if e.State == sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_PENDING {
		e.NextAttemptTime = ts(nt)
	}
	return &e, nil
}

// enqueueEvents writes each event to the outbox in tx, once for every
// enabled endpoint of the tenant whose filter takes its type; an endpoint
// that already has the event's dedup key does not get it again. Each row
// has its own id, the delivery id the endpoint dedups by. A new event is
// due at once whatever the claimer's clock says.
func (t *tenantStore) enqueueEvents(ctx context.Context, tx *sql.Tx, events []outboxEvent) error {
	if len(events) == 0 {
		return nil
	}
	hooks, err := t.enabledHooks(ctx, tx)
	if err != nil || len(hooks) == 0 {
		return err
	}
	now := time.Now().UnixNano()
	for _, e := range events {
		var data []byte
		for _, h := range hooks {
			if !h.wants(e.typ) {
				continue
			}
			if data == nil {
				if data, err = protojson.Marshal(e.data); err != nil {
					return fmt.Errorf("enqueue %s event %s: encode data: %w", e.typ, e.subject, err)
				}
			}
			if _, err := tx.ExecContext(ctx, t.q(`INSERT INTO event_outbox (tenant_id, id, webhook_id, dedup_key, type, subject, data, create_time, state, next_attempt_time)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT (tenant_id, dedup_key) DO NOTHING`),
				t.id, newID(), h.id, h.id+"/"+e.dedupKey, e.typ, e.subject, string(data), now, int64(sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_PENDING)); err != nil {
				return fmt.Errorf("enqueue %s event %s for webhook %s: %w", e.typ, e.subject, h.id, err)
			}
		}
	}
	return nil
}

// wantsEvents says whether the tenant has an enabled webhook endpoint, so
// that callers building an event's data from the database skip that work
// when no event would be written.
func (t *tenantStore) wantsEvents(ctx context.Context, tx *sql.Tx) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, t.q(`SELECT COUNT(*) FROM webhooks WHERE tenant_id = ? AND enabled = 1`), t.id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("enqueue webhook events: read the tenant's webhook endpoints: %w", err)
	}
	return n > 0, nil
}

func (s *Store) ClaimEvents(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*store.OutboxEvent, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("claim webhook events: limit %d and lease %v must be positive: %w", limit, lease, store.ErrInvalidArgument)
	}
	var out []*store.OutboxEvent
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.q(`SELECT `+eventCols+`, data FROM event_outbox WHERE state = ? AND next_attempt_time <= ?
ORDER BY next_attempt_time, id LIMIT `+fmt.Sprint(limit)+s.d.SkipLocked),
			int64(sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_PENDING), now.UnixNano())
		if err != nil {
			return fmt.Errorf("select due events: %w", err)
		}
		out, err = collect(rows, func(row interface{ Scan(...any) error }) (*store.OutboxEvent, error) {
			var data string
			e, err := scanEventWith(row, &data)
			if err != nil {
				return nil, err
			}
			return &store.OutboxEvent{Event: e, Data: []byte(data)}, nil
		})
		if err != nil {
			return fmt.Errorf("select due events: %w", err)
		}
		until := now.Add(lease).UnixNano()
		for _, e := range out {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE event_outbox SET next_attempt_time = ? WHERE tenant_id = ? AND id = ?`), until, e.Event.TenantId, e.Event.Id); err != nil {
				return fmt.Errorf("lease event %s: %w", e.Event.Id, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook events: %w", err)
	}
	return out, nil
}

func (s *Store) FinishEvent(ctx context.Context, tenantID, id string, o store.EventOutcome) error {
	state, next := sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_DELIVERED, int64(0)
	finish := o.At.UnixNano()
	switch {
	case o.Delivered:
	case !o.RetryAt.IsZero():
		state, next, finish = sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_PENDING, o.RetryAt.UnixNano(), 0
	default:
		state = sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_DEAD
	}
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE event_outbox SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_time = ?, finish_time = ?
WHERE tenant_id = ? AND id = ? AND state = ?`),
		int64(state), o.Err, next, finish, tenantID, id, int64(sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_PENDING))
	if err != nil {
		return fmt.Errorf("finish webhook event %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var n int
	err = s.r.QueryRowContext(ctx, s.q(`SELECT 1 FROM event_outbox WHERE tenant_id = ? AND id = ?`), tenantID, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("finish webhook event %s: %w", id, store.ErrNotFound)
	}
	return err
}

func (t *tenantStore) ListWebhookEvents(ctx context.Context, state sirsiv1.WebhookEventState, p store.Page) ([]*sirsiv1.WebhookEvent, string, error) {
	var matches []match
	if state != sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_UNSPECIFIED {
		matches = append(matches, match{"state", int64(state)})
	}
	return listWhere(ctx, t, "event_outbox", eventCols, state.String(), matches, p, scanEvent, func(e *sirsiv1.WebhookEvent) string { return e.Id })
}

// anomalyEvent is the cost.anomaly event of an anomaly as stored: once
// per anomaly (account, day, service), and once more each time its
// figures change.
func anomalyEvent(a *sirsiv1.CostAnomaly) outboxEvent {
	subject := strings.Join([]string{a.CloudAccountId, a.Day, a.Service}, "/")
	return outboxEvent{
		dedupKey: fmt.Sprintf(validation.EventCostAnomaly+"/%s/%d/%d/%s", subject, a.GetExpectedAmount().GetMicros(), a.GetActualAmount().GetMicros(), a.GetActualAmount().GetCurrencyCode()),
		typ:      validation.EventCostAnomaly,
		subject:  subject,
		data:     a,
	}
}

// actionEventTypes are the action statuses that make an event.
var actionEventTypes = map[sirsiv1.ActionStatus]string{
	sirsiv1.ActionStatus_ACTION_STATUS_RUNNING:     validation.EventActionStarted,
	sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED:   validation.EventActionSucceeded,
	sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK: validation.EventActionRolledBack,
	sirsiv1.ActionStatus_ACTION_STATUS_FAILED:      validation.EventActionFailed,
}

// actionEvent is the event of an action's status, once per action and
// status; ok is false for a status that makes none (dry runs make none).
func actionEvent(a *sirsiv1.Action) (outboxEvent, bool) {
	typ, ok := actionEventTypes[a.Status]
	if !ok || a.DryRun {
		return outboxEvent{}, false
	}
	return outboxEvent{dedupKey: typ + "/" + a.Id, typ: typ, subject: "actions/" + a.Id, data: a}, true
}

// recEvents are the recommendation.opened or recommendation.closed
// events of the recommendations ids, as they now are in tx: each
// recommendation opens once and closes once (a superseded recommendation
// later found executed does not close again).
func (t *tenantStore) recEvents(ctx context.Context, tx *sql.Tx, typ string, ids []string) ([]outboxEvent, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if want, err := t.wantsEvents(ctx, tx); err != nil || !want {
		return nil, err
	}
	out := make([]outboxEvent, 0, len(ids))
	for _, id := range ids {
		r, err := scanRec(tx.QueryRowContext(ctx, t.q(`SELECT `+recCols+` FROM recommendations WHERE tenant_id = ? AND id = ?`), t.id, id))
		if err != nil {
			return nil, notFound(err, "read recommendation %q for its %s event", id, typ)
		}
		out = append(out, recEvent(typ, r))
	}
	return out, nil
}

// recEvent is a recommendation's typ event: once per recommendation and type.
func recEvent(typ string, r *sirsiv1.Recommendation) outboxEvent {
	return outboxEvent{dedupKey: typ + "/" + r.Id, typ: typ, subject: "recommendations/" + r.Id, data: r}
}

// recClosed reports whether a recommendation in status s is closed: no
// longer open or approved.
func recClosed(s sirsiv1.RecommendationStatus) bool {
	switch s {
	case sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_SUPERSEDED, sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_DISMISSED,
		sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED:
		return true
	}
	return false
}

// planEvent is the plan.pending_approval event of a plan just saved:
// once per plan.
func planEvent(p *sirsiv1.ActionPlan) outboxEvent {
	return outboxEvent{dedupKey: validation.EventPlanPendingApproval + "/" + p.Id, typ: validation.EventPlanPendingApproval, subject: "plans/" + p.Id, data: p}
}

// agentEvent is an agent.connected or agent.stale event of one
// connection episode: epoch names the episode (the last-seen time the
// agent went stale at, or "enrolled" for its first connection), so each
// episode makes one event however many replicas notice it.
func agentEvent(typ string, a *sirsiv1.Agent, epoch string) outboxEvent {
	return outboxEvent{dedupKey: typ + "/" + a.Id + "/" + epoch, typ: typ, subject: "agents/" + a.Id, data: a}
}
