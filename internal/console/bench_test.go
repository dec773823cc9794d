package console_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/console"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
)

// benchResources is the tenant size the issue asks the overview to be
// fast for.
const benchResources = 20_000

// BenchmarkConsole measures the server side of the console's busiest
// reads for a tenant with 20,000 resources, 30 days of costs over 8
// services and 2,000 open recommendations (SQLite): the overview, the
// first inventory page and inventory searches, each a whole HTTP handler
// run with the session cookie, through ManagementService's
// authentication and authorisation.
func BenchmarkConsole(b *testing.B) {
	env, tn := benchTenant(b)
	h := console.New(console.Options{API: env.Server, Changes: console.NewHub(nil)})
	get := func(b *testing.B, path string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(&http.Cookie{Name: "sirsi_console", Value: tn.ViewerToken})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
		}
	}
	b.Run("overview", func(b *testing.B) {
		for b.Loop() {
			get(b, "/ui/api/overview")
		}
	})
	b.Run("inventory_first_page", func(b *testing.B) {
		path := "/ui/api/ListResources?q=" + url.QueryEscape(`{"tenant_id":"`+tn.ID+`","page_size":50}`)
		for b.Loop() {
			get(b, path)
		}
	})
	// The inventory view's search: a word every resource has (the first
	// page fills at once), and one only one resource has (every one of the
	// 20,000 is looked at). Each request differs (page size, word), so
	// none is answered from ListResources' page cache.
	b.Run("inventory_search_common", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			get(b, "/ui/api/inventory?q="+url.QueryEscape(fmt.Sprintf(`{"tenant_id":%q,"page_size":%d,"query":"node"}`, tn.ID, 40+i%500)))
		}
	})
	b.Run("inventory_search_rare", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			get(b, "/ui/api/inventory?q="+url.QueryEscape(fmt.Sprintf(`{"tenant_id":%q,"page_size":50,"query":"node-%d"}`, tn.ID, benchResources-i%10000)))
		}
	})
}

// benchTenant starts a control plane (SQLite) holding a tenant with
// 20,000 resources, 30 days of costs over 8 services and 2,000 open
// recommendations.
func benchTenant(b *testing.B) (*cptest.Env, *cptest.Tenant) {
	b.Helper()
	env := cptest.Start(b, cptest.WithAgentService())
	tn := env.NewTenant(b, "bench")
	acct := env.NewCloudAccount(b, tn.ID, "444444444444")
	ag := env.EnrollAgent(b, tn.ID, acct.Id)
	ctx := context.Background()
	now := time.Now().UTC()
	usd := func(micros int64) *sirsiv1.Money { return &sirsiv1.Money{CurrencyCode: "USD", Micros: micros} }
	const batch = 1000
	for start := 0; start < benchResources; start += batch {
		var res []*sirsiv1.Resource
		for i := start; i < start+batch; i++ {
			res = append(res, &sirsiv1.Resource{ResourceId: fmt.Sprintf("i-%017x", i), Region: "us-east-1", Type: "aws_ec2_instance",
				Name: fmt.Sprintf("node-%d", i), Size: "m5.large", State: "running", AccountId: "444444444444", MonthlyCost: usd(70_080_000)})
		}
		if _, err := ag.Client.ReportInventory(ctx, &sirsiv1.ReportInventoryRequest{BatchId: fmt.Sprintf("inv-%d", start), Upserts: res, ObserveTime: timestamppb.New(now)}); err != nil {
			b.Fatal(err)
		}
	}
	var records []*sirsiv1.CostRecord
	for d := 1; d <= 30; d++ {
		for s := range 8 {
			records = append(records, &sirsiv1.CostRecord{Day: now.AddDate(0, 0, -d).Format("2006-01-02"), AccountId: "444444444444",
				Service: fmt.Sprintf("service-%d", s), Region: "us-east-1", Amount: usd(int64(1000+s) * 1_000_000)})
		}
	}
	if _, err := ag.Client.ReportCosts(ctx, &sirsiv1.ReportCostsRequest{BatchId: "costs", Records: records}); err != nil {
		b.Fatal(err)
	}
	pol, err := tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{TenantId: tn.ID, Name: "bench"}})
	if err != nil {
		b.Fatal(err)
	}
	var recs []*sirsiv1.Recommendation
	for i := range 2000 {
		recs = append(recs, &sirsiv1.Recommendation{ResourceId: fmt.Sprintf("i-%017x", i*10), ResourceType: "aws_ec2_instance", Region: "us-east-1",
			Action: "stop", CurrentSize: "m5.large", CurrentMonthlyCost: usd(70_080_000), EstimatedMonthlySavings: usd(70_080_000), Confidence: 0.9})
	}
	if _, err := ag.Client.ReportRecommendations(ctx, &sirsiv1.ReportRecommendationsRequest{BatchId: "recs", PolicyId: pol.OptimizationPolicy.Id, Recommendations: recs}); err != nil {
		b.Fatal(err)
	}
	// The tenant really holds them all.
	n, token := 0, ""
	for {
		page, err := tn.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{TenantId: tn.ID, PageSize: 1000, PageToken: token})
		if err != nil {
			b.Fatal(err)
		}
		n += len(page.Resources)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if n != benchResources {
		b.Fatalf("the tenant holds %d resources, want %d", n, benchResources)
	}
	return env, tn
}

// BenchmarkConsoleInChromium measures the overview in a browser for the
// same tenant: from the navigation's start to its figures and cost chart
// drawn, by the page's own clock, in Debian's Chromium over loopback HTTP
// (web/e2e/overview-time.mjs; 7 runs, each a fresh page, in one signed-in
// context). It reports the median as ms/overview, and the driver's median
// (playwright's clock from sending the navigation to seeing the result)
// as driver-ms/overview.
func BenchmarkConsoleInChromium(b *testing.B) {
	node, chromium := e2eTools(b)
	env, tn := benchTenant(b)
	srv := httptest.NewServer(console.New(console.Options{API: env.Server, Changes: console.NewHub(nil)}))
	b.Cleanup(srv.Close)
	// Secure cookies over plain http only stick for localhost.
	base := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "overview-time.mjs"))
		cmd.Dir = "web"
		cmd.Env = append(os.Environ(), "CONSOLE_URL="+base, "CHROMIUM="+chromium, "VIEWER_TOKEN="+tn.ViewerToken, "RUNS=7")
		out, err := cmd.Output()
		cancel()
		if err != nil {
			var stderr []byte
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				stderr = ee.Stderr
			}
			b.Fatalf("the browser run failed: %v\n%s", err, stderr)
		}
		b.Logf("browser:\n%s", out)
		b.ReportMetric(outputFigure(b, out, "MEDIAN"), "ms/overview")
		b.ReportMetric(outputFigure(b, out, "DRIVER-MEDIAN"), "driver-ms/overview")
	}
}

// outputFigure reads the number on the line "<name> <number>" of the
// browser script's output.
func outputFigure(b *testing.B, out []byte, name string) float64 {
	b.Helper()
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatalf("%s %q: %v", name, v, err)
			}
			return f
		}
	}
	b.Fatalf("no %s line in the browser's output:\n%s", name, out)
	return 0
}
