package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/crashpoint"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

const resourceCols = `tenant_id, cloud_account_id, region, type, resource_id, account_id, arn, name, size, state, tags, monthly_cost_micros, attributes, launch_time, first_seen_time, last_seen_time, record`

// upsertChunk is how many resources one INSERT carries: one statement per
// chunk instead of per row saves the round trips that dominate on
// PostgreSQL, and 100 rows x 17 columns stays far below both databases'
// bind-parameter limits.
const upsertChunk = 100

// resourceUpsertSQL upserts n resources; a resource seen before keeps its
// first-seen time, and a record older than the stored one (a batch re-sent
// after a newer sweep's) changes nothing.
func resourceUpsertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO resources (` + resourceCols + `) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(` ON CONFLICT (tenant_id, cloud_account_id, region, type, resource_id) DO UPDATE SET
account_id = excluded.account_id, arn = excluded.arn, name = excluded.name, size = excluded.size, state = excluded.state,
tags = excluded.tags, monthly_cost_micros = excluded.monthly_cost_micros, attributes = excluded.attributes,
launch_time = excluded.launch_time, last_seen_time = excluded.last_seen_time, record = excluded.record, stale = 0
WHERE resources.last_seen_time <= excluded.last_seen_time`)
	return b.String()
}

// recordOptions make equal resources encode to equal bytes.
var recordOptions = proto.MarshalOptions{Deterministic: true}

// resourceRecord is the stored form of a resource: the row's values exactly
// as the columns hold them (timestamps at nanosecond precision, absent
// when zero), without first_seen_time, which an upsert must not overwrite
// and which therefore lives only in its column.
func resourceRecord(tenantID, cloudAccountID string, r *sirsiv1.Resource, last int64) ([]byte, error) {
	rec := &sirsiv1.Resource{
		ResourceId: r.ResourceId, TenantId: tenantID, CloudAccountId: cloudAccountID, AccountId: r.AccountId,
		Region: r.Region, Type: r.Type, Arn: r.Arn, Name: r.Name, Size: r.Size, State: r.State,
		Tags: r.Tags, MonthlyCost: r.MonthlyCost, Attributes: r.Attributes,
		LaunchTime: ts(tsNanos(r.LaunchTime)), LastSeenTime: ts(last),
	}
	b, err := recordOptions.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode resource %s/%s/%s: %w", r.Region, r.Type, r.ResourceId, err)
	}
	return b, nil
}

// scanResourceRecord reads the (record, first_seen_time, last_seen_time,
// stale) row ListResources selects: a sweep's membership moves the last
// two without rewriting the record.
func scanResourceRecord(row interface{ Scan(...any) error }) (*sirsiv1.Resource, error) {
	// RawBytes: the decoder copies the record once itself.
	var rec sql.RawBytes
	var fs, ls, stale int64
	if err := row.Scan(&rec, &fs, &ls, &stale); err != nil {
		return nil, err
	}
	if len(rec) == 0 {
		return nil, fmt.Errorf("resource row has no record")
	}
	r, err := decodeResourceRecord(rec)
	if err != nil {
		return nil, err
	}
	r.FirstSeenTime, r.LastSeenTime, r.Stale = ts(fs), ts(ls), stale != 0
	return r, nil
}

// scanResourceColumns reads a resource from its individual columns, as
// rows written before the record column existed hold it.
func scanResourceColumns(row interface{ Scan(...any) error }) (*sirsiv1.Resource, error) {
	var r sirsiv1.Resource
	var tags, attrs string
	var lt, fs, ls int64
	var cost sql.NullInt64
	if err := row.Scan(&r.TenantId, &r.CloudAccountId, &r.Region, &r.Type, &r.ResourceId, &r.AccountId, &r.Arn, &r.Name, &r.Size, &r.State,
		&tags, &cost, &attrs, &lt, &fs, &ls); err != nil {
		return nil, err
	}
	r.MonthlyCost = usdMicros(cost)
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

// backfillResourceRecords writes the record of every resource whose record
// is NULL: stored before migration 2 added the column, or cleared by
// migration 8 when the monthly cost became a Money message.
func backfillResourceRecords(ctx context.Context, tx *sql.Tx, s *Store) error {
	rows, err := tx.QueryContext(ctx, `SELECT tenant_id, cloud_account_id, region, type, resource_id, account_id, arn, name, size, state,
tags, monthly_cost_micros, attributes, launch_time, first_seen_time, last_seen_time FROM resources WHERE record IS NULL`)
	if err != nil {
		return fmt.Errorf("read resources: %w", err)
	}
	// Read everything before writing: one transaction cannot interleave a
	// result set and updates on every driver.
	list, err := collect(rows, scanResourceColumns)
	if err != nil {
		return fmt.Errorf("read resources: %w", err)
	}
	for _, r := range list {
		key := []any{r.TenantId, r.CloudAccountId, r.Region, r.Type, r.ResourceId}
		// SQLite kept whatever bytes it was given, but a record, like a gRPC
		// response, must be UTF-8: one odd legacy row must not stop the
		// server from starting.
		for _, f := range []*string{&r.TenantId, &r.CloudAccountId, &r.Region, &r.Type, &r.ResourceId, &r.AccountId, &r.Arn, &r.Name, &r.Size, &r.State} {
			*f = strings.ToValidUTF8(*f, "\uFFFD")
		}
		rec, err := resourceRecord(r.TenantId, r.CloudAccountId, r, tsNanos(r.LastSeenTime))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE resources SET record = ? WHERE tenant_id = ? AND cloud_account_id = ? AND region = ? AND type = ? AND resource_id = ?`),
			append([]any{rec}, key...)...); err != nil {
			return fmt.Errorf("write record of resource %s/%s/%s: %w", r.Region, r.Type, r.ResourceId, err)
		}
	}
	return nil
}

func (t *tenantStore) ApplyInventory(ctx context.Context, cloudAccountID, batchID string, b store.InventoryBatch) (store.InventoryResult, error) {
	var res store.InventoryResult
	for i, r := range b.Upserts {
		if r == nil || r.ResourceId == "" || r.Type == "" || r.Region == "" {
			return res, invalid("apply inventory batch %q: upserts[%d]: resource_id, type and region are required", batchID, i)
		}
	}
	for i, d := range b.Deletions {
		if d == nil || d.ResourceId == "" || d.Type == "" || d.Region == "" {
			return res, invalid("apply inventory batch %q: deletions[%d]: resource_id, type and region are required", batchID, i)
		}
	}
	for i, u := range b.Units {
		if u == nil || u.Type == "" || u.Region == "" {
			return res, invalid("apply inventory batch %q: units[%d]: type and region are required", batchID, i)
		}
	}
	if len(b.Units) > 0 && b.ObservedAt.IsZero() {
		return res, invalid("apply inventory batch %q: units need the sweep's observe time", batchID)
	}
	ups := dedupeResources(b.Upserts)
	observed := nanos(b.ObservedAt)
	dup, _, err := t.applyBatch(ctx, "inventory", cloudAccountID, batchID, func(tx *sql.Tx) (string, error) {
		external, err := t.externalCandidates(ctx, tx, cloudAccountID, ups)
		if err != nil {
			return "", err
		}
		args := make([]any, 0, 17*upsertChunk)
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
				rec, err := resourceRecord(t.id, cloudAccountID, r, last)
				if err != nil {
					return "", invalid("apply inventory batch %q: %v", batchID, err)
				}
				args = append(args, t.id, cloudAccountID, r.Region, r.Type, r.ResourceId, r.AccountId, r.Arn, r.Name, r.Size, r.State,
					tags, microsArg(r.MonthlyCost), attrs, tsNanos(r.LaunchTime), first, last, rec)
			}
			if _, err := tx.ExecContext(ctx, t.q(resourceUpsertSQL(len(chunk))), args...); err != nil {
				return "", fmt.Errorf("upsert resources %d..%d: %w", start, start+len(chunk)-1, err)
			}
		}
		crashpoint.Hit(crashpoint.ServerAfterUpserts)
		for _, d := range b.Deletions {
			if _, err := tx.ExecContext(ctx, t.q(`DELETE FROM resources WHERE tenant_id = ? AND cloud_account_id = ? AND region = ? AND type = ? AND resource_id = ?`),
				t.id, cloudAccountID, d.Region, d.Type, d.ResourceId); err != nil {
				return "", fmt.Errorf("delete resource %s/%s/%s: %w", d.Region, d.Type, d.ResourceId, err)
			}
		}
		res.Missing = res.Missing[:0]
		for _, u := range b.Units {
			missing, err := t.applyUnit(ctx, tx, cloudAccountID, observed, u)
			if err != nil {
				return "", err
			}
			res.Missing = append(res.Missing, missing...)
		}
		if err := t.closeLedgerOnInventory(ctx, tx, cloudAccountID, b, ups, observed); err != nil {
			return "", err
		}
		if err := t.closeExecutedExternally(ctx, tx, cloudAccountID, external, ups, observed); err != nil {
			return "", err
		}
		if err := t.bumpInventoryVersion(ctx, tx); err != nil {
			return "", err
		}
		crashpoint.Hit(crashpoint.ServerBeforeCommit)
		return "", nil
	})
	if err != nil || dup {
		return store.InventoryResult{Duplicate: dup}, err
	}
	return res, nil
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
	if f.ResourceID != "" {
		where += ` AND resource_id = ?`
		args = append(args, f.ResourceID)
	}
	if len(f.Tags) > 0 {
		expr, targs, err := t.s.tagsMatch(f.Tags)
		if err != nil {
			return nil, "", fmt.Errorf("list resources: %w", err)
		}
		where += ` AND ` + expr
		args = append(args, targs...)
	}
	expr, sargs := t.s.searchMatch(f.Query)
	where += expr
	args = append(args, sargs...)
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
	// The limit stays a literal: as a parameter, PostgreSQL's generic plan
	// for the prepared statement cannot know it is small and picks a
	// bitmap scan and a sort of every row after the page's start (10x
	// slower at 20k resources) over walking the primary key in order.
	rows, err := t.s.queryReader(ctx, t.q(`SELECT record, first_seen_time, last_seen_time, stale FROM resources`+where+cond+
		` ORDER BY cloud_account_id, region, type, resource_id LIMIT `+strconv.Itoa(n+1)), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list resources: %w", err)
	}
	out, err := collect(rows, scanResourceRecord)
	if err != nil {
		return nil, "", fmt.Errorf("list resources: %w", err)
	}
	out, next := trim(out, n, func(r *sirsiv1.Resource) string {
		return encodePageToken("resources", f, []string{r.CloudAccountId, r.Region, r.Type, r.ResourceId})
	})
	return out, next, nil
}
