// Package policy owns the rules of the optimization policy model: the
// default of every optional field, the bounds of every number, the names of
// its enums, the resource types a policy may cover and the rules tying
// fields together (a schedule is required in approve and auto mode).
//
// Four places act on those rules and all take them from here: the control
// plane validates requests and fills in defaults (Check, ApplyDefaults),
// the Terraform provider builds its schema's validators, defaults and
// descriptions from the same constants, and the agent and optimizer read an
// unset field as the default this package defines (MaxActionsPerRun,
// Cooldown, Window, LookbackDays ...). A provider/server agreement test
// (provider/policy_rules_test.go) walks the provider's schema and checks
// every bound and enum against Check.
package policy

import (
	"slices"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// Defaults of unset fields. The control plane stores the ones it fills in
// (ApplyDefaults) so a stored policy says what the agent will do; the
// others (window, cool-down) stay unset on the wire and are read through
// the accessors below.
const (
	DefaultMode             = sirsiv1.PolicyMode_POLICY_MODE_RECOMMEND
	DefaultTimezone         = "UTC"
	DefaultMaxActionsPerRun = 5
	// DefaultLookbackDays is AWS Compute Optimizer's default lookback.
	DefaultLookbackDays = 14
	// DefaultStatistic is Compute Optimizer's choice too.
	DefaultStatistic = sirsiv1.Statistic_STATISTIC_P95
	// DefaultHeadroomPercent is the capacity Terraform keeps free above
	// the statistic when rightsizing is left out; an API client that
	// sends rightsizing without it gets 0.
	DefaultHeadroomPercent = 20
	// DefaultDownsizeOnly: only ever propose smaller sizes.
	DefaultDownsizeOnly = true
	// DefaultIdleLookbackDays is how long a resource must be idle or a
	// volume unattached before it is stopped or deleted.
	DefaultIdleLookbackDays = 7
	DefaultIdleAction       = sirsiv1.IdleAction_IDLE_ACTION_RECOMMEND
	// DefaultIdleNetworkBytesPerDay (5 MiB a day) is the traffic under
	// which Terraform's idle block counts an instance as serving nothing.
	DefaultIdleNetworkBytesPerDay = 5 << 20
	DefaultVerifyWaitMinutes      = 10
	DefaultRollbackOnFailure      = true
	// DefaultWindowMinutes is how long after a schedule firing actions
	// may start.
	DefaultWindowMinutes = 60
	DefaultCooldownHours = 24
	// DefaultSavingsPlansType, DefaultCommitmentTerm and
	// DefaultPaymentOption make the commitment suggestion the smallest
	// commitment AWS sells: a Compute Savings Plan (any family, any
	// region) for one year, paid monthly.
	DefaultSavingsPlansType = sirsiv1.SavingsPlansType_SAVINGS_PLANS_TYPE_COMPUTE
	DefaultCommitmentTerm   = sirsiv1.CommitmentTerm_COMMITMENT_TERM_ONE_YEAR
	DefaultPaymentOption    = sirsiv1.PaymentOption_PAYMENT_OPTION_NO_UPFRONT
	// DefaultHibernate: stops are plain stops unless the policy asks to
	// hibernate, because hibernation keeps the instance's memory on its
	// root volume (billed, and a restore the owner must have planned).
	DefaultHibernate = false
	// DefaultExecution: the agent carries out right-sizing, as it did
	// before Terraform could.
	DefaultExecution = sirsiv1.Execution_EXECUTION_AGENT
)

// Bounds, inclusive.
const (
	MinLookbackDays = 1
	// CloudWatch keeps 1-hour data points for 455 days but 5-minute ones
	// for 63; 93 days (a quarter) is the longest window the agent asks for.
	MaxLookbackDays = 93
	// MaxActionsPerRun: 0 means recommend only.
	MaxActionsPerRun     = 1000
	MaxVerifyWaitMinutes = 24 * 60
	MinWindowMinutes     = 1
	MaxWindowMinutes     = 24 * 60
	MaxCooldownHours     = 8760
	MaxPercent           = 100
	// MaxIdleNetworkBytesPerDay (1 PiB) only refuses nonsense.
	MaxIdleNetworkBytesPerDay = 1 << 50
)

// ResourceTypes are the resource types a policy may cover: those the
// optimizer has rules for. Discovery knows more (buckets) that are
// inventoried and priced but never optimized, so a policy naming them
// would promise something no agent does. Sorted.
var ResourceTypes = []string{
	validation.ResourceEBSSnapshot,
	validation.ResourceEBSVolume,
	validation.ResourceEC2Instance,
	validation.ResourceEIP,
	validation.ResourceLambdaFunction,
	validation.ResourceRDSInstance,
}

// Covers reports whether resource type t may be named in a policy.
func Covers(t string) bool { return slices.Contains(ResourceTypes, t) }

// Enum names as Terraform and error messages spell them ("recommend",
// "p95", "stop"), derived from the API's enums.
func ModeNames() []string { return validation.EnumStrings(sirsiv1.PolicyMode(0).Descriptor()) }

func ExecutionNames() []string { return validation.EnumStrings(sirsiv1.Execution(0).Descriptor()) }

func StatisticNames() []string { return validation.EnumStrings(sirsiv1.Statistic(0).Descriptor()) }

func IdleActionNames() []string { return validation.EnumStrings(sirsiv1.IdleAction(0).Descriptor()) }

func SavingsPlansTypeNames() []string {
	return validation.EnumStrings(sirsiv1.SavingsPlansType(0).Descriptor())
}

func CommitmentTermNames() []string {
	return validation.EnumStrings(sirsiv1.CommitmentTerm(0).Descriptor())
}

func PaymentOptionNames() []string {
	return validation.EnumStrings(sirsiv1.PaymentOption(0).Descriptor())
}

// Acts reports whether a policy in mode m may act on resources (approve or
// auto) rather than only recommend.
func Acts(m sirsiv1.PolicyMode) bool {
	return m == sirsiv1.PolicyMode_POLICY_MODE_APPROVE || m == sirsiv1.PolicyMode_POLICY_MODE_AUTO
}

// TerraformExecutes reports whether right-sizing under p is carried out
// through Terraform (execution = "terraform"), so the agent must not act
// on its right-sizing recommendations.
func TerraformExecutes(p *sirsiv1.OptimizationPolicy) bool {
	return p.GetExecution() == sirsiv1.Execution_EXECUTION_TERRAFORM
}

// MaxActions is max_actions_per_run, or its default when unset.
func MaxActions(p *sirsiv1.OptimizationPolicy) int {
	if p.MaxActionsPerRun == nil {
		return DefaultMaxActionsPerRun
	}
	return int(p.GetMaxActionsPerRun())
}

// Cooldown is cooldown_hours as a duration, or its default when unset.
func Cooldown(p *sirsiv1.OptimizationPolicy) time.Duration {
	if p.CooldownHours == nil {
		return DefaultCooldownHours * time.Hour
	}
	return time.Duration(p.GetCooldownHours()) * time.Hour
}

// WindowMinutes is window_minutes, or its default when unset.
func WindowMinutes(p *sirsiv1.OptimizationPolicy) int {
	if p.WindowMinutes == nil {
		return DefaultWindowMinutes
	}
	return int(p.GetWindowMinutes())
}

// LookbackDays is the right-sizing lookback, or its default when unset.
func LookbackDays(p *sirsiv1.OptimizationPolicy) int {
	if d := p.GetRightsizing().GetLookbackDays(); d > 0 {
		return int(d)
	}
	return DefaultLookbackDays
}

// IdleLookbackDays is the idle rule's lookback, or its default when unset.
func IdleLookbackDays(p *sirsiv1.OptimizationPolicy) int {
	if d := p.GetIdle().GetLookbackDays(); d > 0 {
		return int(d)
	}
	return DefaultIdleLookbackDays
}

// RollbackOnFailure is verify.rollback_on_failure, true when unset.
func RollbackOnFailure(p *sirsiv1.OptimizationPolicy) bool {
	if v := p.GetVerify(); v != nil && v.RollbackOnFailure != nil {
		return *v.RollbackOnFailure
	}
	return DefaultRollbackOnFailure
}

// Commitments is the policy's commitment settings with every unset field
// at its default.
func Commitments(p *sirsiv1.OptimizationPolicy) *sirsiv1.CommitmentSettings {
	c := &sirsiv1.CommitmentSettings{SavingsPlansType: DefaultSavingsPlansType, Term: DefaultCommitmentTerm, PaymentOption: DefaultPaymentOption}
	if s := p.GetCommitments(); s != nil {
		if s.SavingsPlansType != sirsiv1.SavingsPlansType_SAVINGS_PLANS_TYPE_UNSPECIFIED {
			c.SavingsPlansType = s.SavingsPlansType
		}
		if s.Term != sirsiv1.CommitmentTerm_COMMITMENT_TERM_UNSPECIFIED {
			c.Term = s.Term
		}
		if s.PaymentOption != sirsiv1.PaymentOption_PAYMENT_OPTION_UNSPECIFIED {
			c.PaymentOption = s.PaymentOption
		}
	}
	return c
}

// TermYears is a commitment term in years.
func TermYears(t sirsiv1.CommitmentTerm) int {
	if t == sirsiv1.CommitmentTerm_COMMITMENT_TERM_THREE_YEARS {
		return 3
	}
	return 1
}
