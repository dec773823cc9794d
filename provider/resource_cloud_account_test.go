package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
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

	"github.com/sirsinexus/terraform-provider-sirsi/internal/agent"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
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

// TestAccCloudAccount_credentialsBlockActions runs a real agent against a
// simulated AWS account whose role trusts only the right external id, with
// an auto policy that would resize the over-provisioned instances. While
// the agent may not assume the role (wrong external_id), and while its
// local role override points at another account, Terraform shows
// assume_role_failed and credentials_mismatch on the cloud account and the
// agent, and not one action is taken. Once Terraform sets the right
// external id the status turns connected and the agent acts: the block
// was the credentials, nothing else.
func TestAccCloudAccount_credentialsBlockActions(t *testing.T) {
	env := testAccStart(t, cptest.WithAgentService())
	// The cloud account is 210987654321; the simulator's default account
	// (where the agent's base credentials and its wrong override lead)
	// has a fleet of its own, which a check-less agent would act on.
	const awsAccount = "210987654321"
	role := "arn:aws:iam::" + awsAccount + ":role/sirsi-agent"
	simURL, fleets := credentialsSim(t, awsAccount, map[string]string{role: "right-external-id"})
	ctx := context.Background()
	if _, err := env.admin.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{
		TenantId: env.tenantID, Name: "rightsize", Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO, ResourceTypes: []string{"aws_ec2_instance"},
		Rightsizing: &sirsiv1.RightsizingSettings{Statistic: sirsiv1.Statistic_STATISTIC_MAX, LookbackDays: 14, HeadroomPercent: 20, MinMonthlySavings: money.USDFromFloat(1)},
		Schedule:    "* * * * *", Timezone: "UTC", Verify: &sirsiv1.VerifySettings{WaitMinutes: 0},
	}}); err != nil {
		t.Fatalf("CreateOptimizationPolicy: %v", err)
	}
	config := func(externalID string) string {
		return env.tenantProvider() + fmt.Sprintf(`
resource "sirsi_cloud_account" "a" {
  account_id  = %q
  regions     = ["us-east-1"]
  role_arn    = %q
  external_id = %q
}

data "sirsi_agents" "all" {
  depends_on = [sirsi_cloud_account.a]
}
`, awsAccount, role, externalID)
	}
	dataDir := t.TempDir()
	var stop func()
	// runAgent (re)starts the agent on one data dir, with roleOverride as
	// its local aws.assume_role_arn.
	runAgent := func(roleOverride string) {
		if stop != nil {
			stop()
		}
		id := env.accountIDByAWSAccount(t, awsAccount)
		stop = startTestAgent(t, env, dataDir, env.cp.NewEnrollmentToken(t, env.tenantID, id), simURL, roleOverride)
	}
	t.Cleanup(func() {
		if stop != nil {
			stop()
		}
	})
	blocked := func(want sirsiv1.CloudAccountStatus, role string) func() {
		return func() {
			runAgent(role)
			env.waitAccountStatus(t, awsAccount, want)
			env.wantNoActions(t)
		}
	}
	statusIs := func(status string, detail *regexp.Regexp) []statecheck.StateCheck {
		return []statecheck.StateCheck{
			statecheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("status"), knownvalue.StringExact(status)),
			statecheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("status_detail"), knownvalue.StringRegexp(detail)),
			statecheck.ExpectKnownValue("data.sirsi_agents.all", tfjsonpath.New("agents"), knownvalue.ListExact([]knownvalue.Check{
				knownvalue.ObjectPartial(map[string]knownvalue.Check{
					"status": knownvalue.StringExact(status), "status_detail": knownvalue.StringRegexp(detail),
				}),
			})),
		}
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkDestroyed("sirsi_cloud_account", env.getCloudAccount),
		Steps: []tfresource.TestStep{
			{Config: config("wrong-external-id")},
			{
				PreConfig:         blocked(sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_ASSUME_ROLE_FAILED, ""),
				Config:            config("wrong-external-id"),
				ConfigStateChecks: statusIs("assume_role_failed", regexp.MustCompile(`AssumeRole of .*sirsi-agent refused: AccessDenied`)),
			},
			{
				// The agent's own override names a role in another account,
				// whose instances the policy would resize.
				PreConfig:         blocked(sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CREDENTIALS_MISMATCH, "arn:aws:iam::"+awssim.DefaultAccountID+":role/other"),
				Config:            config("wrong-external-id"),
				ConfigStateChecks: statusIs("credentials_mismatch", regexp.MustCompile(`belong to AWS account `+awssim.DefaultAccountID+`, not the cloud account's `+awsAccount)),
			},
			{
				PreConfig: func() { runAgent("") },
				Config:    config("right-external-id"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_cloud_account.a", plancheck.ResourceActionUpdate),
				}},
			},
			{
				PreConfig: func() {
					env.waitAccountStatus(t, awsAccount, sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CONNECTED)
					env.waitForAction(t)
					for _, a := range env.listActions(t) {
						if !fleets[awsAccount][a.GetResourceId()] {
							t.Errorf("action on %s, which is not an instance of the cloud account's AWS account", a.GetResourceId())
						}
					}
				},
				Config: config("right-external-id"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("status"), knownvalue.StringExact("connected")),
					statecheck.ExpectKnownValue("sirsi_cloud_account.a", tfjsonpath.New("status_detail"), knownvalue.Null()),
					statecheck.ExpectKnownValue("data.sirsi_agents.all", tfjsonpath.New("agents"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"status": knownvalue.StringExact("connected"), "status_detail": knownvalue.Null()}),
					})),
				},
			},
		},
	})
}

// credentialsSim serves two simulated accounts, the default one and
// account, each with over-provisioned instances and 30 days of their
// history, whose roles trust only the given external ids. It returns the
// instance ids of each account.
func credentialsSim(t *testing.T, account string, externalIDs map[string]string) (string, map[string]map[string]bool) {
	t.Helper()
	const accountKey = "AKIDOTHERACCOUNT"
	sim, err := awssim.New(awssim.Options{Seed: 5, Backfill: 30 * 24 * time.Hour, RoleExternalIDs: externalIDs,
		Accounts: map[string]string{accountKey: account}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	fleets := map[string]map[string]bool{}
	for acct, key := range map[string]string{awssim.DefaultAccountID: "AKIDACCTEST", account: accountKey} {
		cfg, err := awsclient.Load(context.Background(), awsclient.Options{Region: "us-east-1", Endpoint: srv.URL,
			Credentials: awscreds.NewStaticCredentialsProvider(key, "secret", "")})
		if err != nil {
			t.Fatal(err)
		}
		man, err := awssim.GenerateFleet(context.Background(), cfg, awssim.FleetSpec{N: 12, Regions: []string{"us-east-1"}, Seed: 3,
			Mix: awssim.FleetMix{Instances: 1}, PollInterval: 10 * time.Millisecond})
		if err != nil {
			t.Fatalf("GenerateFleet in %s: %v", acct, err)
		}
		fleets[acct] = map[string]bool{}
		for _, r := range man.Resources {
			fleets[acct][r.ID] = true
		}
	}
	return srv.URL, fleets
}

// startTestAgent runs an agent in this process until the returned stop.
func startTestAgent(t *testing.T, env *accEnv, dir, token, simURL, roleOverride string) func() {
	t.Helper()
	a, err := agent.New(agent.Config{
		DataDir: dir, Servers: []string{env.cp.AgentEndpoint}, CACertPEM: env.cp.CACertPEM, EnrollToken: token, Version: "test",
		AWS: awsclient.Options{Region: "us-east-1", Endpoint: simURL, AssumeRoleARN: roleOverride,
			Credentials: awscreds.NewStaticCredentialsProvider("AKIDACCTEST", "secret", "")},
		DiscoverySchedule: "@every 2s", UtilizationSchedule: "@every 2s", CostSchedule: "@every 1h", OptimizeSchedule: "@every 1s",
		ActionPollInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("agent.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent.Run: %v", err)
		}
	}
}

func (e *accEnv) waitAccountStatus(t *testing.T, awsAccount string, want sirsiv1.CloudAccountStatus) {
	t.Helper()
	id := e.accountIDByAWSAccount(t, awsAccount)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := e.admin.GetCloudAccount(context.Background(), &sirsiv1.GetCloudAccountRequest{TenantId: e.tenantID, Id: id})
		if err != nil {
			t.Fatalf("GetCloudAccount: %v", err)
		}
		if out.GetCloudAccount().GetStatus() == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cloud account status %v after 2m, want %v (%s)", out.GetCloudAccount().GetStatus(), want, out.GetCloudAccount().GetStatusDetail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *accEnv) listActions(t *testing.T) []*sirsiv1.Action {
	t.Helper()
	out, err := e.admin.ListActions(context.Background(), &sirsiv1.ListActionsRequest{TenantId: e.tenantID})
	if err != nil {
		t.Fatalf("ListActions: %v", err)
	}
	return out.GetActions()
}

// wantNoActions: a blocked agent has reported no action and no
// recommendation (it did not even sweep).
func (e *accEnv) wantNoActions(t *testing.T) {
	t.Helper()
	if acts := e.listActions(t); len(acts) != 0 {
		t.Fatalf("%d actions taken with wrong credentials: %v", len(acts), acts)
	}
	recs, err := e.admin.ListRecommendations(context.Background(), &sirsiv1.ListRecommendationsRequest{TenantId: e.tenantID})
	if err != nil {
		t.Fatalf("ListRecommendations: %v", err)
	}
	if n := len(recs.GetRecommendations()); n != 0 {
		t.Fatalf("%d recommendations made with wrong credentials", n)
	}
}

func (e *accEnv) waitForAction(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for len(e.listActions(t)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no action within 2m of the credentials being right")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
