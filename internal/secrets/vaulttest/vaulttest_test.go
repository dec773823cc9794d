package vaulttest

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// do sends a raw request the way vault/api would (X-Vault-Request: true)
// unless headers override it, and returns the status and decoded body.
func do(t *testing.T, srv *Server, method, path, token, body string, headers map[string]string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Request", "true")
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: body %q is not JSON: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, out
}

// wantError checks Vault's error envelope: exactly the key "errors", a
// list containing a message with want in it.
func wantError(t *testing.T, status int, body map[string]any, wantStatus int, want string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d (body %v)", status, wantStatus, body)
	}
	if len(body) != 1 {
		t.Fatalf("error body %v has keys besides \"errors\"", body)
	}
	errs, ok := body["errors"].([]any)
	if !ok {
		t.Fatalf("error body %v has no errors list", body)
	}
	for _, e := range errs {
		if s, _ := e.(string); strings.Contains(s, want) {
			return
		}
	}
	t.Fatalf("errors %v do not mention %q", errs, want)
}

func TestStrictBodies(t *testing.T) {
	srv := New(t)
	srv.AddAppRole("role-1", "secret-1", time.Hour, true)
	srv.AddAWSRole("aws", "agent", time.Hour, 2*time.Hour)

	status, body := do(t, srv, "PUT", "/v1/auth/approle/login", "", `{"role_id":"role-1","secret_id":"secret-1","roleid":"x"}`, nil)
	wantError(t, status, body, 400, `unknown field "roleid"`)
	if srv.LoginCount() != 0 {
		t.Fatalf("a refused login counted: %d", srv.LoginCount())
	}

	status, body = do(t, srv, "PUT", "/v1/auth/token/renew-self", srv.CreateToken(time.Hour, true), `{"increment":3600,"ttl":"1h"}`, nil)
	wantError(t, status, body, 400, `unknown field "ttl"`)

	status, body = do(t, srv, "PUT", "/v1/sys/leases/renew", srv.RootToken, `{"lease":"aws/creds/agent/x"}`, nil)
	wantError(t, status, body, 400, `unknown field "lease"`)

	status, body = do(t, srv, "GET", "/v1/aws/creds/agent?region=us-east-1", srv.RootToken, "", nil)
	wantError(t, status, body, 400, `unrecognized query parameter "region"`)

	status, body = do(t, srv, "GET", "/v1/auth/token/lookup-self", srv.RootToken, `{}`, nil)
	wantError(t, status, body, 400, "takes no request body")

	status, body = do(t, srv, "PUT", "/v1/auth/approle/login", "", `{"role_id":"role-1","secret_id":"secret-1"} {}`, nil)
	wantError(t, status, body, 400, "data after the JSON object")

	// The same login without the stray field goes through.
	status, body = do(t, srv, "PUT", "/v1/auth/approle/login", "", `{"role_id":"role-1","secret_id":"secret-1"}`, nil)
	if status != 200 || body["auth"] == nil {
		t.Fatalf("clean login: %d %v", status, body)
	}
}

func TestHeadersRoutesAndMethods(t *testing.T) {
	srv := New(t)

	status, body := do(t, srv, "GET", "/v1/auth/token/lookup-self", srv.RootToken, "", map[string]string{"X-Vault-Request": ""})
	wantError(t, status, body, 412, "X-Vault-Request")

	status, body = do(t, srv, "GET", "/v1/auth/token/lookup-self", "", "", nil)
	wantError(t, status, body, 403, "permission denied")

	status, body = do(t, srv, "GET", "/v1/auth/token/lookup-self", "hvs.nosuchtoken", "", nil)
	wantError(t, status, body, 403, "permission denied")

	status, body = do(t, srv, "GET", "/v1/secret/data/foo", srv.RootToken, "", nil)
	wantError(t, status, body, 404, `no handler for route "secret/data/foo"`)

	status, body = do(t, srv, "DELETE", "/v1/auth/token/lookup-self", srv.RootToken, "", nil)
	wantError(t, status, body, 405, "unsupported operation")

	srv.SetNamespace("team-a")
	status, body = do(t, srv, "GET", "/v1/auth/token/lookup-self", srv.RootToken, "", nil)
	wantError(t, status, body, 403, "permission denied")
	status, body = do(t, srv, "GET", "/v1/auth/token/lookup-self", srv.RootToken, "", map[string]string{"X-Vault-Namespace": "team-b"})
	wantError(t, status, body, 403, "permission denied")
	status, _ = do(t, srv, "GET", "/v1/auth/token/lookup-self", srv.RootToken, "", map[string]string{"X-Vault-Namespace": "team-a/"})
	if status != 200 {
		t.Fatalf("lookup in the right namespace: %d", status)
	}
}

func TestTokenLifecycle(t *testing.T) {
	srv := New(t)
	srv.SetTokenMaxTTL(90 * time.Minute)
	tok := srv.CreateToken(time.Hour, true)

	status, body := do(t, srv, "GET", "/v1/auth/token/lookup-self", tok, "", nil)
	if status != 200 {
		t.Fatalf("lookup: %d %v", status, body)
	}
	for _, key := range []string{"request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info", "warnings", "auth"} {
		if _, ok := body[key]; !ok {
			t.Errorf("lookup answer lacks %q: %v", key, body)
		}
	}
	data := body["data"].(map[string]any)
	if data["ttl"] != float64(3600) || data["renewable"] != true || data["id"] != tok {
		t.Fatalf("lookup data: %v", data)
	}

	srv.Advance(time.Hour - time.Second)
	status, body = do(t, srv, "PUT", "/v1/auth/token/renew-self", tok, `{"increment":"1h"}`, nil)
	if status != 200 {
		t.Fatalf("renew: %d %v", status, body)
	}
	auth := body["auth"].(map[string]any)
	// 90m max from issue, 59m59s gone: 30m01s left, less than the hour asked.
	if auth["lease_duration"] != float64(30*60+1) || auth["client_token"] != tok {
		t.Fatalf("capped renewal: %v", auth)
	}
	for _, key := range []string{"client_token", "accessor", "policies", "token_policies", "metadata", "lease_duration", "renewable", "entity_id", "token_type", "orphan"} {
		if _, ok := auth[key]; !ok {
			t.Errorf("auth block lacks %q: %v", key, auth)
		}
	}
	if w, _ := body["warnings"].([]any); len(w) != 1 || !strings.Contains(w[0].(string), "max_ttl") {
		t.Fatalf("capped renewal warnings: %v", body["warnings"])
	}
	if srv.TokenRenewals() != 1 {
		t.Fatalf("token renewals %d, want 1", srv.TokenRenewals())
	}

	srv.Advance(30*time.Minute + time.Second)
	status, body = do(t, srv, "GET", "/v1/auth/token/lookup-self", tok, "", nil)
	wantError(t, status, body, 403, "permission denied")

	status, body = do(t, srv, "PUT", "/v1/auth/token/renew-self", srv.RootToken, ``, nil)
	wantError(t, status, body, 400, "lease is not renewable")
}

func TestAppRoleLogin(t *testing.T) {
	srv := New(t)
	srv.AddAppRole("role-1", "secret-1", 20*time.Minute, false)

	status, body := do(t, srv, "POST", "/v1/auth/approle/login", "", `{"role_id":"role-1","secret_id":"wrong"}`, nil)
	wantError(t, status, body, 400, "invalid role or secret ID")

	// A stale token on a login request does not get in the way.
	status, body = do(t, srv, "POST", "/v1/auth/approle/login", "hvs.expired", `{"role_id":"role-1","secret_id":"secret-1"}`, nil)
	if status != 200 {
		t.Fatalf("login: %d %v", status, body)
	}
	auth := body["auth"].(map[string]any)
	if auth["lease_duration"] != float64(1200) || auth["renewable"] != false || auth["orphan"] != true {
		t.Fatalf("login auth: %v", auth)
	}
	tok := auth["client_token"].(string)
	if !strings.HasPrefix(tok, "hvs.") {
		t.Fatalf("token %q is not shaped like a Vault service token", tok)
	}
	if srv.LoginCount() != 1 {
		t.Fatalf("logins %d, want 1", srv.LoginCount())
	}
	status, body = do(t, srv, "PUT", "/v1/auth/token/renew-self", tok, `{}`, nil)
	wantError(t, status, body, 400, "lease is not renewable")

	status, body = do(t, srv, "POST", "/v1/auth/other/login", "", `{"role_id":"role-1","secret_id":"secret-1"}`, nil)
	wantError(t, status, body, 404, "no handler for route")
}

func TestAWSCredsAndLeases(t *testing.T) {
	srv := New(t)
	srv.AddAWSRole("aws", "agent", time.Hour, 90*time.Minute)

	status, body := do(t, srv, "GET", "/v1/aws/creds/agent", srv.RootToken, "", nil)
	if status != 200 {
		t.Fatalf("creds: %d %v", status, body)
	}
	leaseID, _ := body["lease_id"].(string)
	if !regexp.MustCompile(`^aws/creds/agent/[0-9A-Za-z]{24}$`).MatchString(leaseID) {
		t.Fatalf("lease id %q is not shaped like Vault's", leaseID)
	}
	data := body["data"].(map[string]any)
	if !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(data["access_key"].(string)) || len(data["secret_key"].(string)) != 40 {
		t.Fatalf("creds data: %v", data)
	}
	if v, ok := data["session_token"]; !ok || v != nil {
		t.Fatalf("iam_user creds carry a null session_token, got %v", data)
	}
	if body["lease_duration"] != float64(3600) || body["renewable"] != true || srv.CredsIssued("agent") != 1 {
		t.Fatalf("creds lease: %v, issued %d", body, srv.CredsIssued("agent"))
	}

	srv.Advance(40 * time.Minute)
	status, body = do(t, srv, "PUT", "/v1/sys/leases/renew", srv.RootToken, `{"lease_id":"`+leaseID+`","increment":3600}`, nil)
	if status != 200 || body["lease_id"] != leaseID || body["lease_duration"] != float64(50*60) {
		t.Fatalf("renewal capped at max TTL: %d %v", status, body)
	}
	if srv.Renewals() != 1 {
		t.Fatalf("renewals %d, want 1", srv.Renewals())
	}

	srv.Advance(50 * time.Minute)
	status, body = do(t, srv, "PUT", "/v1/sys/leases/renew", srv.RootToken, `{"lease_id":"`+leaseID+`"}`, nil)
	wantError(t, status, body, 400, "lease not found")
	if len(srv.LiveLeases()) != 0 {
		t.Fatalf("live leases after expiry: %v", srv.LiveLeases())
	}

	status, body = do(t, srv, "GET", "/v1/aws/creds/nobody", srv.RootToken, "", nil)
	wantError(t, status, body, 400, `Role "nobody" not found`)
	status, body = do(t, srv, "GET", "/v1/aws2/creds/agent", srv.RootToken, "", nil)
	wantError(t, status, body, 404, "no handler for route")
}

func TestFaults(t *testing.T) {
	srv := New(t)
	srv.AddAWSRole("aws", "agent", time.Hour, time.Hour)
	srv.FailNext("/v1/aws/creds/agent", 503)
	srv.FailNext("aws/creds/agent", 403)
	srv.CorruptNext("aws/creds/agent")

	status, body := do(t, srv, "GET", "/v1/aws/creds/agent", srv.RootToken, "", nil)
	wantError(t, status, body, 503, "internal error")
	status, body = do(t, srv, "GET", "/v1/aws/creds/agent", srv.RootToken, "", nil)
	wantError(t, status, body, 403, "permission denied")

	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/aws/creds/agent", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Request", "true")
	req.Header.Set("X-Vault-Token", srv.RootToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.Valid(raw) {
		t.Fatalf("corrupt answer: %d %q", resp.StatusCode, raw)
	}

	status, _ = do(t, srv, "GET", "/v1/aws/creds/agent", srv.RootToken, "", nil)
	if status != 200 || srv.CredsIssued("agent") != 1 {
		t.Fatalf("after the faults: %d, issued %d", status, srv.CredsIssued("agent"))
	}
}

func TestClock(t *testing.T) {
	srv := New(t)
	start := srv.Now()
	early := srv.At(start.Add(time.Minute))
	late := srv.At(start.Add(time.Hour))
	select {
	case <-srv.At(start):
	default:
		t.Fatal("At(now) did not fire at once")
	}
	srv.Advance(time.Minute)
	select {
	case got := <-early:
		if !got.Equal(start.Add(time.Minute)) {
			t.Fatalf("fired with %v", got)
		}
	default:
		t.Fatal("timer due after Advance did not fire")
	}
	select {
	case <-late:
		t.Fatal("timer not yet due fired")
	default:
	}
}
