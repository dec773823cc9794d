package controlplane_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
)

// setTenant applies edit to the tenant as the operator.
func setTenant(t *testing.T, env *cptest.Env, id string, edit func(*sirsiv1.Tenant)) *sirsiv1.Tenant {
	t.Helper()
	got, err := env.Client.GetTenant(context.Background(), &sirsiv1.GetTenantRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	edit(got.Tenant)
	up, err := env.Client.UpdateTenant(context.Background(), &sirsiv1.UpdateTenantRequest{Tenant: got.Tenant})
	if err != nil {
		t.Fatal(err)
	}
	return up.Tenant
}

// TestTenantBudgetOverride: with its tenant_rate_limit_per_minute at 4 a
// tenant gets 4 calls a minute over all its tokens, far below the server's
// 300, and the fifth is refused naming the tenant budget; another tenant
// keeps the server's.
func TestTenantBudgetOverride(t *testing.T) {
	const budget = 4
	env := cptest.Start(t, withLimits(func(o *controlplane.Options) {
		o.RateLimits.ManagementPerMinute = 100
		o.RateLimits.TenantPerMinute = 300
	}))
	env.Clock.Set(time.Now())
	tn := env.NewTenant(t, "acme")
	other := env.NewTenant(t, "bravo")
	setTenant(t, env, tn.ID, func(x *sirsiv1.Tenant) { x.TenantRateLimitPerMinute = proto.Int32(budget) })
	clients := []sirsiv1.ManagementServiceClient{tn.Admin, tn.Viewer}
	for i := range budget {
		if err := getTenant(clients[i%2], tn.ID); err != nil {
			t.Fatalf("call %d of %d: %v", i+1, budget, err)
		}
	}
	err := getTenant(clients[budget%2], tn.ID)
	wantExhausted(t, err, time.Minute)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "at most 4 calls per minute for this tenant") {
		t.Fatalf("refusal %q does not name the tenant's budget of 4", msg)
	}
	for i := range 2 * budget {
		if err := getTenant(other.Viewer, other.ID); err != nil {
			t.Fatalf("another tenant's call %d: %v", i+1, err)
		}
	}
	// Unset again, the server's budget applies once the cached one ages.
	setTenant(t, env, tn.ID, func(x *sirsiv1.Tenant) { x.TenantRateLimitPerMinute = nil })
	env.Clock.Advance(time.Minute)
	for i := range 2 * budget {
		if err := getTenant(clients[i%2], tn.ID); err != nil {
			t.Fatalf("call %d under the server's budget: %v", i+1, err)
		}
	}
}

// TestTenantTokenCapOverride: with max_api_tokens at 4 (the server allows
// 50) a tenant holding 3 tokens may mint one more; the next is refused
// naming the cap, and revoking one frees a place.
func TestTenantTokenCapOverride(t *testing.T) {
	env := cptest.Start(t, withLimits(func(o *controlplane.Options) { o.MaxAPITokensPerTenant = 50 }))
	tn := env.NewTenant(t, "acme") // three tokens
	setTenant(t, env, tn.ID, func(x *sirsiv1.Tenant) { x.MaxApiTokens = proto.Int32(4) })
	create := func() (*sirsiv1.ApiToken, error) {
		r, err := tn.Admin.CreateApiToken(context.Background(), &sirsiv1.CreateApiTokenRequest{TenantId: tn.ID, Role: sirsiv1.Role_ROLE_VIEWER})
		return r.GetApiToken(), err
	}
	fourth, err := create()
	if err != nil {
		t.Fatalf("the fourth token: %v", err)
	}
	_, err = create()
	wantLimitCode(t, err, codes.FailedPrecondition, "the fifth token")
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "at most 4 (the tenant's max_api_tokens)") {
		t.Fatalf("refusal %q does not name the tenant's cap", msg)
	}
	if _, err := tn.Admin.DeleteApiToken(context.Background(), &sirsiv1.DeleteApiTokenRequest{TenantId: tn.ID, Id: fourth.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := create(); err != nil {
		t.Fatalf("after a revoke: %v", err)
	}
	// The server's cap names itself.
	env2 := cptest.Start(t, withLimits(func(o *controlplane.Options) { o.MaxAPITokensPerTenant = 3 }))
	tn2 := env2.NewTenant(t, "acme")
	_, err = tn2.Admin.CreateApiToken(context.Background(), &sirsiv1.CreateApiTokenRequest{TenantId: tn2.ID, Role: sirsiv1.Role_ROLE_VIEWER})
	if msg := status.Convert(err).Message(); status.Code(err) != codes.FailedPrecondition || !strings.Contains(msg, "the server's rate_limit.max_api_tokens_per_tenant") {
		t.Fatalf("at the server's cap: %v", err)
	}
}

// TestTenantCannotChangeItsOwnSettings: no role of the tenant's own may
// raise its budget or cap, or change its retention; what is stored stays.
func TestTenantCannotChangeItsOwnSettings(t *testing.T) {
	env := cptest.Start(t)
	tn := env.NewTenant(t, "acme")
	stored := setTenant(t, env, tn.ID, func(x *sirsiv1.Tenant) {
		x.TenantRateLimitPerMinute, x.MaxApiTokens, x.AuditRetentionDays = proto.Int32(10), proto.Int32(5), proto.Int32(365)
	})
	for role, c := range map[string]sirsiv1.ManagementServiceClient{"admin": tn.Admin, "editor": tn.Editor, "viewer": tn.Viewer} {
		raised := proto.CloneOf(stored)
		raised.TenantRateLimitPerMinute, raised.MaxApiTokens, raised.AuditRetentionDays = proto.Int32(100000), proto.Int32(10000), proto.Int32(1)
		_, err := c.UpdateTenant(context.Background(), &sirsiv1.UpdateTenantRequest{Tenant: raised})
		wantLimitCode(t, err, codes.PermissionDenied, role+" raising its tenant's settings")
	}
	got, err := env.Client.GetTenant(context.Background(), &sirsiv1.GetTenantRequest{Id: tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got.Tenant, stored) {
		t.Fatalf("the tenant changed:\n%v\nwas\n%v", got.Tenant, stored)
	}
}

// TestTenantSettingsValidated: out-of-range settings are refused with
// INVALID_ARGUMENT naming the field; 0 days (keep for ever) is accepted.
func TestTenantSettingsValidated(t *testing.T) {
	env := cptest.Start(t)
	for field, edit := range map[string]func(*sirsiv1.Tenant){
		"tenant.tenant_rate_limit_per_minute": func(x *sirsiv1.Tenant) { x.TenantRateLimitPerMinute = proto.Int32(0) },
		"tenant.max_api_tokens":               func(x *sirsiv1.Tenant) { x.MaxApiTokens = proto.Int32(10001) },
		"tenant.utilization_retention_days":   func(x *sirsiv1.Tenant) { x.UtilizationRetentionDays = proto.Int32(-1) },
		"tenant.action_retention_days":        func(x *sirsiv1.Tenant) { x.ActionRetentionDays = proto.Int32(36501) },
		"tenant.anomaly_retention_days":       func(x *sirsiv1.Tenant) { x.AnomalyRetentionDays = proto.Int32(-7) },
		"tenant.audit_retention_days":         func(x *sirsiv1.Tenant) { x.AuditRetentionDays = proto.Int32(40000) },
	} {
		in := &sirsiv1.Tenant{Name: "bad"}
		edit(in)
		_, err := env.Client.CreateTenant(context.Background(), &sirsiv1.CreateTenantRequest{Tenant: in})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), field) {
			t.Errorf("%s out of range: %v, want INVALID_ARGUMENT naming it", field, err)
		}
	}
	r, err := env.Client.CreateTenant(context.Background(), &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{Name: "forever",
		UtilizationRetentionDays: proto.Int32(0), ActionRetentionDays: proto.Int32(0), AnomalyRetentionDays: proto.Int32(0), AuditRetentionDays: proto.Int32(0)}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Tenant.AuditRetentionDays == nil || r.Tenant.GetAuditRetentionDays() != 0 {
		t.Fatalf("0 days read back as %v", r.Tenant.AuditRetentionDays)
	}
}
