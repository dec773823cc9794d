package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/console"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
)

// fixture is a control plane with two tenants, each with an agent that
// reported two recommendations, and the console in front of it over TLS
// (the session cookie is Secure).
type fixture struct {
	env  *cptest.Env
	a, b *cptest.Tenant
	recA []string
	recB []string
	srv  *httptest.Server
	hub  *console.Hub
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{env: cptest.Start(t, cptest.WithAgentService())}
	f.a, f.b = f.env.NewTenant(t, "alpha"), f.env.NewTenant(t, "beta")
	f.recA = f.report(t, f.a, "111111111111", "i-alpha")
	f.recB = f.report(t, f.b, "222222222222", "i-beta")
	f.hub = console.NewHub(nil)
	f.srv = httptest.NewTLSServer(console.New(console.Options{API: f.env.Server, Changes: f.hub, Now: f.env.Clock.Now}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) report(t *testing.T, tn *cptest.Tenant, account, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	acct := f.env.NewCloudAccount(t, tn.ID, account)
	ag := f.env.EnrollAgent(t, tn.ID, acct.Id)
	pol, err := tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{TenantId: tn.ID, Name: "rs"}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ag.Client.ReportRecommendations(ctx, &sirsiv1.ReportRecommendationsRequest{BatchId: "b1", PolicyId: pol.OptimizationPolicy.Id, Recommendations: []*sirsiv1.Recommendation{
		{ResourceId: prefix + "-1", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", CurrentSize: "m5.xlarge", ProposedSize: "m5.large", Confidence: 0.9},
		{ResourceId: prefix + "-2", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "stop", CurrentSize: "m5.large", Confidence: 0.9},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.RecommendationIds
}

// browser is a signed-in (or not) client with a cookie jar, sending the
// Origin header a browser sends with same-origin requests.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
	csrf string
}

func (f *fixture) browser(t *testing.T) *browser { return newBrowser(t, f.srv) }

// newBrowser is a client of srv with a cookie jar of its own, which sees
// redirects rather than following them.
func newBrowser(t *testing.T, srv *httptest.Server) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := *srv.Client() // a copy: the server's client is shared
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, c: &c, base: srv.URL}
}

func (b *browser) do(method, path string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Origin", b.base)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

func (b *browser) login(token string) *http.Response {
	b.t.Helper()
	resp, _ := b.do("POST", "/ui/login", strings.NewReader(url.Values{"token": {token}}.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	return resp
}

// signIn signs in and reads the session, keeping its CSRF token.
func (b *browser) signIn(token string) map[string]any {
	b.t.Helper()
	if resp := b.login(token); resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign-in: %s, want 303", resp.Status)
	}
	var s map[string]any
	b.getJSON("/ui/api/session", http.StatusOK, &s)
	b.csrf, _ = s["csrf"].(string)
	return s
}

func (b *browser) getJSON(path string, want int, v any) string {
	b.t.Helper()
	resp, body := b.do("GET", path, nil, nil)
	if resp.StatusCode != want {
		b.t.Fatalf("GET %s: %s %s, want %d", path, resp.Status, body, want)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			b.t.Fatalf("GET %s: %v in %s", path, err, body)
		}
	}
	return body
}

func q(m map[string]any) string {
	b, _ := json.Marshal(m)
	return "?q=" + url.QueryEscape(string(b))
}

func TestSignInSetsAStrictSessionCookie(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	resp := b.login(f.a.AdminToken)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/" {
		t.Fatalf("sign-in: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	var c *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "sirsi_console" {
			c = ck
		}
	}
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/ui/" || c.MaxAge <= 0 {
		t.Fatalf("session cookie = %+v, want HttpOnly, Secure, SameSite=Strict, Path=/ui/, a lifetime", c)
	}
	var s map[string]any
	b.getJSON("/ui/api/session", http.StatusOK, &s)
	if s["tenant_id"] != f.a.ID || s["role"] != "ROLE_ADMIN" || s["csrf"] == "" {
		t.Fatalf("session = %v", s)
	}
	if may := s["may"].(map[string]any); may["ApproveRecommendation"] != true || may["DismissRecommendation"] != true {
		t.Fatalf("admin may = %v", may)
	}
	v := f.browser(t)
	s = v.signIn(f.a.ViewerToken)
	if may := s["may"].(map[string]any); may["ApproveRecommendation"] != false {
		t.Fatalf("viewer may = %v", may)
	}
}

func TestSignInRefusesBadTokens(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"unknown API token", "sirsi_api_" + strings.Repeat("x", 40), http.StatusUnauthorized},
		{"garbage", "not-a-token", http.StatusUnauthorized},
		{"empty", "", http.StatusBadRequest},
		{"operator token", f.env.OperatorToken, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := f.browser(t)
			resp := b.login(tc.token)
			if resp.StatusCode != tc.want {
				t.Fatalf("sign-in: %s, want %d", resp.Status, tc.want)
			}
			if len(resp.Cookies()) != 0 {
				t.Fatalf("a refused sign-in set cookies %v", resp.Cookies())
			}
			b.getJSON("/ui/api/session", http.StatusUnauthorized, nil)
		})
	}
	// Without a session the app page sends the browser to the form.
	resp, _ := f.browser(t).do("GET", "/ui/", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login" {
		t.Fatalf("GET /ui/ signed out: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
}

func TestAnotherTenantsIDsLeakNothing(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signIn(f.a.AdminToken)
	// Tenant A's own recommendation is readable.
	body := b.getJSON("/ui/api/GetRecommendation"+q(map[string]any{"tenant_id": f.a.ID, "id": f.recA[0]}), http.StatusOK, nil)
	if !strings.Contains(body, "i-alpha-1") {
		t.Fatalf("own recommendation: %s", body)
	}
	for _, tc := range []struct {
		name string
		path string
		want int
	}{
		{"B's recommendation under B's tenant", "/ui/api/GetRecommendation" + q(map[string]any{"tenant_id": f.b.ID, "id": f.recB[0]}), http.StatusForbidden},
		{"B's recommendation under A's tenant", "/ui/api/GetRecommendation" + q(map[string]any{"tenant_id": f.a.ID, "id": f.recB[0]}), http.StatusNotFound},
		{"B's resources", "/ui/api/ListResources" + q(map[string]any{"tenant_id": f.b.ID}), http.StatusForbidden},
		{"B's audit log", "/ui/api/ListAuditEvents" + q(map[string]any{"tenant_id": f.b.ID}), http.StatusForbidden},
		{"B's recommendations", "/ui/api/ListRecommendations" + q(map[string]any{"tenant_id": f.b.ID}), http.StatusForbidden},
		{"a method the console does not offer", "/ui/api/ListApiTokens" + q(map[string]any{"tenant_id": f.a.ID}), http.StatusNotFound},
		{"a request that is not JSON", "/ui/api/ListResources?q=%7Bnope", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := b.getJSON(tc.path, tc.want, nil)
			for _, secret := range []string{"i-beta", f.b.ID, f.recB[0]} {
				if strings.Contains(body, secret) && !strings.Contains(tc.path, url.QueryEscape(secret)) {
					t.Fatalf("the refusal leaks %q: %s", secret, body)
				}
			}
			if strings.Contains(body, "i-beta") {
				t.Fatalf("the refusal leaks B's resource: %s", body)
			}
		})
	}
	// Approving B's recommendation from A's session changes nothing of B's.
	resp, body := b.do("POST", "/ui/api/ApproveRecommendation", strings.NewReader(`{"tenant_id":"`+f.a.ID+`","id":"`+f.recB[0]+`"}`),
		map[string]string{"X-CSRF-Token": b.csrf, "Content-Type": "application/json"})
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("approve B's recommendation as A: %s %s", resp.Status, body)
	}
	got, err := f.b.Viewer.GetRecommendation(context.Background(), &sirsiv1.GetRecommendationRequest{TenantId: f.b.ID, Id: f.recB[0]})
	if err != nil || got.Recommendation.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN {
		t.Fatalf("B's recommendation after A's attempt: %v, %v", got, err)
	}
}

func TestMutationsNeedCSRFAndSameOriginAndAreAudited(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signIn(f.a.EditorToken)
	approve := func(id string, hdr map[string]string) (*http.Response, string) {
		h := map[string]string{"Content-Type": "application/json"}
		for k, v := range hdr {
			h[k] = v
		}
		return b.do("POST", "/ui/api/ApproveRecommendation", strings.NewReader(`{"tenant_id":"`+f.a.ID+`","id":"`+id+`"}`), h)
	}
	for _, tc := range []struct {
		name string
		hdr  map[string]string
	}{
		{"no CSRF token", nil},
		{"a wrong CSRF token", map[string]string{"X-CSRF-Token": "forged"}},
		{"another tenant's CSRF token", map[string]string{"X-CSRF-Token": f.browser(t).signIn(f.b.AdminToken)["csrf"].(string)}},
		{"another origin", map[string]string{"X-CSRF-Token": b.csrf, "Origin": "https://evil.example"}},
		{"no origin", map[string]string{"X-CSRF-Token": b.csrf, "Origin": ""}},
		{"a cross-site fetch", map[string]string{"X-CSRF-Token": b.csrf, "Sec-Fetch-Site": "cross-site"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp, body := approve(f.recA[0], tc.hdr); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("forged approve: %s %s, want 403", resp.Status, body)
			}
		})
	}
	got, err := f.a.Viewer.GetRecommendation(context.Background(), &sirsiv1.GetRecommendationRequest{TenantId: f.a.ID, Id: f.recA[0]})
	if err != nil || got.Recommendation.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN {
		t.Fatalf("after forged requests: %v, %v", got, err)
	}

	changes, cancel := f.hub.Subscribe(f.a.ID)
	defer cancel()
	resp, body := approve(f.recA[0], map[string]string{"X-CSRF-Token": b.csrf})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("approve: %s %s", resp.Status, body)
	}
	var ap sirsiv1.ApproveRecommendationResponse
	if err := protojson.Unmarshal([]byte(body), &ap); err != nil {
		t.Fatal(err)
	}
	if ap.Recommendation.GetStatus() != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED || !strings.HasPrefix(ap.Recommendation.GetApprovedBy(), "token:") {
		t.Fatalf("approved = %v", ap.Recommendation)
	}
	if c := <-changes; c.Kind != "recommendations" || c.TenantID != f.a.ID {
		t.Fatalf("change published = %+v", c)
	}
	// Audited by the API's own path: the same entry a gRPC approval makes.
	ev, err := f.env.Client.ListAuditEvents(context.Background(), &sirsiv1.ListAuditEventsRequest{TenantId: f.a.ID, Action: sirsiv1.ManagementService_ApproveRecommendation_FullMethodName, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ok bool
	for _, e := range ev.Events {
		if e.Outcome == "ok" && e.Actor == ap.Recommendation.ApprovedBy && strings.Contains(e.Target, f.recA[0]) {
			ok = true
		}
	}
	if !ok {
		t.Fatalf("no audit entry of the approval among %v", ev.Events)
	}

	// A viewer is refused by the API's role check, CSRF token or not.
	v := f.browser(t)
	v.signIn(f.a.ViewerToken)
	resp, body = v.do("POST", "/ui/api/DismissRecommendation", strings.NewReader(`{"tenant_id":"`+f.a.ID+`","id":"`+f.recA[1]+`"}`),
		map[string]string{"X-CSRF-Token": v.csrf, "Content-Type": "application/json"})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "viewer") {
		t.Fatalf("viewer dismiss: %s %s", resp.Status, body)
	}
	// Sign-out is a mutation too.
	if resp, _ := b.do("POST", "/ui/logout", nil, map[string]string{"Origin": "https://evil.example"}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged sign-out: %s", resp.Status)
	}
	// So is sign-in (login CSRF).
	resp, _ = f.browser(t).do("POST", "/ui/login", strings.NewReader("token="+url.QueryEscape(f.a.AdminToken)),
		map[string]string{"Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"})
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Fatalf("cross-site sign-in: %s, cookies %v", resp.Status, resp.Cookies())
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	for _, path := range []string{"/ui/login", "/ui/", "/ui/api/session", "/ui/assets/app.js", "/ui/assets/app.css", "/ui/nope"} {
		resp, _ := b.do("GET", path, nil, nil)
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP %q allows inline or eval", path, csp)
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", path, resp.Header)
		}
	}
	resp, body := b.do("GET", "/ui/assets/app.js", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || len(body) < 1000 {
		t.Fatalf("app.js: %s %s, %d bytes", resp.Status, resp.Header.Get("Content-Type"), len(body))
	}
	// No page carries inline script: the CSP would refuse it.
	for _, path := range []string{"/ui/login"} {
		_, body := b.do("GET", path, nil, nil)
		if strings.Contains(body, "<script>") || strings.Contains(body, "onclick") {
			t.Errorf("%s has inline script", path)
		}
	}
}

func TestExpiredOrRevokedTokenEndsTheSession(t *testing.T) {
	f := newFixture(t)
	short, rec := f.env.NewAPIToken(t, f.a.ID, sirsiv1.Role_ROLE_VIEWER, time.Hour)
	b := f.browser(t)
	resp := b.login(short)
	for _, c := range resp.Cookies() {
		if c.Name == "sirsi_console" && (c.Expires.After(rec.ExpireTime.AsTime().Add(time.Second)) || c.MaxAge > 3600) {
			t.Fatalf("session outlives its token: %+v, token expires %v", c, rec.ExpireTime.AsTime())
		}
	}
	b.getJSON("/ui/api/session", http.StatusOK, nil)
	f.env.Clock.Advance(2 * time.Hour)
	resp, body := b.do("GET", "/ui/api/ListRecommendations"+q(map[string]any{"tenant_id": f.a.ID}), nil, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "expired") {
		t.Fatalf("expired token: %s %s", resp.Status, body)
	}
	cleared := false
	for _, c := range resp.Cookies() {
		cleared = cleared || (c.Name == "sirsi_console" && c.MaxAge < 0)
	}
	if !cleared {
		t.Fatalf("the refusal did not clear the session cookie: %v", resp.Cookies())
	}

	tok, rec2 := f.env.NewAPIToken(t, f.a.ID, sirsiv1.Role_ROLE_VIEWER, 0)
	b2 := f.browser(t)
	b2.signIn(tok)
	if _, err := f.a.Admin.DeleteApiToken(context.Background(), &sirsiv1.DeleteApiTokenRequest{TenantId: f.a.ID, Id: rec2.Id}); err != nil {
		t.Fatal(err)
	}
	b2.getJSON("/ui/api/overview", http.StatusUnauthorized, nil)
}

func TestOversizedRequestsAreRefusedAndTheServerKeepsServing(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signIn(f.a.ViewerToken)
	huge := strings.Repeat("a", 10<<20)
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/ui/api/ListResources?q="+huge, nil)
	resp, err := b.c.Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge && resp.StatusCode != http.StatusRequestURITooLong {
			t.Fatalf("10 MB query string: %s", resp.Status)
		}
	}
	// Under the listener's header bound but over the console's.
	r2, _ := b.do("GET", "/ui/api/ListResources?q="+strings.Repeat("a", 20<<10), nil, nil)
	if r2.StatusCode != http.StatusRequestURITooLong {
		t.Fatalf("20 KB query string: %s", r2.Status)
	}
	r3, body := b.do("POST", "/ui/api/DismissRecommendation", strings.NewReader(strings.Repeat(" ", 1<<20)),
		map[string]string{"X-CSRF-Token": b.csrf, "Content-Type": "application/json"})
	if r3.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("1 MB body: %s %s", r3.Status, body)
	}
	b.getJSON("/ui/api/session", http.StatusOK, nil)
}

func TestOverviewFiguresAreTheAPIs(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signIn(f.a.ViewerToken)
	var ov struct {
		TenantID            string          `json:"tenant_id"`
		OpenRecommendations json.RawMessage `json:"open_recommendations"`
		Savings             json.RawMessage `json:"savings"`
	}
	b.getJSON("/ui/api/overview", http.StatusOK, &ov)
	var recs sirsiv1.ListRecommendationsResponse
	if err := protojson.Unmarshal(ov.OpenRecommendations, &recs); err != nil {
		t.Fatal(err)
	}
	want, err := f.a.Viewer.ListRecommendations(context.Background(), &sirsiv1.ListRecommendationsRequest{TenantId: f.a.ID, Status: sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN})
	if err != nil {
		t.Fatal(err)
	}
	// Only the total: the overview lists no recommendation.
	if ov.TenantID != f.a.ID || len(recs.Recommendations) != 0 || len(want.Recommendations) == 0 ||
		recs.TotalMonthlySavings.GetMicros() != want.TotalMonthlySavings.GetMicros() {
		t.Fatalf("overview open recommendations %v, API %v", &recs, want)
	}
}

func TestEventStreamDeliversTheTenantsChangesOnly(t *testing.T) {
	f := newFixture(t)
	a, bb := f.browser(t), f.browser(t)
	a.signIn(f.a.ViewerToken)
	bb.signIn(f.b.ViewerToken)
	open := func(b *browser) (*bufio.Reader, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/ui/api/events", nil)
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("events: %s %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		r := bufio.NewReader(resp.Body)
		if ev := nextEvent(t, r); ev != "ready" {
			t.Fatalf("first event %q", ev)
		}
		return r, func() { cancel(); resp.Body.Close() }
	}
	ra, closeA := open(a)
	defer closeA()
	rb, closeB := open(bb)
	defer closeB()
	f.hub.Publish(context.Background(), console.Change{TenantID: f.b.ID, Kind: "actions"})
	f.hub.Publish(context.Background(), console.Change{TenantID: f.a.ID, Kind: "costs"})
	if ev := nextEvent(t, ra); ev != `change {"tenant_id":"`+f.a.ID+`","kind":"costs"}` {
		t.Fatalf("tenant A's stream got %q", ev)
	}
	if ev := nextEvent(t, rb); ev != `change {"tenant_id":"`+f.b.ID+`","kind":"actions"}` {
		t.Fatalf("tenant B's stream got %q", ev)
	}
	// Without a session there is no stream.
	f.browser(t).getJSON("/ui/api/events", http.StatusUnauthorized, nil)
}

// nextEvent reads one server-sent event as "name data".
func nextEvent(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var name, data string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && name != "":
			return strings.TrimSpace(name + " " + data)
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
			if data == "{}" {
				data = ""
			}
		}
	}
}
