package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// tenantSetting is one of sirsi_tenant's per-tenant limits and retention
// days. Each is optional and not computed: null means the server's own
// default, which the provider cannot know (every server sets its own), so
// a tenant that leaves it out reads back null and shows no drift.
type tenantSetting struct {
	attr   string
	lo, hi int64
	doc    string
	field  func(t *sirsiv1.Tenant) **int32
	model  func(m *tenantModel) *types.Int64
}

const retentionDoc = " Unset means the server's default (`retention` block of its configuration); `0` keeps them for ever; at most %d. The pruner removes older ones at its next run (hourly by default). The savings ledger and cost records are never pruned, so money figures do not change."

var tenantSettings = []tenantSetting{
	{
		attr: "tenant_rate_limit_per_minute", lo: 1, hi: validation.MaxRatePerMinute,
		doc: "Management API calls all of the tenant's API tokens together may make per minute, however many tokens it mints, 1 to 100000; calls above it are refused with `RESOURCE_EXHAUSTED`. " +
			"Unset means the server's `rate_limit.tenant_per_minute` (raised to `rate_limit_per_minute` when that is higher). Only the operator can set it: a tenant's own tokens cannot raise their budget.",
		field: func(t *sirsiv1.Tenant) **int32 { return &t.TenantRateLimitPerMinute },
		model: func(m *tenantModel) *types.Int64 { return &m.TenantRateLimitPerMinute },
	},
	{
		attr: "max_api_tokens", lo: 1, hi: validation.MaxTenantAPITokens,
		doc: fmt.Sprintf("Live (unexpired) API tokens the tenant may hold, 1 to %d; creating one more fails naming the cap until a token is revoked or expires. "+
			"Unset means the server's `rate_limit.max_api_tokens_per_tenant`. Only the operator can set it.", validation.MaxTenantAPITokens),
		field: func(t *sirsiv1.Tenant) **int32 { return &t.MaxApiTokens },
		model: func(m *tenantModel) *types.Int64 { return &m.MaxAPITokens },
	},
	{
		attr: "utilization_retention_days", lo: 0, hi: validation.MaxRetentionDays,
		doc:   fmt.Sprintf("Days the control plane keeps the tenant's utilisation summaries after their measurement window ended (no sweep refreshed them)."+retentionDoc, validation.MaxRetentionDays),
		field: func(t *sirsiv1.Tenant) **int32 { return &t.UtilizationRetentionDays },
		model: func(m *tenantModel) *types.Int64 { return &m.UtilizationRetentionDays },
	},
	{
		attr: "action_retention_days", lo: 0, hi: validation.MaxRetentionDays,
		doc: fmt.Sprintf("Days the control plane keeps the tenant's finished actions (succeeded, failed, rolled back; dry runs from their start) after they ended; running actions are never removed."+retentionDoc,
			validation.MaxRetentionDays),
		field: func(t *sirsiv1.Tenant) **int32 { return &t.ActionRetentionDays },
		model: func(m *tenantModel) *types.Int64 { return &m.ActionRetentionDays },
	},
	{
		attr: "anomaly_retention_days", lo: 0, hi: validation.MaxRetentionDays,
		doc:   fmt.Sprintf("Days the control plane keeps the tenant's cost anomalies, counted from both the day they are about and their last detection."+retentionDoc, validation.MaxRetentionDays),
		field: func(t *sirsiv1.Tenant) **int32 { return &t.AnomalyRetentionDays },
		model: func(m *tenantModel) *types.Int64 { return &m.AnomalyRetentionDays },
	},
	{
		attr: "audit_retention_days", lo: 0, hi: validation.MaxRetentionDays,
		doc: fmt.Sprintf("Days the control plane keeps the tenant's audit events; the chain stays verifiable through a signed checkpoint of what was pruned. "+
			"Unset means the server's default, which keeps them for ever unless the operator set `retention.audit_days`; `0` keeps them for ever; at most %d.", validation.MaxRetentionDays),
		field: func(t *sirsiv1.Tenant) **int32 { return &t.AuditRetentionDays },
		model: func(m *tenantModel) *types.Int64 { return &m.AuditRetentionDays },
	},
}

// tenantSettingAttributes are the settings' schema attributes, validated
// at plan time against the control plane's bounds.
func tenantSettingAttributes(attrs map[string]schema.Attribute) {
	for _, s := range tenantSettings {
		attrs[s.attr] = schema.Int64Attribute{
			Optional:            true,
			MarkdownDescription: s.doc,
			Validators:          []validator.Int64{int64validator.Between(s.lo, s.hi)},
		}
	}
}

// settingsToAPI copies the configured settings into t; null and unknown
// ones stay unset (the server's default).
func (m *tenantModel) settingsToAPI(t *sirsiv1.Tenant) {
	for _, s := range tenantSettings {
		v := s.model(m)
		if v.IsNull() || v.IsUnknown() {
			continue
		}
		n := int32(v.ValueInt64())
		*s.field(t) = &n
	}
}

// settingsFromAPI reads the stored settings: unset is null.
func (m *tenantModel) settingsFromAPI(t *sirsiv1.Tenant) {
	for _, s := range tenantSettings {
		v := s.model(m)
		if p := *s.field(t); p != nil {
			*v = types.Int64Value(int64(*p))
		} else {
			*v = types.Int64Null()
		}
	}
}
