package controlplane_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/auth"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/oidcverify/oidctest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// access is the expected policy of one RPC, written independently of the
// server's table so the two can disagree.
type access struct {
	// minRole: 0 none, 1 viewer, 2 editor, 3 admin.
	minRole int
	// tenantScoped: a tenant token naming another tenant is refused.
	tenantScoped bool
}

var (
	opOnly     = access{}
	anyone     = access{minRole: 1}
	viewerRead = access{minRole: 1, tenantScoped: true}
	editorOnly = access{minRole: 2, tenantScoped: true}
	tokenAdmin = access{minRole: 3, tenantScoped: true}
)

// tfx is one tenant's standing objects.
type tfx struct {
	id      string
	account *sirsiv1.CloudAccount
	policy  *sirsiv1.OptimizationPolicy
	enroll  *sirsiv1.EnrollmentToken
	token   *sirsiv1.ApiToken
	trust   *sirsiv1.OidcTrust
	hook    *sirsiv1.Webhook
	agent   *sirsiv1.Agent
	rec     string
	plan    string
}

type matrix struct {
	t   *testing.T
	env *cptest.Env
	ctx context.Context
	seq atomic.Int64
}

func (m *matrix) next() int64 { return m.seq.Add(1) }

func (m *matrix) accountID() string { return fmt.Sprintf("%012d", 100000000000+m.next()) }

func (m *matrix) freshAccount(tenant string) *sirsiv1.CloudAccount {
	id := m.accountID()
	a, err := m.env.Store.Tenant(tenant).CreateCloudAccount(m.ctx, &sirsiv1.CloudAccount{
		Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: id, Regions: []string{"us-east-1"},
		RoleArn: "arn:aws:iam::" + id + ":role/Agent", ExternalId: "external-" + id,
	})
	if err != nil {
		m.t.Fatalf("seed account: %v", err)
	}
	return a
}

func (m *matrix) freshPolicy(tenant string) *sirsiv1.OptimizationPolicy {
	p, err := m.env.Store.Tenant(tenant).CreatePolicy(m.ctx, &sirsiv1.OptimizationPolicy{
		Name: fmt.Sprintf("p-%d", m.next()), Mode: sirsiv1.PolicyMode_POLICY_MODE_RECOMMEND, Timezone: "UTC", MaxActionsPerRun: proto.Int32(5),
	})
	if err != nil {
		m.t.Fatalf("seed policy: %v", err)
	}
	return p
}

func randomHash() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

func (m *matrix) freshEnroll(tenant, account string) *sirsiv1.EnrollmentToken {
	e, err := m.env.Store.Tenant(tenant).CreateEnrollmentToken(m.ctx, &sirsiv1.EnrollmentToken{CloudAccountId: account, MaxUses: 1}, randomHash())
	if err != nil {
		m.t.Fatalf("seed enrollment token: %v", err)
	}
	return e
}

func (m *matrix) freshToken(tenant string) *sirsiv1.ApiToken {
	tok, err := m.env.Store.Tenant(tenant).CreateAPIToken(m.ctx, &sirsiv1.ApiToken{Role: sirsiv1.Role_ROLE_VIEWER, Description: "seed"}, randomHash(), store.TokenCap{})
	if err != nil {
		m.t.Fatalf("seed API token: %v", err)
	}
	return tok
}

func (m *matrix) freshTrust(tenant string) *sirsiv1.OidcTrust {
	o, err := m.env.Store.Tenant(tenant).CreateOIDCTrust(m.ctx, &sirsiv1.OidcTrust{
		Name: fmt.Sprintf("trust-%d", m.next()), Issuer: "https://idp.example.com", Audience: "sirsi", Role: sirsiv1.Role_ROLE_VIEWER,
		BoundClaims: map[string]string{"sub": "seed"}, SubjectClaim: "sub",
	})
	if err != nil {
		m.t.Fatalf("seed OIDC trust: %v", err)
	}
	return o
}

func (m *matrix) freshHook(tenant string) *sirsiv1.Webhook {
	w, err := m.env.Store.Tenant(tenant).CreateWebhook(m.ctx, &sirsiv1.Webhook{Url: "https://hooks.example.com/seed", Secret: "0123456789abcdef-seed"})
	if err != nil {
		m.t.Fatalf("seed webhook: %v", err)
	}
	return w
}

func (m *matrix) freshAgent(tenant, account string) *sirsiv1.Agent {
	a, err := m.env.Store.Tenant(tenant).CreateAgent(m.ctx, &sirsiv1.Agent{CloudAccountId: account, Hostname: "h", Version: "1"})
	if err != nil {
		m.t.Fatalf("seed agent: %v", err)
	}
	return a
}

func (m *matrix) freshTenant() *sirsiv1.Tenant {
	t, err := m.env.Store.CreateTenant(m.ctx, &sirsiv1.Tenant{Name: fmt.Sprintf("scratch-%d", m.next()), Tier: sirsiv1.Tier_TIER_FREE})
	if err != nil {
		m.t.Fatalf("seed tenant: %v", err)
	}
	return t
}

func (m *matrix) fixture(name string) *tfx {
	tn, err := m.env.Store.CreateTenant(m.ctx, &sirsiv1.Tenant{Name: name, Tier: sirsiv1.Tier_TIER_FREE})
	if err != nil {
		m.t.Fatal(err)
	}
	f := &tfx{id: tn.Id}
	f.account = m.freshAccount(f.id)
	f.policy = m.freshPolicy(f.id)
	f.enroll = m.freshEnroll(f.id, f.account.Id)
	f.token = m.freshToken(f.id)
	f.trust = m.freshTrust(f.id)
	f.hook = m.freshHook(f.id)
	f.agent = m.freshAgent(f.id, f.account.Id)
	f.rec = m.freshRecommendation(f)
	f.plan = m.freshPlan(f)
	return f
}

// freshRecommendation is an open recommendation of its own policy, so that
// making it does not supersede another cell's.
func (m *matrix) freshRecommendation(f *tfx) string {
	n := m.next()
	pol := m.freshPolicy(f.id)
	ids, _, err := m.env.Store.Tenant(f.id).ApplyRecommendations(m.ctx, f.account.Id, fmt.Sprintf("rec-%d", n), pol.Id, nil, []*sirsiv1.Recommendation{{
		ResourceId: fmt.Sprintf("i-%d", n), ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize", CurrentSize: "m5.large", ProposedSize: "m5.medium",
	}})
	if err != nil {
		m.t.Fatalf("seed recommendation: %v", err)
	}
	return ids[0]
}

// freshPlan is a pending plan of its own policy.
func (m *matrix) freshPlan(f *tfx) string {
	n := m.next()
	pol := m.freshPolicy(f.id)
	id := fmt.Sprintf("plan-%d", n)
	if _, err := m.env.Store.Tenant(f.id).SaveActionPlan(m.ctx, f.account.Id, fmt.Sprintf("plan-batch-%d", n), &sirsiv1.ActionPlan{Id: id, PolicyId: pol.Id}); err != nil {
		m.t.Fatalf("seed action plan: %v", err)
	}
	return id
}

// call is how one RPC is exercised: a valid request against tenant f. When
// fresh is set the request works on objects made for it, so a permitted
// delete does not break later cells.
type call struct {
	access access
	req    func(m *matrix, f *tfx, fresh bool) proto.Message
}

func calls() map[string]call {
	acct := func(m *matrix, f *tfx, fresh bool) *sirsiv1.CloudAccount {
		if fresh {
			return m.freshAccount(f.id)
		}
		return f.account
	}
	pol := func(m *matrix, f *tfx, fresh bool) *sirsiv1.OptimizationPolicy {
		if fresh {
			return m.freshPolicy(f.id)
		}
		return f.policy
	}
	rec := func(m *matrix, f *tfx, fresh bool) string {
		if fresh {
			return m.freshRecommendation(f)
		}
		return f.rec
	}
	tok := func(m *matrix, f *tfx, fresh bool) *sirsiv1.ApiToken {
		if fresh {
			return m.freshToken(f.id)
		}
		return f.token
	}
	return map[string]call{
		"GetIdentity": {anyone, func(*matrix, *tfx, bool) proto.Message { return &sirsiv1.GetIdentityRequest{} }},
		"CreateTenant": {opOnly, func(m *matrix, _ *tfx, _ bool) proto.Message {
			return &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{Name: fmt.Sprintf("new-%d", m.next())}}
		}},
		"GetTenant": {access{minRole: 1, tenantScoped: true}, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.GetTenantRequest{Id: f.id}
		}},
		"UpdateTenant": {opOnly, func(m *matrix, _ *tfx, _ bool) proto.Message {
			t := m.freshTenant()
			t.DisplayName = "updated"
			return &sirsiv1.UpdateTenantRequest{Tenant: t}
		}},
		"DeleteTenant": {opOnly, func(m *matrix, _ *tfx, _ bool) proto.Message {
			return &sirsiv1.DeleteTenantRequest{Id: m.freshTenant().Id}
		}},
		"ListTenants": {opOnly, func(*matrix, *tfx, bool) proto.Message { return &sirsiv1.ListTenantsRequest{} }},

		"CreateCloudAccount": {editorOnly, func(m *matrix, f *tfx, _ bool) proto.Message {
			id := m.accountID()
			return &sirsiv1.CreateCloudAccountRequest{CloudAccount: &sirsiv1.CloudAccount{
				TenantId: f.id, AccountId: id, Regions: []string{"us-west-2"}, RoleArn: "arn:aws:iam::" + id + ":role/A",
			}}
		}},
		"GetCloudAccount": {viewerRead, func(m *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.GetCloudAccountRequest{TenantId: f.id, Id: f.account.Id}
		}},
		"UpdateCloudAccount": {editorOnly, func(m *matrix, f *tfx, fresh bool) proto.Message {
			a := proto.Clone(acct(m, f, fresh)).(*sirsiv1.CloudAccount)
			a.DisplayName = "changed"
			a.Version = 0
			return &sirsiv1.UpdateCloudAccountRequest{CloudAccount: a}
		}},
		"DeleteCloudAccount": {editorOnly, func(m *matrix, f *tfx, fresh bool) proto.Message {
			return &sirsiv1.DeleteCloudAccountRequest{TenantId: f.id, Id: acct(m, f, fresh).Id}
		}},
		"ListCloudAccounts": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.ListCloudAccountsRequest{TenantId: f.id}
		}},

		"CreateOptimizationPolicy": {editorOnly, func(m *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{TenantId: f.id, Name: fmt.Sprintf("np-%d", m.next())}}
		}},
		"GetOptimizationPolicy": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.GetOptimizationPolicyRequest{TenantId: f.id, Id: f.policy.Id}
		}},
		"UpdateOptimizationPolicy": {editorOnly, func(m *matrix, f *tfx, fresh bool) proto.Message {
			p := proto.Clone(pol(m, f, fresh)).(*sirsiv1.OptimizationPolicy)
			p.Description = "changed"
			p.Version = 0
			return &sirsiv1.UpdateOptimizationPolicyRequest{OptimizationPolicy: p}
		}},
		"DeleteOptimizationPolicy": {editorOnly, func(m *matrix, f *tfx, fresh bool) proto.Message {
			return &sirsiv1.DeleteOptimizationPolicyRequest{TenantId: f.id, Id: pol(m, f, fresh).Id}
		}},
		"ListOptimizationPolicies": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.ListOptimizationPoliciesRequest{TenantId: f.id}
		}},

		"CreateEnrollmentToken": {editorOnly, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.CreateEnrollmentTokenRequest{TenantId: f.id, CloudAccountId: f.account.Id}
		}},
		"GetEnrollmentToken": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.GetEnrollmentTokenRequest{TenantId: f.id, Id: f.enroll.Id}
		}},
		"DeleteEnrollmentToken": {editorOnly, func(m *matrix, f *tfx, fresh bool) proto.Message {
			id := f.enroll.Id
			if fresh {
				id = m.freshEnroll(f.id, f.account.Id).Id
			}
			return &sirsiv1.DeleteEnrollmentTokenRequest{TenantId: f.id, Id: id}
		}},
		"ListEnrollmentTokens": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.ListEnrollmentTokensRequest{TenantId: f.id}
		}},

		"CreateApiToken": {tokenAdmin, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.CreateApiTokenRequest{TenantId: f.id, Role: sirsiv1.Role_ROLE_VIEWER}
		}},
		"GetApiToken": {tokenAdmin, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.GetApiTokenRequest{TenantId: f.id, Id: f.token.Id}
		}},
		"UpdateApiToken": {tokenAdmin, func(m *matrix, f *tfx, fresh bool) proto.Message {
			return &sirsiv1.UpdateApiTokenRequest{TenantId: f.id, Id: tok(m, f, fresh).Id, Description: "changed"}
		}},
		"DeleteApiToken": {tokenAdmin, func(m *matrix, f *tfx, fresh bool) proto.Message {
			return &sirsiv1.DeleteApiTokenRequest{TenantId: f.id, Id: tok(m, f, fresh).Id}
		}},
		"ListApiTokens": {tokenAdmin, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.ListApiTokensRequest{TenantId: f.id}
		}},

		"CreateOidcTrust": {tokenAdmin, func(m *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.CreateOidcTrustRequest{OidcTrust: &sirsiv1.OidcTrust{
				TenantId: f.id, Name: fmt.Sprintf("new-%d", m.next()), Issuer: "https://idp.example.com", Audience: "sirsi",
				Role: sirsiv1.Role_ROLE_VIEWER, BoundClaims: map[string]string{"sub": "ci"},
			}}
		}},
		"GetOidcTrust": {tokenAdmin, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.GetOidcTrustRequest{TenantId: f.id, Id: f.trust.Id}
		}},
		"UpdateOidcTrust": {tokenAdmin, func(m *matrix, f *tfx, fresh bool) proto.Message {
			o := f.trust
			if fresh {
				o = m.freshTrust(f.id)
			}
			return &sirsiv1.UpdateOidcTrustRequest{OidcTrust: &sirsiv1.OidcTrust{
				TenantId: f.id, Id: o.Id, Name: o.Name, Issuer: o.Issuer, Audience: "changed",
				Role: sirsiv1.Role_ROLE_VIEWER, BoundClaims: o.BoundClaims,
			}}
		}},
		"DeleteOidcTrust": {tokenAdmin, func(m *matrix, f *tfx, fresh bool) proto.Message {
			id := f.trust.Id
			if fresh {
				id = m.freshTrust(f.id).Id
			}
			return &sirsiv1.DeleteOidcTrustRequest{TenantId: f.id, Id: id}
		}},
		"ListOidcTrusts": {tokenAdmin, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.ListOidcTrustsRequest{TenantId: f.id}
		}},

		"CreateWebhook": {editorOnly, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.CreateWebhookRequest{Webhook: &sirsiv1.Webhook{TenantId: f.id, Url: "https://hooks.example.com/new", Secret: "0123456789abcdef-new"}}
		}},
		"GetWebhook": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.GetWebhookRequest{TenantId: f.id, Id: f.hook.Id}
		}},
		"UpdateWebhook": {editorOnly, func(m *matrix, f *tfx, fresh bool) proto.Message {
			w := f.hook
			if fresh {
				w = m.freshHook(f.id)
			}
			return &sirsiv1.UpdateWebhookRequest{Webhook: &sirsiv1.Webhook{TenantId: f.id, Id: w.Id, Url: "https://hooks.example.com/changed"}}
		}},
		"DeleteWebhook": {editorOnly, func(m *matrix, f *tfx, fresh bool) proto.Message {
			id := f.hook.Id
			if fresh {
				id = m.freshHook(f.id).Id
			}
			return &sirsiv1.DeleteWebhookRequest{TenantId: f.id, Id: id}
		}},
		"ListWebhooks": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.ListWebhooksRequest{TenantId: f.id}
		}},

		"ListAgents": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message { return &sirsiv1.ListAgentsRequest{TenantId: f.id} }},
		"GetAgent": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.GetAgentRequest{TenantId: f.id, Id: f.agent.Id}
		}},
		"RevokeAgent": {editorOnly, func(m *matrix, f *tfx, fresh bool) proto.Message {
			id := f.agent.Id
			if fresh {
				id = m.freshAgent(f.id, f.account.Id).Id
			}
			return &sirsiv1.RevokeAgentRequest{TenantId: f.id, Id: id}
		}},

		"ListResources":   {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message { return &sirsiv1.ListResourcesRequest{TenantId: f.id} }},
		"ListUtilization": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message { return &sirsiv1.ListUtilizationRequest{TenantId: f.id} }},
		"GetCostSummary": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.GetCostSummaryRequest{TenantId: f.id, Start: "2026-01-01", End: "2026-02-01"}
		}},
		"ListCostAnomalies": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.ListCostAnomaliesRequest{TenantId: f.id}
		}},
		"ExportTenant": {tokenAdmin, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.ExportTenantRequest{TenantId: f.id}
		}},
		"ListWebhookEvents": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.ListWebhookEventsRequest{TenantId: f.id}
		}},
		"ListRecommendations": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.ListRecommendationsRequest{TenantId: f.id}
		}},
		"ListActions": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message { return &sirsiv1.ListActionsRequest{TenantId: f.id} }},
		"GetRecommendation": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.GetRecommendationRequest{TenantId: f.id, Id: f.rec}
		}},
		"ApproveRecommendation": {editorOnly, func(m *matrix, f *tfx, fresh bool) proto.Message {
			return &sirsiv1.ApproveRecommendationRequest{TenantId: f.id, Id: rec(m, f, fresh)}
		}},
		"RevokeRecommendationApproval": {editorOnly, func(m *matrix, f *tfx, fresh bool) proto.Message {
			return &sirsiv1.RevokeRecommendationApprovalRequest{TenantId: f.id, Id: rec(m, f, fresh)}
		}},
		"DismissRecommendation": {editorOnly, func(m *matrix, f *tfx, fresh bool) proto.Message {
			return &sirsiv1.DismissRecommendationRequest{TenantId: f.id, Id: rec(m, f, fresh)}
		}},
		"ListActionPlans": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.ListActionPlansRequest{TenantId: f.id}
		}},
		"GetActionPlan": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.GetActionPlanRequest{TenantId: f.id, Id: f.plan}
		}},
		"ApproveActionPlan": {editorOnly, func(m *matrix, f *tfx, fresh bool) proto.Message {
			id := f.plan
			if fresh {
				id = m.freshPlan(f)
			}
			return &sirsiv1.ApproveActionPlanRequest{TenantId: f.id, Id: id}
		}},
		"GetSavingsSummary": {viewerRead, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.GetSavingsSummaryRequest{TenantId: f.id}
		}},
		"ListAuditEvents": {access{minRole: 1, tenantScoped: true}, func(_ *matrix, f *tfx, _ bool) proto.Message {
			return &sirsiv1.ListAuditEventsRequest{TenantId: f.id}
		}},
	}
}

type principal struct {
	name     string
	token    string
	operator bool
	role     int
	// unauthenticated: every call must fail with Unauthenticated.
	unauthenticated bool
}

func TestAuthorizationMatrix(t *testing.T) {
	env := cptest.Start(t)
	m := &matrix{t: t, env: env, ctx: context.Background()}
	a := m.fixture("tenant-a")
	b := m.fixture("tenant-b")
	mk := func(role sirsiv1.Role, ttl time.Duration) (string, *sirsiv1.ApiToken) {
		return env.NewAPIToken(t, a.id, role, ttl)
	}
	adminTok, _ := mk(sirsiv1.Role_ROLE_ADMIN, 0)
	editorTok, _ := mk(sirsiv1.Role_ROLE_EDITOR, 0)
	viewerTok, _ := mk(sirsiv1.Role_ROLE_VIEWER, 0)
	expiredTok, _ := mk(sirsiv1.Role_ROLE_ADMIN, time.Hour)
	revokedTok, revoked := mk(sirsiv1.Role_ROLE_ADMIN, 0)
	if _, err := env.Client.DeleteApiToken(m.ctx, &sirsiv1.DeleteApiTokenRequest{TenantId: a.id, Id: revoked.Id}); err != nil {
		t.Fatal(err)
	}
	unknownTok, err := auth.Generate(auth.KindAPIToken)
	if err != nil {
		t.Fatal(err)
	}
	// Past the expiring token's hour; the others never expire.
	env.Clock.Advance(2 * time.Hour)

	// OIDC callers of tenant A, one trust per role, bound to a claim.
	is := oidctest.Start(t)
	oidcTok := map[sirsiv1.Role]string{}
	for _, role := range []sirsiv1.Role{sirsiv1.Role_ROLE_ADMIN, sirsiv1.Role_ROLE_EDITOR, sirsiv1.Role_ROLE_VIEWER} {
		name := strings.ToLower(strings.TrimPrefix(role.String(), "ROLE_"))
		if _, err := env.Client.CreateOidcTrust(m.ctx, &sirsiv1.CreateOidcTrustRequest{OidcTrust: &sirsiv1.OidcTrust{
			TenantId: a.id, Name: "ci-" + name, Issuer: is.URL, Audience: "matrix", Role: role,
			BoundClaims: map[string]string{"pipeline": name},
		}}); err != nil {
			t.Fatal(err)
		}
		now := env.Clock.Now()
		oidcTok[role] = is.Token(t, map[string]any{"aud": "matrix", "sub": "ci/" + name, "pipeline": name,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	}

	principals := []principal{
		{name: "oidc-admin", token: oidcTok[sirsiv1.Role_ROLE_ADMIN], role: 3},
		{name: "oidc-editor", token: oidcTok[sirsiv1.Role_ROLE_EDITOR], role: 2},
		{name: "oidc-viewer", token: oidcTok[sirsiv1.Role_ROLE_VIEWER], role: 1},
		{name: "admin", token: adminTok, role: 3},
		{name: "editor", token: editorTok, role: 2},
		{name: "viewer", token: viewerTok, role: 1},
		{name: "missing", unauthenticated: true},
		{name: "invalid", token: "not-a-token", unauthenticated: true},
		{name: "unknown", token: unknownTok, unauthenticated: true},
		{name: "expired", token: expiredTok, unauthenticated: true},
		{name: "revoked", token: revokedTok, unauthenticated: true},
	}
	operator := principal{name: "operator", token: env.OperatorToken, operator: true}

	sd := sirsiv1.File_sirsi_v1_management_proto.Services().ByName("ManagementService")
	table := calls()
	before := snapshot(t, env.Store, b)
	var leaked []string
	cells := 0
	run := func(p principal) {
		conn := env.DialConn(t, p.token)
		for i := 0; i < sd.Methods().Len(); i++ {
			md := sd.Methods().Get(i)
			c, ok := table[string(md.Name())]
			if !ok {
				t.Fatalf("%s is missing from the matrix", md.Name())
			}
			for _, target := range []string{"own", "foreign"} {
				f := a
				if target == "foreign" {
					f = b
				}
				want := expected(c.access, p, target == "own")
				req := c.req(m, f, target == "own")
				resp, err := invoke(m.ctx, conn, md, req)
				cells++
				got := status.Code(err)
				// The operator is root: every call passes authorization;
				// what it then gets depends on what earlier cells did
				// (a deleted account is NotFound), so only refusals count.
				if p.operator && (got == codes.PermissionDenied || got == codes.Unauthenticated) {
					t.Errorf("%s as operator on %s tenant: refused with %s (%v)", md.Name(), target, got, err)
				}
				if !p.operator && got != want {
					t.Errorf("%s as %s on %s tenant: code %s (%v), want %s", md.Name(), p.name, target, got, err, want)
				}
				if !p.operator {
					for _, r := range resp {
						if text := prototext.Format(r); containsAny(text, idsOf(b)) {
							leaked = append(leaked, fmt.Sprintf("%s as %s: %s", md.Name(), p.name, text))
						}
					}
				}
			}
		}
	}
	for _, p := range principals {
		run(p)
	}
	if len(leaked) > 0 {
		t.Errorf("responses to tenant A's tokens contained tenant B's ids:\n%s", strings.Join(leaked, "\n"))
	}
	after := snapshot(t, env.Store, b)
	if !proto.Equal(before, after) {
		t.Errorf("tenant B changed:\nbefore %v\nafter  %v", before, after)
	}
	// The operator may change B, so it goes last.
	run(operator)
	if want := 12 * 2 * sd.Methods().Len(); cells != want {
		t.Errorf("ran %d cells, want %d", cells, want)
	}
}

func expected(a access, p principal, own bool) codes.Code {
	switch {
	case p.unauthenticated:
		return codes.Unauthenticated
	case a.minRole == 0 || p.role < a.minRole:
		return codes.PermissionDenied
	case a.tenantScoped && !own:
		return codes.PermissionDenied
	}
	return codes.OK
}

// invoke calls md with req and returns its responses: one for a unary
// method, every message for a server-streaming one.
func invoke(ctx context.Context, conn *grpc.ClientConn, md protoreflect.MethodDescriptor, req proto.Message) ([]proto.Message, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		return nil, err
	}
	method := "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
	if !md.IsStreamingServer() {
		resp := mt.New().Interface()
		if err := conn.Invoke(ctx, method, req, resp); err != nil {
			return nil, err
		}
		return []proto.Message{resp}, nil
	}
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, method)
	if err != nil {
		return nil, err
	}
	if err := stream.SendMsg(req); err != nil {
		return nil, err
	}
	if err := stream.CloseSend(); err != nil {
		return nil, err
	}
	var out []proto.Message
	for {
		resp := mt.New().Interface()
		err := stream.RecvMsg(resp)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, resp)
	}
}

func idsOf(f *tfx) []string {
	return []string{f.id, f.account.Id, f.policy.Id, f.enroll.Id, f.token.Id, f.trust.Id, f.agent.Id, f.account.ExternalId, f.rec, f.plan}
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if x != "" && strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// snapshot is everything tenant f owns, as one message for proto.Equal.
func snapshot(t *testing.T, st store.Store, f *tfx) *sirsiv1.ListAuditEventsResponse {
	t.Helper()
	ctx := context.Background()
	ts := st.Tenant(f.id)
	tn, err := st.GetTenant(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	accounts, _, err1 := ts.ListCloudAccounts(ctx, store.Page{Size: 1000})
	policies, _, err2 := ts.ListPolicies(ctx, store.Page{Size: 1000})
	enrolls, _, err3 := ts.ListEnrollmentTokens(ctx, store.Page{Size: 1000})
	tokens, _, err4 := ts.ListAPITokens(ctx, store.Page{Size: 1000})
	agents, _, err5 := ts.ListAgents(ctx, "", store.Page{Size: 1000})
	trusts, _, err8 := ts.ListOIDCTrusts(ctx, store.Page{Size: 1000})
	rec, err6 := ts.GetRecommendation(ctx, f.rec)
	plan, err7 := ts.GetActionPlan(ctx, f.plan)
	for _, err := range []error{err1, err2, err3, err4, err5, err6, err7, err8} {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Reuse a response type with a repeated message field by wrapping each
	// object as an audit event's detail: all that matters is equality.
	out := &sirsiv1.ListAuditEventsResponse{}
	add := func(m proto.Message) {
		out.Events = append(out.Events, &sirsiv1.AuditEvent{Detail: prototext.Format(m)})
	}
	add(tn)
	for _, x := range accounts {
		add(x)
	}
	for _, x := range policies {
		add(x)
	}
	for _, x := range enrolls {
		add(x)
	}
	for _, x := range tokens {
		add(x)
	}
	for _, x := range agents {
		add(x)
	}
	for _, x := range trusts {
		add(x)
	}
	add(rec)
	add(plan)
	return out
}
