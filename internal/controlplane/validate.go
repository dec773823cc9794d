package controlplane

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
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

// Bounds of the tenant limits.
const (
	MaxRateLimitPerMinute = validation.MaxRatePerMinute
	MaxActionsPerHour     = 10000
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
	if t.TenantRateLimitPerMinute != nil {
		e.Check(path+".tenant_rate_limit_per_minute", validation.IntRange(int64(*t.TenantRateLimitPerMinute), 1, MaxRateLimitPerMinute))
	}
	if t.MaxApiTokens != nil {
		e.Check(path+".max_api_tokens", validation.IntRange(int64(*t.MaxApiTokens), 1, validation.MaxTenantAPITokens))
	}
	for _, r := range []struct {
		name string
		days *int32
	}{
		{"utilization_retention_days", t.UtilizationRetentionDays},
		{"action_retention_days", t.ActionRetentionDays},
		{"anomaly_retention_days", t.AnomalyRetentionDays},
		{"audit_retention_days", t.AuditRetentionDays},
	} {
		if r.days != nil {
			e.Check(path+"."+r.name, validation.RetentionDays(int64(*r.days)))
		}
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

// validOIDCTrust checks a trust by validation's OIDC rules, which the
// provider shares.
func validOIDCTrust(e *validation.Errors, path string, o *sirsiv1.OidcTrust, update bool) {
	if o == nil {
		e.Add(path, "is required")
		return
	}
	e.Check(path+".tenant_id", validation.ID(o.TenantId))
	if update {
		e.Check(path+".id", validation.ID(o.Id))
		e.Check(path+".version", validVersion(o.Version))
	} else if o.Id != "" {
		e.Add(path+".id", "is assigned by the server")
	}
	e.Check(path+".name", validation.Slug(o.Name))
	e.Check(path+".issuer", validation.OIDCIssuer(o.Issuer))
	e.Check(path+".audience", validation.OIDCAudience(o.Audience))
	e.Check(path+".bound_claims", validation.OIDCBoundClaims(o.BoundClaims))
	e.Check(path+".role", validation.Enum(o.Role, true))
	if o.SubjectClaim != "" {
		e.Check(path+".subject_claim", validation.OIDCClaimName(o.SubjectClaim))
	}
	if age, ok := duration(e, path+".max_token_age", o.MaxTokenAge); ok {
		e.Check(path+".max_token_age", validation.OIDCMaxTokenAge(age))
	}
}

// validPolicy checks a policy's identity here and its settings by the
// policy package's rules, which the provider shares.
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
	policy.Check(e, path, p)
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
	e.Check("resource_id", validation.OptionalID(r.ResourceId))
	e.Check("query", validation.Search(r.Query))
	validPage(&e, r.PageSize)
	return errOrInvalid(&e)
}

func validateListUtilization(r *sirsiv1.ListUtilizationRequest) error {
	var e validation.Errors
	validTenantScoped(&e, r.TenantId)
	e.Check("resource_id", validation.OptionalID(r.ResourceId))
	e.Check("resource_ids", validation.ResourceIDs(r.ResourceIds))
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
	e.Check("resource_id", validation.OptionalID(r.ResourceId))
	e.Check("min_monthly_savings", money.Check(r.MinMonthlySavings, false, true))
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

func validateGetSavingsSummary(r *sirsiv1.GetSavingsSummaryRequest) error {
	var e validation.Errors
	validTenantScoped(&e, r.TenantId)
	return errOrInvalid(&e)
}

func validateListAuditEvents(r *sirsiv1.ListAuditEventsRequest) error {
	var e validation.Errors
	e.Check("tenant_id", validation.OptionalID(r.TenantId))
	e.Check("actor", validation.OptionalID(r.Actor))
	e.Check("action", validation.OptionalID(r.Action))
	e.Check("outcome", validation.OptionalID(r.Outcome))
	e.Check("target", validation.OptionalID(r.Target))
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
