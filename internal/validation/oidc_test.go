package validation

import (
	"strings"
	"testing"
	"time"
)

func TestOIDCIssuer(t *testing.T) {
	for _, ok := range []string{"https://app.terraform.io", "https://token.actions.githubusercontent.com", "https://login.example.com/realms/acme", "http://127.0.0.1:8443", "http://localhost:9000/idp"} {
		if err := OIDCIssuer(ok); err != nil {
			t.Errorf("OIDCIssuer(%q) = %v", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"":                                    "is required",
		"http://idp.example.com":              "must use https",
		"https://idp.example.com?tenant=1":    "must not have a query",
		"https://idp.example.com#x":           "fragment",
		"https://u:p@idp.example.com":         "user info",
		"ftp://idp.example.com":               "must start with https://",
		"https://" + strings.Repeat("a", 600): "at most 512",
	} {
		if err := OIDCIssuer(bad); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("OIDCIssuer(%q) = %v, want %q", bad, err, want)
		}
	}
}

func TestOIDCBoundClaims(t *testing.T) {
	if err := OIDCBoundClaims(map[string]string{"terraform_organization_name": "acme", "terraform_workspace_name": "prod-*"}); err != nil {
		t.Fatal(err)
	}
	many := map[string]string{}
	for i := 0; i <= MaxOIDCBoundClaims; i++ {
		many[strings.Repeat("c", i+1)] = "v"
	}
	for name, c := range map[string]struct {
		m    map[string]string
		want string
	}{
		"none":        {nil, "at least one claim"},
		"too many":    {many, "at most 32"},
		"aud":         {map[string]string{"aud": "x"}, "checked by the verifier"},
		"empty value": {map[string]string{"sub": ""}, `use "*"`},
		"space name":  {map[string]string{"a b": "x"}, "space"},
		"long value":  {map[string]string{"sub": strings.Repeat("x", 300)}, "at most 256"},
	} {
		if err := OIDCBoundClaims(c.m); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func TestOIDCMaxTokenAge(t *testing.T) {
	for _, ok := range []time.Duration{0, time.Minute, DefaultOIDCMaxTokenAge, MaxOIDCMaxTokenAge} {
		if err := OIDCMaxTokenAge(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []time.Duration{time.Second, MaxOIDCMaxTokenAge + time.Second, -time.Hour} {
		if err := OIDCMaxTokenAge(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if DefaultOIDCMaxTokenAge < MinOIDCMaxTokenAge || DefaultOIDCMaxTokenAge > MaxOIDCMaxTokenAge {
		t.Fatalf("the default %s is outside its own bounds", DefaultOIDCMaxTokenAge)
	}
}

func TestOIDCAudienceAndClaimName(t *testing.T) {
	if err := OIDCAudience(""); err == nil {
		t.Error("empty audience accepted")
	}
	if err := OIDCAudience("sirsi.example.com"); err != nil {
		t.Error(err)
	}
	if err := OIDCClaimName("terraform_workspace_name"); err != nil {
		t.Error(err)
	}
	if err := OIDCClaimName("a\x00"); err == nil {
		t.Error("control character accepted")
	}
}
