package validation

import (
	"strings"
	"testing"
)

func TestWebhookURL(t *testing.T) {
	ok := []string{
		"https://hooks.example.com/sirsi",
		"https://hooks.example.com:8443/a/b?x=1",
		"http://127.0.0.1:8080/hook",
		"http://127.8.9.10/hook",
		"http://[::1]:9000/hook",
		"http://localhost/hook",
		"https://" + strings.Repeat("a", MaxWebhookURLLen-len("https://")),
	}
	for _, s := range ok {
		if err := WebhookURL(s); err != nil {
			t.Errorf("WebhookURL(%.60q) = %v, want nil", s, err)
		}
	}
	bad := map[string]string{
		"":                                  "is required",
		"hooks.example.com/x":               "must start with https://",
		"ftp://hooks.example.com/x":         "must start with https://",
		"http://hooks.example.com/x":        "plain http is allowed only for a loopback host",
		"http://10.0.0.1/x":                 "plain http is allowed only for a loopback host",
		"https:///x":                        "has no host",
		"https:hooks.example.com":           "has no host",
		"https://user:pw@hooks.example.com": "must not carry user info",
		"https://hooks.example.com/x#frag":  "must not have a fragment",
		"https://hooks.example.com:99999x/": "is not a URL",
		"https://" + strings.Repeat("a", MaxWebhookURLLen): "at most 2048",
	}
	for s, want := range bad {
		err := WebhookURL(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("WebhookURL(%.60q) = %v, want an error containing %q", s, err, want)
		}
	}
	if err := WebhookURL("https://user:hunter2@hooks.example.com"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("user info error %v must not repeat the password", err)
	}
}

func TestWebhookSecret(t *testing.T) {
	for _, s := range []string{strings.Repeat("k", 16), strings.Repeat("k", 256), "s3cr3t-!~with_symbols"} {
		if err := WebhookSecret(s); err != nil {
			t.Errorf("WebhookSecret(%q) = %v, want nil", s, err)
		}
	}
	for s, want := range map[string]string{
		"":                          "must be 16..256",
		strings.Repeat("k", 15):     "is 15 characters long",
		strings.Repeat("k", 257):    "is 257 characters long",
		"sixteen chars with spaces": "printable ASCII",
		"tab\tseparated-secret-xx":  "printable ASCII",
		"\xff\xfe-not-utf8-at-all":  "UTF-8",
	} {
		err := WebhookSecret(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("WebhookSecret(%q) = %v, want an error containing %q", s, err, want)
		}
	}
}
