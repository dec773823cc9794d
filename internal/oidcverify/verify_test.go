package oidcverify

import (
	"errors"
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"prod-*", "prod-network", true},
		{"prod-*", "prod-", true},
		{"prod-*", "staging-prod-x", false},
		{"*-prod", "eu-prod", true},
		{"*", "", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"a*a", "a", false},
		{"acme", "acme", true},
		{"acme", "acme2", false},
		{"organization:acme:*:workspace:prod-*", "organization:acme:project:x:workspace:prod-1", true},
		// Only * is special.
		{"prod-?", "prod-1", false},
		{"[ab]", "a", false},
	} {
		if got := Glob(c.pattern, c.s); got != c.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestIssuerRefusesBeforeParsing(t *testing.T) {
	for _, c := range []struct{ tok, reason string }{
		{strings.Repeat("a", 20000), ReasonTooLong},
		{"eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln", ReasonMalformed}, // HS256
		{"not.a.jwt", ReasonMalformed},
	} {
		_, err := Issuer(c.tok)
		var r *Refusal
		if !errors.As(err, &r) || r.Reason != c.reason {
			t.Errorf("Issuer(%.20q) = %v, want %s", c.tok, err, c.reason)
		}
	}
}
