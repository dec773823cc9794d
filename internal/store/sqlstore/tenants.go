package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

const tenantCols = `id, name, display_name, tier, labels, create_time, update_time, version, rate_limit_per_minute, max_actions_per_hour,
tenant_rate_limit_per_minute, max_api_tokens, utilization_retention_days, action_retention_days, anomaly_retention_days, audit_retention_days`

// tenantSelect reads tenantCols and then the URL and secret of the
// tenant's own webhook endpoint (webhooks.go), which the tenant's
// deprecated webhook_url and webhook_secret stand for.
const tenantSelect = `SELECT ` + tenantCols + `,
COALESCE((SELECT url FROM webhooks w WHERE w.tenant_id = tenants.id AND w.id = tenants.id), ''),
COALESCE((SELECT secret FROM webhooks w WHERE w.tenant_id = tenants.id AND w.id = tenants.id), '') FROM tenants`

// scanTenant reads a tenantSelect row, webhook secret included: the
// control plane needs it to sign deliveries and clears it from every
// response. The secret column holds what the store was handed: agentd
// wraps the store in internal/store/sealed, which hands it a sealed
// envelope.
func scanTenant(row interface{ Scan(...any) error }) (*sirsiv1.Tenant, error) {
	var t sirsiv1.Tenant
	var tier, ct, ut int64
	var labels string
	var rate, maxActions, tenantRate, maxTokens, keepUtil, keepActions, keepAnomalies, keepAudit sql.NullInt64
	if err := row.Scan(&t.Id, &t.Name, &t.DisplayName, &tier, &labels, &ct, &ut, &t.Version, &rate, &maxActions,
		&tenantRate, &maxTokens, &keepUtil, &keepActions, &keepAnomalies, &keepAudit, &t.WebhookUrl, &t.WebhookSecret); err != nil {
		return nil, err
	}
	t.RateLimitPerMinute, t.MaxActionsPerHour = optionalInt32(rate), optionalInt32(maxActions)
	t.TenantRateLimitPerMinute, t.MaxApiTokens = optionalInt32(tenantRate), optionalInt32(maxTokens)
	t.UtilizationRetentionDays, t.ActionRetentionDays = optionalInt32(keepUtil), optionalInt32(keepActions)
	t.AnomalyRetentionDays, t.AuditRetentionDays = optionalInt32(keepAnomalies), optionalInt32(keepAudit)
	t.Tier = sirsiv1.Tier(tier)
	t.WebhookSecretSet = t.WebhookSecret != ""
	t.CreateTime, t.UpdateTime = ts(ct), ts(ut)
	var err error
	t.Labels, err = readStringMap(labels)
	return &t, err
}

// CreateTenant stores the webhook secret as given; sealing it is the job
// of the internal/store/sealed wrapper.
func (s *Store) CreateTenant(ctx context.Context, in *sirsiv1.Tenant) (*sirsiv1.Tenant, error) {
	t := proto.Clone(in).(*sirsiv1.Tenant)
	if t.Id == "" {
		t.Id = newID()
	}
	if err := checkWebhook(t.WebhookUrl, t.WebhookSecret); err != nil {
		return nil, fmt.Errorf("create tenant %q: %w", t.Name, err)
	}
	t.WebhookSecretSet = t.WebhookSecret != ""
	now := time.Now()
	t.CreateTime, t.UpdateTime, t.Version = ts(now.UnixNano()), ts(now.UnixNano()), 1
	labels, err := stringMap(t.Labels)
	if err != nil {
		return nil, err
	}
	insert := func(ex interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}) error {
		_, err := ex.ExecContext(ctx, s.q(`INSERT INTO tenants (`+tenantCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			append([]any{t.Id, t.Name, t.DisplayName, int64(t.Tier), labels, now.UnixNano(), now.UnixNano(), t.Version}, tenantSettings(t)...)...)
		if s.d.IsUniqueViolation(err) {
			return fmt.Errorf("create tenant %q: %w", t.Name, store.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("create tenant %q: %w", t.Name, err)
		}
		return nil
	}
	if t.WebhookUrl == "" {
		// One statement: no transaction needed.
		err = insert(s.w)
	} else {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			if err := insert(tx); err != nil {
				return err
			}
			if err := (&tenantStore{s: s, id: t.Id}).putTenantHook(ctx, tx, t.WebhookUrl, t.WebhookSecret); err != nil {
				return fmt.Errorf("create tenant %q: %w", t.Name, err)
			}
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (s *Store) GetTenant(ctx context.Context, id string) (*sirsiv1.Tenant, error) {
	t, err := scanTenant(s.r.QueryRowContext(ctx, s.q(tenantSelect+` WHERE id = ?`), id))
	return t, notFound(err, "get tenant %q", id)
}

func (s *Store) GetTenantByName(ctx context.Context, name string) (*sirsiv1.Tenant, error) {
	t, err := scanTenant(s.r.QueryRowContext(ctx, s.q(tenantSelect+` WHERE name = ?`), name))
	return t, notFound(err, "get tenant named %q", name)
}

// notFound turns sql.ErrNoRows into store.ErrNotFound and adds context.
func notFound(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// checkWebhook refuses a half-configured webhook: a URL nobody can verify
// deliveries from, or a secret that signs nothing.
func checkWebhook(url, secret string) error {
	if url != "" && secret == "" {
		return fmt.Errorf("webhook_url needs a webhook_secret: %w", store.ErrInvalidArgument)
	}
	if url == "" && secret != "" {
		return fmt.Errorf("webhook_secret needs a webhook_url: %w", store.ErrInvalidArgument)
	}
	return nil
}

// UpdateTenant writes the webhook secret as given (sealed by the wrapper). An empty secret keeps the stored one while the URL stays
// set; an empty URL removes the webhook, secret included.
func (s *Store) UpdateTenant(ctx context.Context, in *sirsiv1.Tenant) (*sirsiv1.Tenant, error) {
	labels, err := stringMap(in.Labels)
	if err != nil {
		return nil, err
	}
	var out *sirsiv1.Tenant
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanTenant(tx.QueryRowContext(ctx, s.q(tenantSelect+` WHERE id = ?`), in.Id))
		if err != nil {
			return notFound(err, "update tenant %q", in.Id)
		}
		if in.Version != 0 && in.Version != cur.Version {
			return fmt.Errorf("update tenant %q: stored version %d, request version %d: %w", in.Id, cur.Version, in.Version, store.ErrVersionMismatch)
		}
		secret := in.WebhookSecret
		if in.WebhookUrl != "" && secret == "" {
			secret = cur.WebhookSecret
		}
		if err := checkWebhook(in.WebhookUrl, secret); err != nil {
			return fmt.Errorf("update tenant %q: %w", in.Id, err)
		}
		now := time.Now().UnixNano()
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE tenants SET display_name = ?, tier = ?, labels = ?,
rate_limit_per_minute = ?, max_actions_per_hour = ?, tenant_rate_limit_per_minute = ?, max_api_tokens = ?,
utilization_retention_days = ?, action_retention_days = ?, anomaly_retention_days = ?, audit_retention_days = ?,
update_time = ?, version = version + 1 WHERE id = ?`),
			append(append([]any{in.DisplayName, int64(in.Tier), labels}, tenantSettings(in)...), now, in.Id)...); err != nil {
			return fmt.Errorf("update tenant %q: %w", in.Id, err)
		}
		if in.WebhookUrl != cur.WebhookUrl || in.WebhookSecret != "" {
			if err := (&tenantStore{s: s, id: in.Id}).putTenantHook(ctx, tx, in.WebhookUrl, in.WebhookSecret); err != nil {
				return fmt.Errorf("update tenant %q: %w", in.Id, err)
			}
		}
		out, err = scanTenant(tx.QueryRowContext(ctx, s.q(tenantSelect+` WHERE id = ?`), in.Id))
		return notFound(err, "read updated tenant %q", in.Id)
	})
	return out, err
}

func (s *Store) DeleteTenant(ctx context.Context, id string, version int64, force bool) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var cur int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT version FROM tenants WHERE id = ?`), id).Scan(&cur)
		if err != nil {
			return notFound(err, "delete tenant %q", id)
		}
		if version != 0 && version != cur {
			return fmt.Errorf("delete tenant %q: stored version %d, request version %d: %w", id, cur, version, store.ErrVersionMismatch)
		}
		if !force {
			var accounts, policies, agents int64
			err := tx.QueryRowContext(ctx, s.q(`SELECT (SELECT COUNT(*) FROM cloud_accounts WHERE tenant_id = ?), (SELECT COUNT(*) FROM policies WHERE tenant_id = ?),
(SELECT COUNT(*) FROM agents WHERE tenant_id = ?)`), id, id, id).Scan(&accounts, &policies, &agents)
			if err != nil {
				return fmt.Errorf("delete tenant %q: count owned objects: %w", id, err)
			}
			if accounts+policies+agents > 0 {
				return fmt.Errorf("delete tenant %q: it still owns %d cloud accounts, %d optimization policies and %d agents (delete them first, or delete with force): %w",
					id, accounts, policies, agents, store.ErrFailedPrecondition)
			}
		}
		for _, table := range tenantTables {
			if table.keptOnDelete {
				continue
			}
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+table.name+` WHERE tenant_id = ?`), id); err != nil {
				return fmt.Errorf("delete tenant %q: delete from %s: %w", id, table.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM tenants WHERE id = ?`), id); err != nil {
			return fmt.Errorf("delete tenant %q: %w", id, err)
		}
		return nil
	})
}

func (s *Store) ListTenants(ctx context.Context, p store.Page) ([]*sirsiv1.Tenant, string, error) {
	key, err := stringKey("tenants", nil, p.Token, 1)
	if err != nil {
		return nil, "", err
	}
	cond, args := after("name", key, nil)
	n := pageSize(p)
	rows, err := s.r.QueryContext(ctx, s.q(tenantSelect+` WHERE 1 = 1`+cond+` ORDER BY name LIMIT `+fmt.Sprint(n+1)), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list tenants: %w", err)
	}
	out, err := collect(rows, scanTenant)
	if err != nil {
		return nil, "", fmt.Errorf("list tenants: %w", err)
	}
	out, next := trim(out, n, func(t *sirsiv1.Tenant) string { return encodePageToken("tenants", nil, []string{t.Name}) })
	return out, next, nil
}

// tenantSettings are the tenant's optional limits and retention days,
// in the order of tenantCols.
func tenantSettings(t *sirsiv1.Tenant) []any {
	return []any{nullInt32(t.RateLimitPerMinute), nullInt32(t.MaxActionsPerHour), nullInt32(t.TenantRateLimitPerMinute), nullInt32(t.MaxApiTokens),
		nullInt32(t.UtilizationRetentionDays), nullInt32(t.ActionRetentionDays), nullInt32(t.AnomalyRetentionDays), nullInt32(t.AuditRetentionDays)}
}

// nullInt32 stores an optional field: NULL when unset.
func nullInt32(v *int32) sql.NullInt64 {
	if v == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(*v), Valid: true}
}

func optionalInt32(v sql.NullInt64) *int32 {
	if !v.Valid {
		return nil
	}
	n := int32(v.Int64)
	return &n
}

// collect scans every row.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// trim cuts the extra row fetched to learn whether another page follows
// and makes the token from the last row kept.
func trim[T any](items []T, n int, token func(T) string) ([]T, string) {
	if len(items) <= n {
		return items, ""
	}
	items = items[:n]
	return items, token(items[n-1])
}
