package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

// parseImportID is the one reading of a tenant-scoped object's import id:
// "tenant_id/id", or a bare "id" in defaultTenant (the provider's
// tenant_id, or the tenant of its API token). Without a default tenant a
// bare id is refused here, where the error can say what to write, rather
// than by the read that follows.
func parseImportID(raw, defaultTenant string) (tenantID, id string, err error) {
	tenant, id, scoped := strings.Cut(raw, "/")
	switch {
	case raw == "":
		return "", "", errors.New("is empty")
	case !scoped && defaultTenant == "":
		return "", "", errors.New("has no tenant and the provider has no tenant_id (nor a tenant API token): write it as <tenant_id>/<id>")
	case !scoped:
		return defaultTenant, raw, nil
	case tenant == "" || id == "" || strings.Contains(id, "/"):
		return "", "", errors.New("must be <tenant_id>/<id> with neither part empty, or <id> alone when the provider has a tenant_id")
	}
	return tenant, id, nil
}

// importTenantScoped is ImportState for a tenant-scoped resource: it sets
// tenant_id and id, and each attribute of alsoID (such as plan_id) to the
// id as well.
func importTenantScoped(ctx context.Context, c *client.Client, resourceType string, req resource.ImportStateRequest, resp *resource.ImportStateResponse, alsoID ...string) {
	defaultTenant := ""
	if c != nil {
		defaultTenant = c.DefaultTenantID
	}
	tenant, id, err := parseImportID(req.ID, defaultTenant)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import id for "+resourceType, fmt.Sprintf("The import id %q %s.", req.ID, err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("tenant_id"), tenant)...)
	for _, attr := range append([]string{"id"}, alsoID...) {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(attr), id)...)
	}
}
