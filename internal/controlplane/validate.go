package controlplane

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// Request validation: one function per request, collecting every problem
// with its field path. Authorisation has already run, so a tenant token's
// tenant_id is filled in; an operator's may be empty only where allowed.

func validPage(e *validation.Errors, size int32) {
	e.Check("page_size", validation.PageSize(size))
}

func validTenant(e *validation.Errors, path string, t *sirsiv1.Tenant, update bool) {
	if t == nil {
		e.Add(path, "is required")
		return
	}
	if update {
		e.Check(path+".id", validation.ID(t.Id))
		e.Check(path+".version", validVersion(t.Version))
		if t.Name != "" {
			e.Check(path+".name", validation.Slug(t.Name))
		}
	} else {
		e.Check(path+".name", validation.Slug(t.Name))
		if t.Id != "" {
			e.Add(path+".id", "is assigned by the server")
		}
	}
	e.Check(path+".display_name", validation.DisplayName(t.DisplayName))
	e.Check(path+".tier", validation.Enum(t.Tier, false))
	e.Check(path+".labels", validation.Tags(t.Labels))
	validTenantWebhook(e, path, t, update)
	validTenantLimits(e, path, t)
}

// Bounds of the tenant limits and the policy's action timing.
const (
	MaxRateLimitPerMinute = 100000
	MaxActionsPerHour     = 10000
	MaxWindowMinutes      = 1440
	MaxCooldownHours      = 8760
)

// validTenantLimits: unset means the server's default; 0 actions per hour
// is allowed and stops every action, 0 calls per minute is not (the
// tenant could not even raise it again).
func validTenantLimits(e *validation.Errors, path string, t *sirsiv1.Tenant) {
	if t.RateLimitPerMinute != nil {
		e.Check(path+".rate_limit_per_minute", validation.IntRange(int64(*t.RateLimitPerMinute), 1, MaxRateLimitPerMinute))
	}
	if t.MaxActionsPerHour != nil {
		e.Check(path+".max_actions_per_hour", validation.IntRange(int64(*t.MaxActionsPerHour), 0, MaxActionsPerHour))
	}
}

// validTenantWebhook: on update an empty secret keeps the stored one, so
// only create insists on a secret next to a URL. webhook_secret_set is
// output only and ignored, so a tenant read back can be sent unchanged.
func validTenantWebhook(e *validation.Errors, path string, t *sirsiv1.Tenant, update bool) {
	if t.WebhookUrl != "" {
		e.Check(path+".webhook_url", validation.WebhookURL(t.WebhookUrl))
	}
	switch {
	case t.WebhookSecret != "":
		e.Check(path+".webhook_secret", validation.WebhookSecret(t.WebhookSecret))
		if t.WebhookUrl == "" {
			e.Add(path+".webhook_secret", "is set without a webhook_url: set both, or neither to have no webhook")
		}
	case t.WebhookUrl != "" && !update:
		e.Add(path+".webhook_secret", "is required when webhook_url is set: it signs every delivery")
	}
}

func validCloudAccount(e *validation.Errors, path string, a *sirsiv1.CloudAccount, update bool) {
	if a == nil {
		e.Add(path, "is required")
		return
	}
	e.Check(path+".tenant_id", validation.ID(a.TenantId))
	if update {
		e.Check(path+".id", validation.ID(a.Id))
		e.Check(path+".version", validVersion(a.Version))
	} else if a.Id != "" {
		e.Add(path+".id", "is assigned by the server")
	}
	e.Check(path+".cloud", validation.Enum(a.Cloud, false))
	// On update account_id may be omitted (it is immutable); the handler
	// compares it with the stored one when given.
	accountOK := update && a.AccountId == ""
	if !accountOK {
		err := validation.AccountID(a.AccountId)
		e.Check(path+".account_id", err)
		accountOK = err == nil
	}
	if len(a.Regions) == 0 {
		e.Add(path+".regions", "needs at least one region")
	}
	e.Check(path+".regions", validation.RegionList(a.Regions))
	arnAccount, err := validation.RoleARN(a.RoleArn)
	e.Check(path+".role_arn", err)
	if err == nil && accountOK && a.AccountId != "" && arnAccount != a.AccountId {
		e.Add(path+".role_arn", fmt.Sprintf("is in account %s, not in account_id %s: the agent assumes a role in the account it optimises", arnAccount, a.AccountId))
	}
	if a.ExternalId != "" {
		e.Check(path+".external_id", validation.ExternalID(a.ExternalId))
	}
	e.Check(path+".display_name", validation.DisplayName(a.DisplayName))
}

func validPolicy(e *validation.Errors, path string, p *sirsiv1.OptimizationPolicy, update bool) {
	if p == nil {
		e.Add(path, "is required")
		return
	}
	e.Check(path+".tenant_id", validation.ID(p.TenantId))
	if update {
		e.Check(path+".id", validation.ID(p.Id))
		e.Check(path+".version", validVersion(p.Version))
	} else if p.Id != "" {
		e.Add(path+".id", "is assigned by the server")
	}
	e.Check(path+".name", validation.Slug(p.Name))
	e.Check(path+".description", validation.Description(p.Description))
	e.Check(path+".mode", validation.Enum(p.Mode, false))
	e.Check(path+".resource_types", validation.ResourceTypeList(p.ResourceTypes))
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
			e.Check(rp+".lookback_days", validation.LookbackDays(r.LookbackDays))
		}
		e.Check(rp+".headroom_percent", validation.Percent(float64(r.HeadroomPercent)))
		for i, f := range r.AllowedFamilies {
			e.Check(fmt.Sprintf("%s.allowed_families[%d]", rp, i), validation.InstanceFamily(f))
		}
		e.Check(rp+".min_monthly_savings", validation.NonNegative(r.MinMonthlySavings))
	}
	if i := p.Idle; i != nil {
		ip := path + ".idle"
		e.Check(ip+".cpu_below_percent", validation.Percent(i.CpuBelowPercent))
		e.Check(ip+".network_below_bytes_per_day", validation.IntRange(i.NetworkBelowBytesPerDay, 0, 1<<50))
		if i.LookbackDays != 0 {
			e.Check(ip+".lookback_days", validation.LookbackDays(i.LookbackDays))
		}
		e.Check(ip+".action", validation.Enum(i.Action, false))
	}
	if o := p.Offhours; o != nil {
		op := path + ".offhours"
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
	if p.Schedule != "" {
		e.Check(path+".schedule", validation.Cron(p.Schedule))
	} else if p.Mode == sirsiv1.PolicyMode_POLICY_MODE_APPROVE || p.Mode == sirsiv1.PolicyMode_POLICY_MODE_AUTO {
		e.Add(path+".schedule", "is required when mode is approve or auto: actions run only inside the schedule's windows")
	}
	if p.Timezone != "" {
		e.Check(path+".timezone", validation.TimeZone(p.Timezone))
	}
	if p.MaxActionsPerRun != nil {
		e.Check(path+".max_actions_per_run", validation.MaxActions(*p.MaxActionsPerRun))
	}
	if v := p.Verify; v != nil {
		e.Check(path+".verify.wait_minutes", validation.VerifyWaitMinutes(v.WaitMinutes))
	}
	validPolicyTiming(e, path, p)
}

// validPolicyTiming checks the fields that say when and how a policy acts.
// A dry run is only meaningful where the policy would act on its own.
func validPolicyTiming(e *validation.Errors, path string, p *sirsiv1.OptimizationPolicy) {
	if p.DryRun && p.Mode != sirsiv1.PolicyMode_POLICY_MODE_AUTO && p.Mode != sirsiv1.PolicyMode_POLICY_MODE_APPROVE {
		e.Add(path+".dry_run", "needs mode auto or approve: a recommend policy never acts, so there is no run to rehearse")
	}
	if p.WindowMinutes != nil {
		e.Check(path+".window_minutes", validation.IntRange(int64(*p.WindowMinutes), 1, MaxWindowMinutes))
	}
	if p.CooldownHours != nil {
		e.Check(path+".cooldown_hours", validation.IntRange(int64(*p.CooldownHours), 0, MaxCooldownHours))
	}
}

// validVersion: 0 (no check) or a version the store could have issued.
func validVersion(v int64) error { return validation.IntRange(v, 0, 1<<62) }

// duration checks a protobuf duration is well-formed and returns it.
func duration(e *validation.Errors, field string, d *durationpb.Duration) (time.Duration, bool) {
	if d == nil {
		return 0, false
	}
	if err := d.CheckValid(); err != nil {
		e.Add(field, "is not a valid duration")
		return 0, false
	}
	return d.AsDuration(), true
}

func validTenantScoped(e *validation.Errors, tenantID string) {
	e.Check("tenant_id", validation.ID(tenantID))
}

func validGet(tenantID, id string) error {
	var e validation.Errors
	validTenantScoped(&e, tenantID)
	e.Check("id", validation.ID(id))
	return errOrInvalid(&e)
}

func validList(tenantID string, size int32) error {
	var e validation.Errors
	validTenantScoped(&e, tenantID)
	validPage(&e, size)
	return errOrInvalid(&e)
}

func errOrInvalid(e *validation.Errors) error {
	if e.Err() == nil {
		return nil
	}
	return invalid(e)
}

func validateGetTenant(r *sirsiv1.GetTenantRequest) error {
	var e validation.Errors
	switch {
	case r.Id == "" && r.Name == "":
		e.Add("id", "one of id and name is required")
	case r.Id != "" && r.Name != "":
		e.Add("name", "give either id or name, not both")
	case r.Id != "":
		e.Check("id", validation.ID(r.Id))
	default:
		e.Check("name", validation.Slug(r.Name))
	}
	return errOrInvalid(&e)
}

func validateCreateEnrollmentToken(r *sirsiv1.CreateEnrollmentTokenRequest) error {
	var e validation.Errors
	validTenantScoped(&e, r.TenantId)
	e.Check("cloud_account_id", validation.ID(r.CloudAccountId))
	if d, ok := duration(&e, "ttl", r.Ttl); ok {
		e.Check("ttl", validation.EnrollmentTTL(d))
	}
	e.Check("max_uses", validation.MaxUses(r.MaxUses))
	return errOrInvalid(&e)
}

func validateCreateApiToken(r *sirsiv1.CreateApiTokenRequest) error {
	var e validation.Errors
	validTenantScoped(&e, r.TenantId)
	e.Check("role", validation.Enum(r.Role, true))
	e.Check("description", validation.Description(r.Description))
	if d, ok := duration(&e, "ttl", r.Ttl); ok {
		e.Check("ttl", validation.APITokenTTL(d))
	}
	return errOrInvalid(&e)
}

func validateListResources(r *sirsiv1.ListResourcesRequest) error {
	var e validation.Errors
	validTenantScoped(&e, r.TenantId)
	e.Check("cloud_account_id", validation.OptionalID(r.CloudAccountId))
	if r.Type != "" {
		e.Check("type", validation.ResourceType(r.Type))
	}
	if r.Region != "" {
		e.Check("region", validation.Region(r.Region))
	}
	e.Check("tags", validation.Tags(r.Tags))
	validPage(&e, r.PageSize)
	return errOrInvalid(&e)
}

func validateListUtilization(r *sirsiv1.ListUtilizationRequest) error {
	var e validation.Errors
	validTenantScoped(&e, r.TenantId)
	e.Check("resource_id", validation.OptionalID(r.ResourceId))
	if r.Metric != "" {
		e.Check("metric", validation.Metric(r.Metric))
	}
	validPage(&e, r.PageSize)
	return errOrInvalid(&e)
}

type costRange struct {
	start, end time.Time
}

func validateGetCostSummary(r *sirsiv1.GetCostSummaryRequest) (costRange, error) {
	var e validation.Errors
	validTenantScoped(&e, r.TenantId)
	start, serr := validation.Date(r.Start)
	e.Check("start", serr)
	end, eerr := validation.Date(r.End)
	e.Check("end", eerr)
	if serr == nil && eerr == nil {
		e.Check("end", validation.DateRange(start, end, validation.MaxCostRangeDays))
	}
	e.Check("granularity", validation.Enum(r.Granularity, false))
	e.Check("group_by", validation.GroupBy(r.GroupBy))
	e.Check("cloud_account_id", validation.OptionalID(r.CloudAccountId))
	return costRange{start, end}, errOrInvalid(&e)
}

func validateListRecommendations(r *sirsiv1.ListRecommendationsRequest) error {
	var e validation.Errors
	validTenantScoped(&e, r.TenantId)
	e.Check("policy_id", validation.OptionalID(r.PolicyId))
	if r.ResourceType != "" {
		e.Check("resource_type", validation.ResourceType(r.ResourceType))
	}
	e.Check("min_monthly_savings", validation.NonNegative(r.MinMonthlySavings))
	e.Check("status", validation.Enum(r.Status, false))
	validPage(&e, r.PageSize)
	return errOrInvalid(&e)
}

func validateListActionPlans(r *sirsiv1.ListActionPlansRequest) error {
	var e validation.Errors
	validTenantScoped(&e, r.TenantId)
	e.Check("policy_id", validation.OptionalID(r.PolicyId))
	e.Check("status", validation.Enum(r.Status, false))
	validPage(&e, r.PageSize)
	return errOrInvalid(&e)
}

func validateListActions(r *sirsiv1.ListActionsRequest) error {
	var e validation.Errors
	validTenantScoped(&e, r.TenantId)
	e.Check("policy_id", validation.OptionalID(r.PolicyId))
	e.Check("resource_id", validation.OptionalID(r.ResourceId))
	e.Check("status", validation.Enum(r.Status, false))
	validPage(&e, r.PageSize)
	return errOrInvalid(&e)
}

func validateGetSavingsSummary(r *sirsiv1.GetSavingsSummaryRequest) (costRange, error) {
	var e validation.Errors
	validTenantScoped(&e, r.TenantId)
	var rng costRange
	var serr, eerr error
	if r.Start != "" {
		rng.start, serr = validation.Date(r.Start)
		e.Check("start", serr)
	}
	if r.End != "" {
		rng.end, eerr = validation.Date(r.End)
		e.Check("end", eerr)
	}
	if r.Start != "" && r.End != "" && serr == nil && eerr == nil && !rng.end.After(rng.start) {
		e.Add("end", "must be after start")
	}
	return rng, errOrInvalid(&e)
}

func validateListAuditEvents(r *sirsiv1.ListAuditEventsRequest) error {
	var e validation.Errors
	e.Check("tenant_id", validation.OptionalID(r.TenantId))
	e.Check("actor", validation.OptionalID(r.Actor))
	e.Check("action", validation.OptionalID(r.Action))
	e.Check("outcome", validation.OptionalID(r.Outcome))
	if r.StartTime != nil {
		if err := r.StartTime.CheckValid(); err != nil {
			e.Add("start_time", "is not a valid timestamp")
		}
	}
	if r.EndTime != nil {
		if err := r.EndTime.CheckValid(); err != nil {
			e.Add("end_time", "is not a valid timestamp")
		}
	}
	if r.StartTime.IsValid() && r.EndTime.IsValid() && !r.EndTime.AsTime().After(r.StartTime.AsTime()) {
		e.Add("end_time", "must be after start_time")
	}
	validPage(&e, r.PageSize)
	return errOrInvalid(&e)
}
