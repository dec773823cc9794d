// Package storetest is the conformance suite every store.Store back end
// must pass, plus the benchmarks run against each back end.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// Run runs the suite; open returns a store on a fresh, empty database and
// arranges for it to be closed when the test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Tenants", testTenants},
		{"TenantWebhook", testTenantWebhook},
		{"WebhookEndpoints", testWebhookEndpoints},
		{"EventOutbox", testEventOutbox},
		{"EventTypes", testEventTypes},
		{"EveryEventType", testEveryEventType},
		{"CloudAccounts", testCloudAccounts},
		{"Policies", testPolicies},
		{"EnrollmentTokens", testEnrollmentTokens},
		{"APITokens", testAPITokens},
		{"APITokenCap", testAPITokenCap},
		{"OIDCTrusts", testOIDCTrusts},
		{"Agents", testAgents},
		{"ActionDenials", testActionDenials},
		{"AgentCertificates", testAgentCertificates},
		{"LookupEnrollmentToken", testLookupEnrollmentToken},
		{"Inventory", testInventory},
		{"InventoryPagination", testInventoryPagination},
		{"InventorySearch", testInventorySearch},
		{"InventoryMembership", testInventoryMembership},
		{"InventoryVersion", testInventoryVersion},
		{"BadBatchWritesNothing", testBadBatch},
		{"Utilization", testUtilization},
		{"Costs", testCosts},
		{"Recommendations", testRecommendations},
		{"RecommendationSkipReasons", testRecommendationSkipReasons},
		{"Actions", testActions},
		{"Audit", testAudit},
		{"AuditCheckpoints", testAuditCheckpoints},
		{"Settings", testSettings},
		{"TryLeader", testTryLeader},
		{"TenantIsolation", testTenantIsolation},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ForceDeleteTenant", testForceDelete},
		{"ExportTenant", testExport},
		{"TenantLimits", testTenantLimits},
		{"TenantSettings", testTenantSettings},
		{"Retention", testRetention},
		{"PolicyTiming", testPolicyTiming},
		{"RecommendationApprovals", testRecommendationApprovals},
		{"ActionPlans", testActionPlans},
		{"Reservations", testReservations},
		{"ConcurrentReservations", testConcurrentReservations},
		{"LedgerOffHours", testLedgerOffHours},
		{"LedgerReconciledWithTheBill", testLedgerReconciledWithTheBill},
		{"LedgerRollback", testLedgerRollback},
		{"LedgerChangedBySomeoneElse", testLedgerChangedBySomeoneElse},
		{"LedgerExecutedExternally", testLedgerExecutedExternally},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer guard(t)
			tc.fn(t, open(t))
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// failure carries a must failure to the test's guard.
type failure struct{ msg string }

// must returns v or, on error, ends the test (through guard) naming the
// caller's line; it lets a call returning (T, error) be used inline.
func must[T any](v T, err error) T {
	if err != nil {
		_, file, line, _ := runtime.Caller(1)
		panic(failure{fmt.Sprintf("%s:%d: %v", filepath.Base(file), line, err)})
	}
	return v
}

// guard turns a must failure into a test failure; deferred at the top of
// every test of the suite.
func guard(t *testing.T) {
	if r := recover(); r != nil {
		if f, ok := r.(failure); ok {
			t.Fatal(f.msg)
		}
		panic(r)
	}
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func newTenant(t *testing.T, s store.Store, name string) store.TenantStore {
	t.Helper()
	tn := must(s.CreateTenant(ctx(t), &sirsiv1.Tenant{Name: name, DisplayName: name, Tier: sirsiv1.Tier_TIER_STANDARD}))
	return s.Tenant(tn.Id)
}

func newAccount(t *testing.T, ts store.TenantStore, accountID string) *sirsiv1.CloudAccount {
	t.Helper()
	return must(ts.CreateCloudAccount(ctx(t), &sirsiv1.CloudAccount{
		Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: accountID, Regions: []string{"us-east-1", "eu-west-1"},
		RoleArn: "arn:aws:iam::" + accountID + ":role/sirsi", ExternalId: "ext-" + accountID, DisplayName: "acct " + accountID,
	}))
}

func newPolicy(t *testing.T, ts store.TenantStore, name string) *sirsiv1.OptimizationPolicy {
	t.Helper()
	return must(ts.CreatePolicy(ctx(t), samplePolicy(name)))
}

func samplePolicy(name string) *sirsiv1.OptimizationPolicy {
	return &sirsiv1.OptimizationPolicy{
		Name: name, Description: "d", Mode: sirsiv1.PolicyMode_POLICY_MODE_APPROVE,
		ResourceTypes: []string{"aws_ec2_instance", "aws_ebs_volume"},
		Selector: &sirsiv1.PolicySelector{
			AccountIds: []string{"123456789012"}, Regions: []string{"us-east-1"},
			Tags: map[string]string{"env": "dev"}, ExcludeTags: map[string]string{"keep": "*"},
		},
		Rightsizing:      &sirsiv1.RightsizingSettings{Statistic: sirsiv1.Statistic_STATISTIC_P95, LookbackDays: 14, HeadroomPercent: 20, AllowedFamilies: []string{"m5"}, MinMonthlySavings: money.USDFromFloat(5)},
		Idle:             &sirsiv1.IdleSettings{CpuBelowPercent: 2, NetworkBelowBytesPerDay: 1 << 20, LookbackDays: 7, Action: sirsiv1.IdleAction_IDLE_ACTION_STOP},
		Offhours:         &sirsiv1.OffHoursSettings{StopCron: "0 19 * * 1-5", StartCron: "0 7 * * 1-5", Timezone: "Europe/Berlin", SkipDates: []string{"2026-12-25"}},
		Schedule:         "0 2 * * *",
		Timezone:         "UTC",
		MaxActionsPerRun: proto.Int32(0),
		Verify:           &sirsiv1.VerifySettings{WaitMinutes: 10, RollbackOnFailure: proto.Bool(false)},
	}
}

func resource(i int, typ, region string, tags map[string]string) *sirsiv1.Resource {
	return &sirsiv1.Resource{
		ResourceId: fmt.Sprintf("i-%08d", i), Type: typ, Region: region, AccountId: "123456789012",
		Arn: fmt.Sprintf("arn:aws:ec2:%s:123456789012:instance/i-%08d", region, i), Name: fmt.Sprintf("web-%d", i),
		Size: "m5.large", State: "running", Tags: tags, MonthlyCost: money.USDFromFloat(70.08),
		Attributes: map[string]string{"architecture": "x86_64", "availability_zone": region + "a"},
		LaunchTime: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
	}
}

func testTenants(t *testing.T, s store.Store) {
	c := ctx(t)
	in := &sirsiv1.Tenant{Name: "acme", DisplayName: "Acme", Tier: sirsiv1.Tier_TIER_ENTERPRISE, Labels: map[string]string{"team": "finops"}}
	tn := must(s.CreateTenant(c, in))
	if tn.Id == "" || tn.Version != 1 || tn.CreateTime == nil || tn.UpdateTime == nil {
		t.Fatalf("create did not set id, version and times: %v", tn)
	}
	got := must(s.GetTenant(c, tn.Id))
	if !proto.Equal(got, tn) {
		t.Fatalf("get = %v, want %v", got, tn)
	}
	got = must(s.GetTenantByName(c, "acme"))
	if got.Id != tn.Id {
		t.Fatalf("by name = %v", got)
	}
	_, err := s.CreateTenant(c, &sirsiv1.Tenant{Name: "acme"})
	wantErr(t, err, store.ErrAlreadyExists, "duplicate name")
	_, err = s.GetTenant(c, "nope")
	wantErr(t, err, store.ErrNotFound, "get missing")
	_, err = s.GetTenantByName(c, "nope")
	wantErr(t, err, store.ErrNotFound, "get missing by name")

	up := proto.Clone(tn).(*sirsiv1.Tenant)
	up.DisplayName, up.Tier, up.Labels = "Acme Corp", sirsiv1.Tier_TIER_FREE, map[string]string{"a": "b"}
	up.Name = "renamed"
	u := must(s.UpdateTenant(c, up))
	if u.Version != 2 || u.DisplayName != "Acme Corp" || u.Tier != sirsiv1.Tier_TIER_FREE || u.Labels["a"] != "b" || u.Name != "acme" {
		t.Fatalf("update = %v", u)
	}
	_, err = s.UpdateTenant(c, up) // still version 1
	wantErr(t, err, store.ErrVersionMismatch, "stale update")
	up.Version = 0
	u = must(s.UpdateTenant(c, up))
	if u.Version != 3 {
		t.Fatalf("unconditional update version = %d, want 3", u.Version)
	}
	_, err = s.UpdateTenant(c, &sirsiv1.Tenant{Id: "nope"})
	wantErr(t, err, store.ErrNotFound, "update missing")

	for i := range 4 {
		must(s.CreateTenant(c, &sirsiv1.Tenant{Name: fmt.Sprintf("t%d", i)}))
	}
	var names []string
	tok := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		list, next, err := s.ListTenants(c, store.Page{Size: 2, Token: tok})
		ok(t, err)
		if len(list) > 2 {
			t.Fatalf("page of %d, asked for 2", len(list))
		}
		for _, x := range list {
			names = append(names, x.Name)
		}
		if next == "" {
			break
		}
		tok = next
	}
	if fmt.Sprint(names) != "[acme t0 t1 t2 t3]" {
		t.Fatalf("listed %v", names)
	}
	_, _, err = s.ListTenants(c, store.Page{Token: "garbage!"})
	wantErr(t, err, store.ErrInvalidPageToken, "garbage token")

	ts := s.Tenant(tn.Id)
	a := newAccount(t, ts, "123456789012")
	err = s.DeleteTenant(c, tn.Id, 0, false)
	wantErr(t, err, store.ErrFailedPrecondition, "delete tenant that owns an account")
	ok(t, ts.DeleteCloudAccount(c, a.Id, a.Version))
	err = s.DeleteTenant(c, tn.Id, 1, false)
	wantErr(t, err, store.ErrVersionMismatch, "delete with stale version")
	ok(t, s.DeleteTenant(c, tn.Id, 3, false))
	_, err = s.GetTenant(c, tn.Id)
	wantErr(t, err, store.ErrNotFound, "get deleted")
	wantErr(t, s.DeleteTenant(c, tn.Id, 0, false), store.ErrNotFound, "delete missing")

	v := must(s.SchemaVersion(c))
	if v < 1 {
		t.Fatalf("schema version %d", v)
	}
}

func testCloudAccounts(t *testing.T, s store.Store) {
	c := ctx(t)
	_, err := s.Tenant("missing").CreateCloudAccount(c, &sirsiv1.CloudAccount{AccountId: "123456789012"})
	wantErr(t, err, store.ErrFailedPrecondition, "account under missing tenant")

	ts := newTenant(t, s, "acme")
	a := newAccount(t, ts, "123456789012")
	if a.Id == "" || a.TenantId != ts.TenantID() || a.Version != 1 || a.Status != sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_PENDING {
		t.Fatalf("create = %v", a)
	}
	got := must(ts.GetCloudAccount(c, a.Id))
	if !proto.Equal(got, a) {
		t.Fatalf("get = %v, want %v", got, a)
	}
	_, err = ts.CreateCloudAccount(c, &sirsiv1.CloudAccount{AccountId: "123456789012"})
	wantErr(t, err, store.ErrAlreadyExists, "duplicate account id")
	other := newTenant(t, s, "other")
	newAccount(t, other, "123456789012")

	up := proto.Clone(a).(*sirsiv1.CloudAccount)
	up.Regions, up.RoleArn, up.ExternalId, up.DisplayName = []string{"ap-south-1"}, "arn:new", "ext-new", "new"
	up.AccountId, up.Cloud = "999999999999", sirsiv1.Cloud_CLOUD_UNSPECIFIED
	u := must(ts.UpdateCloudAccount(c, up))
	if u.Version != 2 || fmt.Sprint(u.Regions) != "[ap-south-1]" || u.RoleArn != "arn:new" || u.ExternalId != "ext-new" || u.DisplayName != "new" {
		t.Fatalf("update = %v", u)
	}
	if u.AccountId != "123456789012" || u.Cloud != sirsiv1.Cloud_CLOUD_AWS {
		t.Fatalf("update changed immutable fields: %v", u)
	}
	_, err = ts.UpdateCloudAccount(c, up)
	wantErr(t, err, store.ErrVersionMismatch, "stale update")
	wantErr(t, ts.DeleteCloudAccount(c, a.Id, 1), store.ErrVersionMismatch, "stale delete")

	for i := range 5 {
		newAccount(t, ts, fmt.Sprintf("10000000000%d", i))
	}
	seen := map[string]bool{}
	tok := ""
	for range 10 {
		list, next, err := ts.ListCloudAccounts(c, store.Page{Size: 4, Token: tok})
		ok(t, err)
		for _, x := range list {
			if seen[x.Id] || x.TenantId != ts.TenantID() {
				t.Fatalf("listed %v twice or from another tenant", x)
			}
			seen[x.Id] = true
		}
		if tok = next; tok == "" {
			break
		}
	}
	if len(seen) != 6 {
		t.Fatalf("listed %d accounts, want 6", len(seen))
	}
	ok(t, ts.DeleteCloudAccount(c, a.Id, 2))
	_, err = ts.GetCloudAccount(c, a.Id)
	wantErr(t, err, store.ErrNotFound, "get deleted")
	wantErr(t, ts.DeleteCloudAccount(c, a.Id, 0), store.ErrNotFound, "delete missing")
}

func testPolicies(t *testing.T, s store.Store) {
	c := ctx(t)
	_, err := s.Tenant("missing").CreatePolicy(c, samplePolicy("p"))
	wantErr(t, err, store.ErrFailedPrecondition, "policy under missing tenant")
	ts := newTenant(t, s, "acme")
	in := samplePolicy("rightsize")
	p := must(ts.CreatePolicy(c, in))
	if p.Id == "" || p.Version != 1 || p.TenantId != ts.TenantID() {
		t.Fatalf("create = %v", p)
	}
	got := must(ts.GetPolicy(c, p.Id))
	if !proto.Equal(got, p) {
		t.Fatalf("round trip lost data:\n got  %v\n want %v", got, p)
	}
	if got.MaxActionsPerRun == nil || *got.MaxActionsPerRun != 0 || got.Verify.RollbackOnFailure == nil || *got.Verify.RollbackOnFailure {
		t.Fatalf("explicit zero/false optionals lost: %v", got)
	}
	_, err = ts.CreatePolicy(c, samplePolicy("rightsize"))
	wantErr(t, err, store.ErrAlreadyExists, "duplicate name")
	second := newPolicy(t, ts, "second")

	up := proto.Clone(p).(*sirsiv1.OptimizationPolicy)
	up.Mode, up.Schedule, up.Idle = sirsiv1.PolicyMode_POLICY_MODE_AUTO, "30 1 * * *", nil
	u := must(ts.UpdatePolicy(c, up))
	if u.Version != 2 || u.Mode != sirsiv1.PolicyMode_POLICY_MODE_AUTO || u.Schedule != "30 1 * * *" || u.Idle != nil || !u.CreateTime.AsTime().Equal(p.CreateTime.AsTime()) {
		t.Fatalf("update = %v", u)
	}
	_, err = ts.UpdatePolicy(c, up)
	wantErr(t, err, store.ErrVersionMismatch, "stale update")
	clash := proto.Clone(second).(*sirsiv1.OptimizationPolicy)
	clash.Name = "rightsize"
	_, err = ts.UpdatePolicy(c, clash)
	wantErr(t, err, store.ErrAlreadyExists, "rename onto a taken name")

	list, next, err := ts.ListPolicies(c, store.Page{})
	ok(t, err)
	if len(list) != 2 || next != "" {
		t.Fatalf("list = %d, %q", len(list), next)
	}
	wantErr(t, ts.DeletePolicy(c, p.Id, 1), store.ErrVersionMismatch, "stale delete")
	ok(t, ts.DeletePolicy(c, p.Id, 2))
	_, err = ts.GetPolicy(c, p.Id)
	wantErr(t, err, store.ErrNotFound, "get deleted")
}

func testEnrollmentTokens(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	_, err := ts.CreateEnrollmentToken(c, &sirsiv1.EnrollmentToken{CloudAccountId: "missing", MaxUses: 1}, []byte("h0"))
	wantErr(t, err, store.ErrFailedPrecondition, "token for missing account")
	a := newAccount(t, ts, "123456789012")
	e := must(ts.CreateEnrollmentToken(c, &sirsiv1.EnrollmentToken{CloudAccountId: a.Id, MaxUses: 2, Ttl: durationpb.New(time.Hour), Token: "secret"}, []byte("h1")))
	if e.Id == "" || e.Token != "" || e.ExpireTime == nil || e.Uses != 0 {
		t.Fatalf("create = %v", e)
	}
	got := must(ts.GetEnrollmentToken(c, e.Id))
	if !proto.Equal(got, e) {
		t.Fatalf("get = %v, want %v", got, e)
	}
	now := time.Now()
	enroll := func(hash, tokenID, agentID string, at time.Time) (*store.Enrolled, error) {
		return s.EnrollAgent(c, store.Enrollment{SecretHash: []byte(hash), TokenID: tokenID, At: at, AgentID: agentID,
			Hostname: "h-" + agentID, Version: "0.1.0", CertSerial: "serial-" + agentID, CertExpire: now.Add(time.Hour)})
	}
	for i := 1; i <= 2; i++ {
		id := fmt.Sprintf("agent-%d", i)
		u := must(enroll("h1", e.Id, id, now))
		if u.Replayed || u.Token.Uses != int32(i) || u.Token.TenantId != ts.TenantID() || u.Token.CloudAccountId != a.Id {
			t.Fatalf("enrollment %d = %+v", i, u)
		}
		if u.Agent.Id != id || u.Agent.CloudAccountId != a.Id || u.Agent.Hostname != "h-"+id || u.Agent.Status != sirsiv1.AgentStatus_AGENT_STATUS_CONNECTED {
			t.Fatalf("enrollment %d created %v", i, u.Agent)
		}
		if au := must(ts.GetAgentAuth(c, id)); au.CertSerial != "serial-"+id {
			t.Fatalf("enrollment %d stored certificate %q", i, au.CertSerial)
		}
	}
	// The first agent presenting the used-up token again (its answer was
	// lost): admitted without a use, its new certificate recorded.
	r := must(s.EnrollAgent(c, store.Enrollment{SecretHash: []byte("h1"), TokenID: e.Id, At: now, AgentID: "agent-1", CertSerial: "serial-again", CertExpire: now.Add(time.Hour)}))
	if !r.Replayed || r.Token.Uses != 2 || r.Agent.Id != "agent-1" {
		t.Fatalf("enrollment again = %+v", r)
	}
	if au := must(ts.GetAgentAuth(c, "agent-1")); au.CertSerial != "serial-again" || au.PrevCertSerial != "serial-agent-1" {
		t.Fatalf("enrollment again recorded serials %q, previous %q", au.CertSerial, au.PrevCertSerial)
	}
	_, err = enroll("h1", e.Id, "agent-3", now)
	wantErr(t, err, store.ErrFailedPrecondition, "used-up token")
	_, err = ts.GetAgent(c, "agent-3")
	wantErr(t, err, store.ErrNotFound, "agent of a refused enrollment")
	must(ts.RevokeAgent(c, "agent-2"))
	_, err = enroll("h1", e.Id, "agent-2", now)
	wantErr(t, err, store.ErrRevoked, "enrollment of a revoked agent")
	_, err = enroll("unknown", e.Id, "agent-4", now)
	wantErr(t, err, store.ErrNotFound, "unknown token")
	_, err = enroll("h1", "another-token", "agent-1", now)
	wantErr(t, err, store.ErrNotFound, "token id not the one derived from")

	e2 := must(ts.CreateEnrollmentToken(c, &sirsiv1.EnrollmentToken{CloudAccountId: a.Id, Ttl: durationpb.New(time.Minute)}, []byte("h2")))
	_, err = enroll("h2", e2.Id, "agent-5", now.Add(2*time.Minute))
	wantErr(t, err, store.ErrFailedPrecondition, "expired token")
	if u := must(ts.GetEnrollmentToken(c, e2.Id)); u.Uses != 0 {
		t.Fatalf("refused enrollment counted a use: %v", u)
	}
	_, err = ts.GetAgent(c, "agent-5")
	wantErr(t, err, store.ErrNotFound, "agent of an expired token")
	_, err = ts.CreateEnrollmentToken(c, &sirsiv1.EnrollmentToken{CloudAccountId: a.Id}, []byte("h2"))
	wantErr(t, err, store.ErrAlreadyExists, "duplicate hash")

	list, _, err := ts.ListEnrollmentTokens(c, store.Page{})
	ok(t, err)
	if len(list) != 2 {
		t.Fatalf("list = %d", len(list))
	}
	ok(t, ts.DeleteEnrollmentToken(c, e.Id))
	wantErr(t, ts.DeleteEnrollmentToken(c, e.Id), store.ErrNotFound, "delete twice")
	_, err = enroll("h1", e.Id, "agent-1", now)
	wantErr(t, err, store.ErrNotFound, "enrollment with a deleted token")
}

func testAPITokens(t *testing.T, s store.Store) {
	c := ctx(t)
	_, err := s.Tenant("missing").CreateAPIToken(c, &sirsiv1.ApiToken{Role: sirsiv1.Role_ROLE_ADMIN}, []byte("x"), store.TokenCap{})
	wantErr(t, err, store.ErrFailedPrecondition, "token under missing tenant")
	ts := newTenant(t, s, "acme")
	tok := must(ts.CreateAPIToken(c, &sirsiv1.ApiToken{Role: sirsiv1.Role_ROLE_EDITOR, Description: "ci", Ttl: durationpb.New(24 * time.Hour), Token: "secret"}, []byte("hash-1"), store.TokenCap{}))
	if tok.Id == "" || tok.Token != "" || tok.Version != 1 || tok.ExpireTime == nil {
		t.Fatalf("create = %v", tok)
	}
	never := must(ts.CreateAPIToken(c, &sirsiv1.ApiToken{Role: sirsiv1.Role_ROLE_VIEWER}, []byte("hash-2"), store.TokenCap{}))
	if never.ExpireTime != nil {
		t.Fatalf("token without ttl expires: %v", never)
	}
	got := must(s.LookupAPIToken(c, []byte("hash-1")))
	if !proto.Equal(got, tok) {
		t.Fatalf("lookup = %v, want %v", got, tok)
	}
	_, err = s.LookupAPIToken(c, []byte("secret"))
	wantErr(t, err, store.ErrNotFound, "lookup by the secret itself")
	at := time.Now().Truncate(time.Microsecond)
	ok(t, s.TouchAPIToken(c, ts.TenantID(), tok.Id, at))
	if g := must(ts.GetAPIToken(c, tok.Id)); !g.LastUsedTime.AsTime().Equal(at) {
		t.Fatalf("last used = %v, want %v", g.LastUsedTime.AsTime(), at)
	}
	wantErr(t, s.TouchAPIToken(c, "other-tenant", tok.Id, at), store.ErrNotFound, "touch under the wrong tenant")
	u := must(ts.UpdateAPIToken(c, tok.Id, "renamed", 1))
	if u.Description != "renamed" || u.Version != 2 || u.Role != sirsiv1.Role_ROLE_EDITOR {
		t.Fatalf("update = %v", u)
	}
	_, err = ts.UpdateAPIToken(c, tok.Id, "again", 1)
	wantErr(t, err, store.ErrVersionMismatch, "stale update")
	list, _, err := ts.ListAPITokens(c, store.Page{Size: 1})
	ok(t, err)
	if len(list) != 1 {
		t.Fatalf("page of %d", len(list))
	}
	ok(t, ts.DeleteAPIToken(c, tok.Id))
	_, err = s.LookupAPIToken(c, []byte("hash-1"))
	wantErr(t, err, store.ErrNotFound, "lookup revoked")
	wantErr(t, ts.DeleteAPIToken(c, tok.Id), store.ErrNotFound, "delete twice")
}

func testAgents(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	_, err := ts.CreateAgent(c, &sirsiv1.Agent{CloudAccountId: "missing"})
	wantErr(t, err, store.ErrFailedPrecondition, "agent for missing account")
	a := newAccount(t, ts, "123456789012")
	b := newAccount(t, ts, "210987654321")
	ag := must(ts.CreateAgent(c, &sirsiv1.Agent{CloudAccountId: a.Id, Version: "0.1.0", Hostname: "h1"}))
	if ag.Id == "" || ag.Status != sirsiv1.AgentStatus_AGENT_STATUS_CONNECTED || ag.EnrollTime == nil {
		t.Fatalf("create = %v", ag)
	}
	must(ts.CreateAgent(c, &sirsiv1.Agent{CloudAccountId: b.Id}))
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	hb := must(ts.RecordHeartbeat(c, ag.Id, store.Heartbeat{At: at, Version: "0.2.0", Hostname: "h2", Uptime: time.Hour,
		LastSweepTimes: map[string]time.Time{"discovery": at.Add(-time.Minute)}, LastError: "throttled",
		LastSweepFailures: map[string]store.SweepFailure{"costs": {At: at.Add(-time.Second), Error: "costs sweep: throttled"}}}))
	if hb.Version != "0.2.0" || hb.Hostname != "h2" || !hb.LastSeenTime.AsTime().Equal(at) || hb.Uptime.AsDuration() != time.Hour ||
		!hb.LastSweepTimes["discovery"].AsTime().Equal(at.Add(-time.Minute)) || hb.LastError != "throttled" {
		t.Fatalf("heartbeat = %v", hb)
	}
	if f := must(ts.GetAgent(c, ag.Id)).LastSweepFailures; len(f) != 1 || !f["costs"].GetTime().AsTime().Equal(at.Add(-time.Second)) || f["costs"].GetError() != "costs sweep: throttled" {
		t.Fatalf("sweep failures after the heartbeat = %v", f)
	}
	acct := must(ts.GetCloudAccount(c, a.Id))
	if acct.Status != sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CONNECTED || acct.AgentVersion != "0.2.0" || !acct.LastSeenTime.AsTime().Equal(at) || acct.Version != a.Version {
		t.Fatalf("account after heartbeat = %v", acct)
	}
	// A failed credentials check becomes the agent's and the account's
	// status with its detail; a heartbeat before the next check keeps it;
	// a passing check clears it.
	for _, step := range []struct {
		verdict      sirsiv1.CredentialsVerdict
		detail       string
		agent        sirsiv1.AgentStatus
		account      sirsiv1.CloudAccountStatus
		storedDetail string
	}{
		{sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_MISMATCH, "account 999999999999", sirsiv1.AgentStatus_AGENT_STATUS_CREDENTIALS_MISMATCH,
			sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CREDENTIALS_MISMATCH, "account 999999999999"},
		{sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_UNSPECIFIED, "", sirsiv1.AgentStatus_AGENT_STATUS_CREDENTIALS_MISMATCH,
			sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CREDENTIALS_MISMATCH, "account 999999999999"},
		{sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_ASSUME_ROLE_FAILED, "AccessDenied", sirsiv1.AgentStatus_AGENT_STATUS_ASSUME_ROLE_FAILED,
			sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_ASSUME_ROLE_FAILED, "AccessDenied"},
		{sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_OK, "", sirsiv1.AgentStatus_AGENT_STATUS_CONNECTED,
			sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CONNECTED, ""},
	} {
		got := must(ts.RecordHeartbeat(c, ag.Id, store.Heartbeat{At: at, Version: "0.2.0", Hostname: "h2", CredentialsVerdict: step.verdict, CredentialsDetail: step.detail}))
		acct := must(ts.GetCloudAccount(c, a.Id))
		if got.Status != step.agent || got.StatusDetail != step.storedDetail || acct.Status != step.account || acct.StatusDetail != step.storedDetail {
			t.Fatalf("after verdict %v: agent %v %q, account %v %q", step.verdict, got.Status, got.StatusDetail, acct.Status, acct.StatusDetail)
		}
	}
	exp := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ok(t, ts.UpdateAgentCertificate(c, ag.Id, "01ab", exp))
	if g := must(ts.GetAgent(c, ag.Id)); !g.CertExpireTime.AsTime().Equal(exp) {
		t.Fatalf("cert expiry = %v", g.CertExpireTime)
	}
	wantErr(t, ts.UpdateAgentCertificate(c, "missing", "x", exp), store.ErrNotFound, "cert of missing agent")
	list, _, err := ts.ListAgents(c, a.Id, store.Page{})
	ok(t, err)
	if len(list) != 1 || list[0].Id != ag.Id {
		t.Fatalf("agents of account = %v", list)
	}
	all, _, err := ts.ListAgents(c, "", store.Page{})
	ok(t, err)
	if len(all) != 2 {
		t.Fatalf("all agents = %d", len(all))
	}
	r := must(ts.RevokeAgent(c, ag.Id))
	if r.Status != sirsiv1.AgentStatus_AGENT_STATUS_REVOKED {
		t.Fatalf("revoke = %v", r)
	}
	_, err = ts.RecordHeartbeat(c, ag.Id, store.Heartbeat{At: at})
	wantErr(t, err, store.ErrFailedPrecondition, "heartbeat of revoked agent")
	_, err = ts.RevokeAgent(c, "missing")
	wantErr(t, err, store.ErrNotFound, "revoke missing")
	_, err = ts.RecordHeartbeat(c, "missing", store.Heartbeat{At: at})
	wantErr(t, err, store.ErrNotFound, "heartbeat of missing agent")
}

func timestampAt(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }
