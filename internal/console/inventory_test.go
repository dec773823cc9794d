package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
)

// seedInventory reports, as an agent of tn's account, n resources named
// <prefix>-<i> (every third tagged team=payments) and a CPU summary for
// each even one, and returns the account's id.
func seedInventory(t *testing.T, env *cptest.Env, tn *cptest.Tenant, account, prefix string, n int) string {
	t.Helper()
	ctx := context.Background()
	acct := env.NewCloudAccount(t, tn.ID, account)
	ag := env.EnrollAgent(t, tn.ID, acct.Id)
	now := time.Now().UTC()
	var res []*sirsiv1.Resource
	var sums []*sirsiv1.UtilizationSummary
	for i := range n {
		r := &sirsiv1.Resource{ResourceId: fmt.Sprintf("%s-%03d", prefix, i), Region: "us-east-1", Type: "aws_ec2_instance",
			Name: fmt.Sprintf("%s-node-%d", prefix, i), Size: "m5.large", State: "running", AccountId: account,
			MonthlyCost: &sirsiv1.Money{CurrencyCode: "USD", Micros: int64(i+1) * 1_010_000}}
		if i%3 == 0 {
			r.Tags = map[string]string{"team": "payments"}
		}
		res = append(res, r)
		if i%2 == 0 {
			sums = append(sums, &sirsiv1.UtilizationSummary{ResourceId: r.ResourceId, Region: "us-east-1", Metric: "cpu_utilization", Statistic: "p95",
				Value: float64(i) + 0.25, WindowStart: timestamppb.New(now.Add(-14 * 24 * time.Hour)), WindowEnd: timestamppb.New(now), Coverage: 1})
		}
	}
	if _, err := ag.Client.ReportInventory(ctx, &sirsiv1.ReportInventoryRequest{BatchId: "inv-" + prefix, Upserts: res, ObserveTime: timestamppb.New(now)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.Client.ReportUtilization(ctx, &sirsiv1.ReportUtilizationRequest{BatchId: "util-" + prefix, Summaries: sums}); err != nil {
		t.Fatal(err)
	}
	return acct.Id
}

// inventoryFixture seeds nA resources in tenant A and nB in tenant B and
// signs a browser in as A's viewer.
func inventoryFixture(t *testing.T, nA, nB int) (*fixture, *browser) {
	t.Helper()
	f := newFixture(t)
	seedInventory(t, f.env, f.a, "111111111119", "i-alpha-inv", nA)
	seedInventory(t, f.env, f.b, "222222222229", "i-beta-inv", nB)
	b := f.browser(t)
	b.signIn(f.a.ViewerToken)
	return f, b
}

// inventoryPage is /ui/api/inventory's answer, decoded.
type inventoryPage struct {
	Resources     []*sirsiv1.Resource
	NextPageToken string
	Utilization   []*sirsiv1.UtilizationSummary
}

func (b *browser) inventory(req map[string]any, want int) (*inventoryPage, string) {
	b.t.Helper()
	var raw struct {
		Resources     []json.RawMessage `json:"resources"`
		NextPageToken string            `json:"next_page_token"`
		Utilization   []json.RawMessage `json:"utilization"`
	}
	body := b.getJSON("/ui/api/inventory"+q(req), want, nil)
	if want != http.StatusOK {
		return nil, body
	}
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		b.t.Fatalf("inventory: %v in %s", err, body)
	}
	p := &inventoryPage{NextPageToken: raw.NextPageToken}
	for _, r := range raw.Resources {
		m := &sirsiv1.Resource{}
		if err := protojson.Unmarshal(r, m); err != nil {
			b.t.Fatal(err)
		}
		p.Resources = append(p.Resources, m)
	}
	for _, u := range raw.Utilization {
		m := &sirsiv1.UtilizationSummary{}
		if err := protojson.Unmarshal(u, m); err != nil {
			b.t.Fatal(err)
		}
		p.Utilization = append(p.Utilization, m)
	}
	return p, body
}

// TestInventorySearchIsTheAPIs pages through a search in the console and
// compares every resource and utilisation summary, field by field, with
// what ListResources and ListUtilization answer for the same question.
func TestInventorySearchIsTheAPIs(t *testing.T) {
	f, b := inventoryFixture(t, 120, 30)
	ctx := context.Background()

	var got []*sirsiv1.Resource
	var util []*sirsiv1.UtilizationSummary
	req := map[string]any{"tenant_id": f.a.ID, "query": "PAYMENTS node", "page_size": 15}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		p, _ := b.inventory(req, http.StatusOK)
		if len(p.Resources) > 15 {
			t.Fatalf("a page of %d resources, asked for 15", len(p.Resources))
		}
		got = append(got, p.Resources...)
		util = append(util, p.Utilization...)
		if p.NextPageToken == "" {
			break
		}
		req["page_token"] = p.NextPageToken
	}
	// Independent of the API: the seed tagged every third of 120.
	if len(got) != 40 {
		t.Fatalf("search found %d resources, the seed tagged 40", len(got))
	}
	var want []*sirsiv1.Resource
	for token := ""; ; {
		page, err := f.a.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{TenantId: f.a.ID, Query: "PAYMENTS node", PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, page.Resources...)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if len(got) != len(want) {
		t.Fatalf("console found %d, API %d", len(got), len(want))
	}
	var ids []string
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("resource %d: console %v, API %v", i, got[i], want[i])
		}
		if got[i].Tags["team"] != "payments" || got[i].TenantId != f.a.ID {
			t.Fatalf("resource %v does not match the search", got[i])
		}
		ids = append(ids, got[i].ResourceId)
	}
	apiUtil, err := f.a.Viewer.ListUtilization(ctx, &sirsiv1.ListUtilizationRequest{TenantId: f.a.ID, ResourceIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	// Every third resource, and of those every even one, has a summary.
	if len(util) != 20 || len(util) != len(apiUtil.Summaries) {
		t.Fatalf("console has %d summaries, API %d, the seed 20", len(util), len(apiUtil.Summaries))
	}
	key := func(u *sirsiv1.UtilizationSummary) string { return u.ResourceId + "/" + u.Metric + "/" + u.Statistic }
	slices.SortFunc(util, func(a, b *sirsiv1.UtilizationSummary) int { return strings.Compare(key(a), key(b)) })
	slices.SortFunc(apiUtil.Summaries, func(a, b *sirsiv1.UtilizationSummary) int { return strings.Compare(key(a), key(b)) })
	for i, u := range util {
		if !proto.Equal(u, apiUtil.Summaries[i]) || !slices.Contains(ids, u.ResourceId) {
			t.Fatalf("summary %d: console %v, API %v", i, u, apiUtil.Summaries[i])
		}
	}
}

// TestInventoryRefusesBadRequestsAndLeaksNothing: another tenant, another
// tenant's resource ids, oversized and malformed searches.
func TestInventoryRefusesBadRequestsAndLeaksNothing(t *testing.T) {
	f, b := inventoryFixture(t, 5, 5)
	noLeak := func(t *testing.T, body string) {
		t.Helper()
		for _, secret := range []string{"i-beta", "beta-inv-node", "222222222229"} {
			if strings.Contains(body, secret) {
				t.Fatalf("the answer leaks %q: %s", secret, body)
			}
		}
	}
	for _, tc := range []struct {
		name string
		req  map[string]any
		want int
		why  string
	}{
		{"B's tenant", map[string]any{"tenant_id": f.b.ID}, http.StatusForbidden, ""},
		{"B's tenant searched", map[string]any{"tenant_id": f.b.ID, "query": "i-beta"}, http.StatusForbidden, ""},
		{"a search over 256 characters", map[string]any{"tenant_id": f.a.ID, "query": strings.Repeat("x", 257)}, http.StatusBadRequest, "query"},
		{"a search of 9 words", map[string]any{"tenant_id": f.a.ID, "query": "a b c d e f g h i"}, http.StatusBadRequest, "query"},
		{"a search with a control character", map[string]any{"tenant_id": f.a.ID, "query": "node\x00"}, http.StatusBadRequest, "query"},
		{"a page token of another search", map[string]any{"tenant_id": f.a.ID, "query": "node", "page_token": "bm9wZQ"}, http.StatusBadRequest, ""},
		{"a field ListResources does not have", map[string]any{"tenant_id": f.a.ID, "nope": 1}, http.StatusBadRequest, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, body := b.inventory(tc.req, tc.want)
			noLeak(t, body)
			if !strings.Contains(body, tc.why) {
				t.Fatalf("the refusal does not name %q: %s", tc.why, body)
			}
		})
	}
	// B's resource ids, searched in A's tenant: an empty page, not B's.
	for _, req := range []map[string]any{
		{"tenant_id": f.a.ID, "query": "i-beta-inv-001"},
		{"tenant_id": f.a.ID, "resource_id": "i-beta-inv-001"},
	} {
		p, body := b.inventory(req, http.StatusOK)
		if len(p.Resources) != 0 || len(p.Utilization) != 0 {
			t.Fatalf("A's search for B's id found %s", body)
		}
		noLeak(t, body)
	}
	// A 10 MB query string: refused by the listener (431) or the console
	// (414), and the console keeps serving.
	resp, err := b.c.Get(f.srv.URL + "/ui/api/inventory?q=" + strings.Repeat("a", 10<<20))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge && resp.StatusCode != http.StatusRequestURITooLong {
			t.Fatalf("10 MB query string: %s", resp.Status)
		}
	}
	if r2, _ := b.do("GET", "/ui/api/inventory?q="+strings.Repeat("a", 20<<10), nil, nil); r2.StatusCode != http.StatusRequestURITooLong {
		t.Fatalf("20 KB query string: %s", r2.Status)
	}
	// Signed out: nothing.
	anon := f.browser(t)
	_, body := anon.inventory(map[string]any{"tenant_id": f.a.ID}, http.StatusUnauthorized)
	if strings.Contains(body, "alpha-inv") {
		t.Fatalf("signed out, the inventory answers %s", body)
	}
	if p, _ := b.inventory(map[string]any{"tenant_id": f.a.ID, "query": "alpha-inv"}, http.StatusOK); len(p.Resources) != 5 || len(p.Utilization) != 3 {
		t.Fatalf("after the refusals, A's own inventory: %d resources, %d summaries", len(p.Resources), len(p.Utilization))
	}
}
