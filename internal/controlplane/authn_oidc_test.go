package controlplane_test

import (
	"context"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/oidcverify"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/oidcverify/oidctest"
)

const oidcAudience = "sirsi.test"

// tfcClaims are the claims of an HCP Terraform workload identity token
// for a run of workspace in organisation acme, issued now.
func tfcClaims(env *cptest.Env, workspace string) map[string]any {
	now := env.Clock.Now()
	return map[string]any{
		"aud": oidcAudience, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"sub":                         "organization:acme:project:default:workspace:" + workspace + ":run_phase:apply",
		"terraform_organization_name": "acme", "terraform_workspace_name": workspace, "terraform_run_phase": "apply",
	}
}

func newTrust(t *testing.T, c sirsiv1.ManagementServiceClient, tenantID, name, issuer, workspaces string, role sirsiv1.Role) *sirsiv1.OidcTrust {
	t.Helper()
	out, err := c.CreateOidcTrust(context.Background(), &sirsiv1.CreateOidcTrustRequest{OidcTrust: &sirsiv1.OidcTrust{
		TenantId: tenantID, Name: name, Issuer: issuer, Audience: oidcAudience, Role: role,
		BoundClaims: map[string]string{"terraform_organization_name": "acme", "terraform_workspace_name": workspaces},
	}})
	if err != nil {
		t.Fatalf("create trust %s: %v", name, err)
	}
	return out.OidcTrust
}

func accountReq(tenantID, account string) *sirsiv1.CreateCloudAccountRequest {
	return &sirsiv1.CreateCloudAccountRequest{CloudAccount: &sirsiv1.CloudAccount{
		TenantId: tenantID, AccountId: account, Regions: []string{"us-east-1"}, RoleArn: "arn:aws:iam::" + account + ":role/Agent",
	}}
}

// TestOIDCCallers: a token a trust accepts acts in the trust's tenant
// with the trust's role, and the audit log names the issuer, subject and
// matched claims.
func TestOIDCCallers(t *testing.T) {
	env := cptest.Start(t)
	is := oidctest.Start(t)
	a, b := env.NewTenant(t, "acme"), env.NewTenant(t, "globex")
	newTrust(t, a.Admin, a.ID, "prod", is.URL, "prod-*", sirsiv1.Role_ROLE_EDITOR)
	newTrust(t, a.Admin, a.ID, "readers", is.URL, "dev-*", sirsiv1.Role_ROLE_VIEWER)
	ctx := context.Background()

	editor := env.Dial(t, is.Token(t, tfcClaims(env, "prod-network")))
	id, err := editor.GetIdentity(ctx, &sirsiv1.GetIdentityRequest{})
	if err != nil {
		t.Fatal(err)
	}
	wantActor := "oidc:prod:organization:acme:project:default:workspace:prod-network:run_phase:apply"
	if id.Actor != wantActor || id.TenantId != a.ID || id.Role != sirsiv1.Role_ROLE_EDITOR || id.ExpireTime == nil {
		t.Fatalf("identity = %v", id)
	}
	acct, err := editor.CreateCloudAccount(ctx, accountReq("", "111111111111"))
	if err != nil {
		t.Fatalf("editor trust cannot write in its tenant: %v", err)
	}
	if acct.CloudAccount.TenantId != a.ID {
		t.Fatalf("account created in %s, want %s", acct.CloudAccount.TenantId, a.ID)
	}
	ev := findEvent(listAudit(t, a.Admin, a.ID), sirsiv1.ManagementService_CreateCloudAccount_FullMethodName, "ok")
	if ev == nil || ev.Actor != wantActor || !strings.Contains(ev.Detail, `issuer="`+is.URL+`"`) ||
		!strings.Contains(ev.Detail, `terraform_workspace_name="prod-network"`) || !strings.Contains(ev.Detail, `subject="organization:acme:`) {
		t.Fatalf("audit of the OIDC caller's write = %v", ev)
	}
	// Admin-only calls stay refused to an editor trust.
	if _, err := editor.ListOidcTrusts(ctx, &sirsiv1.ListOidcTrustsRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("editor trust listing trusts: %v", err)
	}
	// Cross-tenant: reads and writes naming tenant B are refused.
	if _, err := editor.ListCloudAccounts(ctx, &sirsiv1.ListCloudAccountsRequest{TenantId: b.ID}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("OIDC caller reading another tenant: %v", err)
	}
	if _, err := editor.CreateCloudAccount(ctx, accountReq(b.ID, "222222222222")); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("OIDC caller writing another tenant: %v", err)
	}

	viewer := env.Dial(t, is.Token(t, tfcClaims(env, "dev-sandbox")))
	if _, err := viewer.ListCloudAccounts(ctx, &sirsiv1.ListCloudAccountsRequest{}); err != nil {
		t.Fatalf("viewer trust cannot read: %v", err)
	}
	if _, err := viewer.CreateCloudAccount(ctx, accountReq("", "333333333333")); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("viewer trust writing: %v, want PermissionDenied", err)
	}

	// A token matching two trusts is refused, not given the stronger role.
	newTrust(t, b.Admin, b.ID, "overlap", is.URL, "prod-net*", sirsiv1.Role_ROLE_ADMIN)
	if _, err := env.Dial(t, is.Token(t, tfcClaims(env, "prod-network"))).GetIdentity(ctx, &sirsiv1.GetIdentityRequest{}); status.Code(err) != codes.Unauthenticated ||
		!strings.Contains(err.Error(), oidcverify.ReasonAmbiguous) {
		t.Fatalf("token matching trusts in two tenants: %v", err)
	}
}

// TestOIDCRefusals: every bad token is Unauthenticated, the log names the
// reason and never the token.
func TestOIDCRefusals(t *testing.T) {
	var logs syncBuffer
	env := cptest.Start(t, cptest.WithLogger(hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})))
	is := oidctest.Start(t)
	a := env.NewTenant(t, "acme")
	newTrust(t, a.Admin, a.ID, "prod", is.URL, "prod-*", sirsiv1.Role_ROLE_EDITOR)
	ctx := context.Background()
	// A good call first, so the keys are cached and each refusal below is
	// about its own token.
	if _, err := env.Dial(t, is.Token(t, tfcClaims(env, "prod-a"))).GetIdentity(ctx, &sirsiv1.GetIdentityRequest{}); err != nil {
		t.Fatal(err)
	}
	with := func(edit func(c map[string]any)) map[string]any {
		c := tfcClaims(env, "prod-a")
		edit(c)
		return c
	}
	now := env.Clock.Now()
	foreign := is.NewKey(t, jose.RS256)
	impostor := is.NewKey(t, jose.RS256)
	impostor.KID = "key-1" // the published key's kid, another key's signature
	other := oidctest.Start(t)
	cases := []struct {
		name, token, reason string
	}{
		{"workspace claim does not match", is.Token(t, tfcClaims(env, "staging-a")), oidcverify.ReasonClaims},
		{"expired", is.Token(t, with(func(c map[string]any) { c["exp"] = now.Add(-2 * time.Minute).Unix() })), oidcverify.ReasonExpired},
		{"not yet valid", is.Token(t, with(func(c map[string]any) { c["nbf"] = now.Add(10 * time.Minute).Unix() })), oidcverify.ReasonNotYetValid},
		{"older than max_token_age", is.Token(t, with(func(c map[string]any) { c["iat"] = now.Add(-3 * time.Hour).Unix() })), oidcverify.ReasonTooOld},
		{"other audience", is.Token(t, with(func(c map[string]any) { c["aud"] = "someone-else" })), oidcverify.ReasonAudience},
		{"foreign key", is.SignWith(t, foreign, tfcClaims(env, "prod-a")), oidcverify.ReasonUnknownKey},
		{"foreign signature under a known kid", is.SignWith(t, impostor, tfcClaims(env, "prod-a")), oidcverify.ReasonBadSignature},
		{"alg none", is.Unsigned(t, tfcClaims(env, "prod-a")), oidcverify.ReasonMalformed},
		{"issuer nobody trusts", other.Token(t, tfcClaims(env, "prod-a")), oidcverify.ReasonNoTrust},
		{"1 MB token", "eyJ" + strings.Repeat("A", 1<<20) + ".x.y", oidcverify.ReasonTooLong},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := logs.String()
			_, err := env.Dial(t, c.token).GetIdentity(ctx, &sirsiv1.GetIdentityRequest{})
			if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("got %v, want Unauthenticated naming %s", err, c.reason)
			}
			line := strings.TrimPrefix(logs.String(), before)
			if !strings.Contains(line, "refused an OIDC token") || !strings.Contains(line, "reason="+c.reason) {
				t.Fatalf("log does not name the reason %s:\n%s", c.reason, line)
			}
			sig := c.token[strings.LastIndex(c.token, ".")+1:]
			if len(sig) > 8 && strings.Contains(logs.String(), sig) {
				t.Fatal("the log echoes the token")
			}
		})
	}
	// The server still serves.
	if _, err := a.Viewer.ListCloudAccounts(ctx, &sirsiv1.ListCloudAccountsRequest{}); err != nil {
		t.Fatal(err)
	}
}

// TestOIDCIssuerFailuresAndRotation: an issuer that is down or answers
// garbage refuses its tokens and leaves nothing cached; a rotated key is
// fetched on its first use, and unknown kids refetch at most once per
// interval.
func TestOIDCIssuerFailuresAndRotation(t *testing.T) {
	env := cptest.Start(t)
	is := oidctest.Start(t)
	a := env.NewTenant(t, "acme")
	newTrust(t, a.Admin, a.ID, "prod", is.URL, "prod-*", sirsiv1.Role_ROLE_EDITOR)
	ctx := context.Background()
	call := func() error {
		_, err := env.Dial(t, is.Token(t, tfcClaims(env, "prod-a"))).GetIdentity(ctx, &sirsiv1.GetIdentityRequest{})
		return err
	}
	for _, mode := range []string{"down", "garbage"} {
		is.SetMode(mode)
		if err := call(); status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), oidcverify.ReasonIssuerUnavailable) {
			t.Fatalf("issuer %s: %v", mode, err)
		}
	}
	// Back up: accepted at once, so nothing from the bad answers stuck.
	is.SetMode("")
	if err := call(); err != nil {
		t.Fatalf("after the issuer recovered: %v", err)
	}
	fetches := is.KeySetFetches.Load()

	// Rotation to an ES256 key, the old one withdrawn. The first token
	// with the new kid comes within the refetch interval of the last
	// fetch: refused, and no fetch.
	next := is.NewKey(t, jose.ES256)
	is.Rotate(next, false)
	if err := call(); status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), oidcverify.ReasonUnknownKey) {
		t.Fatalf("new kid inside the refetch interval: %v", err)
	}
	if n := is.KeySetFetches.Load(); n != fetches {
		t.Fatalf("%d key set fetches inside the refetch interval", n-fetches)
	}
	env.Clock.Advance(oidcverify.DefaultRefetchInterval)
	if err := call(); err != nil {
		t.Fatalf("rotated key after the refetch interval: %v", err)
	}
	if n := is.KeySetFetches.Load(); n != fetches+1 {
		t.Fatalf("%d key set fetches for the rotation, want 1", n-fetches)
	}
	// Forgers' made-up kids right after cost no fetch.
	for range 5 {
		tok := is.SignWith(t, is.NewKey(t, jose.RS256), tfcClaims(env, "prod-a"))
		if _, err := env.Dial(t, tok).GetIdentity(ctx, &sirsiv1.GetIdentityRequest{}); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("forged kid: %v", err)
		}
	}
	if n := is.KeySetFetches.Load(); n != fetches+1 {
		t.Fatalf("unknown kids caused %d more fetches", n-fetches-1)
	}
}

// TestOIDCFailuresCountTowardLockout: refused OIDC tokens are charged to
// their source like any refused credential.
func TestOIDCFailuresCountTowardLockout(t *testing.T) {
	env := cptest.Start(t, cptest.WithServerOptions(func(o *controlplane.Options) {
		o.Lockout = controlplane.LockoutPolicy{DelayAfter: 3, BlockAfter: 3, Delay: time.Millisecond}
	}))
	is := oidctest.Start(t)
	a := env.NewTenant(t, "acme")
	newTrust(t, a.Admin, a.ID, "prod", is.URL, "prod-*", sirsiv1.Role_ROLE_EDITOR)
	ctx := context.Background()
	bad := env.Dial(t, is.Token(t, tfcClaims(env, "staging")))
	for i := range 3 {
		if _, err := bad.GetIdentity(ctx, &sirsiv1.GetIdentityRequest{}); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	good := env.Dial(t, is.Token(t, tfcClaims(env, "prod-a")))
	if _, err := good.GetIdentity(ctx, &sirsiv1.GetIdentityRequest{}); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("after 3 refused OIDC tokens the source is not blocked: %v", err)
	}
}
