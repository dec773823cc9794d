package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// writeOnlyValue is the write-only argument attr to send, read from the
// configuration (Terraform keeps it out of plan and state): on create
// (stateVersion nil), and on update when its version argument changed.
// Otherwise it is empty, which the control plane reads as "keep the
// stored value".
func writeOnlyValue(ctx context.Context, config tfsdk.Config, attr string, planVersion types.Int64, stateVersion *types.Int64, diags *diag.Diagnostics) string {
	if stateVersion != nil && planVersion.Equal(*stateVersion) {
		return ""
	}
	var wo types.String
	diags.Append(config.GetAttribute(ctx, path.Root(attr), &wo)...)
	return wo.ValueString()
}
