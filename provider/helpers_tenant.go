package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

// tenantIDAttribute is the tenant_id every tenant-scoped resource has: it
// defaults to the provider's tenant and moving an object to another tenant
// replaces it. UseStateForUnknown comes first so leaving tenant_id out of a
// configuration does not look like a change of tenant.
func tenantIDAttribute(what string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		Computed:            true,
		MarkdownDescription: fmt.Sprintf("Tenant that owns the %s. Defaults to the provider's `tenant_id` (or the tenant of its API token). Changing it replaces the %s.", what, what),
		PlanModifiers: []planmodifier.String{
			stringplanmodifier.UseStateForUnknown(),
			stringplanmodifier.RequiresReplace(),
		},
		Validators: []validator.String{stringvalidator.LengthBetween(1, 128)},
	}
}

// planTenantID fills an unknown tenant_id of a resource being created with
// the provider's default, so the plan shows the tenant it will land in.
func planTenantID(ctx context.Context, c *client.Client, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if c == nil || req.Plan.Raw.IsNull() || !req.State.Raw.IsNull() || c.DefaultTenantID == "" {
		return
	}
	var tenant types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("tenant_id"), &tenant)...)
	if resp.Diagnostics.HasError() || !tenant.IsUnknown() {
		return
	}
	var configured types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("tenant_id"), &configured)...)
	if resp.Diagnostics.HasError() || !configured.IsNull() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("tenant_id"), c.DefaultTenantID)...)
}
