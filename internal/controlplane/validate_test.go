package controlplane_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

func validPolicy() *sirsiv1.OptimizationPolicy {
	return &sirsiv1.OptimizationPolicy{
		Name: "ok-policy", Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO, ResourceTypes: []string{"aws_ec2_instance"},
		Selector:    &sirsiv1.PolicySelector{Regions: []string{"us-east-1"}, AccountIds: []string{"123456789012"}, Tags: map[string]string{"env": "prod"}, ExcludeTags: map[string]string{"keep": "*"}},
		Rightsizing: &sirsiv1.RightsizingSettings{LookbackDays: 30, HeadroomPercent: 20, AllowedFamilies: []string{"m5"}},
		Idle:        &sirsiv1.IdleSettings{CpuBelowPercent: 2, LookbackDays: 7},
		Offhours:    &sirsiv1.OffHoursSettings{StopCron: "0 20 * * MON-FRI", StartCron: "0 7 * * MON-FRI", Timezone: "Europe/Berlin", SkipDates: []string{"2026-12-25"}},
		Schedule:    "0 2 * * *", Timezone: "Europe/Berlin", MaxActionsPerRun: proto.Int32(3),
		Verify: &sirsiv1.VerifySettings{WaitMinutes: 15},
	}
}

// Each case breaks one field of an otherwise valid request; the error must
// be InvalidArgument, carry a BadRequest naming exactly that field path, and
// say it in the message.
func TestValidationFieldPaths(t *testing.T) {
	env := cptest.Start(t)
	tn := env.NewTenant(t, "valid")
	ctx := context.Background()
	acct, err := tn.Editor.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: newAccount("")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: validPolicy()}); err != nil {
		t.Fatalf("the valid policy is refused: %v", err)
	}
	pol := func(edit func(p *sirsiv1.OptimizationPolicy)) func() error {
		return func() error {
			p := validPolicy()
			p.Name = "edited"
			edit(p)
			_, err := tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: p})
			return err
		}
	}
	account := func(edit func(a *sirsiv1.CloudAccount)) func() error {
		return func() error {
			a := newAccount("")
			a.AccountId, a.RoleArn = "999999999999", "arn:aws:iam::999999999999:role/A"
			edit(a)
			_, err := tn.Editor.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: a})
			return err
		}
	}
	tenant := func(edit func(x *sirsiv1.Tenant)) func() error {
		return func() error {
			x := &sirsiv1.Tenant{Name: "fine-name"}
			edit(x)
			_, err := env.Client.CreateTenant(ctx, &sirsiv1.CreateTenantRequest{Tenant: x})
			return err
		}
	}
	trust := func(edit func(o *sirsiv1.OidcTrust)) func() error {
		return func() error {
			o := &sirsiv1.OidcTrust{Name: "hcp", Issuer: "https://app.terraform.io", Audience: "sirsi", Role: sirsiv1.Role_ROLE_VIEWER,
				BoundClaims: map[string]string{"terraform_organization_name": "acme"}}
			edit(o)
			_, err := tn.Admin.CreateOidcTrust(ctx, &sirsiv1.CreateOidcTrustRequest{OidcTrust: o})
			return err
		}
	}
	cost := func(edit func(r *sirsiv1.GetCostSummaryRequest)) func() error {
		return func() error {
			r := &sirsiv1.GetCostSummaryRequest{Start: "2026-01-01", End: "2026-02-01"}
			edit(r)
			_, err := tn.Viewer.GetCostSummary(ctx, r)
			return err
		}
	}
	cases := []struct {
		name  string
		call  func() error
		field string
	}{
		{"tenant name", tenant(func(x *sirsiv1.Tenant) { x.Name = "Bad_Name" }), "tenant.name"},
		{"tenant trailing dash", tenant(func(x *sirsiv1.Tenant) { x.Name = "bad-" }), "tenant.name"},
		{"tenant display name", tenant(func(x *sirsiv1.Tenant) { x.DisplayName = strings.Repeat("x", 300) }), "tenant.display_name"},
		{"tenant tier", tenant(func(x *sirsiv1.Tenant) { x.Tier = 9 }), "tenant.tier"},
		{"tenant label key", tenant(func(x *sirsiv1.Tenant) { x.Labels = map[string]string{"aws:x": "y"} }), `tenant.labels["aws:x"]`},
		{"tenant label value", tenant(func(x *sirsiv1.Tenant) { x.Labels = map[string]string{"k": "a|b"} }), `tenant.labels["k"]`},
		{"tenant missing", func() error { _, err := env.Client.CreateTenant(ctx, &sirsiv1.CreateTenantRequest{}); return err }, "tenant"},
		{"tenant rate limit zero", tenant(func(x *sirsiv1.Tenant) { x.RateLimitPerMinute = proto.Int32(0) }), "tenant.rate_limit_per_minute"},
		{"tenant rate limit too high", tenant(func(x *sirsiv1.Tenant) { x.RateLimitPerMinute = proto.Int32(100001) }), "tenant.rate_limit_per_minute"},
		{"tenant max actions negative", tenant(func(x *sirsiv1.Tenant) { x.MaxActionsPerHour = proto.Int32(-1) }), "tenant.max_actions_per_hour"},
		{"tenant max actions too high", tenant(func(x *sirsiv1.Tenant) { x.MaxActionsPerHour = proto.Int32(10001) }), "tenant.max_actions_per_hour"},
		{"tenant update limits", func() error {
			x := proto.Clone(tn.Tenant).(*sirsiv1.Tenant)
			x.Version, x.MaxActionsPerHour = 0, proto.Int32(20000)
			_, err := env.Client.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: x})
			return err
		}, "tenant.max_actions_per_hour"},

		{"account id", account(func(a *sirsiv1.CloudAccount) { a.AccountId = "12345" }), "cloud_account.account_id"},
		{"account region", account(func(a *sirsiv1.CloudAccount) { a.Regions = []string{"us-east-1", "moon-1"} }), "cloud_account.regions[1]"},
		{"account no region", account(func(a *sirsiv1.CloudAccount) { a.Regions = nil }), "cloud_account.regions"},
		{"account role arn", account(func(a *sirsiv1.CloudAccount) { a.RoleArn = "arn:aws:iam::999999999999:user/x" }), "cloud_account.role_arn"},
		{"account role arn other account", account(func(a *sirsiv1.CloudAccount) { a.RoleArn = "arn:aws:iam::111111111111:role/x" }), "cloud_account.role_arn"},
		{"account external id", account(func(a *sirsiv1.CloudAccount) { a.ExternalId = "has space" }), "cloud_account.external_id"},
		{"account cloud", account(func(a *sirsiv1.CloudAccount) { a.Cloud = 7 }), "cloud_account.cloud"},

		{"trust issuer http", trust(func(o *sirsiv1.OidcTrust) { o.Issuer = "http://idp.example.com" }), "oidc_trust.issuer"},
		{"trust audience", trust(func(o *sirsiv1.OidcTrust) { o.Audience = "" }), "oidc_trust.audience"},
		{"trust no bound claims", trust(func(o *sirsiv1.OidcTrust) { o.BoundClaims = nil }), "oidc_trust.bound_claims"},
		{"trust role", trust(func(o *sirsiv1.OidcTrust) { o.Role = 0 }), "oidc_trust.role"},
		{"trust subject claim", trust(func(o *sirsiv1.OidcTrust) { o.SubjectClaim = "a b" }), "oidc_trust.subject_claim"},
		{"trust max age", trust(func(o *sirsiv1.OidcTrust) { o.MaxTokenAge = durationpb.New(13 * time.Hour) }), "oidc_trust.max_token_age"},
		{"trust name", trust(func(o *sirsiv1.OidcTrust) { o.Name = "Bad" }), "oidc_trust.name"},

		{"policy name", pol(func(p *sirsiv1.OptimizationPolicy) { p.Name = "1x" }), "optimization_policy.name"},
		{"policy mode", pol(func(p *sirsiv1.OptimizationPolicy) { p.Mode = 42 }), "optimization_policy.mode"},
		{"policy resource type", pol(func(p *sirsiv1.OptimizationPolicy) { p.ResourceTypes = []string{"aws_vm"} }), "optimization_policy.resource_types[0]"},
		{"policy selector region", pol(func(p *sirsiv1.OptimizationPolicy) { p.Selector.Regions = []string{"xx"} }), "optimization_policy.selector.regions[0]"},
		{"policy selector account", pol(func(p *sirsiv1.OptimizationPolicy) { p.Selector.AccountIds = []string{"1"} }), "optimization_policy.selector.account_ids[0]"},
		{"policy selector tag", pol(func(p *sirsiv1.OptimizationPolicy) { p.Selector.Tags = map[string]string{"": "x"} }), `optimization_policy.selector.tags[""]`},
		{"policy lookback", pol(func(p *sirsiv1.OptimizationPolicy) { p.Rightsizing.LookbackDays = 94 }), "optimization_policy.rightsizing.lookback_days"},
		{"policy headroom", pol(func(p *sirsiv1.OptimizationPolicy) { p.Rightsizing.HeadroomPercent = 101 }), "optimization_policy.rightsizing.headroom_percent"},
		{"policy statistic", pol(func(p *sirsiv1.OptimizationPolicy) { p.Rightsizing.Statistic = 8 }), "optimization_policy.rightsizing.statistic"},
		{"policy family", pol(func(p *sirsiv1.OptimizationPolicy) { p.Rightsizing.AllowedFamilies = []string{"M5!"} }), "optimization_policy.rightsizing.allowed_families[0]"},
		{"policy min saving", pol(func(p *sirsiv1.OptimizationPolicy) { p.Rightsizing.MinMonthlySavings = money.USDFromFloat(-1) }), "optimization_policy.rightsizing.min_monthly_savings"},
		{"policy idle cpu", pol(func(p *sirsiv1.OptimizationPolicy) { p.Idle.CpuBelowPercent = 150 }), "optimization_policy.idle.cpu_below_percent"},
		{"policy idle action", pol(func(p *sirsiv1.OptimizationPolicy) { p.Idle.Action = 9 }), "optimization_policy.idle.action"},
		{"policy idle lookback", pol(func(p *sirsiv1.OptimizationPolicy) { p.Idle.LookbackDays = -1 }), "optimization_policy.idle.lookback_days"},
		{"policy offhours cron", pol(func(p *sirsiv1.OptimizationPolicy) { p.Offhours.StopCron = "0 25 * * *" }), "optimization_policy.offhours.stop_cron"},
		{"policy offhours start cron", pol(func(p *sirsiv1.OptimizationPolicy) { p.Offhours.StartCron = "0 7 * *" }), "optimization_policy.offhours.start_cron"},
		{"policy offhours neither cron", pol(func(p *sirsiv1.OptimizationPolicy) { p.Offhours.StopCron, p.Offhours.StartCron = "", "" }), "optimization_policy.offhours.stop_cron"},
		{"policy offhours tz", pol(func(p *sirsiv1.OptimizationPolicy) { p.Offhours.Timezone = "Local" }), "optimization_policy.offhours.timezone"},
		{"policy skip date", pol(func(p *sirsiv1.OptimizationPolicy) { p.Offhours.SkipDates = []string{"2026-13-01"} }), "optimization_policy.offhours.skip_dates[0]"},
		{"policy schedule", pol(func(p *sirsiv1.OptimizationPolicy) { p.Schedule = "@every 1h" }), "optimization_policy.schedule"},
		{"policy schedule required", pol(func(p *sirsiv1.OptimizationPolicy) { p.Schedule = "" }), "optimization_policy.schedule"},
		{"policy timezone", pol(func(p *sirsiv1.OptimizationPolicy) { p.Timezone = "Mars/Base" }), "optimization_policy.timezone"},
		{"policy max actions", pol(func(p *sirsiv1.OptimizationPolicy) { p.MaxActionsPerRun = proto.Int32(-1) }), "optimization_policy.max_actions_per_run"},
		{"policy verify wait", pol(func(p *sirsiv1.OptimizationPolicy) { p.Verify.WaitMinutes = 5000 }), "optimization_policy.verify.wait_minutes"},
		{"policy window zero", pol(func(p *sirsiv1.OptimizationPolicy) { p.WindowMinutes = proto.Int32(0) }), "optimization_policy.window_minutes"},
		{"policy window too long", pol(func(p *sirsiv1.OptimizationPolicy) { p.WindowMinutes = proto.Int32(1441) }), "optimization_policy.window_minutes"},
		{"policy cooldown negative", pol(func(p *sirsiv1.OptimizationPolicy) { p.CooldownHours = proto.Int32(-1) }), "optimization_policy.cooldown_hours"},
		{"policy cooldown too long", pol(func(p *sirsiv1.OptimizationPolicy) { p.CooldownHours = proto.Int32(8761) }), "optimization_policy.cooldown_hours"},
		{"policy dry run in recommend mode", pol(func(p *sirsiv1.OptimizationPolicy) {
			p.Mode, p.Schedule, p.DryRun = sirsiv1.PolicyMode_POLICY_MODE_RECOMMEND, "", true
		}), "optimization_policy.dry_run"},

		{"enroll ttl", func() error {
			_, err := tn.Editor.CreateEnrollmentToken(ctx, &sirsiv1.CreateEnrollmentTokenRequest{CloudAccountId: acct.CloudAccount.Id, Ttl: durationpb.New(time.Second)})
			return err
		}, "ttl"},
		{"enroll max uses", func() error {
			_, err := tn.Editor.CreateEnrollmentToken(ctx, &sirsiv1.CreateEnrollmentTokenRequest{CloudAccountId: acct.CloudAccount.Id, MaxUses: 1001})
			return err
		}, "max_uses"},
		{"enroll account", func() error {
			_, err := tn.Editor.CreateEnrollmentToken(ctx, &sirsiv1.CreateEnrollmentTokenRequest{})
			return err
		}, "cloud_account_id"},
		{"api token role", func() error {
			_, err := tn.Admin.CreateApiToken(ctx, &sirsiv1.CreateApiTokenRequest{})
			return err
		}, "role"},
		{"api token ttl", func() error {
			_, err := tn.Admin.CreateApiToken(ctx, &sirsiv1.CreateApiTokenRequest{Role: sirsiv1.Role_ROLE_VIEWER, Ttl: durationpb.New(10000 * time.Hour)})
			return err
		}, "ttl"},
		{"api token operator without tenant", func() error {
			_, err := env.Client.CreateApiToken(ctx, &sirsiv1.CreateApiTokenRequest{Role: sirsiv1.Role_ROLE_VIEWER})
			return err
		}, "tenant_id"},

		{"cost start", cost(func(r *sirsiv1.GetCostSummaryRequest) { r.Start = "2026-1-1" }), "start"},
		{"cost end before start", cost(func(r *sirsiv1.GetCostSummaryRequest) { r.End = "2025-12-01" }), "end"},
		{"cost range too long", cost(func(r *sirsiv1.GetCostSummaryRequest) { r.End = "2027-06-01" }), "end"},
		{"cost group by", cost(func(r *sirsiv1.GetCostSummaryRequest) { r.GroupBy = "day" }), "group_by"},
		{"cost granularity", cost(func(r *sirsiv1.GetCostSummaryRequest) { r.Granularity = 5 }), "granularity"},

		{"page size", func() error {
			_, err := tn.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{PageSize: 5000})
			return err
		}, "page_size"},
		{"resource type filter", func() error {
			_, err := tn.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{Type: "ec2"})
			return err
		}, "type"},
		{"resource region filter", func() error {
			_, err := tn.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{Region: "nowhere"})
			return err
		}, "region"},
		{"utilization metric", func() error {
			_, err := tn.Viewer.ListUtilization(ctx, &sirsiv1.ListUtilizationRequest{Metric: "cpu"})
			return err
		}, "metric"},
		{"recommendation savings", func() error {
			_, err := tn.Viewer.ListRecommendations(ctx, &sirsiv1.ListRecommendationsRequest{MinMonthlySavings: money.USDFromFloat(-5)})
			return err
		}, "min_monthly_savings"},
		{"action status", func() error {
			_, err := tn.Viewer.ListActions(ctx, &sirsiv1.ListActionsRequest{Status: 77})
			return err
		}, "status"},
		{"action plan status", func() error {
			_, err := tn.Viewer.ListActionPlans(ctx, &sirsiv1.ListActionPlansRequest{Status: 9})
			return err
		}, "status"},
		{"action plan policy", func() error {
			_, err := tn.Viewer.ListActionPlans(ctx, &sirsiv1.ListActionPlansRequest{PolicyId: "has space"})
			return err
		}, "policy_id"},
		{"action plan page size", func() error {
			_, err := tn.Viewer.ListActionPlans(ctx, &sirsiv1.ListActionPlansRequest{PageSize: 5000})
			return err
		}, "page_size"},
		{"get action plan id", func() error {
			_, err := tn.Viewer.GetActionPlan(ctx, &sirsiv1.GetActionPlanRequest{})
			return err
		}, "id"},
		{"approve action plan id", func() error {
			_, err := tn.Editor.ApproveActionPlan(ctx, &sirsiv1.ApproveActionPlanRequest{})
			return err
		}, "id"},
		{"get recommendation id", func() error {
			_, err := tn.Viewer.GetRecommendation(ctx, &sirsiv1.GetRecommendationRequest{Id: "has space"})
			return err
		}, "id"},
		{"approve recommendation id", func() error {
			_, err := tn.Editor.ApproveRecommendation(ctx, &sirsiv1.ApproveRecommendationRequest{})
			return err
		}, "id"},
		{"revoke recommendation id", func() error {
			_, err := tn.Editor.RevokeRecommendationApproval(ctx, &sirsiv1.RevokeRecommendationApprovalRequest{})
			return err
		}, "id"},
		{"dismiss recommendation id", func() error {
			_, err := tn.Editor.DismissRecommendation(ctx, &sirsiv1.DismissRecommendationRequest{})
			return err
		}, "id"},
		{"approve operator without tenant", func() error {
			_, err := env.Client.ApproveRecommendation(ctx, &sirsiv1.ApproveRecommendationRequest{Id: "r"})
			return err
		}, "tenant_id"},
		{"audit time range", func() error {
			now := time.Now()
			_, err := tn.Viewer.ListAuditEvents(ctx, &sirsiv1.ListAuditEventsRequest{StartTime: timestamppb.New(now), EndTime: timestamppb.New(now.Add(-time.Hour))})
			return err
		}, "end_time"},
		{"get tenant neither", func() error {
			_, err := env.Client.GetTenant(ctx, &sirsiv1.GetTenantRequest{})
			return err
		}, "id"},
		{"update version", func() error {
			a := proto.Clone(acct.CloudAccount).(*sirsiv1.CloudAccount)
			a.Version = -1
			_, err := tn.Editor.UpdateCloudAccount(ctx, &sirsiv1.UpdateCloudAccountRequest{CloudAccount: a})
			return err
		}, "cloud_account.version"},
		{"delete version", func() error {
			_, err := tn.Editor.DeleteOptimizationPolicy(ctx, &sirsiv1.DeleteOptimizationPolicyRequest{Id: "x", Version: -2})
			return err
		}, "version"},
		{"delete id", func() error {
			_, err := tn.Editor.DeleteCloudAccount(ctx, &sirsiv1.DeleteCloudAccountRequest{})
			return err
		}, "id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument {
				t.Fatalf("code = %s (%v), want InvalidArgument", st.Code(), err)
			}
			var fields []string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, v := range br.FieldViolations {
						fields = append(fields, v.Field)
						if v.Description == "" {
							t.Errorf("violation of %s has no reason", v.Field)
						}
					}
				}
			}
			if len(fields) != 1 || fields[0] != tc.field {
				t.Fatalf("violations = %v, want exactly [%s] (message %q)", fields, tc.field, st.Message())
			}
			if !strings.Contains(st.Message(), tc.field+": ") {
				t.Errorf("message %q does not name %s", st.Message(), tc.field)
			}
		})
	}
}

func TestValidationReportsEveryField(t *testing.T) {
	env := cptest.Start(t)
	_, err := env.Client.CreateTenant(context.Background(), &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{
		Name: "X", DisplayName: "a\x00b", Labels: map[string]string{"aws:k": "v"},
	}})
	st := status.Convert(err)
	n := 0
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			n += len(br.FieldViolations)
		}
	}
	if st.Code() != codes.InvalidArgument || n != 3 {
		t.Fatalf("code %s with %d violations (%v), want InvalidArgument with 3", st.Code(), n, err)
	}
}
