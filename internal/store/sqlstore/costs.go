package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

const utilCols = `tenant_id, cloud_account_id, region, resource_id, metric, statistic, value, window_start, window_end, coverage`

func scanUtil(row interface{ Scan(...any) error }) (*sirsiv1.UtilizationSummary, error) {
	var u sirsiv1.UtilizationSummary
	var ws, we int64
	if err := row.Scan(&u.TenantId, &u.CloudAccountId, &u.Region, &u.ResourceId, &u.Metric, &u.Statistic, &u.Value, &ws, &we, &u.Coverage); err != nil {
		return nil, err
	}
	u.WindowStart, u.WindowEnd = ts(ws), ts(we)
	return &u, nil
}

func (t *tenantStore) ApplyUtilization(ctx context.Context, cloudAccountID, batchID string, sums []*sirsiv1.UtilizationSummary) (bool, error) {
	for i, u := range sums {
		if u == nil || u.ResourceId == "" || u.Metric == "" {
			return false, invalid("apply utilization batch %q: summaries[%d]: resource_id and metric are required", batchID, i)
		}
	}
	dup, _, err := t.applyBatch(ctx, "utilization", cloudAccountID, batchID, func(tx *sql.Tx) (string, error) {
		if len(sums) == 0 {
			return "", nil
		}
		st, err := prepared(ctx, tx, t.q(`INSERT INTO utilization (`+utilCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, cloud_account_id, region, resource_id, metric, statistic) DO UPDATE SET
value = excluded.value, window_start = excluded.window_start, window_end = excluded.window_end, coverage = excluded.coverage`))
		if err != nil {
			return "", err
		}
		defer st.Close()
		for _, u := range sums {
			if _, err := st.ExecContext(ctx, t.id, cloudAccountID, u.Region, u.ResourceId, u.Metric, u.Statistic, u.Value,
				tsNanos(u.WindowStart), tsNanos(u.WindowEnd), u.Coverage); err != nil {
				return "", fmt.Errorf("upsert utilization %s/%s: %w", u.ResourceId, u.Metric, err)
			}
		}
		return "", nil
	})
	return dup, err
}

func (t *tenantStore) ListUtilization(ctx context.Context, f store.UtilizationFilter, p store.Page) ([]*sirsiv1.UtilizationSummary, string, error) {
	key, err := stringKey("utilization", f, p.Token, 5)
	if err != nil {
		return nil, "", err
	}
	where, args := ` WHERE tenant_id = ?`, []any{t.id}
	if f.ResourceID != "" {
		where += ` AND resource_id = ?`
		args = append(args, f.ResourceID)
	}
	if len(f.ResourceIDs) > 0 {
		where += ` AND resource_id IN (?` + strings.Repeat(`, ?`, len(f.ResourceIDs)-1) + `)`
		for _, id := range f.ResourceIDs {
			args = append(args, id)
		}
	}
	if f.Metric != "" {
		where += ` AND metric = ?`
		args = append(args, f.Metric)
	}
	cond, args := after("cloud_account_id, region, resource_id, metric, statistic", key, args)
	n := pageSize(p)
	rows, err := t.s.r.QueryContext(ctx, t.q(`SELECT `+utilCols+` FROM utilization`+where+cond+
		` ORDER BY cloud_account_id, region, resource_id, metric, statistic LIMIT `+fmt.Sprint(n+1)), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list utilization: %w", err)
	}
	out, err := collect(rows, scanUtil)
	if err != nil {
		return nil, "", fmt.Errorf("list utilization: %w", err)
	}
	out, next := trim(out, n, func(u *sirsiv1.UtilizationSummary) string {
		return encodePageToken("utilization", f, []string{u.CloudAccountId, u.Region, u.ResourceId, u.Metric, u.Statistic})
	})
	return out, next, nil
}

const dayLayout = "2006-01-02"

func (t *tenantStore) ApplyCosts(ctx context.Context, cloudAccountID, batchID string, records []*sirsiv1.CostRecord, anomalies []*sirsiv1.CostAnomaly) (bool, error) {
	for i, r := range records {
		if r == nil {
			return false, invalid("apply cost batch %q: records[%d] is empty", batchID, i)
		}
		if _, err := time.Parse(dayLayout, r.Day); err != nil {
			return false, invalid("apply cost batch %q: records[%d].day %q is not YYYY-MM-DD", batchID, i, r.Day)
		}
	}
	for i, a := range anomalies {
		if a == nil {
			return false, invalid("apply cost batch %q: anomalies[%d] is empty", batchID, i)
		}
		if _, err := time.Parse(dayLayout, a.Day); err != nil {
			return false, invalid("apply cost batch %q: anomalies[%d].day %q is not YYYY-MM-DD", batchID, i, a.Day)
		}
		if a.ExpectedAmount == nil || a.ActualAmount == nil || a.ExpectedAmount.CurrencyCode != a.ActualAmount.CurrencyCode {
			return false, invalid("apply cost batch %q: anomalies[%d]: expected_amount and actual_amount are required, in one currency", batchID, i)
		}
	}
	dup, _, err := t.applyBatch(ctx, "costs", cloudAccountID, batchID, func(tx *sql.Tx) (string, error) {
		if len(records) > 0 {
			st, err := prepared(ctx, tx, t.q(`INSERT INTO cost_records (tenant_id, cloud_account_id, day, account_id, service, region, tags, amount_micros, currency)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, cloud_account_id, day, account_id, service, region, tags) DO UPDATE SET amount_micros = excluded.amount_micros, currency = excluded.currency`))
			if err != nil {
				return "", err
			}
			defer st.Close()
			for _, r := range records {
				tags, err := stringMap(r.Tags)
				if err != nil {
					return "", err
				}
				// An unknown amount is stored as NULL, never 0.
				var amount any
				if r.Amount != nil {
					amount = r.Amount.Micros
				}
				if _, err := st.ExecContext(ctx, t.id, cloudAccountID, r.Day, r.AccountId, r.Service, r.Region, tags, amount, r.GetAmount().GetCurrencyCode()); err != nil {
					return "", fmt.Errorf("upsert cost record %s %s: %w", r.Day, r.Service, err)
				}
			}
		}
		events := make([]outboxEvent, 0, len(anomalies))
		for _, a := range anomalies {
			id := a.Id
			if id == "" {
				id = newID()
			}
			// RETURNING gives the id kept by an anomaly seen before, which
			// its event must carry.
			if err := tx.QueryRowContext(ctx, t.q(`INSERT INTO cost_anomalies (tenant_id, id, cloud_account_id, day, service, expected_amount_micros, actual_amount_micros, currency, score, detect_time)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, cloud_account_id, day, service) DO UPDATE SET
expected_amount_micros = excluded.expected_amount_micros, actual_amount_micros = excluded.actual_amount_micros, currency = excluded.currency,
score = excluded.score, detect_time = excluded.detect_time RETURNING id`),
				t.id, id, cloudAccountID, a.Day, a.Service, a.ExpectedAmount.Micros, a.ActualAmount.Micros, a.ExpectedAmount.CurrencyCode, a.Score, tsNanos(a.DetectTime)).Scan(&id); err != nil {
				return "", fmt.Errorf("upsert cost anomaly %s %s: %w", a.Day, a.Service, err)
			}
			stored := proto.CloneOf(a)
			stored.Id, stored.TenantId, stored.CloudAccountId = id, t.id, cloudAccountID
			events = append(events, anomalyEvent(stored))
		}
		return "", t.enqueueEvents(ctx, tx, events)
	})
	return dup, err
}

func (t *tenantStore) SumCosts(ctx context.Context, q store.CostQuery) ([]store.CostRow, error) {
	var keyExpr string
	var args []any
	switch g := q.GroupBy; {
	case g == "":
		keyExpr = `''`
	case g == "service", g == "region":
		keyExpr = g
	case g == "account":
		keyExpr = `account_id`
	case strings.HasPrefix(g, "tag:") && len(g) > len("tag:"):
		expr, arg := t.s.d.JSONField("tags", strings.TrimPrefix(g, "tag:"))
		keyExpr = `COALESCE(` + expr + `, '')`
		args = append(args, arg)
	default:
		return nil, invalid("sum costs: group by %q is not one of service, account, region, tag:<key>", g)
	}
	period := `day`
	if q.Monthly {
		period = `substr(day, 1, 7)`
	}
	where := ` WHERE tenant_id = ?`
	args = append(args, t.id)
	if !q.Start.IsZero() {
		where += ` AND day >= ?`
		args = append(args, q.Start.UTC().Format(dayLayout))
	}
	if !q.End.IsZero() {
		where += ` AND day < ?`
		args = append(args, q.End.UTC().Format(dayLayout))
	}
	if q.CloudAccountID != "" {
		where += ` AND cloud_account_id = ?`
		args = append(args, q.CloudAccountID)
	}
	rows, err := t.s.r.QueryContext(ctx, t.q(`SELECT `+period+` AS period, `+keyExpr+` AS group_key, currency, COALESCE(SUM(amount_micros), 0), COUNT(*) - COUNT(amount_micros)
FROM cost_records`+where+` GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`), args...)
	if err != nil {
		return nil, fmt.Errorf("sum costs: %w", err)
	}
	defer rows.Close()
	var out []store.CostRow
	for rows.Next() {
		var p string
		var r store.CostRow
		if err := rows.Scan(&p, &r.Key, &r.Currency, &r.AmountMicros, &r.Unknown); err != nil {
			return nil, fmt.Errorf("sum costs: %w", err)
		}
		layout := dayLayout
		if q.Monthly {
			layout = "2006-01"
		}
		if r.PeriodStart, err = time.Parse(layout, p); err != nil {
			return nil, fmt.Errorf("sum costs: stored day %q: %w", p, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sum costs: %w", err)
	}
	return out, nil
}

const anomalyCols = `id, tenant_id, cloud_account_id, day, service, expected_amount_micros, actual_amount_micros, currency, score, detect_time`

func scanAnomaly(row interface{ Scan(...any) error }) (*sirsiv1.CostAnomaly, error) {
	var a sirsiv1.CostAnomaly
	var dt, expected, actual int64
	var cur string
	if err := row.Scan(&a.Id, &a.TenantId, &a.CloudAccountId, &a.Day, &a.Service, &expected, &actual, &cur, &a.Score, &dt); err != nil {
		return nil, err
	}
	a.ExpectedAmount, a.ActualAmount = money.Micros(expected, cur), money.Micros(actual, cur)
	a.DetectTime = ts(dt)
	return &a, nil
}

func (t *tenantStore) ListCostAnomalies(ctx context.Context, p store.Page) ([]*sirsiv1.CostAnomaly, string, error) {
	return listByID(ctx, t, "cost_anomalies", anomalyCols, p, scanAnomaly, func(a *sirsiv1.CostAnomaly) string { return a.Id })
}
