package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// The plan-time validators reuse the control plane's rules from
// internal/validation, so a value refused here would also be refused by the
// server, and the reverse.

// stringCheck adapts a pure check to a framework string validator. Null and
// unknown values are skipped: Required and later plans cover them.
type stringCheck struct {
	description string
	check       func(string) error
}

var _ validator.String = stringCheck{}

func (v stringCheck) Description(context.Context) string { return v.description }

func (v stringCheck) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.check(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+v.description, fmt.Sprintf("%s: %s.", req.Path, err))
	}
}

// mapCheck adapts a check over a whole string map.
type mapCheck struct {
	description string
	check       func(map[string]string) error
}

var _ validator.Map = mapCheck{}

func (v mapCheck) Description(context.Context) string { return v.description }

func (v mapCheck) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v mapCheck) ValidateMap(ctx context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	m := make(map[string]string, len(req.ConfigValue.Elements()))
	for k, e := range req.ConfigValue.Elements() {
		s, ok := e.(types.String)
		if !ok || s.IsUnknown() {
			// Elements computed from other resources are checked by the
			// server once they are known.
			return
		}
		m[k] = s.ValueString()
	}
	if err := v.check(m); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+v.description, fmt.Sprintf("%s: %s.", req.Path, err))
	}
}

func slugValidator() validator.String {
	return stringCheck{"name (2..63 lowercase letters, digits or '-', starting with a letter)", validation.Slug}
}

func displayNameValidator() validator.String {
	return stringCheck{"display name (one line, at most 256 printable characters)", validation.DisplayName}
}

func descriptionValidator() validator.String {
	return stringCheck{"description (at most 1024 printable characters)", validation.Description}
}

func accountIDValidator() validator.String {
	return stringCheck{"AWS account id (12 digits)", validation.AccountID}
}

func roleARNValidator() validator.String {
	return stringCheck{"IAM role ARN (arn:aws:iam::<account>:role/<name>)", func(s string) error {
		_, err := validation.RoleARN(s)
		return err
	}}
}

func externalIDValidator() validator.String {
	return stringCheck{"external id (2..1224 characters of letters, digits and +=,.@:/-_)", validation.ExternalID}
}

func regionValidator() validator.String {
	return stringCheck{"AWS region", validation.Region}
}

func cronValidator() validator.String {
	return stringCheck{"cron expression (five fields: minute hour day-of-month month day-of-week)", validation.Cron}
}

func timezoneValidator() validator.String {
	return stringCheck{"IANA time zone (like Europe/Paris or UTC)", validation.TimeZone}
}

func dateValidator() validator.String {
	return stringCheck{"date (YYYY-MM-DD)", func(s string) error {
		_, err := validation.Date(s)
		return err
	}}
}

func groupByValidator() validator.String {
	return stringCheck{"grouping (service, account, region or tag:<key>)", validation.GroupBy}
}

func resourceTypeValidator() validator.String {
	return stringCheck{"resource type", validation.ResourceType}
}

func instanceFamilyValidator() validator.String {
	return stringCheck{"instance family (like m5, t4g or db.r6g)", validation.InstanceFamily}
}

// durationValidator accepts a Go duration string ("90m", "24h") between lo
// and hi inclusive.
func durationValidator(lo, hi time.Duration) validator.String {
	return stringCheck{fmt.Sprintf("duration (like 90m or 24h, between %s and %s)", formatDuration(lo), formatDuration(hi)), func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration like 90m or 24h", s)
		}
		if d < lo || d > hi {
			return fmt.Errorf("%s is outside %s..%s", s, formatDuration(lo), formatDuration(hi))
		}
		return nil
	}}
}

func tagMapValidator() validator.Map {
	return mapCheck{"tags (at most 50; AWS tag keys and values)", validation.Tags}
}

// excludeTagMapValidator is tagMapValidator where the value "*" means any
// value of the key.
func excludeTagMapValidator() validator.Map {
	return mapCheck{"exclude tags (at most 50; AWS tag keys and values, or \"*\")", validation.ExcludeTags}
}
