package controlplane

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

func fuzzSeeds(f *testing.F) {
	add := func(kind uint8, m proto.Message) {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(kind, b)
	}
	add(0, &sirsiv1.OptimizationPolicy{
		TenantId: "t1", Name: "nightly", Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO, Schedule: "0 2 * * *", Timezone: "Europe/Berlin",
		ResourceTypes: []string{"aws_ec2_instance"}, Rightsizing: &sirsiv1.RightsizingSettings{LookbackDays: 14, HeadroomPercent: 10},
		Idle:     &sirsiv1.IdleSettings{CpuBelowPercent: 2},
		Offhours: &sirsiv1.OffHoursSettings{StopCron: "0 20 * * 1-5", StartCron: "0 7 * * 1-5", SkipDates: []string{"2026-12-24"}},
		Selector: &sirsiv1.PolicySelector{Tags: map[string]string{"env": "prod"}, ExcludeTags: map[string]string{"keep": "*"}},
	})
	add(1, &sirsiv1.CloudAccount{TenantId: "t1", AccountId: "123456789012", Regions: []string{"us-east-1"}, RoleArn: "arn:aws:iam::123456789012:role/A", ExternalId: "x-1"})
	add(2, &sirsiv1.Tenant{Name: "acme", DisplayName: "Acme", Labels: map[string]string{"k": "v"}})
	add(3, &sirsiv1.GetCostSummaryRequest{TenantId: "t1", Start: "2026-01-01", End: "2026-02-01", GroupBy: "tag:team"})
	f.Add(uint8(0), []byte{0x1a, 0x03, 'a', 'b', 'c'})
}

// FuzzValidateRequests feeds arbitrary wire bytes to the request
// validators. They must not panic, must name only fields under the
// request's path, and a policy they accept must still be accepted once the
// server's defaults are applied (defaults never make a policy invalid).
func FuzzValidateRequests(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		var e validation.Errors
		prefix := ""
		switch kind % 4 {
		case 0:
			var p sirsiv1.OptimizationPolicy
			if proto.Unmarshal(data, &p) != nil {
				return
			}
			prefix = "optimization_policy"
			validPolicy(&e, prefix, &p, false)
			if e.Err() == nil {
				policy.ApplyDefaults(&p)
				var again validation.Errors
				validPolicy(&again, prefix, &p, false)
				if again.Err() != nil {
					t.Fatalf("defaults made a valid policy invalid: %v", again.Err())
				}
				if p.Mode == sirsiv1.PolicyMode_POLICY_MODE_UNSPECIFIED || p.MaxActionsPerRun == nil || p.Verify.RollbackOnFailure == nil {
					t.Fatalf("defaults not applied: %v", &p)
				}
			}
		case 1:
			var a sirsiv1.CloudAccount
			if proto.Unmarshal(data, &a) != nil {
				return
			}
			prefix = "cloud_account"
			validCloudAccount(&e, prefix, &a, kind%8 >= 4)
			if e.Err() == nil && validation.AccountID(a.AccountId) == nil {
				if acct, err := validation.RoleARN(a.RoleArn); err != nil || acct != a.AccountId {
					t.Fatalf("accepted role %q for account %q", a.RoleArn, a.AccountId)
				}
			}
		case 2:
			var x sirsiv1.Tenant
			if proto.Unmarshal(data, &x) != nil {
				return
			}
			prefix = "tenant"
			validTenant(&e, prefix, &x, false)
			if e.Err() == nil && validation.Slug(x.Name) != nil {
				t.Fatalf("accepted tenant name %q", x.Name)
			}
		case 3:
			var r sirsiv1.GetCostSummaryRequest
			if proto.Unmarshal(data, &r) != nil {
				return
			}
			rng, err := validateGetCostSummary(&r)
			if err == nil && !rng.end.After(rng.start) {
				t.Fatalf("accepted range %s..%s", r.Start, r.End)
			}
			return
		}
		for _, fe := range e.Fields() {
			if !strings.HasPrefix(fe.Field, prefix) || fe.Reason == "" {
				t.Fatalf("violation %q: %q outside %s or without a reason", fe.Field, fe.Reason, prefix)
			}
		}
	})
}
