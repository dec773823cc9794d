package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// validateConfigDateRange checks the start and end attributes of a
// configuration with validateDateRange.
func validateConfigDateRange(ctx context.Context, config tfsdk.Config, maxDays int, diags *diag.Diagnostics) {
	var start, end types.String
	diags.Append(config.GetAttribute(ctx, path.Root("start"), &start)...)
	diags.Append(config.GetAttribute(ctx, path.Root("end"), &end)...)
	if diags.HasError() {
		return
	}
	diags.Append(validateDateRange(start, end, maxDays)...)
}

// validateDateRange checks that end is after start and at most maxDays
// later; unknown or null dates are left to apply time or to the server, and
// malformed ones to the attributes' own validators.
func validateDateRange(start, end types.String, maxDays int) diag.Diagnostics {
	var diags diag.Diagnostics
	if start.IsNull() || start.IsUnknown() || end.IsNull() || end.IsUnknown() {
		return diags
	}
	s, err := validation.Date(start.ValueString())
	if err != nil {
		return diags
	}
	e, err := validation.Date(end.ValueString())
	if err != nil {
		return diags
	}
	if err := validation.DateRange(s, e, maxDays); err != nil {
		diags.AddAttributeError(path.Root("end"), "Invalid period",
			fmt.Sprintf("The period from start to end (exclusive) is invalid: %s.", err))
	}
	return diags
}
