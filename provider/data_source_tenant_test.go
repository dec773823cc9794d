package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

func TestTenantDataSourceSchema(t *testing.T) {
	checkDataSourceDocs(t, NewTenantDataSource())
}

func TestNonNilMap(t *testing.T) {
	if m := nonNilMap(nil); m == nil || len(m) != 0 {
		t.Errorf("nonNilMap(nil) = %v", m)
	}
	if m := nonNilMap(map[string]string{"a": "b"}); m["a"] != "b" {
		t.Errorf("nonNilMap kept %v", m)
	}
}

func TestAccTenantDataSource(t *testing.T) {
	env := testAccStart(t)
	if _, err := env.operator.CreateTenant(context.Background(), &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{
		Name: "hooked", WebhookUrl: "https://hooks.example.com/sirsi", WebhookSecret: "whsec-0123456789abcdef",
	}}); err != nil {
		t.Fatal(err)
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				// Empty: no tenant has this name.
				Config:      env.operatorProvider() + "data \"sirsi_tenant\" \"x\" {\n  name = \"no-such-tenant\"\n}\n",
				ExpectError: regexp.MustCompile(`Reading tenant no-such-tenant failed`),
			},
			{
				Config:      env.operatorProvider() + "data \"sirsi_tenant\" \"x\" {\n  name = \"a-b\"\n  id = \"x\"\n}\n",
				ExpectError: regexp.MustCompile(`(?s)Invalid Attribute Combination`),
			},
			{
				Config:      env.operatorProvider() + "data \"sirsi_tenant\" \"x\" {\n}\n",
				ExpectError: regexp.MustCompile(`(?s)Exactly one of these attributes must be configured`),
			},
			{
				// Populated (last, so the post-test destroy has a valid
				// configuration): the tenant the harness made, by name and by id.
				Config: env.operatorProvider() + fmt.Sprintf(`
data "sirsi_tenant" "by_name" {
  name = %q
}

data "sirsi_tenant" "by_id" {
  id = data.sirsi_tenant.by_name.id
}

data "sirsi_tenant" "hooked" {
  name = "hooked"
}
`, env.tenantName),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.sirsi_tenant.by_name", tfjsonpath.New("id"), knownvalue.StringExact(env.tenantID)),
					statecheck.ExpectKnownValue("data.sirsi_tenant.by_id", tfjsonpath.New("name"), knownvalue.StringExact(env.tenantName)),
					statecheck.ExpectKnownValue("data.sirsi_tenant.by_id", tfjsonpath.New("tier"), knownvalue.StringExact("standard")),
					statecheck.ExpectKnownValue("data.sirsi_tenant.by_id", tfjsonpath.New("created_at"), rfc3339Check{}),
					// Empty labels are an empty map, not null.
					statecheck.ExpectKnownValue("data.sirsi_tenant.by_id", tfjsonpath.New("labels"), knownvalue.MapSizeExact(0)),
					statecheck.ExpectKnownValue("data.sirsi_tenant.by_id", tfjsonpath.New("webhook_url"), knownvalue.StringExact("")),
					statecheck.ExpectKnownValue("data.sirsi_tenant.by_id", tfjsonpath.New("webhook_secret_set"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("data.sirsi_tenant.hooked", tfjsonpath.New("webhook_url"), knownvalue.StringExact("https://hooks.example.com/sirsi")),
					statecheck.ExpectKnownValue("data.sirsi_tenant.hooked", tfjsonpath.New("webhook_secret_set"), knownvalue.Bool(true)),
				},
			},
		},
	})
}
