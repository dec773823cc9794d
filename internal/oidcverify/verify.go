// Package oidcverify checks OpenID Connect tokens (HCP Terraform workload
// identity, GitHub Actions, an enterprise IdP) against a tenant's OIDC
// trusts, so a pipeline can call the control plane without a stored secret.
//
// A token is accepted when, in this order: it is at most
// validation.MaxOIDCTokenBytes long; it is a JWS signed with RS256 or
// ES256 (never none or HS*); its unverified iss names an issuer some trust
// names (the caller looks the trusts up, so no other host is ever
// contacted); its signature verifies with a key of the issuer's JWKS,
// found through the issuer's discovery document; exp, nbf and iat hold
// within validation.OIDCClockSkew; and exactly one of the issuer's trusts
// matches: aud contains its audience, the token is at most its
// max_token_age old, every bound claim matches.
//
// Discovery and key sets are fetched with go-oidc and go-jose and cached
// per issuer. A kid not in the cached set refetches the set at most once
// per RefetchInterval (a rotation shows as a new kid, and so does a
// forgery); the set is also refreshed after KeysMaxAge. Only answers that
// parse, with at least one usable key, are cached; responses are limited
// in size and time, and redirects are not followed.
package oidcverify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/hashicorp/go-hclog"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// algorithms is the allow-list: RSA and P-256 signatures, which every
// workload identity issuer we name uses. none and the HMAC algorithms are
// refused by construction (an HMAC "key" would be public JWKS material).
var algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// Defaults of Options.
const (
	DefaultRefetchInterval = 30 * time.Second
	DefaultKeysMaxAge      = time.Hour
	DefaultFetchTimeout    = 10 * time.Second
	// MaxResponseBytes bounds a discovery document or key set.
	MaxResponseBytes = 1 << 20
)

// Reasons a token is refused; they name the check in logs and errors and
// never quote the token.
const (
	ReasonTooLong           = "too_long"
	ReasonMalformed         = "malformed"
	ReasonNoTrust           = "no_trust"
	ReasonIssuerUnavailable = "issuer_unavailable"
	ReasonUnknownKey        = "unknown_key"
	ReasonBadSignature      = "bad_signature"
	ReasonExpired           = "expired"
	ReasonNotYetValid       = "not_yet_valid"
	ReasonTooOld            = "too_old"
	ReasonAudience          = "audience"
	ReasonClaims            = "claims"
	ReasonAmbiguous         = "ambiguous"
)

// Refusal is why a token was not accepted.
type Refusal struct {
	Reason string
	Detail string
}

func (r *Refusal) Error() string { return r.Reason + ": " + r.Detail }

func refuse(reason, detail string) *Refusal { return &Refusal{Reason: reason, Detail: detail} }

// Options configure a Verifier; zero fields take their defaults.
type Options struct {
	// Client fetches discovery documents and key sets; its transport is
	// wrapped to bound response sizes and redirects are refused.
	Client          *http.Client
	Now             func() time.Time
	RefetchInterval time.Duration
	KeysMaxAge      time.Duration
	FetchTimeout    time.Duration
	Logger          hclog.Logger
}

// Verifier verifies tokens; safe for concurrent use. One per control
// plane process: it holds the key cache.
type Verifier struct {
	client          *http.Client
	now             func() time.Time
	refetchInterval time.Duration
	keysMaxAge      time.Duration
	fetchTimeout    time.Duration
	log             hclog.Logger

	mu      sync.Mutex
	issuers map[string]*issuerKeys
}

// New makes a Verifier.
func New(o Options) *Verifier {
	base := http.DefaultTransport
	if o.Client != nil && o.Client.Transport != nil {
		base = o.Client.Transport
	}
	v := &Verifier{
		client: &http.Client{
			Transport: limitedTransport{base},
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return errors.New("redirects are not followed")
			},
		},
		now: o.Now, refetchInterval: o.RefetchInterval, keysMaxAge: o.KeysMaxAge, fetchTimeout: o.FetchTimeout, log: o.Logger,
		issuers: map[string]*issuerKeys{},
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.refetchInterval <= 0 {
		v.refetchInterval = DefaultRefetchInterval
	}
	if v.keysMaxAge <= 0 {
		v.keysMaxAge = DefaultKeysMaxAge
	}
	if v.fetchTimeout <= 0 {
		v.fetchTimeout = DefaultFetchTimeout
	}
	if v.log == nil {
		v.log = hclog.NewNullLogger()
	}
	return v
}

// LooksLikeJWT says whether a bearer credential is meant as a JWT (three
// dot-separated parts, the first a JSON header): such a credential is
// verified here, and anything else is left to the token checks.
func LooksLikeJWT(tok string) bool {
	return strings.Count(tok, ".") == 2 && strings.HasPrefix(tok, "eyJ")
}

// Issuer checks the token's shape and algorithm and returns its claimed,
// not yet verified, issuer: the key to look trusts up by.
func Issuer(raw string) (string, error) {
	if len(raw) > validation.MaxOIDCTokenBytes {
		return "", refuse(ReasonTooLong, fmt.Sprintf("the token is %d bytes, at most %d are accepted", len(raw), validation.MaxOIDCTokenBytes))
	}
	jws, err := jose.ParseSignedCompact(raw, algorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return "", refuse(ReasonMalformed, "not a compact JWS with one RS256 or ES256 signature (alg none and HS* are refused)")
	}
	var c struct {
		Issuer string `json:"iss"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil || c.Issuer == "" {
		return "", refuse(ReasonMalformed, "the payload is not a JSON object with an iss claim")
	}
	return c.Issuer, nil
}

// Identity is a verified token and the trust it matched.
type Identity struct {
	Trust   *sirsiv1.OidcTrust
	Issuer  string
	Subject string
	// Matched are the token's values of the trust's bound claims.
	Matched map[string]string
	Expiry  time.Time
}

// Verify checks raw, whose issuer is issuer (from Issuer), against trusts
// (those naming issuer) and returns the identity of the one that matches.
func (v *Verifier) Verify(ctx context.Context, raw, issuer string, trusts []*sirsiv1.OidcTrust) (*Identity, error) {
	if len(trusts) == 0 {
		return nil, refuse(ReasonNoTrust, fmt.Sprintf("no OIDC trust names the issuer %q", issuer))
	}
	// Issuer and audience are checked here and per trust below; expiry
	// with our skew, which go-oidc does not apply.
	verifier := oidc.NewVerifier(issuer, v.keysOf(issuer), &oidc.Config{
		SkipClientIDCheck: true, SkipExpiryCheck: true,
		SupportedSigningAlgs: []string{string(jose.RS256), string(jose.ES256)},
	})
	// go-oidc flattens the key set's error into text; the key set leaves
	// its refusal here so the reason survives.
	var held refusalHolder
	tok, err := verifier.Verify(context.WithValue(ctx, refusalKey{}, &held), raw)
	if err != nil {
		if held.r != nil {
			return nil, held.r
		}
		return nil, refuse(ReasonMalformed, err.Error())
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, refuse(ReasonMalformed, "claims: "+err.Error())
	}
	now := v.now()
	iat, err := checkTimes(claims, now)
	if err != nil {
		return nil, err
	}
	var matches []*Identity
	var misses []string
	for _, t := range trusts {
		id, miss := match(t, tok.Audience, claims, now.Sub(iat))
		if miss != nil {
			misses = append(misses, fmt.Sprintf("%s: %s", t.Name, miss.Detail))
			continue
		}
		id.Issuer, id.Expiry = issuer, tok.Expiry
		matches = append(matches, id)
	}
	switch {
	case len(matches) == 1:
		return matches[0], nil
	case len(matches) > 1:
		return nil, refuse(ReasonAmbiguous, fmt.Sprintf("the token matches %d trusts; bind more claims so one matches", len(matches)))
	}
	// The reason is the first trust's: with several trusts of one issuer
	// the details name each (in the log only; callers see the reason).
	reason := ReasonClaims
	if _, miss := match(trusts[0], tok.Audience, claims, now.Sub(iat)); miss != nil {
		reason = miss.Reason
	}
	return nil, refuse(reason, strings.Join(misses, "; "))
}

type refusalKey struct{}

type refusalHolder struct{ r *Refusal }

// hold records r for Verify and returns it.
func hold(ctx context.Context, r *Refusal) *Refusal {
	if h, ok := ctx.Value(refusalKey{}).(*refusalHolder); ok {
		h.r = r
	}
	return r
}

func (v *Verifier) keysOf(issuer string) *issuerKeys {
	v.mu.Lock()
	defer v.mu.Unlock()
	k, ok := v.issuers[issuer]
	if !ok {
		k = &issuerKeys{url: issuer, v: v}
		v.issuers[issuer] = k
	}
	return k
}

// checkTimes applies exp, nbf and iat with validation.OIDCClockSkew; exp
// and iat are required (a token without them could be replayed forever).
func checkTimes(claims map[string]any, now time.Time) (time.Time, error) {
	skew := validation.OIDCClockSkew
	exp, ok := numericDate(claims, "exp")
	if !ok {
		return time.Time{}, refuse(ReasonMalformed, "the token has no numeric exp")
	}
	if !now.Before(exp.Add(skew)) {
		return time.Time{}, refuse(ReasonExpired, fmt.Sprintf("the token expired at %s", exp.UTC().Format(time.RFC3339)))
	}
	iat, ok := numericDate(claims, "iat")
	if !ok {
		return time.Time{}, refuse(ReasonMalformed, "the token has no numeric iat")
	}
	if iat.After(now.Add(skew)) {
		return time.Time{}, refuse(ReasonNotYetValid, fmt.Sprintf("the token is issued in the future (%s)", iat.UTC().Format(time.RFC3339)))
	}
	if nbf, ok := numericDate(claims, "nbf"); ok && nbf.After(now.Add(skew)) {
		return time.Time{}, refuse(ReasonNotYetValid, fmt.Sprintf("the token is not valid before %s", nbf.UTC().Format(time.RFC3339)))
	}
	return iat, nil
}

func numericDate(claims map[string]any, name string) (time.Time, bool) {
	f, ok := claims[name].(float64)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// match checks one trust: audience, age and every bound claim.
func match(t *sirsiv1.OidcTrust, aud []string, claims map[string]any, age time.Duration) (*Identity, *Refusal) {
	if !slices.Contains(aud, t.Audience) {
		return nil, refuse(ReasonAudience, fmt.Sprintf("aud %q does not contain %q", aud, t.Audience))
	}
	maxAge := t.MaxTokenAge.AsDuration()
	if maxAge == 0 {
		maxAge = validation.DefaultOIDCMaxTokenAge
	}
	if age > maxAge+validation.OIDCClockSkew {
		return nil, refuse(ReasonTooOld, fmt.Sprintf("the token was issued %s ago, max_token_age is %s", age.Round(time.Second), maxAge))
	}
	matched := make(map[string]string, len(t.BoundClaims))
	names := make([]string, 0, len(t.BoundClaims))
	for name := range t.BoundClaims {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		got, ok := claims[name].(string)
		if !ok {
			return nil, refuse(ReasonClaims, fmt.Sprintf("claim %s is missing or not a string", name))
		}
		if !Glob(t.BoundClaims[name], got) {
			return nil, refuse(ReasonClaims, fmt.Sprintf("claim %s=%q does not match %q", name, got, t.BoundClaims[name]))
		}
		matched[name] = got
	}
	subjectClaim := t.SubjectClaim
	if subjectClaim == "" {
		subjectClaim = validation.DefaultOIDCSubjectClaim
	}
	sub, _ := claims[subjectClaim].(string)
	if sub == "" {
		return nil, refuse(ReasonClaims, fmt.Sprintf("subject claim %s is missing or empty", subjectClaim))
	}
	return &Identity{Trust: t, Subject: sub, Matched: matched}, nil
}

// Glob reports whether s matches pattern, where "*" matches any run of
// characters (including none) and every other character only itself.
func Glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}
