package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
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

// e2eTools finds node, Debian's chromium and web/node_modules; it skips
// the test when one is missing on a developer's machine, and fails it in
// CI; `make test` installs them first (the browser target).
func e2eTools(t testing.TB) (node, chromium string) {
	t.Helper()
	missing := func(what string) {
		msg := "end-to-end console test needs " + what
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (make test installs it: see the browser target in GNUmakefile)")
		}
		t.Skip(msg + "; skipped")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node (apt-get install nodejs)")
	}
	chromium, err = exec.LookPath("chromium")
	if err != nil {
		missing("Debian's chromium (apt-get install chromium)")
	}
	if _, err := os.Stat(filepath.Join("web", "node_modules", "playwright-core")); err != nil {
		missing("playwright-core in internal/console/web/node_modules (make browser)")
	}
	return node, chromium
}

// e2eTenant seeds a tenant as an agent would: costs, inventory, open
// recommendations with savings, a heartbeat.
func e2eTenant(t *testing.T, env *cptest.Env, now time.Time) (*cptest.Tenant, *cptest.Agent, string) {
	t.Helper()
	ctx := context.Background()
	tn := env.NewTenant(t, "e2e")
	acct := env.NewCloudAccount(t, tn.ID, "333333333333")
	ag := env.EnrollAgent(t, tn.ID, acct.Id)
	usd := func(dollars float64) *sirsiv1.Money {
		return &sirsiv1.Money{CurrencyCode: "USD", Micros: int64(dollars * 1e6)}
	}
	var records []*sirsiv1.CostRecord
	for d := 1; d <= 20; d++ {
		day := now.AddDate(0, 0, -d).Format("2006-01-02")
		records = append(records,
			&sirsiv1.CostRecord{Day: day, AccountId: "333333333333", Service: "Amazon Elastic Compute Cloud - Compute", Region: "us-east-1", Amount: usd(40 + float64(d%5))},
			&sirsiv1.CostRecord{Day: day, AccountId: "333333333333", Service: "Amazon Relational Database Service", Region: "us-east-1", Amount: usd(25.5)})
	}
	if _, err := ag.Client.ReportCosts(ctx, &sirsiv1.ReportCostsRequest{BatchId: "costs-1", Records: records}); err != nil {
		t.Fatalf("report costs: %v", err)
	}
	var res []*sirsiv1.Resource
	var util []*sirsiv1.UtilizationSummary
	for i := range 30 {
		r := &sirsiv1.Resource{ResourceId: fmt.Sprintf("i-%017d", i), Region: "us-east-1", Type: "aws_ec2_instance",
			Name: fmt.Sprintf("web-%d", i), Size: "m5.xlarge", State: "running", AccountId: "333333333333", MonthlyCost: usd(140.16 + float64(i))}
		// e2eSearch finds these three, with their CPU.
		if i%10 == 3 {
			r.Tags = map[string]string{"team": "payments"}
			util = append(util, &sirsiv1.UtilizationSummary{ResourceId: r.ResourceId, Region: "us-east-1", Metric: "cpu_utilization", Statistic: "p95",
				Value: 10.25 + float64(i), WindowStart: timestamppb.New(now.AddDate(0, 0, -14)), WindowEnd: timestamppb.New(now), Coverage: 1})
		}
		res = append(res, r)
	}
	if _, err := ag.Client.ReportInventory(ctx, &sirsiv1.ReportInventoryRequest{BatchId: "inv-1", Upserts: res, ObserveTime: timestamppb.New(now)}); err != nil {
		t.Fatalf("report inventory: %v", err)
	}
	if _, err := ag.Client.ReportUtilization(ctx, &sirsiv1.ReportUtilizationRequest{BatchId: "util-1", Summaries: util}); err != nil {
		t.Fatalf("report utilization: %v", err)
	}
	pol, err := tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{TenantId: tn.ID, Name: "rightsize"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.Client.ReportRecommendations(ctx, &sirsiv1.ReportRecommendationsRequest{BatchId: "recs-1", PolicyId: pol.OptimizationPolicy.Id, Recommendations: []*sirsiv1.Recommendation{
		{ResourceId: res[0].ResourceId, ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", CurrentSize: "m5.xlarge", ProposedSize: "m5.large",
			CurrentMonthlyCost: usd(140.16), ProposedMonthlyCost: usd(70.08), EstimatedMonthlySavings: usd(70.08), Confidence: 0.9,
			Evidence: []*sirsiv1.Evidence{{Metric: "cpu_utilization", Statistic: "p95", Value: 11.5, WindowDays: 14, Coverage: 1}}},
		{ResourceId: res[1].ResourceId, ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "stop", CurrentSize: "m5.xlarge",
			CurrentMonthlyCost: usd(140.16), EstimatedMonthlySavings: usd(140.16), Confidence: 0.95,
			Evidence: []*sirsiv1.Evidence{{Metric: "cpu_utilization", Statistic: "max", Value: 0.4, WindowDays: 14, Coverage: 1}}},
	}}); err != nil {
		t.Fatalf("report recommendations: %v", err)
	}
	if _, err := ag.Client.Heartbeat(ctx, &sirsiv1.HeartbeatRequest{Version: "1.2.3", Hostname: "ip-10-0-0-1",
		LastSweepTimes: map[string]*timestamppb.Timestamp{"inventory": timestamppb.New(now), "costs": timestamppb.New(now)}}); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	return tn, ag, pol.OptimizationPolicy.Id
}

// e2eSearch is the inventory search the browser runs: the three
// resources e2eTenant tagged team=payments (all are named web-N).
const (
	e2eSearch      = "payments WEB"
	e2eSearchFinds = 3
)

// parseDollars reads "$1,234.56" as micros.
func parseDollars(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.NewReplacer("$", "", ",", "").Replace(s), 64)
	if err != nil {
		t.Fatalf("figure %q is not a dollar amount: %v", s, err)
	}
	return int64(v*100+0.5) * 1e4
}

// cents rounds micros to whole cents, as the page shows them.
func cents(m *sirsiv1.Money) int64 { return (m.GetMicros() + 5000) / 10000 * 10000 }

func TestConsoleInChromium(t *testing.T) {
	node, chromium := e2eTools(t)
	now := time.Now().UTC().Truncate(time.Second)
	hub := console.NewHub(nil)
	env := cptest.Start(t, cptest.WithAgentService(), cptest.WithInnerInterceptor(hub.Interceptor()))
	env.Clock.Set(now)
	tn, ag, policyID := e2eTenant(t, env, now)
	srv := httptest.NewServer(console.New(console.Options{API: env.Server, Changes: hub, Now: env.Clock.Now}))
	t.Cleanup(srv.Close)
	// A page of another origin whose form posts into the console.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/ui/api/DismissRecommendation" enctype="text/plain">`+
			`<input name='{"tenant_id":"%s","id":"x","a":"' value='"}'><button>win a prize</button></form>`, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), tn.ID)
	}))
	t.Cleanup(evil.Close)

	// Browsers keep Secure cookies from plain http only for localhost,
	// a secure context; the evil page is another origin of the same site,
	// so the cookie goes with its post and only the Origin check stops it.
	base := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	shots := t.ArtifactDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "console.mjs"))
	cmd.Dir = "web"
	cmd.Env = append(os.Environ(), "CONSOLE_URL="+base, "EVIL_URL="+evilURL, "SCREENSHOT_DIR="+shots, "CHROMIUM="+chromium,
		"ADMIN_TOKEN="+tn.AdminToken, "VIEWER_TOKEN="+tn.ViewerToken, "INVENTORY_SEARCH="+e2eSearch, fmt.Sprintf("INVENTORY_FINDS=%d", e2eSearchFinds))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		word, rest, _ := strings.Cut(sc.Text(), " ")
		t.Logf("browser: %s", sc.Text())
		seen[word] = rest
		switch word {
		case "FIGURES":
			checkFigures(t, env, tn, now, rest)
		case "INVENTORY":
			checkInventory(t, tn, rest)
		case "WAITING-FOR-ACTION":
			reportAction(t, ag, policyID, seen["APPROVED"], now)
			if _, err := io.WriteString(stdin, "ACTION-REPORTED\n"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the browser run failed: %v\n%s", err, stderr.String())
	}
	if _, ok := seen["DONE"]; !ok {
		t.Fatalf("the browser run ended early:\n%s", stderr.String())
	}
	// The approval went through the API, audited, by the admin's token.
	got, err := tn.Viewer.GetRecommendation(context.Background(), &sirsiv1.GetRecommendationRequest{TenantId: tn.ID, Id: seen["APPROVED"]})
	if err != nil || got.Recommendation.ApprovedBy == "" {
		t.Fatalf("recommendation %s after the browser approved it: %v, %v", seen["APPROVED"], got, err)
	}
	for _, name := range []string{"login", "overview", "inventory", "inventory-search", "recommendations", "actions", "agents", "audit", "recommendations-viewer"} {
		if st, err := os.Stat(filepath.Join(shots, name+".png")); err != nil || st.Size() == 0 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
}

// checkFigures compares the overview's figures, as the browser showed
// them, with the API's answers to the same questions.
func checkFigures(t *testing.T, env *cptest.Env, tn *cptest.Tenant, now time.Time, figuresJSON string) {
	t.Helper()
	var fig map[string]string
	if err := json.Unmarshal([]byte(figuresJSON), &fig); err != nil {
		t.Fatalf("figures %q: %v", figuresJSON, err)
	}
	ctx := context.Background()
	today := now.Truncate(24 * time.Hour)
	cost, err := tn.Viewer.GetCostSummary(ctx, &sirsiv1.GetCostSummaryRequest{TenantId: tn.ID, Start: today.AddDate(0, 0, -29).Format("2006-01-02"),
		End: today.AddDate(0, 0, 1).Format("2006-01-02"), Granularity: sirsiv1.Granularity_GRANULARITY_DAILY, GroupBy: "service"})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := tn.Viewer.ListRecommendations(ctx, &sirsiv1.ListRecommendationsRequest{TenantId: tn.ID, Status: sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN})
	if err != nil {
		t.Fatal(err)
	}
	sav, err := tn.Viewer.GetSavingsSummary(ctx, &sirsiv1.GetSavingsSummaryRequest{TenantId: tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	// Independent of the API too: the seeded records sum to this.
	var seeded int64
	for d := 1; d <= 20; d++ {
		seeded += int64(40+d%5)*1e6 + 25_500_000
	}
	if cost.Total.GetMicros() != seeded {
		t.Fatalf("API cost total %d micros, seeded %d", cost.Total.GetMicros(), seeded)
	}
	for id, want := range map[string]*sirsiv1.Money{
		"cost-total": cost.Total, "cost-forecast": cost.ForecastMonthEnd, "open-savings": recs.TotalMonthlySavings,
		"savings-run-rate": sav.MonthlyRunRate, "savings-accrued": sav.GetToDate().GetAccruedSavings(),
	} {
		if want == nil {
			if fig[id] != "—" {
				t.Errorf("%s: page shows %q, the API has no figure", id, fig[id])
			}
			continue
		}
		if got := parseDollars(t, fig[id]); got != cents(want) {
			t.Errorf("%s: page shows %q (%d micros), API says %d micros", id, fig[id], got, want.GetMicros())
		}
	}
	if recs.TotalMonthlySavings.GetMicros() != 210_240_000 {
		t.Errorf("open recommendations total %d micros, want 210.24 dollars", recs.TotalMonthlySavings.GetMicros())
	}
}

// checkInventory compares the inventory the browser showed for e2eSearch
// with the API's answer to the same search: the same resources in the
// same order, each one's monthly cost and CPU summary as the page shows
// them.
func checkInventory(t *testing.T, tn *cptest.Tenant, shownJSON string) {
	t.Helper()
	var shown struct {
		All  int `json:"all"`
		Rows []struct {
			ID   string   `json:"id"`
			Cost string   `json:"cost"`
			Util []string `json:"util"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(shownJSON), &shown); err != nil {
		t.Fatalf("inventory %q: %v", shownJSON, err)
	}
	ctx := context.Background()
	all, err := tn.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{TenantId: tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	found, err := tn.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{TenantId: tn.ID, Query: e2eSearch})
	if err != nil {
		t.Fatal(err)
	}
	if shown.All != len(all.Resources) || len(found.Resources) != e2eSearchFinds || len(shown.Rows) != len(found.Resources) {
		t.Fatalf("the page listed %d then %d resources; the API %d then %d; the seed tagged %d", shown.All, len(shown.Rows), len(all.Resources), len(found.Resources), e2eSearchFinds)
	}
	var ids []string
	for _, r := range found.Resources {
		ids = append(ids, r.ResourceId)
	}
	util, err := tn.Viewer.ListUtilization(ctx, &sirsiv1.ListUtilizationRequest{TenantId: tn.ID, ResourceIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range found.Resources {
		row := shown.Rows[i]
		if row.ID != r.ResourceId || r.Tags["team"] != "payments" {
			t.Errorf("row %d shows %s, the API found %s (tags %v)", i, row.ID, r.ResourceId, r.Tags)
		}
		if got := parseDollars(t, row.Cost); got != cents(r.MonthlyCost) {
			t.Errorf("%s: the page shows a monthly cost of %q, the API %d micros", r.ResourceId, row.Cost, r.MonthlyCost.GetMicros())
		}
		var want []*sirsiv1.UtilizationSummary
		for _, u := range util.Summaries {
			if u.ResourceId == r.ResourceId {
				want = append(want, u)
			}
		}
		if len(want) != 1 || len(row.Util) != 1 {
			t.Errorf("%s: the page shows utilisation %q, the API %v", r.ResourceId, row.Util, want)
			continue
		}
		// The page shows one decimal: equal to the API's value within
		// half of that.
		shownVal, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(row.Util[0], want[0].Metric+" "+want[0].Statistic+" "), "%"), 64)
		if err != nil || math.Abs(shownVal-want[0].Value) > 0.05+1e-9 {
			t.Errorf("%s: the page shows utilisation %q, the API %s %s %v", r.ResourceId, row.Util[0], want[0].Metric, want[0].Statistic, want[0].Value)
		}
	}
}

// reportAction reports, as the agent, the action carrying out recID.
func reportAction(t *testing.T, ag *cptest.Agent, policyID, recID string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, err := ag.Client.ReportActions(ctx, &sirsiv1.ReportActionsRequest{BatchId: "act-1", Actions: []*sirsiv1.Action{{
		Id: "act-e2e-1", PolicyId: policyID, RecommendationId: recID, ResourceId: fmt.Sprintf("i-%017d", 0), ResourceType: "aws_ec2_instance",
		Region: "us-east-1", Action: "resize", FromSize: "m5.xlarge", ToSize: "m5.large", Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED,
		StartTime: timestamppb.New(now), EndTime: timestamppb.New(now.Add(3 * time.Minute)),
		Steps: []*sirsiv1.ActionStep{
			{Name: "stop", Status: "ok", Time: timestamppb.New(now)},
			{Name: "modify", Status: "ok", Time: timestamppb.New(now.Add(time.Minute))},
			{Name: "start", Status: "ok", Time: timestamppb.New(now.Add(2 * time.Minute))},
			{Name: "verify", Status: "ok", Time: timestamppb.New(now.Add(3 * time.Minute))},
		},
	}}}); err != nil {
		t.Fatalf("report the action: %v", err)
	}
}
