package storetest

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

func oidcTrust(name, issuer string) *sirsiv1.OidcTrust {
	return &sirsiv1.OidcTrust{
		Name: name, Issuer: issuer, Audience: "sirsi", Role: sirsiv1.Role_ROLE_EDITOR, SubjectClaim: "sub",
		BoundClaims: map[string]string{"terraform_organization_name": "acme", "terraform_workspace_name": "prod-*"},
		MaxTokenAge: durationpb.New(2 * time.Hour),
	}
}

// testOIDCTrusts: CRUD with versions inside a tenant, names unique per
// tenant, and the one cross-tenant read (by issuer) finding every
// tenant's trusts of that issuer and nothing else.
func testOIDCTrusts(t *testing.T, s store.Store) {
	c := ctx(t)
	_, err := s.Tenant("missing").CreateOIDCTrust(c, oidcTrust("hcp", "https://app.terraform.io"))
	wantErr(t, err, store.ErrFailedPrecondition, "trust under missing tenant")
	a, b := newTenant(t, s, "acme"), newTenant(t, s, "globex")
	tr := must(a.CreateOIDCTrust(c, oidcTrust("hcp", "https://app.terraform.io")))
	if tr.Id == "" || tr.Version != 1 || tr.TenantId != a.TenantID() || tr.CreateTime == nil {
		t.Fatalf("create = %v", tr)
	}
	if got := must(a.GetOIDCTrust(c, tr.Id)); !proto.Equal(got, tr) {
		t.Fatalf("get = %v, want %v", got, tr)
	}
	_, err = a.CreateOIDCTrust(c, oidcTrust("hcp", "https://token.actions.githubusercontent.com"))
	wantErr(t, err, store.ErrAlreadyExists, "second trust named hcp")
	// Another tenant may use the same name and issuer.
	other := must(b.CreateOIDCTrust(c, oidcTrust("hcp", "https://app.terraform.io")))
	gh := must(a.CreateOIDCTrust(c, oidcTrust("github", "https://token.actions.githubusercontent.com")))

	found := must(s.LookupOIDCTrusts(c, "https://app.terraform.io"))
	if len(found) != 2 {
		t.Fatalf("lookup by issuer found %d trusts, want 2 (one per tenant): %v", len(found), found)
	}
	seen := map[string]string{}
	for _, f := range found {
		seen[f.TenantId] = f.Id
	}
	if seen[a.TenantID()] != tr.Id || seen[b.TenantID()] != other.Id {
		t.Fatalf("lookup by issuer = %v", seen)
	}
	if got := must(s.LookupOIDCTrusts(c, "https://app.terraform.io/")); len(got) != 0 {
		t.Fatalf("issuer with a trailing slash matched %v: iss is compared exactly", got)
	}

	upd := proto.Clone(tr).(*sirsiv1.OidcTrust)
	upd.Role, upd.BoundClaims = sirsiv1.Role_ROLE_VIEWER, map[string]string{"sub": "organization:acme:*"}
	upd.MaxTokenAge = durationpb.New(30 * time.Minute)
	u := must(a.UpdateOIDCTrust(c, upd))
	if u.Version != 2 || u.Role != sirsiv1.Role_ROLE_VIEWER || len(u.BoundClaims) != 1 || u.MaxTokenAge.AsDuration() != 30*time.Minute || !u.CreateTime.AsTime().Equal(tr.CreateTime.AsTime()) {
		t.Fatalf("update = %v", u)
	}
	_, err = a.UpdateOIDCTrust(c, upd)
	wantErr(t, err, store.ErrVersionMismatch, "stale update")
	rename := proto.Clone(u).(*sirsiv1.OidcTrust)
	rename.Name = "github"
	_, err = a.UpdateOIDCTrust(c, rename)
	wantErr(t, err, store.ErrAlreadyExists, "rename onto a taken name")

	// Tenant b cannot see or touch a's trust.
	_, err = b.GetOIDCTrust(c, tr.Id)
	wantErr(t, err, store.ErrNotFound, "get another tenant's trust")
	wantErr(t, b.DeleteOIDCTrust(c, tr.Id, 0), store.ErrNotFound, "delete another tenant's trust")

	list, next, err := a.ListOIDCTrusts(c, store.Page{Size: 1})
	ok(t, err)
	rest, _, err := a.ListOIDCTrusts(c, store.Page{Size: 1, Token: next})
	ok(t, err)
	if len(list) != 1 || len(rest) != 1 || list[0].Id == rest[0].Id {
		t.Fatalf("pages %v then %v", list, rest)
	}

	wantErr(t, a.DeleteOIDCTrust(c, tr.Id, 1), store.ErrVersionMismatch, "delete with a stale version")
	ok(t, a.DeleteOIDCTrust(c, tr.Id, 2))
	wantErr(t, a.DeleteOIDCTrust(c, tr.Id, 0), store.ErrNotFound, "delete twice")
	if got := must(s.LookupOIDCTrusts(c, "https://app.terraform.io")); len(got) != 1 || got[0].Id != other.Id {
		t.Fatalf("after delete, lookup = %v", got)
	}
	// A forced tenant delete takes its trusts along.
	ok(t, s.DeleteTenant(c, a.TenantID(), 0, true))
	if got := must(s.LookupOIDCTrusts(c, "https://token.actions.githubusercontent.com")); len(got) != 0 {
		t.Fatalf("trust %s outlived its tenant: %v", gh.Id, got)
	}
}
