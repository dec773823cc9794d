package provider

import (
	"context"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// timeValue renders an API timestamp as RFC 3339, null when unset.
func timeValue(ts *timestamppb.Timestamp) types.String {
	if ts == nil || (ts.GetSeconds() == 0 && ts.GetNanos() == 0) {
		return types.StringNull()
	}
	return types.StringValue(ts.AsTime().UTC().Format(time.RFC3339))
}

// optionalString maps the API's empty string to null, so an attribute left
// out of the configuration stays null.
func optionalString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// formatDuration prints d the way people write it: "24h", "1h30m", "90s",
// rather than time.Duration's "24h0m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// stringMapValue converts an API map. An empty map stays null when the
// attribute was null (left out), and empty when it was set to {}.
func stringMapValue(ctx context.Context, m map[string]string, prior types.Map, diags *diag.Diagnostics) types.Map {
	if len(m) == 0 {
		if prior.IsNull() || prior.IsUnknown() {
			return types.MapNull(types.StringType)
		}
		return types.MapValueMust(types.StringType, map[string]attr.Value{})
	}
	v, d := types.MapValueFrom(ctx, types.StringType, m)
	diags.Append(d...)
	return v
}

// stringMap converts a configured map for the API.
func stringMap(ctx context.Context, v types.Map, diags *diag.Diagnostics) map[string]string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	m := make(map[string]string, len(v.Elements()))
	diags.Append(v.ElementsAs(ctx, &m, false)...)
	return m
}

// durationValue renders an API duration, keeping the configured spelling
// ("1440m") when it means the same as what the server holds, so reading
// back never shows a change.
func durationValue(d *durationpb.Duration, prior types.String) types.String {
	if d == nil || d.AsDuration() == 0 {
		return types.StringNull()
	}
	if !prior.IsNull() && !prior.IsUnknown() {
		if p, err := time.ParseDuration(prior.ValueString()); err == nil && p == d.AsDuration() {
			return prior
		}
	}
	return types.StringValue(formatDuration(d.AsDuration()))
}

// parseDuration converts a validated duration attribute for the API; null
// means unset.
func parseDuration(v types.String, attr string, diags *diag.Diagnostics) *durationpb.Duration {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	d, err := time.ParseDuration(v.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root(attr), "Invalid duration", err.Error())
		return nil
	}
	return durationpb.New(d)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func stringMapOrNull(values map[string]string) types.Map {
	if len(values) == 0 {
		return types.MapNull(types.StringType)
	}
	elems := make(map[string]attr.Value, len(values))
	for k, v := range values {
		elems[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}

func markdownList(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = "`" + v + "`"
	}
	return strings.Join(quoted, ", ")
}
