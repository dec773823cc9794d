package oidcverify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// issuerKeys is one issuer's discovery result and key set. Only answers
// that parsed are kept: a failed or garbled fetch leaves what was there
// (nothing, on the first try).
type issuerKeys struct {
	url string
	v   *Verifier

	// mu serialises fetches, so concurrent tokens with a new kid cause one
	// request, and guards the fields below.
	mu        sync.Mutex
	jwksURL   string
	keys      []jose.JSONWebKey
	fetchedAt time.Time
	// triedAt is the last fetch attempt, successful or not: the clock of
	// the refetch limit.
	triedAt time.Time
}

var _ oidc.KeySet = (*issuerKeys)(nil)

// VerifySignature implements oidc.KeySet: go-oidc has already refused
// every algorithm but RS256 and ES256 and a token without exactly one
// signature when it calls this.
func (k *issuerKeys) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	payload, r := k.verify(ctx, raw)
	if r != nil {
		return nil, hold(ctx, r)
	}
	return payload, nil
}

func (k *issuerKeys) verify(ctx context.Context, raw string) ([]byte, *Refusal) {
	jws, err := jose.ParseSignedCompact(raw, algorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, refuse(ReasonMalformed, "the token is not a JWS with one RS256 or ES256 signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	keys, r := k.keysFor(ctx, kid)
	if r != nil {
		return nil, r
	}
	found := false
	for i := range keys {
		if kid != "" && keys[i].KeyID != kid {
			continue
		}
		found = true
		if payload, err := jws.Verify(&keys[i]); err == nil {
			return payload, nil
		}
	}
	if !found {
		return nil, refuse(ReasonUnknownKey, fmt.Sprintf("the token's key %q is not in %s's key set", kid, k.url))
	}
	return nil, refuse(ReasonBadSignature, fmt.Sprintf("the signature does not verify with %s's key %q", k.url, kid))
}

// keysFor returns the key set, fetching it when there is none, when it is
// older than KeysMaxAge, or when kid is not in it and the last attempt is
// at least RefetchInterval ago (an unknown kid is how a key rotation
// shows, and also what a forger sends, so refetches are rate-limited).
func (k *issuerKeys) keysFor(ctx context.Context, kid string) ([]jose.JSONWebKey, *Refusal) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.v.now()
	switch {
	case k.keys == nil:
		// Nothing cached: every token fetches (one at a time), so a
		// recovered issuer works at once; failures count against the
		// caller's source like any refused token.
	case now.Sub(k.fetchedAt) >= k.v.keysMaxAge:
	case kid != "" && !hasKey(k.keys, kid) && now.Sub(k.triedAt) >= k.v.refetchInterval:
	default:
		return k.keys, nil
	}
	k.triedAt = now
	keys, r := k.fetch(ctx)
	if r != nil {
		if k.keys != nil {
			// A stale but once-good set beats refusing every caller
			// while the issuer is away; the bad answer is not kept.
			k.v.log.Warn("refresh an OIDC issuer's key set", "issuer", k.url, "error", r.Detail)
			return k.keys, nil
		}
		return nil, r
	}
	k.keys, k.fetchedAt = keys, now
	return keys, nil
}

func hasKey(keys []jose.JSONWebKey, kid string) bool {
	for i := range keys {
		if keys[i].KeyID == kid {
			return true
		}
	}
	return false
}

// fetch reads the discovery document (once per issuer, until a key set
// fetch fails) and the key set it names.
func (k *issuerKeys) fetch(ctx context.Context) ([]jose.JSONWebKey, *Refusal) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.v.fetchTimeout)
	defer cancel()
	if k.jwksURL == "" {
		p, err := oidc.NewProvider(oidc.ClientContext(ctx, k.v.client), k.url)
		if err != nil {
			return nil, refuse(ReasonIssuerUnavailable, fmt.Sprintf("discovery at %s failed: %v", k.url, err))
		}
		var doc struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err := p.Claims(&doc); err != nil {
			return nil, refuse(ReasonIssuerUnavailable, fmt.Sprintf("discovery at %s: %v", k.url, err))
		}
		if err := validation.OIDCKeySetURL(doc.JWKSURI); err != nil {
			return nil, refuse(ReasonIssuerUnavailable, fmt.Sprintf("discovery at %s: jwks_uri %v", k.url, err))
		}
		k.jwksURL = doc.JWKSURI
	}
	keys, err := k.fetchKeySet(ctx)
	if err != nil {
		// The discovery document may have moved the key set: ask again
		// next time.
		k.jwksURL = ""
		return nil, refuse(ReasonIssuerUnavailable, fmt.Sprintf("key set of %s: %v", k.url, err))
	}
	return keys, nil
}

func (k *issuerKeys) fetchKeySet(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.jwksURL, nil)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", k.jwksURL, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", k.jwksURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", k.jwksURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: %s", k.jwksURL, resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("decode %s: %w", k.jwksURL, err)
	}
	var keys []jose.JSONWebKey
	for _, key := range set.Keys {
		// Only public signing keys of the allowed algorithms count; a
		// set without one is as good as no answer.
		if !key.Valid() || !key.IsPublic() || (key.Use != "" && key.Use != "sig") {
			continue
		}
		if key.Algorithm != "" && key.Algorithm != string(jose.RS256) && key.Algorithm != string(jose.ES256) {
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("no RS256 or ES256 public signing key in " + k.jwksURL)
	}
	return keys, nil
}
