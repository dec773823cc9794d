package storetest

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

func listAllResources(t *testing.T, ts store.TenantStore, f store.ResourceFilter, size int) []*sirsiv1.Resource {
	t.Helper()
	var out []*sirsiv1.Resource
	tok := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		list, next, err := ts.ListResources(ctx(t), f, store.Page{Size: size, Token: tok})
		ok(t, err)
		if len(list) > size {
			t.Fatalf("page of %d, asked for %d", len(list), size)
		}
		out = append(out, list...)
		if next == "" {
			return out
		}
		tok = next
	}
}

func testInventory(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	a := newAccount(t, ts, "123456789012")
	obs := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	r1 := resource(1, "aws_ec2_instance", "us-east-1", map[string]string{"env": "prod", "team": "a"})
	r2 := resource(2, "aws_ec2_instance", "eu-west-1", map[string]string{"env": "dev"})
	r3 := resource(3, "aws_ebs_volume", "us-east-1", nil)
	dup := must(ts.ApplyInventory(c, a.Id, "b1", store.InventoryBatch{Upserts: []*sirsiv1.Resource{r1, r2, r3}, ObservedAt: obs})).Duplicate
	if dup {
		t.Fatal("first batch reported duplicate")
	}
	all := listAllResources(t, ts, store.ResourceFilter{}, 100)
	if len(all) != 3 {
		t.Fatalf("stored %d resources, want 3", len(all))
	}
	want := proto.Clone(r1).(*sirsiv1.Resource)
	want.TenantId, want.CloudAccountId = ts.TenantID(), a.Id
	want.FirstSeenTime, want.LastSeenTime = timestamppb.New(obs), timestamppb.New(obs)
	var got *sirsiv1.Resource
	for _, r := range all {
		if r.ResourceId == r1.ResourceId {
			got = r
		}
	}
	if !proto.Equal(got, want) {
		t.Fatalf("stored\n %v\nwant\n %v", got, want)
	}

	// The same batch id again changes nothing, even with other content.
	changed := proto.Clone(r1).(*sirsiv1.Resource)
	changed.Size = "m5.xlarge"
	dup = must(ts.ApplyInventory(c, a.Id, "b1", store.InventoryBatch{Upserts: []*sirsiv1.Resource{changed}, Deletions: []*sirsiv1.ResourceRef{{Type: r3.Type, Region: r3.Region, ResourceId: r3.ResourceId}}, ObservedAt: obs})).Duplicate
	if !dup {
		t.Fatal("repeated batch not reported duplicate")
	}
	if n := len(listAllResources(t, ts, store.ResourceFilter{}, 100)); n != 3 {
		t.Fatalf("duplicate batch changed the inventory: %d resources", n)
	}
	later := obs.Add(time.Hour)
	must(ts.ApplyInventory(c, a.Id, "b2", store.InventoryBatch{Upserts: []*sirsiv1.Resource{changed}, Deletions: []*sirsiv1.ResourceRef{{Type: r3.Type, Region: r3.Region, ResourceId: r3.ResourceId}}, ObservedAt: later}))
	all = listAllResources(t, ts, store.ResourceFilter{}, 100)
	if len(all) != 2 {
		t.Fatalf("after deletion %d resources, want 2", len(all))
	}
	for _, r := range all {
		if r.ResourceId == r1.ResourceId && (r.Size != "m5.xlarge" || !r.FirstSeenTime.AsTime().Equal(obs) || !r.LastSeenTime.AsTime().Equal(later)) {
			t.Fatalf("upsert = %v; want new size, first seen kept, last seen moved", r)
		}
	}

	// A resource reported twice in one batch: the last report wins.
	r3old := proto.Clone(r3).(*sirsiv1.Resource)
	r3old.State = "creating"
	must(ts.ApplyInventory(c, a.Id, "b3", store.InventoryBatch{Upserts: []*sirsiv1.Resource{r3old, r2, r3}, ObservedAt: obs}))
	for _, r := range listAllResources(t, ts, store.ResourceFilter{Type: r3.Type}, 100) {
		if r.State != r3.State {
			t.Fatalf("twice-reported resource stored as %q, want the last report %q", r.State, r3.State)
		}
	}
	b := newAccount(t, ts, "210987654321")
	must(ts.ApplyInventory(c, b.Id, "b4", store.InventoryBatch{Upserts: []*sirsiv1.Resource{resource(4, "aws_ec2_instance", "us-east-1", map[string]string{"env": "prod"})}, ObservedAt: obs}))
	for _, tc := range []struct {
		f    store.ResourceFilter
		want string
	}{
		{store.ResourceFilter{}, "[i-00000001 i-00000002 i-00000003 i-00000004]"},
		{store.ResourceFilter{CloudAccountID: b.Id}, "[i-00000004]"},
		{store.ResourceFilter{Type: "aws_ec2_instance"}, "[i-00000001 i-00000002 i-00000004]"},
		{store.ResourceFilter{Region: "us-east-1"}, "[i-00000001 i-00000003 i-00000004]"},
		{store.ResourceFilter{Tags: map[string]string{"env": "prod"}}, "[i-00000001 i-00000004]"},
		{store.ResourceFilter{Tags: map[string]string{"env": "prod", "team": "a"}}, "[i-00000001]"},
		{store.ResourceFilter{Tags: map[string]string{"env": "prod"}, CloudAccountID: a.Id, Region: "us-east-1", Type: "aws_ec2_instance"}, "[i-00000001]"},
		{store.ResourceFilter{Tags: map[string]string{"missing": ""}}, "[]"},
		{store.ResourceFilter{Type: "aws_rds_instance"}, "[]"},
		{store.ResourceFilter{ResourceID: "i-00000002"}, "[i-00000002]"},
		{store.ResourceFilter{ResourceID: "i-00000002", Region: "us-east-1"}, "[]"},
	} {
		var ids []string
		for _, r := range listAllResources(t, ts, tc.f, 1) {
			ids = append(ids, r.ResourceId)
		}
		sort.Strings(ids)
		if fmt.Sprint(ids) != tc.want && !(tc.want == "[]" && len(ids) == 0) {
			t.Errorf("filter %+v: got %v, want %s", tc.f, ids, tc.want)
		}
	}
	_, err := ts.ApplyInventory(c, "missing", "b5", store.InventoryBatch{Upserts: []*sirsiv1.Resource{r1}})
	wantErr(t, err, store.ErrFailedPrecondition, "inventory for missing account")
	_, err = ts.ApplyInventory(c, a.Id, "", store.InventoryBatch{})
	wantErr(t, err, store.ErrInvalidArgument, "empty batch id")
}

func testInventoryPagination(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	a := newAccount(t, ts, "123456789012")
	var ups []*sirsiv1.Resource
	for i := range 250 {
		region := []string{"us-east-1", "eu-west-1"}[i%2]
		ups = append(ups, resource(i, []string{"aws_ec2_instance", "aws_ebs_volume"}[i%3%2], region, map[string]string{"n": fmt.Sprint(i % 5)}))
	}
	must(ts.ApplyInventory(c, a.Id, "big", store.InventoryBatch{Upserts: ups, ObservedAt: time.Now()}))
	list, next, err := ts.ListResources(c, store.ResourceFilter{}, store.Page{})
	ok(t, err)
	if len(list) != store.DefaultPageSize || next == "" {
		t.Fatalf("default page: %d items, next %q", len(list), next)
	}
	all := listAllResources(t, ts, store.ResourceFilter{}, 100)
	if len(all) != 250 {
		t.Fatalf("paged through %d resources, want 250", len(all))
	}
	seen := map[string]bool{}
	for i, r := range all {
		k := r.Region + "/" + r.Type + "/" + r.ResourceId
		if seen[k] {
			t.Fatalf("%s listed twice", k)
		}
		seen[k] = true
		if i > 0 {
			p := all[i-1]
			if p.Region+"/"+p.Type+"/"+p.ResourceId >= k {
				t.Fatalf("not in key order: %s/%s/%s before %s", p.Region, p.Type, p.ResourceId, k)
			}
		}
	}
	if n := len(listAllResources(t, ts, store.ResourceFilter{Tags: map[string]string{"n": "3"}}, 7)); n != 50 {
		t.Fatalf("tag-filtered paging found %d, want 50", n)
	}
	_, _, err = ts.ListResources(c, store.ResourceFilter{}, store.Page{Token: "not-a-token"})
	wantErr(t, err, store.ErrInvalidPageToken, "garbage token")
	_, _, err = ts.ListResources(c, store.ResourceFilter{Region: "us-east-1"}, store.Page{Token: next})
	wantErr(t, err, store.ErrInvalidPageToken, "token reused with other filters")
	_, _, err = ts.ListPolicies(c, store.Page{Token: next})
	wantErr(t, err, store.ErrInvalidPageToken, "token of another list")
}

// testInventorySearch checks the free-text search's rules: every word
// in the name, id, type or a tag key or value; ASCII case ignored, other
// letters compared as they are; LIKE's wildcards taken literally; paged;
// the tenant's resources only.
func testInventorySearch(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	a := newAccount(t, ts, "123456789012")
	named := func(i int, typ, name string, tags map[string]string) *sirsiv1.Resource {
		r := resource(i, typ, "us-east-1", tags)
		r.Name = name
		return r
	}
	res := []*sirsiv1.Resource{
		named(1, "aws_ec2_instance", "web-1", map[string]string{"env": "prod", "Team": "Payments"}),
		named(2, "aws_ec2_instance", "web-2", map[string]string{"env": "dev"}),
		named(3, "aws_rds_instance", "orders-db", map[string]string{"env": "prod"}),
		named(4, "aws_ec2_instance", "100%_cpu", nil),
		named(5, "aws_lambda_function", "Édith", nil),
		named(6, "aws_ec2_instance", "batch", map[string]string{"owner": "web team"}),
	}
	must(ts.ApplyInventory(c, a.Id, "b1", store.InventoryBatch{Upserts: res, ObservedAt: time.Now()}))
	// Another tenant's matching resource is never found.
	other := newTenant(t, s, "other")
	oa := newAccount(t, other, "210987654321")
	must(other.ApplyInventory(c, oa.Id, "b1", store.InventoryBatch{Upserts: []*sirsiv1.Resource{named(7, "aws_ec2_instance", "web-7", map[string]string{"Team": "Payments"})}, ObservedAt: time.Now()}))
	for q, want := range map[string]string{
		"web":              "1,2,6", // names, and a tag value
		"WEB-":             "1,2",   // ASCII case ignored
		"payments":         "1",     // a tag value
		"team":             "1,6",   // a tag key, and a tag value
		"rds":              "3",     // the type
		"i-00000004":       "4",     // the id
		"web prod":         "1",     // every word must match
		"  web   PROD  ":   "1",     // words split on any run of spaces
		"%":                "4",     // LIKE's wildcards are literal
		"b_tch":            "",      // likewise (batch)
		"%_c":              "4",
		`\`:                "",            // and its escape character
		"Éd":               "5",           // non-ASCII letters compared as they are
		"éd":               "",            // (no case folding beyond ASCII)
		"nothing-like-it":  "",            // no match
		"":                 "1,2,3,4,5,6", // no search
		"env:prod":         "",            // a word does not span a key and its value
		"instance lambda":  "",            // no resource has both
		"lambda_function ": "5",
	} {
		for _, size := range []int{100, 1} {
			var got []string
			for _, r := range listAllResources(t, ts, store.ResourceFilter{Query: q}, size) {
				got = append(got, strings.TrimLeft(strings.TrimPrefix(r.ResourceId, "i-"), "0"))
			}
			sort.Strings(got)
			if strings.Join(got, ",") != want {
				t.Errorf("search %q (pages of %d) found %v, want %s", q, size, got, want)
			}
		}
	}
	// The search combines with the other filters.
	if l := listAllResources(t, ts, store.ResourceFilter{Query: "prod", Type: "aws_rds_instance"}, 10); len(l) != 1 || l[0].Name != "orders-db" {
		t.Errorf("search prod of type aws_rds_instance: %v", l)
	}
}

func testBadBatch(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	a := newAccount(t, ts, "123456789012")
	p := newPolicy(t, ts, "p")
	bad := []*sirsiv1.Resource{resource(1, "aws_ec2_instance", "us-east-1", nil), {ResourceId: "", Type: "aws_ec2_instance", Region: "us-east-1"}, resource(3, "aws_ec2_instance", "us-east-1", nil)}
	_, err := ts.ApplyInventory(c, a.Id, "b1", store.InventoryBatch{Upserts: bad})
	wantErr(t, err, store.ErrInvalidArgument, "batch with a bad row")
	if n := len(listAllResources(t, ts, store.ResourceFilter{}, 100)); n != 0 {
		t.Fatalf("bad batch wrote %d resources", n)
	}
	// The batch id was not consumed: the corrected batch applies.
	dup := must(ts.ApplyInventory(c, a.Id, "b1", store.InventoryBatch{Upserts: []*sirsiv1.Resource{bad[0], bad[2]}})).Duplicate
	if dup {
		t.Fatal("failed batch's id was recorded")
	}
	if n := len(listAllResources(t, ts, store.ResourceFilter{}, 100)); n != 2 {
		t.Fatalf("corrected batch wrote %d resources", n)
	}
	// A string that is not UTF-8 could be stored but never sent back over
	// gRPC: refused, and nothing of its batch written.
	notUTF8 := resource(5, "aws_ec2_instance", "us-east-1", nil)
	notUTF8.Name = "web-\xff"
	_, err = ts.ApplyInventory(c, a.Id, "b2", store.InventoryBatch{Upserts: []*sirsiv1.Resource{resource(4, "aws_ec2_instance", "us-east-1", nil), notUTF8}})
	wantErr(t, err, store.ErrInvalidArgument, "batch with a name that is not UTF-8")
	if n := len(listAllResources(t, ts, store.ResourceFilter{}, 100)); n != 2 {
		t.Fatalf("batch with a bad string left %d resources, want 2", n)
	}

	// A failure from the database half-way (a row that breaks a constraint
	// only the database checks) rolls back the rows before it too.
	_, err = ts.ApplyCosts(c, a.Id, "c1", []*sirsiv1.CostRecord{{Day: "2026-11-01", Service: "EC2", Amount: money.USDFromFloat(1)}, {Day: "2026-11-02", Service: "EC2", Amount: money.USDFromFloat(1)}},
		[]*sirsiv1.CostAnomaly{{Day: "2026-11-01", Service: "EC2"}, {Day: "2026-13-01", Service: "EC2"}})
	wantErr(t, err, store.ErrInvalidArgument, "costs with a bad day")
	if rows := must(ts.SumCosts(c, store.CostQuery{})); len(rows) != 0 {
		t.Fatalf("bad cost batch wrote %v", rows)
	}
	_, _, err = ts.ApplyRecommendations(c, a.Id, "r1", p.Id, nil, []*sirsiv1.Recommendation{{ResourceId: "i-1", Action: "stop"}, {ResourceId: "i-2"}})
	wantErr(t, err, store.ErrInvalidArgument, "recommendation without action")
	recs, _, _, err := ts.ListRecommendations(c, store.RecommendationFilter{}, store.Page{})
	ok(t, err)
	if len(recs) != 0 {
		t.Fatalf("bad recommendation batch wrote %d", len(recs))
	}
	_, err = ts.ApplyActions(c, a.Id, "a1", []*sirsiv1.Action{{Id: "x1", ResourceId: "i-1", Action: "stop"}, {ResourceId: "i-2", Action: "stop"}})
	wantErr(t, err, store.ErrInvalidArgument, "action without id")
	_, err = ts.ApplyUtilization(c, a.Id, "u1", []*sirsiv1.UtilizationSummary{{ResourceId: "i-1", Metric: "cpu_utilization"}, {ResourceId: "i-1"}})
	wantErr(t, err, store.ErrInvalidArgument, "utilization without metric")

	// A policy that is not there fails inside the transaction, after the
	// batch row was written: that must be rolled back as well.
	_, _, err = ts.ApplyRecommendations(c, a.Id, "r2", "missing-policy", nil, []*sirsiv1.Recommendation{{ResourceId: "i-1", Action: "stop"}})
	wantErr(t, err, store.ErrFailedPrecondition, "recommendations for a missing policy")
	ids, dup, err := ts.ApplyRecommendations(c, a.Id, "r2", p.Id, nil, []*sirsiv1.Recommendation{{ResourceId: "i-1", Action: "stop"}})
	ok(t, err)
	if dup || len(ids) != 1 {
		t.Fatalf("retry after a failed batch: ids %v duplicate %v", ids, dup)
	}
}

func testUtilization(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	a := newAccount(t, ts, "123456789012")
	w0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	sums := []*sirsiv1.UtilizationSummary{
		{ResourceId: "i-1", Region: "us-east-1", Metric: "cpu_utilization", Statistic: "p95", Value: 12.5, WindowStart: timestamppb.New(w0), WindowEnd: timestamppb.New(w0.Add(14 * 24 * time.Hour)), Coverage: 0.9},
		{ResourceId: "i-1", Region: "us-east-1", Metric: "cpu_utilization", Statistic: "Maximum", Value: 40},
		{ResourceId: "i-2", Region: "us-east-1", Metric: "network_in_bytes", Statistic: "Average", Value: 1000},
	}
	must(ts.ApplyUtilization(c, a.Id, "u1", sums))
	list, _, err := ts.ListUtilization(c, store.UtilizationFilter{ResourceID: "i-1"}, store.Page{})
	ok(t, err)
	if len(list) != 2 {
		t.Fatalf("i-1 summaries = %d", len(list))
	}
	var p95 *sirsiv1.UtilizationSummary
	for _, u := range list {
		if u.Statistic == "p95" {
			p95 = u
		}
	}
	want := proto.Clone(sums[0]).(*sirsiv1.UtilizationSummary)
	want.TenantId, want.CloudAccountId = ts.TenantID(), a.Id
	if !proto.Equal(p95, want) {
		t.Fatalf("stored %v, want %v", p95, want)
	}
	upd := proto.Clone(sums[0]).(*sirsiv1.UtilizationSummary)
	upd.Value = 20
	must(ts.ApplyUtilization(c, a.Id, "u2", []*sirsiv1.UtilizationSummary{upd}))
	list, _, err = ts.ListUtilization(c, store.UtilizationFilter{Metric: "cpu_utilization"}, store.Page{Size: 1})
	ok(t, err)
	if len(list) != 1 {
		t.Fatalf("page = %d", len(list))
	}
	all, _, err := ts.ListUtilization(c, store.UtilizationFilter{}, store.Page{})
	ok(t, err)
	if len(all) != 3 {
		t.Fatalf("upsert added a row: %d summaries", len(all))
	}
	for ids, want := range map[string]int{"i-1,i-2": 3, "i-2": 1, "i-2,nope": 1, "nope": 0} {
		l, _, err := ts.ListUtilization(c, store.UtilizationFilter{ResourceIDs: strings.Split(ids, ",")}, store.Page{})
		ok(t, err)
		if len(l) != want {
			t.Fatalf("summaries of %s: %d, want %d", ids, len(l), want)
		}
	}
	for _, u := range all {
		if u.Statistic == "p95" && u.Value != 20 {
			t.Fatalf("upsert did not replace the value: %v", u)
		}
	}
}

func testCosts(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	a := newAccount(t, ts, "123456789012")
	b := newAccount(t, ts, "210987654321")
	rec := func(day, acct, svc, region string, amount float64, tags map[string]string) *sirsiv1.CostRecord {
		return &sirsiv1.CostRecord{Day: day, AccountId: acct, Service: svc, Region: region, Amount: money.USDFromFloat(amount), Tags: tags}
	}
	must(ts.ApplyCosts(c, a.Id, "c1", []*sirsiv1.CostRecord{
		rec("2026-10-31", "123456789012", "EC2", "us-east-1", 5, map[string]string{"team": "a"}),
		rec("2026-11-01", "123456789012", "EC2", "us-east-1", 10, map[string]string{"team": "a"}),
		rec("2026-11-01", "123456789012", "EC2", "us-east-1", 1, map[string]string{"team": "b"}),
		rec("2026-11-01", "123456789012", "S3", "eu-west-1", 2, nil),
		rec("2026-11-02", "123456789012", "EC2", "us-east-1", 4, map[string]string{"team": "a"}),
	}, []*sirsiv1.CostAnomaly{{Day: "2026-11-01", Service: "EC2", ExpectedAmount: money.USDFromFloat(5), ActualAmount: money.USDFromFloat(11), Score: 3.2}}))
	must(ts.ApplyCosts(c, b.Id, "c2", []*sirsiv1.CostRecord{rec("2026-11-01", "210987654321", "EC2", "us-west-2", 100, nil)}, nil))
	// A record with the same day, account, service, region and tags
	// replaces the stored one.
	must(ts.ApplyCosts(c, a.Id, "c3", []*sirsiv1.CostRecord{rec("2026-11-01", "123456789012", "EC2", "us-east-1", 20, map[string]string{"team": "a"})}, nil))

	nov1, nov3 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	format := func(rows []store.CostRow, monthly bool) string {
		var out []string
		for _, r := range rows {
			layout := "2006-01-02"
			if monthly {
				layout = "2006-01"
			}
			out = append(out, fmt.Sprintf("%s/%s=%g%s", r.PeriodStart.Format(layout), r.Key, float64(r.AmountMicros)/money.MicrosPerUnit, r.Currency))
		}
		return fmt.Sprint(out)
	}
	for _, tc := range []struct {
		q    store.CostQuery
		want string
	}{
		{store.CostQuery{Start: nov1, End: nov3, GroupBy: "service"}, "[2026-11-01/EC2=121USD 2026-11-01/S3=2USD 2026-11-02/EC2=4USD]"},
		{store.CostQuery{Start: nov1, End: nov3}, "[2026-11-01/=123USD 2026-11-02/=4USD]"},
		{store.CostQuery{Start: nov1, End: nov3, GroupBy: "account"}, "[2026-11-01/123456789012=23USD 2026-11-01/210987654321=100USD 2026-11-02/123456789012=4USD]"},
		{store.CostQuery{Start: nov1, End: nov3, GroupBy: "region", CloudAccountID: a.Id}, "[2026-11-01/eu-west-1=2USD 2026-11-01/us-east-1=21USD 2026-11-02/us-east-1=4USD]"},
		{store.CostQuery{Start: nov1, End: nov3, GroupBy: "tag:team"}, "[2026-11-01/=102USD 2026-11-01/a=20USD 2026-11-01/b=1USD 2026-11-02/a=4USD]"},
		{store.CostQuery{Monthly: true, GroupBy: "service", CloudAccountID: a.Id}, "[2026-10/EC2=5USD 2026-11/EC2=25USD 2026-11/S3=2USD]"},
	} {
		if got := format(must(ts.SumCosts(c, tc.q)), tc.q.Monthly); got != tc.want {
			t.Errorf("SumCosts(%+v) = %s, want %s", tc.q, got, tc.want)
		}
	}
	_, err := ts.SumCosts(c, store.CostQuery{GroupBy: "color"})
	wantErr(t, err, store.ErrInvalidArgument, "unknown group by")

	// An amount Cost Explorer gave unreadably is stored unknown: counted
	// as such, absent from the sums, never 0.
	unknown := rec("2026-11-02", "123456789012", "S3", "eu-west-1", 0, nil)
	unknown.Amount = nil
	must(ts.ApplyCosts(c, a.Id, "c-unknown", []*sirsiv1.CostRecord{unknown, rec("2026-11-02", "123456789012", "EC2", "eu-west-1", 3, nil)}, nil))
	var known, unknowns int64
	for _, r := range must(ts.SumCosts(c, store.CostQuery{Start: nov1.AddDate(0, 0, 1), End: nov3, CloudAccountID: a.Id})) {
		known += r.AmountMicros
		unknowns += r.Unknown
	}
	if known != 7*money.MicrosPerUnit || unknowns != 1 {
		t.Errorf("2026-11-02 with an unknown amount: %d micro-USD known, %d unknown; want 7 USD and 1", known, unknowns)
	}

	// A second report of the same anomaly updates it in place.
	must(ts.ApplyCosts(c, a.Id, "c4", nil, []*sirsiv1.CostAnomaly{{Day: "2026-11-01", Service: "EC2", ExpectedAmount: money.USDFromFloat(5), ActualAmount: money.USDFromFloat(21), Score: 4}}))
	an, _, err := ts.ListCostAnomalies(c, store.Page{})
	ok(t, err)
	if len(an) != 1 || money.FloatOr(an[0].ActualAmount, math.NaN()) != 21 || an[0].CloudAccountId != a.Id || an[0].Id == "" {
		t.Fatalf("anomalies = %v", an)
	}
}

func testRecommendations(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	a := newAccount(t, ts, "123456789012")
	p := newPolicy(t, ts, "rightsize")
	rec := func(res, action string, savings float64) *sirsiv1.Recommendation {
		return &sirsiv1.Recommendation{ResourceId: res, ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: action,
			CurrentSize: "m5.xlarge", ProposedSize: "m5.large", EstimatedMonthlySavings: money.USDFromFloat(savings), Confidence: 0.9, Reason: "low cpu",
			Evidence: []*sirsiv1.Evidence{{Metric: "cpu_utilization", Statistic: "p95", Value: 7, WindowDays: 14, Coverage: 1}}}
	}
	ids, dup, err := ts.ApplyRecommendations(c, a.Id, "r1", p.Id, nil, []*sirsiv1.Recommendation{rec("i-1", "resize", 50), rec("i-2", "resize", 30), rec("i-3", "stop", 10)})
	ok(t, err)
	if dup || len(ids) != 3 {
		t.Fatalf("ids %v dup %v", ids, dup)
	}
	got := must(ts.GetRecommendation(c, ids[0]))
	if got.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN || got.PolicyId != p.Id || got.CloudAccountId != a.Id ||
		len(got.Evidence) != 1 || got.Evidence[0].WindowDays != 14 || money.FloatOr(got.EstimatedMonthlySavings, math.NaN()) != 50 {
		t.Fatalf("stored %v", got)
	}
	approved := must(ts.SetRecommendationStatus(c, ids[1], sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED))
	if approved.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED {
		t.Fatalf("set status = %v", approved)
	}
	list, _, total, err := ts.ListRecommendations(c, store.RecommendationFilter{}, store.Page{Size: 1})
	ok(t, err)
	if len(list) != 1 || money.Format(total) != "60.00 USD" {
		t.Fatalf("open list: %d items, total %s, want 1 and 60.00 USD", len(list), money.Format(total))
	}
	list, _, total, err = ts.ListRecommendations(c, store.RecommendationFilter{MinMonthlySavingsMicros: 20 * money.MicrosPerUnit, PolicyID: p.Id, ResourceType: "aws_ec2_instance"}, store.Page{})
	ok(t, err)
	if len(list) != 1 || list[0].Id != ids[0] || money.Format(total) != "50.00 USD" {
		t.Fatalf("filtered list = %v, total %s", list, money.Format(total))
	}
	list, _, total, err = ts.ListRecommendations(c, store.RecommendationFilter{ResourceID: "i-3"}, store.Page{})
	ok(t, err)
	if len(list) != 1 || list[0].Id != ids[2] || money.Format(total) != "10.00 USD" {
		t.Fatalf("list of i-3 = %v, total %s", list, money.Format(total))
	}

	// The new open set: i-1 again (same id), i-2 approved again (keeps id
	// and status), i-4 new; i-3 is no longer reported and is superseded.
	ids2, _, err := ts.ApplyRecommendations(c, a.Id, "r2", p.Id, nil, []*sirsiv1.Recommendation{rec("i-4", "resize", 5), rec("i-1", "resize", 55), rec("i-2", "resize", 31)})
	ok(t, err)
	if ids2[1] != ids[0] || ids2[2] != ids[1] || ids2[0] == ids[2] {
		t.Fatalf("second set ids %v, first %v", ids2, ids)
	}
	if r := must(ts.GetRecommendation(c, ids[0])); money.FloatOr(r.EstimatedMonthlySavings, math.NaN()) != 55 || r.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN {
		t.Fatalf("kept recommendation = %v", r)
	}
	if r := must(ts.GetRecommendation(c, ids[1])); r.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED || money.FloatOr(r.EstimatedMonthlySavings, math.NaN()) != 31 {
		t.Fatalf("approved recommendation = %v", r)
	}
	if r := must(ts.GetRecommendation(c, ids[2])); r.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_SUPERSEDED {
		t.Fatalf("unreported recommendation = %v", r)
	}
	// A repeated batch returns the first application's ids.
	again, dup, err := ts.ApplyRecommendations(c, a.Id, "r2", p.Id, nil, nil)
	ok(t, err)
	if !dup || fmt.Sprint(again) != fmt.Sprint(ids2) {
		t.Fatalf("duplicate batch: ids %v dup %v, want %v", again, dup, ids2)
	}
	sup, _, _, err := ts.ListRecommendations(c, store.RecommendationFilter{Status: sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_SUPERSEDED}, store.Page{})
	ok(t, err)
	if len(sup) != 1 || sup[0].Id != ids[2] {
		t.Fatalf("superseded = %v", sup)
	}
	_, err = ts.SetRecommendationStatus(c, "missing", sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_DISMISSED)
	wantErr(t, err, store.ErrNotFound, "status of missing")
	_, err = ts.GetRecommendation(c, "missing")
	wantErr(t, err, store.ErrNotFound, "get missing")

	// A report scoped to EBS volumes replaces the volumes' open set and
	// leaves the instances' recommendations (open and approved) alone; an
	// empty report of that scope closes only the volume's.
	vol := &sirsiv1.Recommendation{ResourceId: "vol-1", ResourceType: "aws_ebs_volume", Region: "us-east-1", Action: "migrate_gp3",
		CurrentSize: "gp2:100", ProposedSize: "gp3:100", EstimatedMonthlySavings: money.USDFromFloat(2)}
	volIDs, _, err := ts.ApplyRecommendations(c, a.Id, "r3", p.Id, []string{"aws_ebs_volume"}, []*sirsiv1.Recommendation{vol})
	ok(t, err)
	for _, id := range ids2 {
		if r := must(ts.GetRecommendation(c, id)); r.Status == sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_SUPERSEDED {
			t.Fatalf("a volume-scoped report superseded instance recommendation %v", r)
		}
	}
	_, _, err = ts.ApplyRecommendations(c, a.Id, "r4", p.Id, []string{"aws_ebs_volume"}, nil)
	ok(t, err)
	if r := must(ts.GetRecommendation(c, volIDs[0])); r.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_SUPERSEDED {
		t.Fatalf("volume recommendation after an empty volume report = %v", r)
	}
	if r := must(ts.GetRecommendation(c, ids[1])); r.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED {
		t.Fatalf("approved instance recommendation after a volume report = %v", r)
	}
}

func testActions(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	a := newAccount(t, ts, "123456789012")
	p := newPolicy(t, ts, "p")
	ids, _, err := ts.ApplyRecommendations(c, a.Id, "r1", p.Id, nil, []*sirsiv1.Recommendation{{ResourceId: "i-1", Action: "resize"}})
	ok(t, err)
	start := time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)
	act := &sirsiv1.Action{Id: "act-1", PolicyId: p.Id, RecommendationId: ids[0], ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1",
		Action: "resize", FromSize: "m5.xlarge", ToSize: "m5.large", Status: sirsiv1.ActionStatus_ACTION_STATUS_RUNNING, StartTime: timestamppb.New(start),
		Steps: []*sirsiv1.ActionStep{{Name: "stop", Status: "done", Time: timestamppb.New(start), Detail: "stopped"}}}
	must(ts.ApplyActions(c, a.Id, "a1", []*sirsiv1.Action{act}))
	list, _, err := ts.ListActions(c, store.ActionFilter{}, store.Page{})
	ok(t, err)
	want := proto.Clone(act).(*sirsiv1.Action)
	want.TenantId, want.CloudAccountId = ts.TenantID(), a.Id
	if len(list) != 1 || !proto.Equal(list[0], want) {
		t.Fatalf("stored %v, want %v", list, want)
	}
	done := proto.Clone(act).(*sirsiv1.Action)
	done.Status, done.RealizedMonthlySavings, done.EndTime = sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, money.USDFromFloat(35), timestamppb.New(start.Add(time.Hour))
	done.Steps = append(done.Steps, &sirsiv1.ActionStep{Name: "verify", Status: "ok"})
	failed := &sirsiv1.Action{Id: "act-2", PolicyId: p.Id, ResourceId: "i-2", Action: "stop", Status: sirsiv1.ActionStatus_ACTION_STATUS_FAILED, StartTime: timestamppb.New(start), Error: "boom"}
	rolled := &sirsiv1.Action{Id: "act-3", PolicyId: p.Id, ResourceId: "i-3", Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK, StartTime: timestamppb.New(start)}
	dry := &sirsiv1.Action{Id: "act-4", PolicyId: p.Id, ResourceId: "i-4", Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, DryRun: true, RealizedMonthlySavings: money.USDFromFloat(99), StartTime: timestamppb.New(start)}
	old := &sirsiv1.Action{Id: "act-5", PolicyId: "other", ResourceId: "i-5", Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, RealizedMonthlySavings: money.USDFromFloat(7), StartTime: timestamppb.New(start.AddDate(0, -1, 0))}
	must(ts.ApplyActions(c, a.Id, "a2", []*sirsiv1.Action{done, failed, rolled, dry, old}))
	got, _, err := ts.ListActions(c, store.ActionFilter{ResourceID: "i-1"}, store.Page{})
	ok(t, err)
	if len(got) != 1 || got[0].Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED || len(got[0].Steps) != 2 || money.FloatOr(got[0].RealizedMonthlySavings, math.NaN()) != 35 {
		t.Fatalf("upserted action = %v", got)
	}
	if r := must(ts.GetRecommendation(c, ids[0])); r.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED {
		t.Fatalf("recommendation of a succeeded action = %v", r.Status)
	}
	for _, tc := range []struct {
		f    store.ActionFilter
		want int
	}{
		{store.ActionFilter{}, 5},
		{store.ActionFilter{PolicyID: p.Id}, 4},
		{store.ActionFilter{Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED}, 3},
		{store.ActionFilter{Status: sirsiv1.ActionStatus_ACTION_STATUS_FAILED, PolicyID: p.Id}, 1},
	} {
		l, _, err := ts.ListActions(c, tc.f, store.Page{})
		ok(t, err)
		if len(l) != tc.want {
			t.Errorf("ListActions(%+v) = %d, want %d", tc.f, len(l), tc.want)
		}
	}
	// Every executed action of all time, by outcome; the dry run is none.
	sum := must(ts.SavingsSummary(c, start.Add(2*time.Hour)))
	if sum.ActionsTaken != 4 || sum.ActionsSucceeded != 2 || sum.ActionsFailed != 1 || sum.ActionsRolledBack != 1 {
		t.Fatalf("savings summary counts = %v", sum)
	}
}
