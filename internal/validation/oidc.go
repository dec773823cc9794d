package validation

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// The bounds of an OIDC trust (sirsi_oidc_trust), shared by the control
// plane and the provider.
const (
	// DefaultOIDCSubjectClaim names the caller when a trust sets none.
	DefaultOIDCSubjectClaim = "sub"
	// DefaultOIDCMaxTokenAge is how old a token may be when a trust sets
	// no max_token_age: long enough for an HCP Terraform plan or apply
	// phase (its workload identity token is minted when the phase starts
	// and lives as long as the phase) and far longer than a GitHub Actions
	// token lives, short enough that a leaked token is soon worthless.
	DefaultOIDCMaxTokenAge = 2 * time.Hour
	// MinOIDCMaxTokenAge and MaxOIDCMaxTokenAge bound max_token_age; the
	// ceiling keeps a trust from turning a short-lived workload token
	// into a day-long credential.
	MinOIDCMaxTokenAge = time.Minute
	MaxOIDCMaxTokenAge = 12 * time.Hour
	// OIDCClockSkew is the leeway of exp, nbf and iat against this
	// server's clock.
	OIDCClockSkew = time.Minute
	// MaxOIDCTokenBytes refuses a bearer token longer than this before it
	// is parsed: real workload identity tokens are 1-2 KiB.
	MaxOIDCTokenBytes = 16 << 10

	MaxOIDCIssuerLen    = 512
	MaxOIDCAudienceLen  = 256
	MaxOIDCBoundClaims  = 32
	MaxOIDCClaimNameLen = 128
	MaxOIDCClaimValLen  = 256
)

// oidcCheckedClaims are checked by the verifier itself, never by a
// bound claim: a trust binding them would be misleading (aud is a list,
// the times are numbers).
var oidcCheckedClaims = map[string]bool{"iss": true, "aud": true, "exp": true, "nbf": true, "iat": true}

// OIDCIssuer checks a trust's issuer: an https URL (see secureURL) without
// a query, as the token's iss claim spells it.
func OIDCIssuer(s string) error {
	u, err := secureURL(s, MaxOIDCIssuerLen)
	if err != nil {
		return err
	}
	if u.RawQuery != "" || strings.HasSuffix(s, "?") {
		return fmt.Errorf("%q must not have a query: an issuer is a scheme, host and optional path", s)
	}
	return nil
}

// OIDCAudience checks a trust's audience: required, printable, one line,
// at most 256 characters.
func OIDCAudience(s string) error {
	if s == "" {
		return errors.New("is required: the value the token's aud must contain (e.g. the audience the workload identity token is minted for)")
	}
	return Text(s, MaxOIDCAudienceLen, false)
}

// OIDCClaimName checks a claim name (a bound claim's key, the subject
// claim): 1..128 printable characters without spaces.
func OIDCClaimName(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("%q contains a space or control character", s)
		}
	}
	return Text(s, MaxOIDCClaimNameLen, false)
}

// OIDCBoundClaims checks a trust's bound claims: 1..32 entries, each a
// claim name and a pattern of 1..256 printable characters where "*"
// matches any run of characters. At least one entry is required: a trust
// without one would accept every token the issuer signs for the audience,
// for instance every HCP Terraform workspace of every organisation.
func OIDCBoundClaims(m map[string]string) error {
	if len(m) == 0 {
		return errors.New("needs at least one claim (e.g. terraform_organization_name): without one every token the issuer signs for the audience would be accepted")
	}
	if len(m) > MaxOIDCBoundClaims {
		return fmt.Errorf("has %d entries, at most %d are allowed", len(m), MaxOIDCBoundClaims)
	}
	for _, k := range sortedKeys(m) {
		if err := OIDCClaimName(k); err != nil {
			return fmt.Errorf("claim name %q: %w", k, err)
		}
		if oidcCheckedClaims[k] {
			return fmt.Errorf("claim %q is checked by the verifier (issuer, audience, token age); bind other claims", k)
		}
		v := m[k]
		if v == "" {
			return fmt.Errorf("claim %q: the pattern is empty; use \"*\" for any value", k)
		}
		if err := Text(v, MaxOIDCClaimValLen, false); err != nil {
			return fmt.Errorf("claim %q: %w", k, err)
		}
	}
	return nil
}

// OIDCMaxTokenAge checks a trust's max_token_age: 0 (the default) or
// MinOIDCMaxTokenAge..MaxOIDCMaxTokenAge.
func OIDCMaxTokenAge(d time.Duration) error {
	if d == 0 {
		return nil
	}
	return durationRange(d, MinOIDCMaxTokenAge, MaxOIDCMaxTokenAge)
}

// OIDCKeySetURL checks the jwks_uri of an issuer's discovery document by
// the same rule as the issuer (query allowed): keys fetched over plain
// http from a non-loopback host could be anyone's.
func OIDCKeySetURL(s string) error {
	_, err := secureURL(s, MaxWebhookURLLen)
	return err
}
