package policy

import (
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

func valid() *sirsiv1.OptimizationPolicy {
	return &sirsiv1.OptimizationPolicy{Name: "nightly", ResourceTypes: []string{validation.ResourceEC2Instance}}
}

func problems(p *sirsiv1.OptimizationPolicy) string {
	var e validation.Errors
	Check(&e, "p", p)
	if err := e.Err(); err != nil {
		return err.Error()
	}
	return ""
}

func TestCheckBounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*sirsiv1.OptimizationPolicy)
		want string // "" = valid
	}{
		{"minimal", func(*sirsiv1.OptimizationPolicy) {}, ""},
		{"lookback 1", func(p *sirsiv1.OptimizationPolicy) { p.Rightsizing = &sirsiv1.RightsizingSettings{LookbackDays: 1} }, ""},
		{"lookback 93", func(p *sirsiv1.OptimizationPolicy) { p.Rightsizing = &sirsiv1.RightsizingSettings{LookbackDays: 93} }, ""},
		{"lookback 94", func(p *sirsiv1.OptimizationPolicy) { p.Rightsizing = &sirsiv1.RightsizingSettings{LookbackDays: 94} }, "p.rightsizing.lookback_days: 94 days is outside 1..93"},
		{"idle lookback -1", func(p *sirsiv1.OptimizationPolicy) { p.Idle = &sirsiv1.IdleSettings{LookbackDays: -1} }, "p.idle.lookback_days: -1 days is outside 1..93"},
		{"max actions 1000", func(p *sirsiv1.OptimizationPolicy) { p.MaxActionsPerRun = proto.Int32(1000) }, ""},
		{"max actions 1001", func(p *sirsiv1.OptimizationPolicy) { p.MaxActionsPerRun = proto.Int32(1001) }, "p.max_actions_per_run: 1001 is outside 0..1000"},
		{"max actions -1", func(p *sirsiv1.OptimizationPolicy) { p.MaxActionsPerRun = proto.Int32(-1) }, "outside 0..1000"},
		{"verify 1441", func(p *sirsiv1.OptimizationPolicy) { p.Verify = &sirsiv1.VerifySettings{WaitMinutes: 1441} }, "p.verify.wait_minutes: 1441 is outside 0..1440"},
		{"window 0", func(p *sirsiv1.OptimizationPolicy) { p.WindowMinutes = proto.Int32(0) }, "p.window_minutes: 0 is outside 1..1440"},
		{"cooldown 8761", func(p *sirsiv1.OptimizationPolicy) { p.CooldownHours = proto.Int32(8761) }, "p.cooldown_hours: 8761 is outside 0..8760"},
		{"commitments three years all upfront", func(p *sirsiv1.OptimizationPolicy) {
			p.Commitments = &sirsiv1.CommitmentSettings{Term: sirsiv1.CommitmentTerm_COMMITMENT_TERM_THREE_YEARS, PaymentOption: sirsiv1.PaymentOption_PAYMENT_OPTION_ALL_UPFRONT}
		}, ""},
		{"commitments payment 9", func(p *sirsiv1.OptimizationPolicy) {
			p.Commitments = &sirsiv1.CommitmentSettings{PaymentOption: 9}
		}, "p.commitments.payment_option"},
		{"commitments type 7", func(p *sirsiv1.OptimizationPolicy) {
			p.Commitments = &sirsiv1.CommitmentSettings{SavingsPlansType: 7}
		}, "p.commitments.savings_plans_type"},
		{"network 2^50+1", func(p *sirsiv1.OptimizationPolicy) {
			p.Idle = &sirsiv1.IdleSettings{NetworkBelowBytesPerDay: 1<<50 + 1}
		}, "network_below_bytes_per_day"},
	} {
		p := valid()
		tc.mod(p)
		got := problems(p)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: problems %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Snapshots and buckets are discovered but no rule optimizes them: a
// policy naming them is refused, with the reason.
func TestCoveredResourceTypes(t *testing.T) {
	for _, rt := range validation.ResourceTypes {
		p := valid()
		p.ResourceTypes = []string{rt}
		got := problems(p)
		if Covers(rt) != (got == "") {
			t.Errorf("%s: covered %t but problems %q", rt, Covers(rt), got)
		}
	}
	p := valid()
	p.ResourceTypes = []string{validation.ResourceS3Bucket}
	if got := problems(p); !strings.Contains(got, "discovered but no policy optimizes it") {
		t.Errorf("s3 bucket: %q", got)
	}
	p.ResourceTypes = []string{validation.ResourceEIP, validation.ResourceEIP}
	if got := problems(p); !strings.Contains(got, `p.resource_types[1]: "aws_eip" is listed twice`) {
		t.Errorf("repeat: %q", got)
	}
	if !slices.IsSorted(ResourceTypes) {
		t.Errorf("ResourceTypes not sorted: %v", ResourceTypes)
	}
	for _, rt := range ResourceTypes {
		if validation.ResourceType(rt) != nil {
			t.Errorf("covered type %q is not a discovered type", rt)
		}
	}
}

func TestCrossFieldRules(t *testing.T) {
	for _, tc := range []struct {
		mode     sirsiv1.PolicyMode
		schedule string
		dryRun   bool
		want     string
	}{
		{sirsiv1.PolicyMode_POLICY_MODE_RECOMMEND, "", false, ""},
		{sirsiv1.PolicyMode_POLICY_MODE_UNSPECIFIED, "", false, ""},
		{sirsiv1.PolicyMode_POLICY_MODE_AUTO, "", false, `p.schedule: is required when mode is "auto"`},
		{sirsiv1.PolicyMode_POLICY_MODE_APPROVE, "", false, `p.schedule: is required when mode is "approve"`},
		{sirsiv1.PolicyMode_POLICY_MODE_AUTO, "0 2 * * 6", true, ""},
		{sirsiv1.PolicyMode_POLICY_MODE_RECOMMEND, "0 2 * * 6", true, "p.dry_run: needs mode auto or approve"},
		{sirsiv1.PolicyMode_POLICY_MODE_APPROVE, "@every 1h", false, "p.schedule:"},
	} {
		p := valid()
		p.Mode, p.Schedule, p.DryRun = tc.mode, tc.schedule, tc.dryRun
		got := problems(p)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("mode %s schedule %q dry_run %t: problems %q, want %q", tc.mode, tc.schedule, tc.dryRun, got, tc.want)
		}
	}
}

func TestApplyDefaults(t *testing.T) {
	p := valid()
	p.Rightsizing = &sirsiv1.RightsizingSettings{}
	p.Idle = &sirsiv1.IdleSettings{}
	p.Offhours = &sirsiv1.OffHoursSettings{StopCron: "0 19 * * 1-5"}
	p.Timezone = "Europe/Paris"
	ApplyDefaults(p)
	want := &sirsiv1.OptimizationPolicy{
		Name: "nightly", ResourceTypes: []string{validation.ResourceEC2Instance},
		Mode: sirsiv1.PolicyMode_POLICY_MODE_RECOMMEND, Timezone: "Europe/Paris", Execution: sirsiv1.Execution_EXECUTION_AGENT,
		MaxActionsPerRun: proto.Int32(5),
		Verify:           &sirsiv1.VerifySettings{WaitMinutes: 10, RollbackOnFailure: proto.Bool(true)},
		Rightsizing:      &sirsiv1.RightsizingSettings{Statistic: sirsiv1.Statistic_STATISTIC_P95, LookbackDays: 14},
		Idle:             &sirsiv1.IdleSettings{LookbackDays: 7, Action: sirsiv1.IdleAction_IDLE_ACTION_RECOMMEND},
		Offhours:         &sirsiv1.OffHoursSettings{StopCron: "0 19 * * 1-5", Timezone: "Europe/Paris"},
		Commitments: &sirsiv1.CommitmentSettings{SavingsPlansType: sirsiv1.SavingsPlansType_SAVINGS_PLANS_TYPE_COMPUTE,
			Term: sirsiv1.CommitmentTerm_COMMITMENT_TERM_ONE_YEAR, PaymentOption: sirsiv1.PaymentOption_PAYMENT_OPTION_NO_UPFRONT},
	}
	if !proto.Equal(p, want) {
		t.Errorf("defaults:\n got  %v\n want %v", p, want)
	}
	if problems(p) != "" {
		t.Errorf("defaults made the policy invalid: %s", problems(p))
	}
	// Unset blocks stay unset: the rule is off, not defaulted on.
	bare := valid()
	ApplyDefaults(bare)
	if bare.Rightsizing != nil || bare.Idle != nil || bare.Offhours != nil || bare.Selector != nil {
		t.Errorf("a left-out block was filled in: %v", bare)
	}
}

func TestAccessors(t *testing.T) {
	bare := &sirsiv1.OptimizationPolicy{}
	if MaxActions(bare) != 5 || WindowMinutes(bare) != 60 || Cooldown(bare) != 24*time.Hour ||
		LookbackDays(bare) != 14 || IdleLookbackDays(bare) != 7 || !RollbackOnFailure(bare) {
		t.Errorf("unset fields: max %d window %d cooldown %s lookback %d idle %d rollback %t",
			MaxActions(bare), WindowMinutes(bare), Cooldown(bare), LookbackDays(bare), IdleLookbackDays(bare), RollbackOnFailure(bare))
	}
	set := &sirsiv1.OptimizationPolicy{
		MaxActionsPerRun: proto.Int32(0), WindowMinutes: proto.Int32(5), CooldownHours: proto.Int32(0),
		Rightsizing: &sirsiv1.RightsizingSettings{LookbackDays: 30}, Idle: &sirsiv1.IdleSettings{LookbackDays: 3},
		Verify: &sirsiv1.VerifySettings{RollbackOnFailure: proto.Bool(false)},
	}
	// 0 is a value, not "unset", where the field is optional.
	if MaxActions(set) != 0 || WindowMinutes(set) != 5 || Cooldown(set) != 0 ||
		LookbackDays(set) != 30 || IdleLookbackDays(set) != 3 || RollbackOnFailure(set) {
		t.Errorf("set fields misread: %v", set)
	}
}

func TestEnumNames(t *testing.T) {
	for _, tc := range []struct {
		got, want []string
	}{
		{ModeNames(), []string{"recommend", "approve", "auto"}},
		{StatisticNames(), []string{"p95", "p99", "max"}},
		{IdleActionNames(), []string{"stop", "recommend"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("names %v, want %v", tc.got, tc.want)
		}
	}
}

// An unset commitments block, or unset fields in it, mean the defaults;
// set fields are kept.
func TestCommitmentsDefaults(t *testing.T) {
	got := Commitments(&sirsiv1.OptimizationPolicy{})
	if got.SavingsPlansType != DefaultSavingsPlansType || got.Term != DefaultCommitmentTerm || got.PaymentOption != DefaultPaymentOption {
		t.Errorf("unset: %v", got)
	}
	p := &sirsiv1.OptimizationPolicy{Commitments: &sirsiv1.CommitmentSettings{Term: sirsiv1.CommitmentTerm_COMMITMENT_TERM_THREE_YEARS}}
	got = Commitments(p)
	if got.Term != sirsiv1.CommitmentTerm_COMMITMENT_TERM_THREE_YEARS || got.PaymentOption != DefaultPaymentOption || TermYears(got.Term) != 3 {
		t.Errorf("term only: %v", got)
	}
	ApplyDefaults(p)
	if !proto.Equal(p.Commitments, got) {
		t.Errorf("stored %v, the agent reads %v", p.Commitments, got)
	}
}
