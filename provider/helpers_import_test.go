package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

func TestParseImportID(t *testing.T) {
	for _, tc := range []struct {
		raw, defaultTenant string
		tenant, id         string
		err                string // "" when the id is accepted
	}{
		{raw: "ten-1/ca-1", tenant: "ten-1", id: "ca-1"},
		// An explicit tenant wins over the provider's.
		{raw: "ten-1/ca-1", defaultTenant: "ten-9", tenant: "ten-1", id: "ca-1"},
		{raw: "ca-1", defaultTenant: "ten-9", tenant: "ten-9", id: "ca-1"},
		{raw: "ca-1", err: "has no tenant and the provider has no tenant_id"},
		{raw: "", defaultTenant: "ten-9", err: "is empty"},
		{raw: "", err: "is empty"},
		{raw: "/ca-1", defaultTenant: "ten-9", err: "neither part empty"},
		{raw: "ten-1/", defaultTenant: "ten-9", err: "neither part empty"},
		{raw: "/", err: "neither part empty"},
		{raw: "a/b/c", defaultTenant: "ten-9", err: "must be <tenant_id>/<id>"},
	} {
		tenant, id, err := parseImportID(tc.raw, tc.defaultTenant)
		if tc.err == "" {
			if err != nil || tenant != tc.tenant || id != tc.id {
				t.Errorf("parseImportID(%q, %q) = %q, %q, %v; want %q, %q", tc.raw, tc.defaultTenant, tenant, id, err, tc.tenant, tc.id)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) || tenant != "" || id != "" {
			t.Errorf("parseImportID(%q, %q) = %q, %q, %v; want an error containing %q", tc.raw, tc.defaultTenant, tenant, id, err, tc.err)
		}
	}
}

// importInto runs importTenantScoped for r with id and returns the state
// and diagnostics it produced.
func importInto(t *testing.T, r resource.Resource, c *client.Client, resourceType, id string, alsoID ...string) *resource.ImportStateResponse {
	t.Helper()
	s := resourceSchema(t, r)
	resp := &resource.ImportStateResponse{State: tfsdk.State{Schema: s, Raw: tftypes.NewValue(s.Type().TerraformType(context.Background()), nil)}}
	importTenantScoped(context.Background(), c, resourceType, resource.ImportStateRequest{ID: id}, resp, alsoID...)
	return resp
}

func TestImportTenantScoped(t *testing.T) {
	ctx := context.Background()
	attr := func(resp *resource.ImportStateResponse, name string) string {
		var v types.String
		if d := resp.State.GetAttribute(ctx, path.Root(name), &v); d.HasError() {
			t.Fatalf("%s: %v", name, d)
		}
		return v.ValueString()
	}
	// Every tenant-scoped resource imports through the same parser, so a
	// bare id behaves alike everywhere: the provider's tenant, or an error.
	for _, tc := range []struct {
		r            resource.Resource
		resourceType string
		alsoID       []string
	}{
		{NewCloudAccountResource(), "sirsi_cloud_account", nil},
		{NewApiTokenResource(), "sirsi_api_token", nil},
		{(&sirsiProvider{}).newEnrollmentTokenResource(), "sirsi_enrollment_token", nil},
		{NewOptimizationPolicyResource(), "sirsi_optimization_policy", nil},
		{NewActionPlanApprovalResource(), "sirsi_action_plan_approval", []string{"plan_id"}},
		{NewRecommendationApprovalResource(), "sirsi_recommendation_approval", []string{"recommendation_id"}},
	} {
		resp := importInto(t, tc.r, &client.Client{DefaultTenantID: "ten-9"}, tc.resourceType, "obj-1", tc.alsoID...)
		if resp.Diagnostics.HasError() {
			t.Errorf("%s: bare id with a default tenant: %v", tc.resourceType, resp.Diagnostics)
			continue
		}
		if got := attr(resp, "tenant_id"); got != "ten-9" {
			t.Errorf("%s: tenant_id = %q, want ten-9", tc.resourceType, got)
		}
		for _, name := range append([]string{"id"}, tc.alsoID...) {
			if got := attr(resp, name); got != "obj-1" {
				t.Errorf("%s: %s = %q, want obj-1", tc.resourceType, name, got)
			}
		}

		resp = importInto(t, tc.r, &client.Client{DefaultTenantID: "ten-9"}, tc.resourceType, "ten-1/obj-2", tc.alsoID...)
		if resp.Diagnostics.HasError() || attr(resp, "tenant_id") != "ten-1" || attr(resp, "id") != "obj-2" {
			t.Errorf("%s: tenant_id/id: tenant %q id %q, %v", tc.resourceType, attr(resp, "tenant_id"), attr(resp, "id"), resp.Diagnostics)
		}

		// Without a client (provider not configured) and without a default
		// tenant a bare id is refused the same way, naming the resource.
		for _, c := range []*client.Client{nil, {}} {
			resp = importInto(t, tc.r, c, tc.resourceType, "obj-1", tc.alsoID...)
			if !resp.Diagnostics.HasError() {
				t.Errorf("%s: bare id without a tenant accepted", tc.resourceType)
				continue
			}
			d := resp.Diagnostics.Errors()[0]
			if d.Summary() != "Invalid import id for "+tc.resourceType || !strings.Contains(d.Detail(), `"obj-1"`) || !strings.Contains(d.Detail(), "<tenant_id>/<id>") {
				t.Errorf("%s: diagnostic %q: %q", tc.resourceType, d.Summary(), d.Detail())
			}
		}
	}
}
