package policy

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// Check adds to e every problem of p's settings, each under path plus the
// field's name. Identity (id, tenant_id, version) is the caller's
// business. Unset optional fields are fine: ApplyDefaults fills them in.
func Check(e *validation.Errors, path string, p *sirsiv1.OptimizationPolicy) {
	e.Check(path+".name", validation.Slug(p.Name))
	e.Check(path+".description", validation.Description(p.Description))
	e.Check(path+".mode", validation.Enum(p.Mode, false))
	e.Check(path+".execution", validation.Enum(p.Execution, false))
	e.Check(path+".resource_types", ResourceTypeList(p.ResourceTypes))
	if sel := p.Selector; sel != nil {
		e.Check(path+".selector.account_ids", validation.AccountIDList(sel.AccountIds))
		e.Check(path+".selector.regions", validation.RegionList(sel.Regions))
		e.Check(path+".selector.tags", validation.Tags(sel.Tags))
		e.Check(path+".selector.exclude_tags", validation.ExcludeTags(sel.ExcludeTags))
	}
	if r := p.Rightsizing; r != nil {
		rp := path + ".rightsizing"
		e.Check(rp+".statistic", validation.Enum(r.Statistic, false))
		if r.LookbackDays != 0 {
			e.Check(rp+".lookback_days", Lookback(r.LookbackDays))
		}
		e.Check(rp+".headroom_percent", validation.Percent(float64(r.HeadroomPercent)))
		for i, f := range r.AllowedFamilies {
			e.Check(fmt.Sprintf("%s.allowed_families[%d]", rp, i), validation.InstanceFamily(f))
		}
		e.Check(rp+".min_monthly_savings", money.Check(r.MinMonthlySavings, false, true))
	}
	if i := p.Idle; i != nil {
		ip := path + ".idle"
		e.Check(ip+".cpu_below_percent", validation.Percent(i.CpuBelowPercent))
		e.Check(ip+".network_below_bytes_per_day", validation.IntRange(i.NetworkBelowBytesPerDay, 0, MaxIdleNetworkBytesPerDay))
		if i.LookbackDays != 0 {
			e.Check(ip+".lookback_days", Lookback(i.LookbackDays))
		}
		e.Check(ip+".action", validation.Enum(i.Action, false))
	}
	if o := p.Offhours; o != nil {
		checkOffhours(e, path+".offhours", o)
	}
	if p.Schedule != "" {
		e.Check(path+".schedule", validation.Cron(p.Schedule))
	}
	e.Check(path+".schedule", ScheduleRule(p.Mode, p.Schedule != ""))
	if p.Timezone != "" {
		e.Check(path+".timezone", validation.TimeZone(p.Timezone))
	}
	if p.MaxActionsPerRun != nil {
		e.Check(path+".max_actions_per_run", validation.IntRange(int64(*p.MaxActionsPerRun), 0, MaxActionsPerRun))
	}
	if v := p.Verify; v != nil {
		e.Check(path+".verify.wait_minutes", validation.IntRange(int64(v.WaitMinutes), 0, MaxVerifyWaitMinutes))
	}
	e.Check(path+".dry_run", DryRunRule(p.Mode, p.DryRun))
	if p.WindowMinutes != nil {
		e.Check(path+".window_minutes", validation.IntRange(int64(*p.WindowMinutes), MinWindowMinutes, MaxWindowMinutes))
	}
	if p.CooldownHours != nil {
		e.Check(path+".cooldown_hours", validation.IntRange(int64(*p.CooldownHours), 0, MaxCooldownHours))
	}
	if c := p.Commitments; c != nil {
		e.Check(path+".commitments.savings_plans_type", validation.Enum(c.SavingsPlansType, false))
		e.Check(path+".commitments.term", validation.Enum(c.Term, false))
		e.Check(path+".commitments.payment_option", validation.Enum(c.PaymentOption, false))
	}
}

func checkOffhours(e *validation.Errors, op string, o *sirsiv1.OffHoursSettings) {
	// Stop-only and start-only schedules are allowed; one of the two
	// must be there.
	switch {
	case o.StopCron == "" && o.StartCron == "":
		e.Add(op+".stop_cron", "is required unless start_cron is set: an off-hours schedule needs at least one of them")
	case o.StopCron != "":
		e.Check(op+".stop_cron", validation.Cron(o.StopCron))
	}
	if o.StartCron != "" {
		e.Check(op+".start_cron", validation.Cron(o.StartCron))
	}
	if o.Timezone != "" {
		e.Check(op+".timezone", validation.TimeZone(o.Timezone))
	}
	for i, d := range o.SkipDates {
		_, err := validation.Date(d)
		e.Check(fmt.Sprintf("%s.skip_dates[%d]", op, i), err)
	}
}

// Lookback checks a utilisation window in days.
func Lookback(days int32) error {
	if days < MinLookbackDays || days > MaxLookbackDays {
		return fmt.Errorf("%d days is outside %d..%d", days, MinLookbackDays, MaxLookbackDays)
	}
	return nil
}

// ResourceType checks that t may be named in a policy.
func ResourceType(t string) error {
	if Covers(t) {
		return nil
	}
	if validation.ResourceType(t) == nil {
		return fmt.Errorf("%q is discovered but no policy optimizes it (one of %s)", t, strings.Join(ResourceTypes, ", "))
	}
	return fmt.Errorf("%q is not a resource type a policy covers (one of %s)", t, strings.Join(ResourceTypes, ", "))
}

// ResourceTypeList checks a policy's resource_types: each covered, none
// repeated. Empty means every covered type.
func ResourceTypeList(list []string) error {
	seen := make(map[string]bool, len(list))
	for i, t := range list {
		if err := ResourceType(t); err != nil {
			return validation.FieldError{Field: fmt.Sprintf("[%d]", i), Reason: err.Error()}
		}
		if seen[t] {
			return validation.FieldError{Field: fmt.Sprintf("[%d]", i), Reason: fmt.Sprintf("%q is listed twice", t)}
		}
		seen[t] = true
	}
	return nil
}

// ScheduleRule: a policy that acts needs a schedule, because actions run
// only inside the schedule's windows.
func ScheduleRule(m sirsiv1.PolicyMode, hasSchedule bool) error {
	if Acts(m) && !hasSchedule {
		return fmt.Errorf("is required when mode is %q: actions run only inside the schedule's windows", validation.EnumName(m))
	}
	return nil
}

// DryRunRule: a dry run rehearses a run that would act, so it needs a mode
// that acts.
func DryRunRule(m sirsiv1.PolicyMode, dryRun bool) error {
	if dryRun && !Acts(m) {
		return errors.New("needs mode auto or approve: a recommend policy never acts, so there is no run to rehearse")
	}
	return nil
}

// ApplyDefaults fills in p's unset fields the control plane stores, so the
// stored policy says exactly what the agent will do. An empty
// resource_types list stays empty and means every covered type; an unset
// rightsizing, idle or off-hours block stays unset (the rule is off).
func ApplyDefaults(p *sirsiv1.OptimizationPolicy) {
	if p.Mode == sirsiv1.PolicyMode_POLICY_MODE_UNSPECIFIED {
		p.Mode = DefaultMode
	}
	if p.Timezone == "" {
		p.Timezone = DefaultTimezone
	}
	if p.Execution == sirsiv1.Execution_EXECUTION_UNSPECIFIED {
		p.Execution = DefaultExecution
	}
	if p.MaxActionsPerRun == nil {
		p.MaxActionsPerRun = proto.Int32(DefaultMaxActionsPerRun)
	}
	if p.Verify == nil {
		p.Verify = &sirsiv1.VerifySettings{WaitMinutes: DefaultVerifyWaitMinutes}
	}
	if p.Verify.RollbackOnFailure == nil {
		p.Verify.RollbackOnFailure = proto.Bool(DefaultRollbackOnFailure)
	}
	if r := p.Rightsizing; r != nil {
		if r.Statistic == sirsiv1.Statistic_STATISTIC_UNSPECIFIED {
			r.Statistic = DefaultStatistic
		}
		if r.LookbackDays == 0 {
			r.LookbackDays = DefaultLookbackDays
		}
	}
	if i := p.Idle; i != nil {
		if i.LookbackDays == 0 {
			i.LookbackDays = DefaultIdleLookbackDays
		}
		if i.Action == sirsiv1.IdleAction_IDLE_ACTION_UNSPECIFIED {
			i.Action = DefaultIdleAction
		}
	}
	if o := p.Offhours; o != nil && o.Timezone == "" {
		o.Timezone = p.Timezone
	}
	p.Commitments = Commitments(p)
}
