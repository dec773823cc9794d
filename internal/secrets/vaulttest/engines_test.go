package vaulttest

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

func TestTransit(t *testing.T) {
	srv := New(t)
	tok := srv.RootToken

	status, body := do(t, srv, "POST", "/v1/transit/encrypt/k", tok, `{"plaintext":"aGk="}`, nil)
	wantError(t, status, body, 404, `no handler for route "transit/encrypt/k"`)

	srv.EnableTransit("transit")
	status, body = do(t, srv, "GET", "/v1/transit/keys/k", tok, "", nil)
	wantEmpty404(t, status, body)
	status, body = do(t, srv, "POST", "/v1/transit/decrypt/k", tok, `{"ciphertext":"vault:v1:AAAA"}`, nil)
	wantError(t, status, body, 400, "encryption key not found")
	status, body = do(t, srv, "POST", "/v1/transit/keys/k/rotate", tok, ``, nil)
	wantError(t, status, body, 400, "key not found")

	status, body = do(t, srv, "POST", "/v1/transit/encrypt/k", tok, `{"plaintext":"aGk=","context":"eA=="}`, nil)
	wantError(t, status, body, 400, `unknown field "context"`)
	status, body = do(t, srv, "POST", "/v1/transit/encrypt/k", tok, `{"plaintext":"not base64!"}`, nil)
	wantError(t, status, body, 400, "base64")
	if srv.TransitKeyVersion("transit", "k") != 0 {
		t.Fatal("a refused encrypt created the key")
	}

	// Encrypting with an unknown key creates it, as Vault's upsert does.
	status, body = do(t, srv, "POST", "/v1/transit/encrypt/k", tok, `{"plaintext":"aGk="}`, nil)
	if status != 200 {
		t.Fatalf("encrypt: %d %v", status, body)
	}
	data := body["data"].(map[string]any)
	ct := data["ciphertext"].(string)
	if !regexp.MustCompile(`^vault:v1:[A-Za-z0-9+/]+=*$`).MatchString(ct) || data["key_version"] != float64(1) {
		t.Fatalf("encrypt answer %v is not shaped like Vault's", data)
	}

	status, body = do(t, srv, "PUT", "/v1/transit/keys/k/rotate", tok, `{}`, nil)
	if status != 200 || body["data"].(map[string]any)["latest_version"] != float64(2) {
		t.Fatalf("rotate: %d %v", status, body)
	}
	status, body = do(t, srv, "GET", "/v1/transit/keys/k", tok, "", nil)
	keyInfo := body["data"].(map[string]any)
	if status != 200 || keyInfo["type"] != "aes256-gcm96" || len(keyInfo["keys"].(map[string]any)) != 2 {
		t.Fatalf("key read: %d %v", status, body)
	}

	status, body = do(t, srv, "POST", "/v1/transit/decrypt/k", tok, `{"ciphertext":"`+ct+`"}`, nil)
	if status != 200 {
		t.Fatalf("decrypt of a v1 ciphertext after rotation: %d %v", status, body)
	}
	if pt, _ := base64.StdEncoding.DecodeString(body["data"].(map[string]any)["plaintext"].(string)); string(pt) != "hi" {
		t.Fatalf("decrypted %q, want hi", pt)
	}
	status, body = do(t, srv, "POST", "/v1/transit/rewrap/k", tok, `{"ciphertext":"`+ct+`"}`, nil)
	if status != 200 || !strings.HasPrefix(body["data"].(map[string]any)["ciphertext"].(string), "vault:v2:") {
		t.Fatalf("rewrap: %d %v", status, body)
	}

	for c, want := range map[string]string{
		"AAAA":                 "no prefix",
		"vault:1:AAAA":         "wrong version prefix",
		"vault:v9:" + ct[9:]:   "key version",
		"vault:v1:!!!":         "base64",
		"vault:v2:" + ct[9:]:   "message authentication failed",
		"vault:v1:" + ct[9:13]: "unable to decrypt",
		"vault:v1:" + flip(ct): "message authentication failed",
	} {
		status, body = do(t, srv, "POST", "/v1/transit/decrypt/k", tok, `{"ciphertext":"`+c+`"}`, nil)
		wantError(t, status, body, 400, want)
	}
	status, body = do(t, srv, "GET", "/v1/transit/encrypt/k", tok, "", nil)
	wantError(t, status, body, 405, "unsupported operation")
}

// flip changes a character in the middle of the ciphertext's base64.
func flip(ct string) string {
	p := ct[len("vault:v1:"):]
	i := len(p) / 2
	r := byte('A')
	if p[i] == 'A' {
		r = 'B'
	}
	return p[:i] + string(r) + p[i+1:]
}

func TestKV(t *testing.T) {
	srv := New(t)
	tok := srv.RootToken
	srv.EnableKV("secret")

	status, body := do(t, srv, "GET", "/v1/secret/data/app", tok, "", nil)
	wantEmpty404(t, status, body)
	status, body = do(t, srv, "POST", "/v1/secret/data/app", tok, `{"data":{"a":"1"},"cas":0}`, nil)
	wantError(t, status, body, 400, `unknown field "cas"`)
	status, body = do(t, srv, "POST", "/v1/secret/data/app", tok, `{"options":{"cas":0}}`, nil)
	wantError(t, status, body, 400, "no data provided")

	status, body = do(t, srv, "POST", "/v1/secret/data/app", tok, `{"data":{"a":"1"},"options":{"cas":0}}`, nil)
	if status != 200 || body["data"].(map[string]any)["version"] != float64(1) {
		t.Fatalf("first write: %d %v", status, body)
	}
	status, body = do(t, srv, "POST", "/v1/secret/data/app", tok, `{"data":{"a":"2"},"options":{"cas":0}}`, nil)
	wantError(t, status, body, 400, "check-and-set parameter did not match the current version")
	status, body = do(t, srv, "PUT", "/v1/secret/data/app", tok, `{"data":{"a":"2"},"options":{"cas":"1"}}`, nil)
	if status != 200 || body["data"].(map[string]any)["version"] != float64(2) {
		t.Fatalf("second write: %d %v", status, body)
	}

	status, body = do(t, srv, "GET", "/v1/secret/data/app?version=1", tok, "", nil)
	data := body["data"].(map[string]any)
	if status != 200 || data["data"].(map[string]any)["a"] != "1" || data["metadata"].(map[string]any)["version"] != float64(1) {
		t.Fatalf("read of version 1: %d %v", status, body)
	}
	status, body = do(t, srv, "GET", "/v1/secret/data/app?versions=1", tok, "", nil)
	wantError(t, status, body, 400, `unrecognized query parameter "versions"`)

	status, body = do(t, srv, "GET", "/v1/secret/metadata/app", tok, "", nil)
	meta := body["data"].(map[string]any)
	if status != 200 || meta["current_version"] != float64(2) || len(meta["versions"].(map[string]any)) != 2 {
		t.Fatalf("metadata: %d %v", status, body)
	}
	status, body = do(t, srv, "DELETE", "/v1/secret/data/app", tok, "", nil)
	wantError(t, status, body, 405, "unsupported operation")
	status, body = do(t, srv, "GET", "/v1/kv/data/app", tok, "", nil)
	wantError(t, status, body, 404, `no handler for route "kv/data/app"`)
	status, body = do(t, srv, "GET", "/v1/secret/data/app", "", "", nil)
	wantError(t, status, body, 403, "permission denied")
}

// wantEmpty404 checks Vault's answer for a missing secret or key: 404 with
// an empty errors list.
func wantEmpty404(t *testing.T, status int, body map[string]any) {
	t.Helper()
	errs, ok := body["errors"].([]any)
	if status != 404 || len(body) != 1 || !ok || len(errs) != 0 {
		t.Fatalf("got %d %v, want 404 {\"errors\":[]}", status, body)
	}
}
