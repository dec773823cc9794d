// Package oidctest serves an OpenID Connect issuer on 127.0.0.1 for tests:
// keys minted in the test, a discovery document and a JWKS endpoint, key
// rotation, and switches that make the issuer fail or answer garbage.
package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// Issuer is a running test issuer.
type Issuer struct {
	URL string
	// KeySetFetches counts JWKS requests served (failed or not).
	KeySetFetches atomic.Int64

	mu        sync.Mutex
	published []jose.JSONWebKey
	signing   Key
	mode      string
	n         int
}

// Key is a private signing key and its kid.
type Key struct {
	KID       string
	Algorithm jose.SignatureAlgorithm
	Private   crypto.Signer
}

// Start serves a new issuer with one RS256 key until the test ends.
func Start(t testing.TB) *Issuer {
	t.Helper()
	is := &Issuer{}
	srv := httptest.NewServer(http.HandlerFunc(is.serve))
	t.Cleanup(srv.Close)
	is.URL = srv.URL
	is.signing = is.NewKey(t, jose.RS256)
	is.published = []jose.JSONWebKey{is.signing.public()}
	return is
}

// NewKey mints a key the issuer does not publish (a foreign key, or the
// next one to rotate to).
func (is *Issuer) NewKey(t testing.TB, alg jose.SignatureAlgorithm) Key {
	t.Helper()
	is.mu.Lock()
	is.n++
	kid := fmt.Sprintf("key-%d", is.n)
	is.mu.Unlock()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		t.Fatalf("oidctest: no key for %s", alg)
	}
	if err != nil {
		t.Fatalf("oidctest: mint %s key: %v", alg, err)
	}
	return Key{KID: kid, Algorithm: alg, Private: priv}
}

func (k Key) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Private.Public(), KeyID: k.KID, Algorithm: string(k.Algorithm), Use: "sig"}
}

// Rotate publishes k and signs with it from now on; the previous keys
// stay published only when keepOld.
func (is *Issuer) Rotate(k Key, keepOld bool) {
	is.mu.Lock()
	defer is.mu.Unlock()
	if !keepOld {
		is.published = nil
	}
	is.published = append(is.published, k.public())
	is.signing = k
}

// SetMode makes the issuer's endpoints answer normally (""), fail with
// 503 ("down"), or answer 200 with bytes that are not JSON ("garbage").
func (is *Issuer) SetMode(mode string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.mode = mode
}

func (is *Issuer) serve(w http.ResponseWriter, r *http.Request) {
	is.mu.Lock()
	mode, keys := is.mode, append([]jose.JSONWebKey(nil), is.published...)
	is.mu.Unlock()
	if r.URL.Path == "/jwks" {
		is.KeySetFetches.Add(1)
	}
	switch mode {
	case "down":
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	case "garbage":
		_, _ = w.Write([]byte("<html>{not json"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": is.URL, "jwks_uri": is.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
		})
	case "/jwks":
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: keys})
	default:
		http.NotFound(w, r)
	}
}

// Token signs claims with the issuer's current key; iss is filled in
// when absent.
func (is *Issuer) Token(t testing.TB, claims map[string]any) string {
	t.Helper()
	is.mu.Lock()
	k := is.signing
	is.mu.Unlock()
	return is.SignWith(t, k, claims)
}

// SignWith signs claims with k (which need not be published); iss is
// filled in when absent.
func (is *Issuer) SignWith(t testing.TB, k Key, claims map[string]any) string {
	t.Helper()
	if _, ok := claims["iss"]; !ok {
		claims["iss"] = is.URL
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Algorithm, Key: jose.JSONWebKey{Key: k.Private, KeyID: k.KID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatalf("oidctest: signer: %v", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatalf("oidctest: sign: %v", err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Unsigned is claims as an "alg: none" JWT, which no verifier may accept.
func (is *Issuer) Unsigned(t testing.TB, claims map[string]any) string {
	t.Helper()
	if _, ok := claims["iss"]; !ok {
		claims["iss"] = is.URL
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + "."
}
