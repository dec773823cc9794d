package controlplane_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// cacheTenant is a tenant with a cloud account holding n resources named
// after prefix, so two tenants' pages differ in every resource.
func cacheTenant(t *testing.T, env *cptest.Env, name, prefix string, n int) (*cptest.Tenant, string) {
	t.Helper()
	tn := env.NewTenant(t, name)
	acct := env.NewCloudAccount(t, tn.ID, "123456789012")
	ingest(t, env, tn.ID, acct.Id, prefix, n)
	return tn, acct.Id
}

// ingest stores n resources named prefix-i through the store, as an
// agent's inventory batch does.
func ingest(t *testing.T, env *cptest.Env, tenantID, accountID, prefix string, n int) {
	t.Helper()
	var ups []*sirsiv1.Resource
	for i := range n {
		ups = append(ups, &sirsiv1.Resource{
			ResourceId: fmt.Sprintf("i-%08d", i), AccountId: "123456789012", Region: "us-east-1", Type: "aws_ec2_instance",
			Name: fmt.Sprintf("%s-%d", prefix, i), Size: "m5.large", State: "running",
			Tags: map[string]string{"env": "prod", "owner": prefix},
		})
	}
	batch := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
	if _, err := env.Store.Tenant(tenantID).ApplyInventory(context.Background(), accountID, batch, store.InventoryBatch{Upserts: ups, ObservedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// storeToken is the store's continuation inside a signed page token
// ("<store token>.<mac>", pagetoken.go); "" stays "".
func storeToken(t *testing.T, signed string) string {
	t.Helper()
	if signed == "" {
		return ""
	}
	i := strings.LastIndexByte(signed, '.')
	if i <= 0 || i == len(signed)-1 {
		t.Fatalf("page token %q is not signed", signed)
	}
	return signed[:i]
}

// wantPage checks that the served page equals the store's own answer to
// the same query, field by field, its next page token being the store's
// continuation signed.
func wantPage(t *testing.T, env *cptest.Env, tenantID string, req *sirsiv1.ListResourcesRequest, got *sirsiv1.ListResourcesResponse) {
	t.Helper()
	list, next, err := env.Store.Tenant(tenantID).ListResources(context.Background(),
		store.ResourceFilter{Tags: req.Tags, Region: req.Region}, store.Page{Size: int(req.PageSize), Token: storeToken(t, req.PageToken)})
	if err != nil {
		t.Fatal(err)
	}
	want := &sirsiv1.ListResourcesResponse{Resources: list, NextPageToken: next}
	served := &sirsiv1.ListResourcesResponse{Resources: got.Resources, NextPageToken: storeToken(t, got.NextPageToken)}
	if !proto.Equal(served, want) {
		t.Fatalf("tenant %s: served page differs from the store's:\n got %v\nwant %v", tenantID, got, want)
	}
}

func cacheLookups(t *testing.T, env *cptest.Env) (hits, misses float64) {
	t.Helper()
	return metricValue(t, env, "sirsi_list_cache_lookups_total", "outcome", "hit"),
		metricValue(t, env, "sirsi_list_cache_lookups_total", "outcome", "miss")
}

func list(t *testing.T, c sirsiv1.ManagementServiceClient, req *sirsiv1.ListResourcesRequest) *sirsiv1.ListResourcesResponse {
	t.Helper()
	r, err := c.ListResources(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Two tenants asking the same query with the same page token each get
// their own tenant's page, never the other's cached one.
func TestListCacheNoCrossTenantHit(t *testing.T) {
	env := cptest.Start(t)
	a, _ := cacheTenant(t, env, "tenant-a", "alpha", 5)
	b, _ := cacheTenant(t, env, "tenant-b", "bravo", 5)
	first := &sirsiv1.ListResourcesRequest{PageSize: 2, Tags: map[string]string{"env": "prod"}}

	reqA := proto.Clone(first).(*sirsiv1.ListResourcesRequest)
	reqA.TenantId = a.ID
	pageA := list(t, a.Viewer, reqA)
	wantPage(t, env, a.ID, reqA, pageA)
	if again := list(t, a.Viewer, reqA); !proto.Equal(again, pageA) {
		t.Fatalf("tenant a's repeated page differs: %v, first %v", again, pageA)
	}
	if hits, _ := cacheLookups(t, env); hits != 1 {
		t.Fatalf("%v cache hits after a repeated page, want 1", hits)
	}
	// Tenant a's signed token is refused to tenant b before any cache
	// lookup.
	stolen := proto.Clone(first).(*sirsiv1.ListResourcesRequest)
	stolen.TenantId, stolen.PageToken = b.ID, pageA.NextPageToken
	hitsBefore, missesBefore := cacheLookups(t, env)
	if _, err := b.Viewer.ListResources(context.Background(), stolen); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("tenant a's page token at tenant b: %v, want InvalidArgument", err)
	}
	if hits, misses := cacheLookups(t, env); hits != hitsBefore || misses != missesBefore {
		t.Fatalf("a refused token reached the cache (hits %v -> %v, misses %v -> %v)", hitsBefore, hits, missesBefore, misses)
	}
	// The same request, and then the next page with tenant b's own token
	// (the resource ids are tenant a's, so the store's continuations may be
	// alike), from tenant b.
	tok := ""
	for range 2 {
		req := proto.Clone(first).(*sirsiv1.ListResourcesRequest)
		req.TenantId, req.PageToken = b.ID, tok
		_, missesBefore := cacheLookups(t, env)
		got := list(t, b.Viewer, req)
		if _, misses := cacheLookups(t, env); misses != missesBefore+1 {
			t.Fatalf("token %q: tenant b's first request was not a miss (misses %v -> %v)", tok, missesBefore, misses)
		}
		wantPage(t, env, b.ID, req, got)
		for _, r := range got.Resources {
			if r.TenantId != b.ID || r.Tags["owner"] != "bravo" {
				t.Fatalf("tenant b was served %s of tenant %s", r.Name, r.TenantId)
			}
		}
		tok = got.NextPageToken
	}
}

// Paging through a whole tenant's inventory twice, the second time from
// the cache, yields every resource exactly once each time: each signed
// token the cache hands out is accepted for the next page, and the
// unsigned continuation inside it is refused.
func TestListCachePagesWholeInventoryWithSignedTokens(t *testing.T) {
	const n, size = 23, 5
	env := cptest.Start(t)
	tn, _ := cacheTenant(t, env, "tenant-a", "alpha", n)
	cacheTenant(t, env, "tenant-b", "bravo", n)
	for pass := range 2 {
		hitsBefore, _ := cacheLookups(t, env)
		seen := map[string]int{}
		tok, pages := "", 0
		for {
			req := &sirsiv1.ListResourcesRequest{TenantId: tn.ID, PageSize: size, PageToken: tok}
			got := list(t, tn.Viewer, req)
			wantPage(t, env, tn.ID, req, got)
			pages++
			for _, r := range got.Resources {
				if r.TenantId != tn.ID {
					t.Fatalf("pass %d: resource %s of tenant %s", pass, r.ResourceId, r.TenantId)
				}
				seen[r.ResourceId]++
			}
			if got.NextPageToken == "" {
				break
			}
			if pages > n {
				t.Fatalf("pass %d: more pages than resources", pass)
			}
			unsigned := &sirsiv1.ListResourcesRequest{TenantId: tn.ID, PageSize: size, PageToken: storeToken(t, got.NextPageToken)}
			if _, err := tn.Viewer.ListResources(context.Background(), unsigned); status.Code(err) != codes.InvalidArgument {
				t.Fatalf("pass %d: the unsigned continuation: %v, want InvalidArgument", pass, err)
			}
			tok = got.NextPageToken
		}
		if len(seen) != n {
			t.Fatalf("pass %d: %d distinct resources, want %d", pass, len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Fatalf("pass %d: resource %s listed %d times", pass, id, c)
			}
		}
		hits, _ := cacheLookups(t, env)
		if want := map[int]float64{0: 0, 1: float64(pages)}[pass]; hits-hitsBefore != want {
			t.Fatalf("pass %d: %v cache hits over %d pages, want %v", pass, hits-hitsBefore, pages, want)
		}
	}
}

// A page cached before an ingest is not served after the ingest has
// committed; the new one is cached in turn.
func TestListCacheInvalidatedByIngest(t *testing.T) {
	env := cptest.Start(t)
	tn, acct := cacheTenant(t, env, "tenant-a", "before", 3)
	req := &sirsiv1.ListResourcesRequest{TenantId: tn.ID}
	list(t, tn.Viewer, req)
	list(t, tn.Viewer, req)
	if hits, _ := cacheLookups(t, env); hits != 1 {
		t.Fatalf("%v cache hits after a repeated page, want 1", hits)
	}
	ingest(t, env, tn.ID, acct, "after", 3)
	got := list(t, tn.Viewer, req)
	wantPage(t, env, tn.ID, req, got)
	for _, r := range got.Resources {
		if r.Tags["owner"] != "after" {
			t.Fatalf("after the ingest, %s still has owner %q", r.ResourceId, r.Tags["owner"])
		}
	}
	if again := list(t, tn.Viewer, req); !proto.Equal(again, got) {
		t.Fatalf("the page after the ingest, served again, differs: %v, first %v", again, got)
	}
	if hits, _ := cacheLookups(t, env); hits != 2 {
		t.Fatalf("%v cache hits, want 2 (the new page cached)", hits)
	}
	// A cloud account's deletion takes its resources with it.
	accts, err := tn.Admin.ListCloudAccounts(context.Background(), &sirsiv1.ListCloudAccountsRequest{TenantId: tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tn.Admin.DeleteCloudAccount(context.Background(), &sirsiv1.DeleteCloudAccountRequest{TenantId: tn.ID, Id: acct, Version: accts.CloudAccounts[0].Version}); err != nil {
		t.Fatal(err)
	}
	if got := list(t, tn.Viewer, req); len(got.Resources) != 0 {
		t.Fatalf("after the account's deletion the page still lists %d resources", len(got.Resources))
	}
}

// The cache holds at most its bound in bytes, whatever is asked of it.
func TestListCacheMemoryBound(t *testing.T) {
	const bound = 4096
	env := cptest.Start(t, cptest.WithServerOptions(func(o *controlplane.Options) { o.ListCacheBytes = bound }))
	tn, _ := cacheTenant(t, env, "tenant-a", "bounded", 60)
	held := func() float64 {
		t.Helper()
		mfs, err := env.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "sirsi_list_cache_bytes" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no sirsi_list_cache_bytes gauge")
		return 0
	}
	walk := func() {
		tok := ""
		for {
			r := list(t, tn.Viewer, &sirsiv1.ListResourcesRequest{TenantId: tn.ID, PageSize: 3, PageToken: tok})
			if h := held(); h > bound || h <= 0 {
				t.Fatalf("cache holds %v bytes, bound %d", h, bound)
			}
			if tok = r.NextPageToken; tok == "" {
				return
			}
		}
	}
	walk()
	hits, _ := cacheLookups(t, env)
	// 20 pages of about 500 bytes each cannot all stay: walking again in
	// the same order finds each evicted before it is asked for again.
	walk()
	if again, _ := cacheLookups(t, env); again != hits {
		t.Fatalf("%v hits on the second walk through 20 pages with room for a few", again-hits)
	}
	last := list(t, tn.Viewer, &sirsiv1.ListResourcesRequest{TenantId: tn.ID, PageSize: 60})
	list(t, tn.Viewer, &sirsiv1.ListResourcesRequest{TenantId: tn.ID, PageSize: 60})
	if h, _ := cacheLookups(t, env); h != hits {
		// A 60-resource page is bigger than the whole bound: never stored.
		t.Fatalf("a page larger than the bound was served from the cache (%v hits)", h-hits)
	}
	wantPage(t, env, tn.ID, &sirsiv1.ListResourcesRequest{PageSize: 60}, last)
}

// Authentication and authorisation run before the cache: a cached page is
// refused to callers who may not read it.
func TestListCacheBehindAuthorization(t *testing.T) {
	env := cptest.Start(t)
	a, _ := cacheTenant(t, env, "tenant-a", "alpha", 3)
	b, _ := cacheTenant(t, env, "tenant-b", "bravo", 3)
	req := &sirsiv1.ListResourcesRequest{TenantId: a.ID}
	list(t, a.Viewer, req) // cached now
	tok, rec := env.NewAPIToken(t, a.ID, sirsiv1.Role_ROLE_VIEWER, 0)
	revoked := env.Dial(t, tok)
	list(t, revoked, req)
	if _, err := a.Admin.DeleteApiToken(context.Background(), &sirsiv1.DeleteApiTokenRequest{TenantId: a.ID, Id: rec.Id}); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		c    sirsiv1.ManagementServiceClient
		code codes.Code
	}{
		"other tenant's viewer": {b.Viewer, codes.PermissionDenied},
		"revoked token":         {revoked, codes.Unauthenticated},
		"no token":              {env.Dial(t, ""), codes.Unauthenticated},
	} {
		_, err := tc.c.ListResources(context.Background(), req)
		if status.Code(err) != tc.code {
			t.Errorf("%s: %v, want %v", name, err, tc.code)
		}
	}
}

// In-process callers (the web console) get the cached page's fields, not
// its encoding.
func TestListCacheInProcess(t *testing.T) {
	env := cptest.Start(t)
	tn, _ := cacheTenant(t, env, "tenant-a", "alpha", 3)
	req := &sirsiv1.ListResourcesRequest{TenantId: tn.ID}
	for range 2 {
		resp, err := env.Server.InvokeManagement(context.Background(), "ListResources", req, tn.ViewerToken, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		wantPage(t, env, tn.ID, req, resp.(*sirsiv1.ListResourcesResponse))
	}
	if hits, _ := cacheLookups(t, env); hits != 1 {
		t.Fatalf("%v cache hits, want 1", hits)
	}
}
