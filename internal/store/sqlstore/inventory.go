package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

const resourceCols = `tenant_id, cloud_account_id, region, type, resource_id, account_id, arn, name, size, state, tags, monthly_cost, attributes, launch_time, first_seen_time, last_seen_time`

// upsertChunk is how many resources one INSERT carries: one statement per
// chunk instead of per row saves the round trips that dominate on
// PostgreSQL, and 100 rows x 16 columns stays far below both databases'
// bind-parameter limits.
const upsertChunk = 100

// resourceUpsertSQL upserts n resources; a resource seen before keeps its
// first-seen time.
func resourceUpsertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO resources (` + resourceCols + `) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(` ON CONFLICT (tenant_id, cloud_account_id, region, type, resource_id) DO UPDATE SET
account_id = excluded.account_id, arn = excluded.arn, name = excluded.name, size = excluded.size, state = excluded.state,
tags = excluded.tags, monthly_cost = excluded.monthly_cost, attributes = excluded.attributes,
launch_time = excluded.launch_time, last_seen_time = excluded.last_seen_time`)
	return b.String()
}

func scanResource(row interface{ Scan(...any) error }) (*sirsiv1.Resource, error) {
	var r sirsiv1.Resource
	var tags, attrs string
	var lt, fs, ls int64
	if err := row.Scan(&r.TenantId, &r.CloudAccountId, &r.Region, &r.Type, &r.ResourceId, &r.AccountId, &r.Arn, &r.Name, &r.Size, &r.State,
		&tags, &r.MonthlyCost, &attrs, &lt, &fs, &ls); err != nil {
		return nil, err
	}
	r.LaunchTime, r.FirstSeenTime, r.LastSeenTime = ts(lt), ts(fs), ts(ls)
	var err error
	if r.Tags, err = readStringMap(tags); err != nil {
		return nil, err
	}
	if r.Attributes, err = readStringMap(attrs); err != nil {
		return nil, err
	}
	return &r, nil
}

func (t *tenantStore) ApplyInventory(ctx context.Context, cloudAccountID, batchID string, b store.InventoryBatch) (bool, error) {
	for i, r := range b.Upserts {
		if r == nil || r.ResourceId == "" || r.Type == "" || r.Region == "" {
			return false, invalid("apply inventory batch %q: upserts[%d]: resource_id, type and region are required", batchID, i)
		}
	}
	for i, d := range b.Deletions {
		if d == nil || d.ResourceId == "" || d.Type == "" || d.Region == "" {
			return false, invalid("apply inventory batch %q: deletions[%d]: resource_id, type and region are required", batchID, i)
		}
	}
	ups := dedupeResources(b.Upserts)
	observed := nanos(b.ObservedAt)
	dup, _, err := t.applyBatch(ctx, "inventory", cloudAccountID, batchID, func(tx *sql.Tx) (string, error) {
		args := make([]any, 0, 16*upsertChunk)
		for start := 0; start < len(ups); start += upsertChunk {
			chunk := ups[start:min(start+upsertChunk, len(ups))]
			args = args[:0]
			for _, r := range chunk {
				tags, err := stringMap(r.Tags)
				if err != nil {
					return "", err
				}
				attrs, err := stringMap(r.Attributes)
				if err != nil {
					return "", err
				}
				first, last := tsNanos(r.FirstSeenTime), tsNanos(r.LastSeenTime)
				if first == 0 {
					first = observed
				}
				if last == 0 {
					last = observed
				}
				args = append(args, t.id, cloudAccountID, r.Region, r.Type, r.ResourceId, r.AccountId, r.Arn, r.Name, r.Size, r.State,
					tags, r.MonthlyCost, attrs, tsNanos(r.LaunchTime), first, last)
			}
			if _, err := tx.ExecContext(ctx, t.q(resourceUpsertSQL(len(chunk))), args...); err != nil {
				return "", fmt.Errorf("upsert resources %d..%d: %w", start, start+len(chunk)-1, err)
			}
		}
		for _, d := range b.Deletions {
			if _, err := tx.ExecContext(ctx, t.q(`DELETE FROM resources WHERE tenant_id = ? AND cloud_account_id = ? AND region = ? AND type = ? AND resource_id = ?`),
				t.id, cloudAccountID, d.Region, d.Type, d.ResourceId); err != nil {
				return "", fmt.Errorf("delete resource %s/%s/%s: %w", d.Region, d.Type, d.ResourceId, err)
			}
		}
		return "", nil
	})
	return dup, err
}

// dedupeResources returns the upserts in key order, the last report of a
// resource winning: one statement may not upsert a row twice, and writing
// in key order means two transactions touching the same resources lock
// them in the same order and cannot deadlock.
func dedupeResources(in []*sirsiv1.Resource) []*sirsiv1.Resource {
	ups := slices.Clone(in)
	sort.SliceStable(ups, func(i, j int) bool {
		a, c := ups[i], ups[j]
		return cmp.Or(cmp.Compare(a.Region, c.Region), cmp.Compare(a.Type, c.Type), cmp.Compare(a.ResourceId, c.ResourceId)) < 0
	})
	out := ups[:0]
	for i, r := range ups {
		if i+1 < len(ups) {
			n := ups[i+1]
			if n.Region == r.Region && n.Type == r.Type && n.ResourceId == r.ResourceId {
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

func (t *tenantStore) ListResources(ctx context.Context, f store.ResourceFilter, p store.Page) ([]*sirsiv1.Resource, string, error) {
	key, err := stringKey("resources", f, p.Token, 4)
	if err != nil {
		return nil, "", err
	}
	where, args := ` WHERE tenant_id = ?`, []any{t.id}
	if f.CloudAccountID != "" {
		where += ` AND cloud_account_id = ?`
		args = append(args, f.CloudAccountID)
	}
	if f.Type != "" {
		where += ` AND type = ?`
		args = append(args, f.Type)
	}
	if f.Region != "" {
		where += ` AND region = ?`
		args = append(args, f.Region)
	}
	tagKeys := make([]string, 0, len(f.Tags))
	for k := range f.Tags {
		tagKeys = append(tagKeys, k)
	}
	sort.Strings(tagKeys)
	for _, k := range tagKeys {
		expr, arg := t.s.d.JSONField("tags", k)
		where += ` AND ` + expr + ` = ?`
		args = append(args, arg, f.Tags[k])
	}
	// Columns fixed by an equality filter leave the keyset comparison, so
	// the comparison lines up with the filter's index and is one range
	// scan instead of a scan of everything after a prefix.
	var cols []string
	var keyArgs []any
	for i, c := range []struct {
		col   string
		fixed bool
	}{{"cloud_account_id", f.CloudAccountID != ""}, {"region", f.Region != ""}, {"type", f.Type != ""}, {"resource_id", false}} {
		if !c.fixed {
			cols = append(cols, c.col)
			if key != nil {
				keyArgs = append(keyArgs, key[i])
			}
		}
	}
	cond, args := after(strings.Join(cols, ", "), keyArgs, args)
	n := pageSize(p)
	rows, err := t.s.r.QueryContext(ctx, t.q(`SELECT `+resourceCols+` FROM resources`+where+cond+
		` ORDER BY cloud_account_id, region, type, resource_id LIMIT `+fmt.Sprint(n+1)), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list resources: %w", err)
	}
	out, err := collect(rows, scanResource)
	if err != nil {
		return nil, "", fmt.Errorf("list resources: %w", err)
	}
	out, next := trim(out, n, func(r *sirsiv1.Resource) string {
		return encodePageToken("resources", f, []string{r.CloudAccountId, r.Region, r.Type, r.ResourceId})
	})
	return out, next, nil
}
