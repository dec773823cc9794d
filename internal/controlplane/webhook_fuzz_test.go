package controlplane

import (
	"strings"
	"testing"
)

// FuzzVerifyWebhookSignature feeds the receiver-side check arbitrary
// signature headers, as anyone who can reach a tenant's webhook URL can.
// It must not panic, must accept the signature the server sends, and must
// accept no header other than that signature (hex digits in either case).
func FuzzVerifyWebhookSignature(f *testing.F) {
	f.Add("whsec-0123456789", "1767225600", `{"tenant_id":"t1"}`, "sha256=00")
	f.Add("", "", "", "")
	f.Add("k", "1", "body", "sha256=")
	f.Add("k", "1", "body", "SHA256=ab")
	f.Add("k", "1.2", "", "sha256=zz")
	f.Add("k", "1", "body", "sha256="+strings.Repeat("0", 64)+" ")
	f.Fuzz(func(t *testing.T, secret, timestamp, body, header string) {
		good := webhookSignature(secret, timestamp, []byte(body))
		if !VerifyWebhookSignature(secret, timestamp, body, good) {
			t.Fatalf("the server's own signature %q is refused", good)
		}
		if VerifyWebhookSignature(secret, timestamp, body, header) && !strings.EqualFold(header, good) {
			t.Fatalf("accepted %q, the signature is %q", header, good)
		}
		// The same header under a different body, timestamp or secret is
		// a replay or a forgery.
		if VerifyWebhookSignature(secret, timestamp, body+"x", good) ||
			VerifyWebhookSignature(secret, timestamp+"1", body, good) ||
			VerifyWebhookSignature(secret+"x", timestamp, body, good) {
			t.Fatal("a signature verified for a different delivery")
		}
	})
}
