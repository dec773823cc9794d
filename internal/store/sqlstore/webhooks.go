package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// Webhook endpoints (migration 0023). The secret column holds what the
// store was handed: agentd wraps the store in internal/store/sealed,
// which hands it a sealed envelope. The endpoint whose id is the tenant's
// id is the tenant's own (its deprecated webhook_url): tenants.go writes
// it, the webhook calls only read it.

const webhookCols = `id, tenant_id, url, secret, event_types, enabled, description, create_time, update_time, version`

// tenantHookDescription describes the endpoint the tenant's webhook_url
// maps onto, so a listing says where it comes from.
const tenantHookDescription = "sirsi_tenant webhook_url"

func scanWebhook(row interface{ Scan(...any) error }) (*sirsiv1.Webhook, error) {
	var w sirsiv1.Webhook
	var types string
	var enabled, ct, ut int64
	if err := row.Scan(&w.Id, &w.TenantId, &w.Url, &w.Secret, &types, &enabled, &w.Description, &ct, &ut, &w.Version); err != nil {
		return nil, err
	}
	w.Enabled = proto.Bool(enabled != 0)
	w.SecretSet = w.Secret != ""
	w.CreateTime, w.UpdateTime = ts(ct), ts(ut)
	return &w, decodeJSON(types, &w.EventTypes)
}

// eventTypesJSON stores a filter sorted, so that a filter reads back the
// same whatever order it was given in.
func eventTypesJSON(types []string) (string, error) {
	sorted := slices.Sorted(slices.Values(types))
	if sorted == nil {
		sorted = []string{}
	}
	return encodeJSON(slices.Compact(sorted))
}

func (t *tenantStore) CreateWebhook(ctx context.Context, in *sirsiv1.Webhook) (*sirsiv1.Webhook, error) {
	w := proto.Clone(in).(*sirsiv1.Webhook)
	if w.Id == "" {
		w.Id = newID()
	}
	if w.Secret == "" {
		return nil, fmt.Errorf("create webhook: a secret is required: %w", store.ErrInvalidArgument)
	}
	if w.Enabled == nil {
		w.Enabled = proto.Bool(true)
	}
	w.TenantId, w.Version, w.SecretSet = t.id, 1, true
	types, err := eventTypesJSON(w.EventTypes)
	if err != nil {
		return nil, err
	}
	now := time.Now().UnixNano()
	w.CreateTime, w.UpdateTime = ts(now), ts(now)
	err = t.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := t.requireTenant(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, t.q(`INSERT INTO webhooks (`+webhookCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			w.Id, t.id, w.Url, w.Secret, types, boolInt(w.GetEnabled()), w.Description, now, now, w.Version)
		if t.s.d.IsUniqueViolation(err) {
			return fmt.Errorf("create webhook %q: %w", w.Id, store.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("create webhook: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return w, decodeJSON(types, &w.EventTypes)
}

func (t *tenantStore) GetWebhook(ctx context.Context, id string) (*sirsiv1.Webhook, error) {
	w, err := scanWebhook(t.s.r.QueryRowContext(ctx, t.q(`SELECT `+webhookCols+` FROM webhooks WHERE tenant_id = ? AND id = ?`), t.id, id))
	return w, notFound(err, "get webhook %q", id)
}

func (t *tenantStore) UpdateWebhook(ctx context.Context, in *sirsiv1.Webhook) (*sirsiv1.Webhook, error) {
	types, err := eventTypesJSON(in.EventTypes)
	if err != nil {
		return nil, err
	}
	enabled := in.Enabled == nil || *in.Enabled
	var out *sirsiv1.Webhook
	err = t.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := t.checkVersion(ctx, tx, "webhooks", "webhook", in.Id, in.Version); err != nil {
			return err
		}
		now := time.Now().UnixNano()
		// An empty secret keeps the stored one.
		if _, err := tx.ExecContext(ctx, t.q(`UPDATE webhooks SET url = ?, secret = CASE WHEN ? = '' THEN secret ELSE ? END, event_types = ?, enabled = ?,
description = ?, update_time = ?, version = version + 1 WHERE tenant_id = ? AND id = ?`),
			in.Url, in.Secret, in.Secret, types, boolInt(enabled), in.Description, now, t.id, in.Id); err != nil {
			return fmt.Errorf("update webhook %q: %w", in.Id, err)
		}
		if !enabled {
			if err := t.deadLetterPending(ctx, tx, in.Id, "the webhook endpoint was disabled", now); err != nil {
				return fmt.Errorf("update webhook %q: %w", in.Id, err)
			}
		}
		out, err = scanWebhook(tx.QueryRowContext(ctx, t.q(`SELECT `+webhookCols+` FROM webhooks WHERE tenant_id = ? AND id = ?`), t.id, in.Id))
		return notFound(err, "read updated webhook %q", in.Id)
	})
	return out, err
}

func (t *tenantStore) DeleteWebhook(ctx context.Context, id string, version int64) error {
	return t.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := t.checkVersion(ctx, tx, "webhooks", "webhook", id, version); err != nil {
			return err
		}
		return t.deleteWebhook(ctx, tx, id)
	})
}

func (t *tenantStore) deleteWebhook(ctx context.Context, tx *sql.Tx, id string) error {
	if _, err := tx.ExecContext(ctx, t.q(`DELETE FROM webhooks WHERE tenant_id = ? AND id = ?`), t.id, id); err != nil {
		return fmt.Errorf("delete webhook %q: %w", id, err)
	}
	if err := t.deadLetterPending(ctx, tx, id, "the webhook endpoint was deleted", time.Now().UnixNano()); err != nil {
		return fmt.Errorf("delete webhook %q: %w", id, err)
	}
	return nil
}

// deadLetterPending ends the pending deliveries to an endpoint that will
// take no more, keeping them listable with the reason.
func (t *tenantStore) deadLetterPending(ctx context.Context, tx *sql.Tx, webhookID, reason string, now int64) error {
	if _, err := tx.ExecContext(ctx, t.q(`UPDATE event_outbox SET state = ?, last_error = ?, next_attempt_time = 0, finish_time = ?
WHERE tenant_id = ? AND webhook_id = ? AND state = ?`),
		int64(sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_DEAD), reason, now, t.id, webhookID, int64(sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_PENDING)); err != nil {
		return fmt.Errorf("dead-letter the endpoint's pending deliveries: %w", err)
	}
	return nil
}

func (t *tenantStore) ListWebhooks(ctx context.Context, p store.Page) ([]*sirsiv1.Webhook, string, error) {
	return listByID(ctx, t, "webhooks", webhookCols, p, scanWebhook, func(w *sirsiv1.Webhook) string { return w.Id })
}

// putTenantHook makes the tenant's own endpoint (id = tenant id) match the
// tenant's webhook_url and secret, in tx: an empty URL deletes it, an
// empty secret keeps the stored one. Its filter stays empty (every event)
// and it stays enabled, as the single tenant webhook always was.
func (t *tenantStore) putTenantHook(ctx context.Context, tx *sql.Tx, url, secret string) error {
	if url == "" {
		return t.deleteWebhook(ctx, tx, t.id)
	}
	now := time.Now().UnixNano()
	_, err := tx.ExecContext(ctx, t.q(`INSERT INTO webhooks (`+webhookCols+`) VALUES (?, ?, ?, ?, '[]', 1, ?, ?, ?, 1)
ON CONFLICT (tenant_id, id) DO UPDATE SET url = excluded.url, secret = CASE WHEN excluded.secret = '' THEN webhooks.secret ELSE excluded.secret END,
update_time = excluded.update_time, version = webhooks.version + 1`),
		t.id, t.id, url, secret, tenantHookDescription, now, now)
	if err != nil {
		return fmt.Errorf("write the tenant's webhook endpoint: %w", err)
	}
	return nil
}

// hookFilter is what enqueueing needs of an enabled endpoint.
type hookFilter struct {
	id    string
	types []string
}

func (h hookFilter) wants(typ string) bool {
	return len(h.types) == 0 || slices.Contains(h.types, typ)
}

// enabledHooks are the tenant's enabled endpoints, read in tx so that the
// events of a change go to the endpoints as they are when it commits.
func (t *tenantStore) enabledHooks(ctx context.Context, tx *sql.Tx) ([]hookFilter, error) {
	rows, err := tx.QueryContext(ctx, t.q(`SELECT id, event_types FROM webhooks WHERE tenant_id = ? AND enabled = 1 ORDER BY id`), t.id)
	if err != nil {
		return nil, fmt.Errorf("read the tenant's webhook endpoints: %w", err)
	}
	hooks, err := collect(rows, func(r interface{ Scan(...any) error }) (hookFilter, error) {
		var h hookFilter
		var types string
		if err := r.Scan(&h.id, &types); err != nil {
			return h, err
		}
		return h, decodeJSON(types, &h.types)
	})
	if err != nil {
		return nil, fmt.Errorf("read the tenant's webhook endpoints: %w", err)
	}
	return hooks, nil
}
