package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func runStringValidator(v validator.String, value types.String) []string {
	req := validator.StringRequest{Path: path.Root("field"), ConfigValue: value}
	resp := &validator.StringResponse{}
	v.ValidateString(context.Background(), req, resp)
	var out []string
	for _, d := range resp.Diagnostics.Errors() {
		out = append(out, d.Summary()+": "+d.Detail())
	}
	return out
}

func TestStringValidators(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    validator.String
		good []string
		bad  []string
	}{
		{"slug", slugValidator(), []string{"acme", "team-42"}, []string{"A", "1abc", "abc-", "has_underscore", "a"}},
		{"display name", displayNameValidator(), []string{"Acme Corp", ""}, []string{"two\nlines", strings.Repeat("x", 257)}},
		{"description", descriptionValidator(), []string{"line one\nline two"}, []string{strings.Repeat("x", 1025), "bell\a"}},
		{"account id", accountIDValidator(), []string{"123456789012"}, []string{"12345678901", "1234567890123", "abcdefghijkl"}},
		{"role arn", roleARNValidator(), []string{"arn:aws:iam::123456789012:role/sirsi-agent", "arn:aws-us-gov:iam::123456789012:role/path/x"},
			[]string{"arn:aws:iam::123:role/x", "arn:aws:iam::123456789012:user/bob", "role/x"}},
		{"external id", externalIDValidator(), []string{"ext-123"}, []string{"x", "has space"}},
		{"region", regionValidator(), []string{"us-east-1", "eu-west-3"}, []string{"us-east-9", "moon-1", ""}},
		{"cron", cronValidator(), []string{"0 2 * * *", "*/15 * * * 1-5", "@daily"}, []string{"0 2 * *", "@every 1h", "61 * * * *"}},
		{"timezone", timezoneValidator(), []string{"UTC", "Europe/Paris"}, []string{"Mars/Olympus", "Local"}},
		{"date", dateValidator(), []string{"2026-12-25"}, []string{"2026-13-01", "25/12/2026"}},
		{"group by", groupByValidator(), []string{"service", "tag:team"}, []string{"owner", "tag:"}},
		{"resource type", resourceTypeValidator(), []string{"aws_ec2_instance"}, []string{"ec2"}},
		{"instance family", instanceFamilyValidator(), []string{"m5", "db.r6g"}, []string{"large", "M5"}},
		{"duration", durationValidator(time.Minute, 720*time.Hour), []string{"1m", "24h", "720h"}, []string{"30s", "721h", "1 day", "-5m"}},
	} {
		for _, s := range tc.good {
			if errs := runStringValidator(tc.v, types.StringValue(s)); len(errs) != 0 {
				t.Errorf("%s: %q refused: %v", tc.name, s, errs)
			}
		}
		for _, s := range tc.bad {
			errs := runStringValidator(tc.v, types.StringValue(s))
			if len(errs) != 1 {
				t.Errorf("%s: %q gave %d errors, want 1: %v", tc.name, s, len(errs), errs)
				continue
			}
			if !strings.Contains(errs[0], "field") {
				t.Errorf("%s: %q error does not name the attribute: %s", tc.name, s, errs[0])
			}
		}
		if errs := runStringValidator(tc.v, types.StringNull()); len(errs) != 0 {
			t.Errorf("%s: null refused: %v", tc.name, errs)
		}
		if errs := runStringValidator(tc.v, types.StringUnknown()); len(errs) != 0 {
			t.Errorf("%s: unknown refused: %v", tc.name, errs)
		}
		if tc.v.Description(context.Background()) == "" {
			t.Errorf("%s: empty description", tc.name)
		}
	}
}

func TestMapValidators(t *testing.T) {
	mapOf := func(kv ...string) types.Map {
		elems := map[string]attr.Value{}
		for i := 0; i < len(kv); i += 2 {
			elems[kv[i]] = types.StringValue(kv[i+1])
		}
		return types.MapValueMust(types.StringType, elems)
	}
	run := func(v validator.Map, m types.Map) int {
		resp := &validator.MapResponse{}
		v.ValidateMap(context.Background(), validator.MapRequest{Path: path.Root("labels"), ConfigValue: m}, resp)
		return resp.Diagnostics.ErrorsCount()
	}
	for name, tc := range map[string]struct {
		v    validator.Map
		m    types.Map
		errs int
	}{
		"tags ok":              {tagMapValidator(), mapOf("team", "data", "env", "prod"), 0},
		"tags reserved":        {tagMapValidator(), mapOf("aws:createdBy", "x"), 1},
		"tags empty key":       {tagMapValidator(), mapOf("", "x"), 1},
		"tags star value":      {tagMapValidator(), mapOf("keep", "*"), 1},
		"exclude star":         {excludeTagMapValidator(), mapOf("keep", "*"), 0},
		"null":                 {tagMapValidator(), types.MapNull(types.StringType), 0},
		"unknown element skip": {tagMapValidator(), types.MapValueMust(types.StringType, map[string]attr.Value{"aws:x": types.StringUnknown()}), 0},
	} {
		if got := run(tc.v, tc.m); got != tc.errs {
			t.Errorf("%s: %d errors, want %d", name, got, tc.errs)
		}
	}
}
