package validation

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode/utf8"
)

const (
	MaxWebhookURLLen    = 2048
	MinWebhookSecretLen = 16
	MaxWebhookSecretLen = 256
)

// WebhookURL checks a tenant's webhook address: an absolute https URL of
// at most 2048 characters with a host, no user info (the secret
// authenticates deliveries, and credentials in a URL end up in logs) and no
// fragment. Plain http is allowed only for a loopback host, so a receiver
// on the same machine can be tested without a certificate while nothing
// crosses a network unencrypted.
func WebhookURL(s string) error {
	_, err := secureURL(s, MaxWebhookURLLen)
	return err
}

// secureURL is the address rule webhooks and OIDC issuers share: an
// absolute https URL of at most limit characters with a host, no user info
// and no fragment, plain http only for a loopback host.
func secureURL(s string, limit int) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("is required")
	}
	if len(s) > limit {
		return nil, fmt.Errorf("is %d characters long, at most %d are allowed", len(s), limit)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL", s)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("%q must start with https://", s)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%q has no host", s)
	}
	if u.User != nil {
		// The URL is not echoed: its user info may be a password.
		return nil, errors.New("must not carry user info (user:password@)")
	}
	if u.Fragment != "" || strings.HasSuffix(s, "#") {
		return nil, fmt.Errorf("%q must not have a fragment", s)
	}
	if p := u.Port(); p != "" && (len(p) > 5 || strings.TrimLeft(p, "0123456789") != "") {
		return nil, fmt.Errorf("%q has an invalid port", s)
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("%q must use https; plain http is allowed only for a loopback host (127.0.0.0/8, ::1, localhost)", s)
	}
	return u, nil
}

func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// WebhookSecret checks the HMAC key of a tenant's webhook: 16..256
// printable ASCII characters without spaces, so it can be typed, pasted
// and passed through environment variables unchanged.
func WebhookSecret(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	n := utf8.RuneCountInString(s)
	if n < MinWebhookSecretLen || n > MaxWebhookSecretLen {
		return fmt.Errorf("is %d characters long, must be %d..%d", n, MinWebhookSecretLen, MaxWebhookSecretLen)
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return errors.New("may contain only printable ASCII characters without spaces")
		}
	}
	return nil
}
