package controlplane_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/auth"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("code = %s (%v), want %s", got, err, want)
	}
}

func newAccount(tenantID string) *sirsiv1.CloudAccount {
	return &sirsiv1.CloudAccount{
		TenantId: tenantID, AccountId: "123456789012", Regions: []string{"us-east-1", "eu-west-1"},
		RoleArn: "arn:aws:iam::123456789012:role/SirsiAgent", ExternalId: "ext-secret-1", DisplayName: "prod",
	}
}

func TestCRUDDefaultsAndConflicts(t *testing.T) {
	env := cptest.Start(t)
	ctx := context.Background()
	tn := env.NewTenant(t, "acme")

	// Tenant defaults and duplicate names.
	if tn.Tenant.Tier != sirsiv1.Tier_TIER_STANDARD || tn.Tenant.Version == 0 || tn.Tenant.Id == "" {
		t.Fatalf("tenant = %v", tn.Tenant)
	}
	_, err := env.Client.CreateTenant(ctx, &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{Name: "acme"}})
	wantCode(t, err, codes.AlreadyExists)

	// Cloud account: empty tenant_id means the caller's tenant.
	in := newAccount("")
	acct, err := tn.Editor.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: in})
	if err != nil {
		t.Fatal(err)
	}
	a := acct.CloudAccount
	if a.TenantId != tn.ID || a.Cloud != sirsiv1.Cloud_CLOUD_AWS || a.Status != sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_PENDING {
		t.Fatalf("account = %v", a)
	}
	_, err = tn.Editor.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: newAccount("")})
	wantCode(t, err, codes.AlreadyExists)

	// Viewers do not see the external id; editors do.
	got, err := tn.Viewer.GetCloudAccount(ctx, &sirsiv1.GetCloudAccountRequest{Id: a.Id})
	if err != nil {
		t.Fatal(err)
	}
	if got.CloudAccount.ExternalId != "" {
		t.Errorf("viewer sees external id %q", got.CloudAccount.ExternalId)
	}
	got, err = tn.Editor.GetCloudAccount(ctx, &sirsiv1.GetCloudAccountRequest{Id: a.Id})
	if err != nil || got.CloudAccount.ExternalId != "ext-secret-1" {
		t.Fatalf("editor get = %v, %v", got, err)
	}

	// Optimistic concurrency: a stale version is Aborted.
	upd := proto.Clone(a).(*sirsiv1.CloudAccount)
	upd.DisplayName = "production"
	res, err := tn.Editor.UpdateCloudAccount(ctx, &sirsiv1.UpdateCloudAccountRequest{CloudAccount: upd})
	if err != nil {
		t.Fatal(err)
	}
	if res.CloudAccount.Version <= a.Version || res.CloudAccount.DisplayName != "production" {
		t.Fatalf("updated = %v", res.CloudAccount)
	}
	upd.DisplayName = "stale"
	_, err = tn.Editor.UpdateCloudAccount(ctx, &sirsiv1.UpdateCloudAccountRequest{CloudAccount: upd})
	wantCode(t, err, codes.Aborted)
	upd.AccountId = "210987654321"
	upd.RoleArn = "arn:aws:iam::210987654321:role/x"
	upd.Version = 0
	_, err = tn.Editor.UpdateCloudAccount(ctx, &sirsiv1.UpdateCloudAccountRequest{CloudAccount: upd})
	wantCode(t, err, codes.InvalidArgument)
	_, err = tn.Editor.DeleteCloudAccount(ctx, &sirsiv1.DeleteCloudAccountRequest{Id: a.Id, Version: a.Version})
	wantCode(t, err, codes.Aborted)

	// NotFound for a missing id in the caller's tenant.
	_, err = tn.Viewer.GetCloudAccount(ctx, &sirsiv1.GetCloudAccountRequest{Id: "nope"})
	wantCode(t, err, codes.NotFound)
	_, err = tn.Viewer.GetOptimizationPolicy(ctx, &sirsiv1.GetOptimizationPolicyRequest{Id: "nope"})
	wantCode(t, err, codes.NotFound)

	// Policy defaults.
	pol, err := tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{
		Name: "rightsize", Rightsizing: &sirsiv1.RightsizingSettings{HeadroomPercent: 20},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := pol.OptimizationPolicy
	if p.Mode != sirsiv1.PolicyMode_POLICY_MODE_RECOMMEND || p.GetMaxActionsPerRun() != 5 || !p.GetVerify().GetRollbackOnFailure() ||
		p.Timezone != "UTC" || p.Rightsizing.LookbackDays != 14 || p.Rightsizing.Statistic != sirsiv1.Statistic_STATISTIC_P95 {
		t.Fatalf("policy defaults not applied: %v", p)
	}
	// An explicit zero stays zero (recommend only).
	pol2, err := tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{
		Name: "zero", MaxActionsPerRun: proto.Int32(0), Verify: &sirsiv1.VerifySettings{RollbackOnFailure: proto.Bool(false)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if pol2.OptimizationPolicy.MaxActionsPerRun == nil || *pol2.OptimizationPolicy.MaxActionsPerRun != 0 || pol2.OptimizationPolicy.Verify.GetRollbackOnFailure() {
		t.Fatalf("explicit values overridden: %v", pol2.OptimizationPolicy)
	}
	_, err = tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{Name: "rightsize"}})
	wantCode(t, err, codes.AlreadyExists)

	// Enrollment token: defaults, secret once.
	et, err := tn.Editor.CreateEnrollmentToken(ctx, &sirsiv1.CreateEnrollmentTokenRequest{CloudAccountId: a.Id})
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.ParseKind(et.EnrollmentToken.Token, auth.KindEnrollment); err != nil {
		t.Fatalf("enrollment secret %q: %v", et.EnrollmentToken.Token, err)
	}
	if et.EnrollmentToken.MaxUses != 1 || et.EnrollmentToken.Ttl.AsDuration() != 24*time.Hour {
		t.Fatalf("enrollment defaults: %v", et.EnrollmentToken)
	}
	eg, err := tn.Viewer.GetEnrollmentToken(ctx, &sirsiv1.GetEnrollmentTokenRequest{Id: et.EnrollmentToken.Id})
	if err != nil || eg.EnrollmentToken.Token != "" {
		t.Fatalf("get enrollment token = %v, %v", eg, err)
	}
	el, err := tn.Viewer.ListEnrollmentTokens(ctx, &sirsiv1.ListEnrollmentTokensRequest{})
	if err != nil || len(el.EnrollmentTokens) != 1 || el.EnrollmentTokens[0].Token != "" {
		t.Fatalf("list enrollment tokens = %v, %v", el, err)
	}
	// The secret works against the store's enrollment, proving only its
	// hash was kept under the right tenant.
	enrolled, err := env.Store.EnrollAgent(ctx, store.Enrollment{SecretHash: auth.Hash(et.EnrollmentToken.Token), TokenID: et.EnrollmentToken.Id,
		At: time.Now(), AgentID: "agent-1", CertExpire: time.Now().Add(time.Hour)})
	if err != nil || enrolled.Token.TenantId != tn.ID || enrolled.Agent.TenantId != tn.ID {
		t.Fatalf("enrollment = %+v, %v", enrolled, err)
	}
	_, err = tn.Editor.CreateEnrollmentToken(ctx, &sirsiv1.CreateEnrollmentTokenRequest{CloudAccountId: "missing"})
	wantCode(t, err, codes.FailedPrecondition)

	// API token: secret once, then never.
	at, err := tn.Admin.CreateApiToken(ctx, &sirsiv1.CreateApiTokenRequest{Role: sirsiv1.Role_ROLE_VIEWER, Description: "ci", Ttl: durationpb.New(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.ParseKind(at.ApiToken.Token, auth.KindAPIToken); err != nil {
		t.Fatal(err)
	}
	ag, err := tn.Admin.GetApiToken(ctx, &sirsiv1.GetApiTokenRequest{Id: at.ApiToken.Id})
	if err != nil || ag.ApiToken.Token != "" || ag.ApiToken.ExpireTime == nil {
		t.Fatalf("get api token = %v, %v", ag, err)
	}
	al, err := tn.Admin.ListApiTokens(ctx, &sirsiv1.ListApiTokensRequest{})
	if err != nil || len(al.ApiTokens) != 4 {
		t.Fatalf("list api tokens = %v, %v", al, err)
	}
	for _, x := range al.ApiTokens {
		if x.Token != "" {
			t.Fatalf("list shows a secret")
		}
	}
	au, err := tn.Admin.UpdateApiToken(ctx, &sirsiv1.UpdateApiTokenRequest{Id: at.ApiToken.Id, Description: "ci2", Version: at.ApiToken.Version})
	if err != nil || au.ApiToken.Description != "ci2" || au.ApiToken.Token != "" {
		t.Fatalf("update api token = %v, %v", au, err)
	}
	_, err = tn.Admin.UpdateApiToken(ctx, &sirsiv1.UpdateApiTokenRequest{Id: at.ApiToken.Id, Description: "x", Version: at.ApiToken.Version})
	wantCode(t, err, codes.Aborted)

	// Identity.
	id, err := env.Dial(t, at.ApiToken.Token).GetIdentity(ctx, &sirsiv1.GetIdentityRequest{})
	if err != nil || id.TenantId != tn.ID || id.Role != sirsiv1.Role_ROLE_VIEWER || id.Actor != "token:"+at.ApiToken.Id || id.Operator {
		t.Fatalf("identity = %v, %v", id, err)
	}
	used, err := tn.Admin.GetApiToken(ctx, &sirsiv1.GetApiTokenRequest{Id: at.ApiToken.Id})
	if err != nil || used.ApiToken.LastUsedTime == nil {
		t.Fatalf("last use not recorded: %v, %v", used, err)
	}
	op, err := env.Client.GetIdentity(ctx, &sirsiv1.GetIdentityRequest{})
	if err != nil || !op.Operator || op.Actor != "operator" {
		t.Fatalf("operator identity = %v, %v", op, err)
	}

	// Tenant update: version check and immutable name; delete refuses a
	// tenant with accounts unless forced.
	tu := proto.Clone(tn.Tenant).(*sirsiv1.Tenant)
	tu.DisplayName = "Acme Inc"
	tr, err := env.Client.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: tu})
	if err != nil || tr.Tenant.DisplayName != "Acme Inc" {
		t.Fatalf("update tenant = %v, %v", tr, err)
	}
	_, err = env.Client.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: tu})
	wantCode(t, err, codes.Aborted)
	tu.Version, tu.Name = 0, "other-name"
	_, err = env.Client.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: tu})
	wantCode(t, err, codes.InvalidArgument)
	byName, err := tn.Viewer.GetTenant(ctx, &sirsiv1.GetTenantRequest{Name: "acme"})
	if err != nil || byName.Tenant.Id != tn.ID {
		t.Fatalf("get own tenant by name = %v, %v", byName, err)
	}
	_, err = env.Client.DeleteTenant(ctx, &sirsiv1.DeleteTenantRequest{Id: tn.ID})
	wantCode(t, err, codes.FailedPrecondition)
	if _, err := env.Client.DeleteTenant(ctx, &sirsiv1.DeleteTenantRequest{Id: tn.ID, Force: true}); err != nil {
		t.Fatal(err)
	}
	_, err = env.Client.GetTenant(ctx, &sirsiv1.GetTenantRequest{Id: tn.ID})
	wantCode(t, err, codes.NotFound)
	// Its tokens died with it.
	_, err = tn.Admin.GetIdentity(ctx, &sirsiv1.GetIdentityRequest{})
	wantCode(t, err, codes.Unauthenticated)
}

func TestPageTokens(t *testing.T) {
	env := cptest.Start(t)
	ctx := context.Background()
	for _, n := range []string{"t-a", "t-b", "t-c"} {
		if _, err := env.Client.CreateTenant(ctx, &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{Name: n}}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	tok := ""
	for i := 0; i < 10; i++ {
		r, err := env.Client.ListTenants(ctx, &sirsiv1.ListTenantsRequest{PageSize: 2, PageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range r.Tenants {
			names = append(names, x.Name)
		}
		if tok = r.NextPageToken; tok == "" {
			break
		}
	}
	if strings.Join(names, ",") != "t-a,t-b,t-c" {
		t.Fatalf("paged names = %v", names)
	}
	_, err := env.Client.ListTenants(ctx, &sirsiv1.ListTenantsRequest{PageToken: "garbage!"})
	wantCode(t, err, codes.InvalidArgument)
	_, err = env.Client.ListTenants(ctx, &sirsiv1.ListTenantsRequest{PageSize: 1001})
	wantCode(t, err, codes.InvalidArgument)
}

func TestOperatorTokenLifecycle(t *testing.T) {
	env := cptest.Start(t)
	if err := auth.ParseKind(env.OperatorToken, auth.KindOperator); err != nil {
		t.Fatalf("generated operator token %q: %v", env.OperatorToken, err)
	}
	ctx := context.Background()
	// The stored value is the hash, never the token.
	h, err := env.Store.GetSetting(ctx, "operator_token_sha256")
	if err != nil || !auth.HashEqual(h, auth.Hash(env.OperatorToken)) || strings.Contains(string(h), env.OperatorToken) {
		t.Fatalf("stored operator setting = %x, %v", h, err)
	}
	if _, err := env.Store.GetSetting(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing setting: %v", err)
	}
}
