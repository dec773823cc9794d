package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// tenantStore is bound to one tenant id; every statement it runs carries
// that id as the first condition.
type tenantStore struct {
	s  *Store
	id string
}

var _ store.TenantStore = (*tenantStore)(nil)

func (s *Store) Tenant(tenantID string) store.TenantStore { return &tenantStore{s: s, id: tenantID} }

func (t *tenantStore) TenantID() string { return t.id }

func (t *tenantStore) q(query string) string { return t.s.d.Rebind(query) }

// requireTenant fails with ErrFailedPrecondition when the bound tenant does
// not exist, so objects are never created under a missing tenant.
func (t *tenantStore) requireTenant(ctx context.Context, tx *sql.Tx) error {
	var one int
	err := tx.QueryRowContext(ctx, t.q(`SELECT 1 FROM tenants WHERE id = ?`), t.id).Scan(&one)
	if err == sql.ErrNoRows {
		return fmt.Errorf("tenant %q does not exist: %w", t.id, store.ErrFailedPrecondition)
	}
	if err != nil {
		return fmt.Errorf("check tenant %q: %w", t.id, err)
	}
	return nil
}

// lockTenant is requireTenant that also holds the tenant's row until tx
// ends, so that writes checking a per-tenant count take turns across
// replicas.
func (t *tenantStore) lockTenant(ctx context.Context, tx *sql.Tx) error {
	var one int
	err := tx.QueryRowContext(ctx, t.q(`SELECT 1 FROM tenants WHERE id = ?`+t.s.d.ForUpdate), t.id).Scan(&one)
	if err == sql.ErrNoRows {
		return fmt.Errorf("tenant %q does not exist: %w", t.id, store.ErrFailedPrecondition)
	}
	if err != nil {
		return fmt.Errorf("lock tenant %q: %w", t.id, err)
	}
	return nil
}

// requireAccount fails with ErrFailedPrecondition when the cloud account is
// not this tenant's.
func (t *tenantStore) requireAccount(ctx context.Context, tx *sql.Tx, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, t.q(`SELECT 1 FROM cloud_accounts WHERE tenant_id = ? AND id = ?`), t.id, id).Scan(&one)
	if err == sql.ErrNoRows {
		return fmt.Errorf("cloud account %q does not exist in tenant %q: %w", id, t.id, store.ErrFailedPrecondition)
	}
	if err != nil {
		return fmt.Errorf("check cloud account %q: %w", id, err)
	}
	return nil
}

const accountCols = `id, tenant_id, cloud, account_id, regions, role_arn, external_id, display_name, status, last_seen_time, agent_version, create_time, update_time, version, status_detail`

func scanAccount(row interface{ Scan(...any) error }) (*sirsiv1.CloudAccount, error) {
	var a sirsiv1.CloudAccount
	var cloud, status, ls, ct, ut int64
	var regions string
	if err := row.Scan(&a.Id, &a.TenantId, &cloud, &a.AccountId, &regions, &a.RoleArn, &a.ExternalId, &a.DisplayName, &status, &ls, &a.AgentVersion, &ct, &ut, &a.Version, &a.StatusDetail); err != nil {
		return nil, err
	}
	a.Cloud, a.Status = sirsiv1.Cloud(cloud), sirsiv1.CloudAccountStatus(status)
	a.LastSeenTime, a.CreateTime, a.UpdateTime = ts(ls), ts(ct), ts(ut)
	return &a, decodeJSON(regions, &a.Regions)
}

func (t *tenantStore) CreateCloudAccount(ctx context.Context, in *sirsiv1.CloudAccount) (*sirsiv1.CloudAccount, error) {
	a := proto.Clone(in).(*sirsiv1.CloudAccount)
	if a.Id == "" {
		a.Id = newID()
	}
	a.TenantId, a.Version = t.id, 1
	a.Status, a.LastSeenTime, a.AgentVersion = sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_PENDING, nil, ""
	now := time.Now().UnixNano()
	a.CreateTime, a.UpdateTime = ts(now), ts(now)
	regions, err := encodeJSON(nonNil(a.Regions))
	if err != nil {
		return nil, err
	}
	err = t.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := t.requireTenant(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, t.q(`INSERT INTO cloud_accounts (`+accountCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', ?, ?, ?, '')`),
			a.Id, t.id, int64(a.Cloud), a.AccountId, regions, a.RoleArn, a.ExternalId, a.DisplayName, int64(a.Status), now, now, a.Version)
		if t.s.d.IsUniqueViolation(err) {
			return fmt.Errorf("create cloud account %q: %w", a.AccountId, store.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("create cloud account %q: %w", a.AccountId, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (t *tenantStore) GetCloudAccount(ctx context.Context, id string) (*sirsiv1.CloudAccount, error) {
	a, err := scanAccount(t.s.r.QueryRowContext(ctx, t.q(`SELECT `+accountCols+` FROM cloud_accounts WHERE tenant_id = ? AND id = ?`), t.id, id))
	return a, notFound(err, "get cloud account %q", id)
}

func (t *tenantStore) UpdateCloudAccount(ctx context.Context, in *sirsiv1.CloudAccount) (*sirsiv1.CloudAccount, error) {
	regions, err := encodeJSON(nonNil(in.Regions))
	if err != nil {
		return nil, err
	}
	var out *sirsiv1.CloudAccount
	err = t.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := t.checkVersion(ctx, tx, "cloud_accounts", "cloud account", in.Id, in.Version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, t.q(`UPDATE cloud_accounts SET regions = ?, role_arn = ?, external_id = ?, display_name = ?, update_time = ?, version = version + 1 WHERE tenant_id = ? AND id = ?`),
			regions, in.RoleArn, in.ExternalId, in.DisplayName, time.Now().UnixNano(), t.id, in.Id); err != nil {
			return fmt.Errorf("update cloud account %q: %w", in.Id, err)
		}
		out, err = scanAccount(tx.QueryRowContext(ctx, t.q(`SELECT `+accountCols+` FROM cloud_accounts WHERE tenant_id = ? AND id = ?`), t.id, in.Id))
		return notFound(err, "read updated cloud account %q", in.Id)
	})
	return out, err
}

// checkVersion implements optimistic concurrency for versioned tables: the
// row must exist in this tenant, and a non-zero version must match.
func (t *tenantStore) checkVersion(ctx context.Context, tx *sql.Tx, table, what, id string, version int64) error {
	var cur int64
	err := tx.QueryRowContext(ctx, t.q(`SELECT version FROM `+table+` WHERE tenant_id = ? AND id = ?`), t.id, id).Scan(&cur)
	if err != nil {
		return notFound(err, "%s %q", what, id)
	}
	if version != 0 && version != cur {
		return fmt.Errorf("%s %q: stored version %d, request version %d: %w", what, id, cur, version, store.ErrVersionMismatch)
	}
	return nil
}

// accountChildren are the tables whose rows die with their cloud account.
var accountChildren = []string{"inventory_units", "action_plans", "savings_ledger", "resource_costs", "actions", "recommendations", "cost_anomalies", "cost_records", "utilization", "resources", "agents", "enrollment_tokens"}

func (t *tenantStore) DeleteCloudAccount(ctx context.Context, id string, version int64) error {
	return t.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := t.checkVersion(ctx, tx, "cloud_accounts", "cloud account", id, version); err != nil {
			return err
		}
		for _, table := range accountChildren {
			if _, err := tx.ExecContext(ctx, t.q(`DELETE FROM `+table+` WHERE tenant_id = ? AND cloud_account_id = ?`), t.id, id); err != nil {
				return fmt.Errorf("delete cloud account %q: delete from %s: %w", id, table, err)
			}
		}
		if _, err := tx.ExecContext(ctx, t.q(`DELETE FROM cloud_accounts WHERE tenant_id = ? AND id = ?`), t.id, id); err != nil {
			return fmt.Errorf("delete cloud account %q: %w", id, err)
		}
		// Its resources went with it.
		if err := t.bumpInventoryVersion(ctx, tx); err != nil {
			return fmt.Errorf("delete cloud account %q: %w", id, err)
		}
		return nil
	})
}

func (t *tenantStore) ListCloudAccounts(ctx context.Context, p store.Page) ([]*sirsiv1.CloudAccount, string, error) {
	return listByID(ctx, t, "cloud_accounts", accountCols, p, scanAccount, func(a *sirsiv1.CloudAccount) string { return a.Id })
}

// listByID pages through a tenant table in id order.
func listByID[T any](ctx context.Context, t *tenantStore, table, cols string, p store.Page, scan func(interface{ Scan(...any) error }) (T, error), id func(T) string) ([]T, string, error) {
	return listWhere(ctx, t, table, cols, t.id, nil, p, scan, id)
}

// match is one condition of a filtered list: column = value.
type match struct {
	col string
	val any
}

// listWhere pages through the tenant's rows of table that satisfy every
// match, in id order; page tokens are bound to filter.
func listWhere[T any](ctx context.Context, t *tenantStore, table, cols string, filter any, matches []match, p store.Page,
	scan func(interface{ Scan(...any) error }) (T, error), id func(T) string) ([]T, string, error) {
	key, err := stringKey(table, filter, p.Token, 1)
	if err != nil {
		return nil, "", err
	}
	where, args := ` WHERE tenant_id = ?`, []any{t.id}
	for _, m := range matches {
		where += ` AND ` + m.col + ` = ?`
		args = append(args, m.val)
	}
	cond, args := after("id", key, args)
	n := pageSize(p)
	rows, err := t.s.r.QueryContext(ctx, t.q(`SELECT `+cols+` FROM `+table+where+cond+` ORDER BY id LIMIT `+fmt.Sprint(n+1)), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", table, err)
	}
	out, err := collect(rows, scan)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", table, err)
	}
	out, next := trim(out, n, func(v T) string { return encodePageToken(table, filter, []string{id(v)}) })
	return out, next, nil
}
