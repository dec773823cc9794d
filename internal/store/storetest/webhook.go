package storetest

import (
	"testing"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// testTenantWebhook: the webhook URL and secret round-trip, an update
// without a secret keeps the stored one, clearing the URL clears both, and
// a half-configured webhook is refused.
func testTenantWebhook(t *testing.T, s store.Store) {
	c := ctx(t)
	const url, secret = "https://hooks.example.com/sirsi", "0123456789abcdef-first"
	tn := must(s.CreateTenant(c, &sirsiv1.Tenant{Name: "hooked", WebhookUrl: url, WebhookSecret: secret}))
	if tn.WebhookUrl != url || tn.WebhookSecret != secret || !tn.WebhookSecretSet {
		t.Fatalf("create = %v, want the webhook set", tn)
	}
	got := must(s.GetTenant(c, tn.Id))
	if !proto.Equal(got, tn) {
		t.Fatalf("get = %v, want %v", got, tn)
	}
	if byName := must(s.GetTenantByName(c, "hooked")); byName.WebhookSecret != secret {
		t.Fatalf("by name lost the secret: %v", byName)
	}
	plain := must(s.CreateTenant(c, &sirsiv1.Tenant{Name: "plain"}))
	if plain.WebhookUrl != "" || plain.WebhookSecret != "" || plain.WebhookSecretSet {
		t.Fatalf("tenant without webhook = %v", plain)
	}
	list, _, err := s.ListTenants(c, store.Page{})
	ok(t, err)
	if len(list) != 2 || list[0].Name != "hooked" || list[0].WebhookSecret != secret || list[1].WebhookSecretSet {
		t.Fatalf("list = %v", list)
	}

	up := proto.Clone(tn).(*sirsiv1.Tenant)
	up.WebhookUrl, up.WebhookSecret = "https://hooks.example.com/v2", ""
	u := must(s.UpdateTenant(c, up))
	if u.WebhookUrl != "https://hooks.example.com/v2" || u.WebhookSecret != secret || !u.WebhookSecretSet {
		t.Fatalf("update without a secret = %v, want the URL changed and the secret kept", u)
	}
	up.Version, up.WebhookSecret = u.Version, "0123456789abcdef-rotated"
	u = must(s.UpdateTenant(c, up))
	if got := must(s.GetTenant(c, tn.Id)); got.WebhookSecret != "0123456789abcdef-rotated" || u.WebhookSecret != got.WebhookSecret {
		t.Fatalf("rotated secret: update returned %q, stored %q", u.WebhookSecret, got.WebhookSecret)
	}

	_, err = s.UpdateTenant(c, &sirsiv1.Tenant{Id: plain.Id, WebhookUrl: url})
	wantErr(t, err, store.ErrInvalidArgument, "URL without any secret")
	_, err = s.UpdateTenant(c, &sirsiv1.Tenant{Id: plain.Id, WebhookSecret: secret})
	wantErr(t, err, store.ErrInvalidArgument, "secret without a URL")
	_, err = s.CreateTenant(c, &sirsiv1.Tenant{Name: "half", WebhookUrl: url})
	wantErr(t, err, store.ErrInvalidArgument, "create with a URL and no secret")
	_, err = s.GetTenantByName(c, "half")
	wantErr(t, err, store.ErrNotFound, "refused create left a row")
	if got := must(s.GetTenant(c, plain.Id)); got.Version != plain.Version || got.WebhookUrl != "" {
		t.Fatalf("refused update changed the tenant: %v", got)
	}

	up = &sirsiv1.Tenant{Id: tn.Id, Name: tn.Name}
	u = must(s.UpdateTenant(c, up))
	if u.WebhookUrl != "" || u.WebhookSecret != "" || u.WebhookSecretSet {
		t.Fatalf("removing the URL = %v, want no webhook left", u)
	}
	up.WebhookUrl = url
	_, err = s.UpdateTenant(c, up)
	wantErr(t, err, store.ErrInvalidArgument, "URL again after the secret was removed with the old one")
}
