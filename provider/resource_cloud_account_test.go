package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

func TestCloudAccountResourceSchema(t *testing.T) {
	checkResourceSchema(t, NewCloudAccountResource())
}

func TestCloudAccountModelRoundTrip(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	regions, _ := types.SetValueFrom(ctx, types.StringType, []string{"eu-west-1", "us-east-1"})
	in := cloudAccountModel{
		ID:          types.StringValue("ca-1"),
		TenantID:    types.StringValue("ten-1"),
		Cloud:       types.StringValue("aws"),
		AccountID:   types.StringValue("123456789012"),
		Regions:     regions,
		RoleARN:     types.StringValue("arn:aws:iam::123456789012:role/sirsi"),
		ExternalID:  types.StringValue("ext-1"),
		DisplayName: types.StringValue("prod"),
	}
	api := in.toAPI(ctx, &diags)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if api.GetCloud() != sirsiv1.Cloud_CLOUD_AWS || len(api.GetRegions()) != 2 {
		t.Fatalf("toAPI = %v", api)
	}
	seen := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	api.Status = sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CONNECTED
	api.LastSeenTime = timestamppb.New(seen)
	api.AgentVersion = "1.2.3"
	// The server may return the regions in another order; a set compares
	// equal anyway.
	api.Regions = []string{"us-east-1", "eu-west-1"}
	var out cloudAccountModel
	out.fromAPI(ctx, api, &diags)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if !out.Regions.Equal(in.Regions) || !out.RoleARN.Equal(in.RoleARN) || !out.ExternalID.Equal(in.ExternalID) ||
		!out.TenantID.Equal(in.TenantID) || !out.Cloud.Equal(in.Cloud) || !out.DisplayName.Equal(in.DisplayName) {
		t.Errorf("round trip: got %+v, want %+v", out, in)
	}
	if out.Status.ValueString() != "connected" || out.LastSeenAt.ValueString() != "2026-01-02T03:04:05Z" || out.AgentVersion.ValueString() != "1.2.3" {
		t.Errorf("computed values: %+v", out)
	}
}

func TestCloudAccountPendingHasNullSeen(t *testing.T) {
	var diags diag.Diagnostics
	var out cloudAccountModel
	out.fromAPI(context.Background(), &sirsiv1.CloudAccount{Id: "ca", Status: sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_PENDING, Regions: []string{"us-east-1"}}, &diags)
	if out.Status.ValueString() != "pending" || !out.LastSeenAt.IsNull() || !out.AgentVersion.IsNull() || !out.RoleARN.IsNull() {
		t.Errorf("pending account: %+v", out)
	}
}

// validateCloudAccountConfig runs ValidateConfig on a configuration with
// the given account_id and role_arn.
func validateCloudAccountConfig(t *testing.T, accountID, roleARN tftypes.Value) diag.Diagnostics {
	t.Helper()
	r := NewCloudAccountResource().(*cloudAccountResource)
	s := resourceSchema(t, r)
	raw := objectWith(t, s.Type().TerraformType(context.Background()), map[string]tftypes.Value{
		"account_id": accountID,
		"role_arn":   roleARN,
	})
	resp := &resource.ValidateConfigResponse{}
	r.ValidateConfig(context.Background(), resource.ValidateConfigRequest{Config: tfsdk.Config{Schema: s, Raw: raw}}, resp)
	return resp.Diagnostics
}

func TestCloudAccountRoleMustBeInAccount(t *testing.T) {
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	if d := validateCloudAccountConfig(t, str("123456789012"), str("arn:aws:iam::123456789012:role/x")); d.HasError() {
		t.Errorf("matching account refused: %v", d)
	}
	d := validateCloudAccountConfig(t, str("123456789012"), str("arn:aws:iam::210987654321:role/x"))
	if d.ErrorsCount() != 1 {
		t.Fatalf("role in another account: %d errors, want 1: %v", d.ErrorsCount(), d)
	}
	if got := d.Errors()[0].Detail(); !contains(got, "210987654321") || !contains(got, "account_id") {
		t.Errorf("detail does not explain the mismatch: %s", got)
	}
	unknown := tftypes.NewValue(tftypes.String, tftypes.UnknownValue)
	if d := validateCloudAccountConfig(t, unknown, str("arn:aws:iam::210987654321:role/x")); d.HasError() {
		t.Errorf("unknown account_id refused: %v", d)
	}
	if d := validateCloudAccountConfig(t, str("123456789012"), tftypes.NewValue(tftypes.String, nil)); d.HasError() {
		t.Errorf("role_arn left out refused: %v", d)
	}
}

func TestImportTenantScopedIDs(t *testing.T) {
	for _, tc := range []struct {
		id, defaultTenant string
		wantID, wantTen   string
		wantErr           bool
	}{
		{id: "ten-1/ca-1", wantID: "ca-1", wantTen: "ten-1"},
		{id: "ca-1", defaultTenant: "ten-9", wantID: "ca-1", wantTen: "ten-9"},
		{id: "ca-1", wantID: "ca-1"},
		{id: "/ca-1", wantErr: true},
		{id: "ten-1/", wantErr: true},
		{id: "a/b/c", wantErr: true},
	} {
		r := NewCloudAccountResource().(*cloudAccountResource)
		s := resourceSchema(t, r)
		resp := &resource.ImportStateResponse{State: tfsdk.State{Schema: s, Raw: tftypes.NewValue(s.Type().TerraformType(context.Background()), nil)}}
		c := testClientWithTenant(tc.defaultTenant)
		importTenantScoped(context.Background(), c, "cloud account", resource.ImportStateRequest{ID: tc.id}, resp)
		if tc.wantErr {
			if !resp.Diagnostics.HasError() {
				t.Errorf("import %q: no error", tc.id)
			}
			continue
		}
		if resp.Diagnostics.HasError() {
			t.Errorf("import %q: %v", tc.id, resp.Diagnostics)
			continue
		}
		var m cloudAccountModel
		resp.Diagnostics.Append(resp.State.Get(context.Background(), &m)...)
		if m.ID.ValueString() != tc.wantID || m.TenantID.ValueString() != tc.wantTen {
			t.Errorf("import %q: id %q tenant %q, want %q %q", tc.id, m.ID.ValueString(), m.TenantID.ValueString(), tc.wantID, tc.wantTen)
		}
	}
}

func cloudAccountConfig(env *accEnv, account string, regions string, display string) string {
	return env.tenantProvider() + fmt.Sprintf(`
resource "sirsi_cloud_account" "a" {
  account_id   = %q
  regions      = %s
  role_arn     = "arn:aws:iam::%s:role/sirsi-agent"
  external_id  = "ext-%s"
  display_name = %q
}
`, account, regions, account, account, display)
}

func TestAccCloudAccount_lifecycle(t *testing.T) {
	env := testAccStart(t)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkDestroyed("sirsi_cloud_account", env.getCloudAccount),
		Steps: []tfresource.TestStep{
			{
				Config: cloudAccountConfig(env, "123456789012", `["us-east-1", "eu-west-1"]`, "Production"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_cloud_account.a", plancheck.ResourceActionCreate),
					// The provider's tenant is known at plan time.
					plancheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("status"), knownvalue.StringExact("pending")),
					statecheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("cloud"), knownvalue.StringExact("aws")),
					statecheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("regions"), knownvalue.SetExact([]knownvalue.Check{
						knownvalue.StringExact("eu-west-1"), knownvalue.StringExact("us-east-1"),
					})),
					statecheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("last_seen_at"), knownvalue.Null()),
					statecheck.ExpectSensitiveValue("sirsi_cloud_account.a", tfjsonpath.New("external_id")),
				},
			},
			{
				// Reordering a set is not a change.
				Config:   cloudAccountConfig(env, "123456789012", `["eu-west-1", "us-east-1"]`, "Production"),
				PlanOnly: true,
			},
			{ResourceName: "sirsi_cloud_account.a", ImportState: true, ImportStateVerify: true},
			{ResourceName: "sirsi_cloud_account.a", ImportState: true, ImportStateKind: tfresource.ImportBlockWithID},
			{
				ResourceName:      "sirsi_cloud_account.a",
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: env.tenantScopedImportID("sirsi_cloud_account.a"),
			},
			{
				Config: cloudAccountConfig(env, "123456789012", `["us-west-2"]`, "Prod"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_cloud_account.a", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("regions"), knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("us-west-2")})),
					statecheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("display_name"), knownvalue.StringExact("Prod")),
				},
			},
			{
				Config: cloudAccountConfig(env, "210987654321", `["us-west-2"]`, "Prod"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_cloud_account.a", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("account_id"), knownvalue.StringExact("210987654321")),
				},
			},
		},
	})
}

// The agent's heartbeat changes status, last_seen_at and agent_version
// outside Terraform; a refresh shows them without planning any change.
func TestAccCloudAccount_agentHeartbeat(t *testing.T) {
	env := testAccStart(t)
	config := cloudAccountConfig(env, "123456789012", `["us-east-1"]`, "Production")
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkDestroyed("sirsi_cloud_account", env.getCloudAccount),
		Steps: []tfresource.TestStep{
			{Config: config},
			{
				PreConfig: func() { env.seedAgent(t, env.accountIDByAWSAccount(t, "123456789012"), "ip-10-0-0-1", "1.2.3") },
				Config:    config,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("status"), knownvalue.StringExact("connected")),
					statecheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("agent_version"), knownvalue.StringExact("1.2.3")),
					statecheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("last_seen_at"), rfc3339Check{}),
				},
			},
		},
	})
}

func TestAccCloudAccount_outOfBandDelete(t *testing.T) {
	env := testAccStart(t)
	config := cloudAccountConfig(env, "123456789012", `["us-east-1"]`, "Production")
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkDestroyed("sirsi_cloud_account", env.getCloudAccount),
		Steps: []tfresource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					id := env.accountIDByAWSAccount(t, "123456789012")
					if _, err := env.admin.DeleteCloudAccount(context.Background(), &sirsiv1.DeleteCloudAccountRequest{TenantId: env.tenantID, Id: id}); err != nil {
						t.Fatalf("deleting the cloud account out of band: %v", err)
					}
				},
				Config: config,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_cloud_account.a", plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

func TestAccCloudAccount_invalid(t *testing.T) {
	env := testAccStart(t)
	cfg := func(account, regions, arn string) string {
		return env.tenantProvider() + fmt.Sprintf(`
resource "sirsi_cloud_account" "a" {
  account_id = %q
  regions    = %s
  role_arn   = %q
}
`, account, regions, arn)
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{Config: cfg("12345", `["us-east-1"]`, "arn:aws:iam::123456789012:role/x"), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)account_id.*not a 12-digit`)},
			{Config: cfg("123456789012", `["us-east-9"]`, "arn:aws:iam::123456789012:role/x"), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)regions.*not a known AWS region`)},
			{Config: cfg("123456789012", `[]`, "arn:aws:iam::123456789012:role/x"), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)regions.*at least 1`)},
			{Config: cfg("123456789012", `["us-east-1"]`, "arn:aws:iam::210987654321:role/x"), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)role_arn belongs to account 210987654321`)},
			{Config: cfg("123456789012", `["us-east-1"]`, "not-an-arn"), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)role_arn.*not an IAM role ARN`)},
		},
	})
}
