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

const policyCols = `id, tenant_id, name, mode, spec, create_time, update_time, version`

// policySpec is the policy without the columns the store owns; it is kept
// whole as JSON because nothing queries inside it.
func policySpec(p *sirsiv1.OptimizationPolicy) (string, error) {
	spec := proto.Clone(p).(*sirsiv1.OptimizationPolicy)
	spec.Id, spec.TenantId, spec.Name, spec.Mode = "", "", "", 0
	spec.CreateTime, spec.UpdateTime, spec.Version = nil, nil, 0
	return encodeProto(spec)
}

func scanPolicy(row interface{ Scan(...any) error }) (*sirsiv1.OptimizationPolicy, error) {
	var id, tenant, name, spec string
	var mode, ct, ut, version int64
	if err := row.Scan(&id, &tenant, &name, &mode, &spec, &ct, &ut, &version); err != nil {
		return nil, err
	}
	p := &sirsiv1.OptimizationPolicy{}
	if err := decodeProto(spec, p); err != nil {
		return nil, err
	}
	p.Id, p.TenantId, p.Name, p.Mode = id, tenant, name, sirsiv1.PolicyMode(mode)
	p.CreateTime, p.UpdateTime, p.Version = ts(ct), ts(ut), version
	return p, nil
}

func (t *tenantStore) CreatePolicy(ctx context.Context, in *sirsiv1.OptimizationPolicy) (*sirsiv1.OptimizationPolicy, error) {
	p := proto.Clone(in).(*sirsiv1.OptimizationPolicy)
	if p.Id == "" {
		p.Id = newID()
	}
	now := time.Now().UnixNano()
	p.TenantId, p.CreateTime, p.UpdateTime, p.Version = t.id, ts(now), ts(now), 1
	spec, err := policySpec(p)
	if err != nil {
		return nil, err
	}
	err = t.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := t.requireTenant(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, t.q(`INSERT INTO policies (`+policyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			p.Id, t.id, p.Name, int64(p.Mode), spec, now, now, p.Version)
		if t.s.d.IsUniqueViolation(err) {
			return fmt.Errorf("create policy %q: %w", p.Name, store.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("create policy %q: %w", p.Name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (t *tenantStore) GetPolicy(ctx context.Context, id string) (*sirsiv1.OptimizationPolicy, error) {
	p, err := scanPolicy(t.s.r.QueryRowContext(ctx, t.q(`SELECT `+policyCols+` FROM policies WHERE tenant_id = ? AND id = ?`), t.id, id))
	return p, notFound(err, "get policy %q", id)
}

func (t *tenantStore) UpdatePolicy(ctx context.Context, in *sirsiv1.OptimizationPolicy) (*sirsiv1.OptimizationPolicy, error) {
	spec, err := policySpec(in)
	if err != nil {
		return nil, err
	}
	var out *sirsiv1.OptimizationPolicy
	err = t.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := t.checkVersion(ctx, tx, "policies", "policy", in.Id, in.Version); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, t.q(`UPDATE policies SET name = ?, mode = ?, spec = ?, update_time = ?, version = version + 1 WHERE tenant_id = ? AND id = ?`),
			in.Name, int64(in.Mode), spec, time.Now().UnixNano(), t.id, in.Id)
		if t.s.d.IsUniqueViolation(err) {
			return fmt.Errorf("update policy %q: name %q: %w", in.Id, in.Name, store.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("update policy %q: %w", in.Id, err)
		}
		out, err = scanPolicy(tx.QueryRowContext(ctx, t.q(`SELECT `+policyCols+` FROM policies WHERE tenant_id = ? AND id = ?`), t.id, in.Id))
		return notFound(err, "read updated policy %q", in.Id)
	})
	return out, err
}

func (t *tenantStore) DeletePolicy(ctx context.Context, id string, version int64) error {
	return t.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := t.checkVersion(ctx, tx, "policies", "policy", id, version); err != nil {
			return err
		}
		// Recommendations exist only under their policy; actions are
		// history and keep the policy id as a plain value.
		if _, err := tx.ExecContext(ctx, t.q(`DELETE FROM recommendations WHERE tenant_id = ? AND policy_id = ?`), t.id, id); err != nil {
			return fmt.Errorf("delete policy %q: delete its recommendations: %w", id, err)
		}
		// A saved plan is only ever carried out under its policy.
		if _, err := tx.ExecContext(ctx, t.q(`DELETE FROM action_plans WHERE tenant_id = ? AND policy_id = ?`), t.id, id); err != nil {
			return fmt.Errorf("delete policy %q: delete its action plans: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, t.q(`DELETE FROM policies WHERE tenant_id = ? AND id = ?`), t.id, id); err != nil {
			return fmt.Errorf("delete policy %q: %w", id, err)
		}
		return nil
	})
}

func (t *tenantStore) ListPolicies(ctx context.Context, p store.Page) ([]*sirsiv1.OptimizationPolicy, string, error) {
	return listByID(ctx, t, "policies", policyCols, p, scanPolicy, func(p *sirsiv1.OptimizationPolicy) string { return p.Id })
}
