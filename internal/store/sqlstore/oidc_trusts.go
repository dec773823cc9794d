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

const oidcTrustCols = `id, tenant_id, name, issuer, audience, bound_claims, role, subject_claim, max_token_age, create_time, update_time, version`

func scanOIDCTrust(row interface{ Scan(...any) error }) (*sirsiv1.OidcTrust, error) {
	var o sirsiv1.OidcTrust
	var claims string
	var role, age, ct, ut int64
	if err := row.Scan(&o.Id, &o.TenantId, &o.Name, &o.Issuer, &o.Audience, &claims, &role, &o.SubjectClaim, &age, &ct, &ut, &o.Version); err != nil {
		return nil, err
	}
	o.Role, o.MaxTokenAge = sirsiv1.Role(role), dur(age)
	o.CreateTime, o.UpdateTime = ts(ct), ts(ut)
	return &o, decodeJSON(claims, &o.BoundClaims)
}

func boundClaimsJSON(m map[string]string) (string, error) {
	if m == nil {
		m = map[string]string{}
	}
	return encodeJSON(m)
}

func (t *tenantStore) CreateOIDCTrust(ctx context.Context, in *sirsiv1.OidcTrust) (*sirsiv1.OidcTrust, error) {
	o := proto.Clone(in).(*sirsiv1.OidcTrust)
	if o.Id == "" {
		o.Id = newID()
	}
	o.TenantId, o.Version = t.id, 1
	now := time.Now().UnixNano()
	o.CreateTime, o.UpdateTime = ts(now), ts(now)
	claims, err := boundClaimsJSON(o.BoundClaims)
	if err != nil {
		return nil, err
	}
	err = t.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := t.requireTenant(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, t.q(`INSERT INTO oidc_trusts (`+oidcTrustCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			o.Id, t.id, o.Name, o.Issuer, o.Audience, claims, int64(o.Role), o.SubjectClaim, durNanos(o.MaxTokenAge), now, now, o.Version)
		if t.s.d.IsUniqueViolation(err) {
			return fmt.Errorf("create OIDC trust %q: %w", o.Name, store.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("create OIDC trust %q: %w", o.Name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

func (t *tenantStore) GetOIDCTrust(ctx context.Context, id string) (*sirsiv1.OidcTrust, error) {
	o, err := scanOIDCTrust(t.s.r.QueryRowContext(ctx, t.q(`SELECT `+oidcTrustCols+` FROM oidc_trusts WHERE tenant_id = ? AND id = ?`), t.id, id))
	return o, notFound(err, "get OIDC trust %q", id)
}

func (t *tenantStore) UpdateOIDCTrust(ctx context.Context, in *sirsiv1.OidcTrust) (*sirsiv1.OidcTrust, error) {
	claims, err := boundClaimsJSON(in.BoundClaims)
	if err != nil {
		return nil, err
	}
	var out *sirsiv1.OidcTrust
	err = t.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := t.checkVersion(ctx, tx, "oidc_trusts", "OIDC trust", in.Id, in.Version); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, t.q(`UPDATE oidc_trusts SET name = ?, issuer = ?, audience = ?, bound_claims = ?, role = ?, subject_claim = ?, max_token_age = ?, update_time = ?, version = version + 1 WHERE tenant_id = ? AND id = ?`),
			in.Name, in.Issuer, in.Audience, claims, int64(in.Role), in.SubjectClaim, durNanos(in.MaxTokenAge), time.Now().UnixNano(), t.id, in.Id)
		if t.s.d.IsUniqueViolation(err) {
			return fmt.Errorf("update OIDC trust %q: name %q: %w", in.Id, in.Name, store.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("update OIDC trust %q: %w", in.Id, err)
		}
		out, err = scanOIDCTrust(tx.QueryRowContext(ctx, t.q(`SELECT `+oidcTrustCols+` FROM oidc_trusts WHERE tenant_id = ? AND id = ?`), t.id, in.Id))
		return notFound(err, "read updated OIDC trust %q", in.Id)
	})
	return out, err
}

func (t *tenantStore) DeleteOIDCTrust(ctx context.Context, id string, version int64) error {
	return t.s.inTx(ctx, func(tx *sql.Tx) error {
		if err := t.checkVersion(ctx, tx, "oidc_trusts", "OIDC trust", id, version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, t.q(`DELETE FROM oidc_trusts WHERE tenant_id = ? AND id = ?`), t.id, id); err != nil {
			return fmt.Errorf("delete OIDC trust %q: %w", id, err)
		}
		return nil
	})
}

func (t *tenantStore) ListOIDCTrusts(ctx context.Context, p store.Page) ([]*sirsiv1.OidcTrust, string, error) {
	return listByID(ctx, t, "oidc_trusts", oidcTrustCols, p, scanOIDCTrust, func(o *sirsiv1.OidcTrust) string { return o.Id })
}

func (s *Store) LookupOIDCTrusts(ctx context.Context, issuer string) ([]*sirsiv1.OidcTrust, error) {
	// Every OIDC-authenticated call runs this; the limit bounds the work a
	// token can cause whatever the table holds.
	rows, err := s.queryReader(ctx, s.q(`SELECT `+oidcTrustCols+` FROM oidc_trusts WHERE issuer = ? ORDER BY tenant_id, id LIMIT `+fmt.Sprint(store.MaxOIDCTrustsPerIssuer)), issuer)
	if err != nil {
		return nil, fmt.Errorf("look up OIDC trusts of an issuer: %w", err)
	}
	out, err := collect(rows, scanOIDCTrust)
	if err != nil {
		return nil, fmt.Errorf("look up OIDC trusts of an issuer: %w", err)
	}
	return out, nil
}
