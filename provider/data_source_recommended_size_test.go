package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/ledger"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

func TestRecommendedSizeDataSourceSchema(t *testing.T) {
	checkDataSourceDocs(t, NewRecommendedSizeDataSource())
}

func TestCheckCurrentSize(t *testing.T) {
	for _, tc := range []struct {
		typ, size, want string
	}{
		{"aws_ec2_instance", "m5.2xlarge", ""},
		{"aws_ec2_instance", "m5.2xlarg", `(?s)current = "m5.2xlarg".*Closest known: .*m5.2xlarge`},
		{"aws_rds_instance", "m5.large", `current = "m5.large" is not a size of aws_rds_instance`},
		{"aws_lambda_function", "1024", ""},
		{"aws_lambda_function", "64", `from 128 to 10240`},
	} {
		diags := checkCurrentSize(tc.typ, tc.size)
		if tc.want == "" {
			if diags.HasError() {
				t.Errorf("%s %s: %v", tc.typ, tc.size, diags)
			}
			continue
		}
		if diags.ErrorsCount() != 1 || !regexp.MustCompile(tc.want).MatchString(diags.Errors()[0].Detail()) {
			t.Errorf("%s %s: %v, want one error matching %s", tc.typ, tc.size, diags, tc.want)
		}
	}
}

// Choosing among recommendations: approved over open over executed at the
// resource's size; only_approved reports an open one without its size;
// another account's, another policy's, or a stop is never the answer.
func TestChooseSize(t *testing.T) {
	res := &sirsiv1.Resource{ResourceId: "i-1", CloudAccountId: "ca", Region: "us-east-1", Type: "aws_ec2_instance", Size: "m5.large"}
	pols := []*sirsiv1.OptimizationPolicy{{Id: "p"}}
	rec := func(id, policy, account, action, to string, st sirsiv1.RecommendationStatus, save float64, updated int64) *sirsiv1.Recommendation {
		return &sirsiv1.Recommendation{Id: id, PolicyId: policy, CloudAccountId: account, Region: "us-east-1", Action: action,
			CurrentSize: "m5.2xlarge", ProposedSize: to, Status: st, EstimatedMonthlySavings: money.USDFromFloat(save), UpdateTime: timestamppb.New(time.Unix(updated, 0))}
	}
	open, approved, executed := sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN, sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED,
		sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED
	noise := []*sirsiv1.Recommendation{
		rec("other-policy", "q", "ca", "resize", "t3.nano", open, 900, 1),
		rec("other-account", "p", "cb", "resize", "t3.nano", open, 900, 1),
		rec("a-stop", "p", "ca", "stop", "", open, 900, 1),
		rec("executed-elsewhere", "p", "ca", "resize", "m5.xlarge", executed, 900, 9),
	}
	for _, tc := range []struct {
		name         string
		recs         []*sirsiv1.Recommendation
		onlyApproved bool
		size, id     string
	}{
		{"nothing", noise, false, "m5.2xlarge", ""},
		{"open", append(noise, rec("o1", "p", "ca", "resize", "m5.xlarge", open, 10, 1), rec("o2", "p", "ca", "resize", "m5.large", open, 20, 1)), false, "m5.large", "o2"},
		{"open, only approved", append(noise, rec("o1", "p", "ca", "resize", "m5.xlarge", open, 10, 1)), true, "m5.2xlarge", "o1"},
		{"approved first", append(noise, rec("o1", "p", "ca", "resize", "m5.large", open, 90, 1), rec("a1", "p", "ca", "resize", "m5.xlarge", approved, 10, 1)), true, "m5.xlarge", "a1"},
		{"executed at size", append(noise, rec("e1", "p", "ca", "resize", "m5.large", executed, 10, 1), rec("e2", "p", "ca", "resize", "m5.large", executed, 10, 5)), false, "m5.large", "e2"},
		{"executed, then a new open one", append(noise, rec("e1", "p", "ca", "resize", "m5.large", executed, 10, 1), rec("o1", "p", "ca", "resize", "m5.medium", open, 10, 5)), false, "m5.medium", "o1"},
		{"executed, new open one unapproved", append(noise, rec("e1", "p", "ca", "resize", "m5.large", executed, 10, 1), rec("o1", "p", "ca", "resize", "m5.medium", open, 10, 5)), true, "m5.large", "e1"},
	} {
		got := chooseSize(res, pols, tc.recs, "m5.2xlarge", tc.onlyApproved)
		if got.size != tc.size || got.rec.GetId() != tc.id || got.reason == "" {
			t.Errorf("%s: size %q from %q (%s), want %q from %q", tc.name, got.size, got.rec.GetId(), got.reason, tc.size, tc.id)
		}
	}
}

// rightsizeFleet is the dev fleet's EC2 part in a simulated account (the
// simulator's default one, 30 days of history) with an agent of the
// tenant running against it under a right-sizing policy of the given
// mode and execution. It returns the fleet, the policy's id and the
// simulator's EC2 client.
type rightsizeFleet struct {
	man      awssim.FleetManifest
	policyID string
	ec2      *ec2.Client
	account  string
}

func startRightsizeFleet(t *testing.T, env *accEnv, mode sirsiv1.PolicyMode, execution sirsiv1.Execution) *rightsizeFleet {
	t.Helper()
	sim, err := awssim.New(awssim.Options{Seed: 5, Backfill: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Region: "us-east-1", Endpoint: srv.URL,
		Credentials: awscreds.NewStaticCredentialsProvider("AKIDACCTEST", "secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	man, err := awssim.GenerateFleet(context.Background(), cfg, awssim.FleetSpec{N: 12, Regions: []string{"us-east-1"}, Seed: 3,
		Mix: awssim.FleetMix{Instances: 1}, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatalf("GenerateFleet: %v", err)
	}
	pol, err := env.admin.CreateOptimizationPolicy(context.Background(), &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{
		TenantId: env.tenantID, Name: "rightsize", Mode: mode, Execution: execution, ResourceTypes: []string{"aws_ec2_instance"},
		Rightsizing: &sirsiv1.RightsizingSettings{Statistic: sirsiv1.Statistic_STATISTIC_MAX, LookbackDays: 14, HeadroomPercent: 20, MinMonthlySavings: money.USDFromFloat(1)},
		Schedule:    "* * * * *", Timezone: "UTC", Verify: &sirsiv1.VerifySettings{WaitMinutes: 0},
	}})
	if err != nil {
		t.Fatalf("CreateOptimizationPolicy: %v", err)
	}
	account := env.createCloudAccount(t, awssim.DefaultAccountID)
	stop := startTestAgent(t, env, t.TempDir(), env.cp.NewEnrollmentToken(t, env.tenantID, account), srv.URL, "")
	t.Cleanup(stop)
	return &rightsizeFleet{man: man, policyID: pol.GetOptimizationPolicy().GetId(), ec2: ec2.NewFromConfig(cfg), account: account}
}

// instance is the first instance of the fleet with the profile.
func (f *rightsizeFleet) instance(t *testing.T, p awssim.Profile) awssim.FleetResource {
	t.Helper()
	for _, r := range f.man.Resources {
		if r.Kind == "instance" && r.Profile == p {
			return r
		}
	}
	t.Fatalf("the fleet has no %s instance", p)
	return awssim.FleetResource{}
}

// waitRecommendation waits for the agent's open resize recommendation for
// the instance and returns it.
func (e *accEnv) waitRecommendation(t *testing.T, id string) *sirsiv1.Recommendation {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := e.admin.ListRecommendations(context.Background(), &sirsiv1.ListRecommendationsRequest{TenantId: e.tenantID, ResourceId: id})
		if err != nil {
			t.Fatalf("ListRecommendations: %v", err)
		}
		for _, r := range out.GetRecommendations() {
			if r.GetAction() == "resize" {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no resize recommendation for %s within 2m", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitResources waits until the control plane holds the whole fleet.
func (e *accEnv) waitResources(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := e.admin.ListResources(context.Background(), &sirsiv1.ListResourcesRequest{TenantId: e.tenantID, Type: "aws_ec2_instance"})
		if err != nil {
			t.Fatalf("ListResources: %v", err)
		}
		if len(out.GetResources()) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d instances discovered within 2m, want %d", len(out.GetResources()), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestAccRecommendedSizeDataSource runs a real agent over the dev fleet's
// instances: the data source answers the agent's proposed size for an
// over-provisioned instance and current for a right-sized one, a
// terraform_data consuming it shows the change in the plan, and every bad
// input fails the plan naming the argument.
func TestAccRecommendedSizeDataSource(t *testing.T) {
	env := testAccStart(t, cptest.WithAgentService())
	fleet := startRightsizeFleet(t, env, sirsiv1.PolicyMode_POLICY_MODE_RECOMMEND, sirsiv1.Execution_EXECUTION_AGENT)
	over, right := fleet.instance(t, awssim.ProfileOverProvisioned), fleet.instance(t, awssim.ProfileRightSized)
	env.waitResources(t, fleet.man.Count("instance"))
	rec := env.waitRecommendation(t, over.ID)
	if rec.GetCurrentSize() != over.Type || rec.GetProposedSize() == over.Type || rec.GetProposedSize() == "" {
		t.Fatalf("recommendation for %s (%s) proposes %q from %q", over.ID, over.Type, rec.GetProposedSize(), rec.GetCurrentSize())
	}
	lambdaOnly, err := env.admin.CreateOptimizationPolicy(context.Background(), &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{
		TenantId: env.tenantID, Name: "functions", ResourceTypes: []string{"aws_lambda_function"}, Rightsizing: &sirsiv1.RightsizingSettings{LookbackDays: 14},
	}})
	if err != nil {
		t.Fatalf("CreateOptimizationPolicy: %v", err)
	}
	sized := func(name, args string) string {
		return fmt.Sprintf("data \"sirsi_recommended_size\" %q {\n  resource_type = \"aws_ec2_instance\"\n%s\n}\n", name, args)
	}
	byName := func(r awssim.FleetResource) string {
		return fmt.Sprintf("  tags = { Name = %q }\n  current = %q", r.Tags["Name"], r.Type)
	}
	web := func(input string) string {
		return fmt.Sprintf("resource \"terraform_data\" \"web\" {\n  input = %s\n}\n", input)
	}
	good := env.tenantProvider() + sized("over", byName(over)) + sized("right", fmt.Sprintf("  resource_id = %q\n  current = %q", right.ID, right.Type))
	over0 := "data.sirsi_recommended_size.over"
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config:      env.tenantProvider() + sized("all", "  tags = { \"sirsi-sim:fleet\" = \"3\" }\n  current = \"m5.large\""),
				ExpectError: regexp.MustCompile(`(?s)Several discovered resources match.*tags.*12 of the discovered\s+aws_ec2_instance\s+resources\s+carry.*` + over.ID),
			},
			{
				Config:      env.tenantProvider() + sized("none", "  tags = { Name = \"no-such-host\" }\n  current = \"m5.large\""),
				ExpectError: regexp.MustCompile(`(?s)No discovered resource matches.*tags.*Name=no-such-host`),
			},
			{
				Config:      env.tenantProvider() + sized("typo", "  tags = { Name = \"x\" }\n  current = \"m5.2xlarg\""),
				ExpectError: regexp.MustCompile(`(?s)Unknown current size.*current.*Closest\s+known:.*m5.2xlarge`),
			},
			{
				Config:      env.tenantProvider() + sized("both", byName(over)+fmt.Sprintf("\n  resource_id = %q", over.ID)),
				ExpectError: regexp.MustCompile(`(?s)Invalid Attribute Combination`),
			},
			{
				Config:      env.tenantProvider() + sized("uncovered", byName(over)+fmt.Sprintf("\n  policy_id = %q", lambdaOnly.GetOptimizationPolicy().GetId())),
				ExpectError: regexp.MustCompile(`(?s)Resource type not covered by a policy.*policy_id.*functions .* covers\s+aws_lambda_function,\s+not\s+aws_ec2_instance`),
			},
			{
				Config:      env.tenantProvider() + "data \"sirsi_recommended_size\" \"x\" {\n  resource_type = \"aws_ebs_volume\"\n  resource_id = \"vol-1\"\n  current = \"gp2\"\n}\n",
				ExpectError: regexp.MustCompile(`(?s)resource_type.*value must be one of`),
			},
			{
				// The configuration as written: the current size.
				Config: good + web(fmt.Sprintf("%q", over.Type)),
			},
			{
				Config: good + web(over0+".size"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("terraform_data.web", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("terraform_data.web", tfjsonpath.New("input"), knownvalue.StringExact(rec.GetProposedSize())),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(over0, tfjsonpath.New("size"), knownvalue.StringExact(rec.GetProposedSize())),
					statecheck.ExpectKnownValue(over0, tfjsonpath.New("resource_id"), knownvalue.StringExact(over.ID)),
					statecheck.ExpectKnownValue(over0, tfjsonpath.New("discovered_size"), knownvalue.StringExact(over.Type)),
					statecheck.ExpectKnownValue(over0, tfjsonpath.New("recommendation_id"), knownvalue.StringExact(rec.GetId())),
					statecheck.ExpectKnownValue(over0, tfjsonpath.New("status"), knownvalue.StringExact("open")),
					statecheck.ExpectKnownValue(over0, tfjsonpath.New("estimated_monthly_savings"), moneyCheck(rec.GetEstimatedMonthlySavings())),
					statecheck.ExpectKnownValue(over0, tfjsonpath.New("currency"), knownvalue.StringExact("USD")),
					statecheck.ExpectKnownValue(over0, tfjsonpath.New("only_approved"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(over0, tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
					statecheck.ExpectKnownValue("terraform_data.web", tfjsonpath.New("output"), knownvalue.StringExact(rec.GetProposedSize())),
					statecheck.ExpectKnownValue("data.sirsi_recommended_size.right", tfjsonpath.New("size"), knownvalue.StringExact(right.Type)),
					statecheck.ExpectKnownValue("data.sirsi_recommended_size.right", tfjsonpath.New("recommendation_id"), knownvalue.Null()),
					statecheck.ExpectKnownValue("data.sirsi_recommended_size.right", tfjsonpath.New("status"), knownvalue.Null()),
					statecheck.ExpectKnownValue("data.sirsi_recommended_size.right", tfjsonpath.New("reason"),
						knownvalue.StringRegexp(regexp.MustCompile(`No right-sizing recommendation for aws_ec2_instance `+right.ID))),
				},
			},
			{
				// Only approved recommendations count: current until approved.
				Config: env.tenantProvider() + sized("over", byName(over)+"\n  only_approved = true") + web(over0+".size"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("terraform_data.web", tfjsonpath.New("input"), knownvalue.StringExact(over.Type)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(over0, tfjsonpath.New("status"), knownvalue.StringExact("open")),
				},
			},
		},
	})
}

// resize changes the instance's type through the EC2 API, outside the
// agent, the way a Terraform apply of aws_instance does: stop, modify,
// start.
func (f *rightsizeFleet) resize(t *testing.T, id, to string) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatalf("StopInstances %s: %v", id, err)
	}
	if err := ec2.NewInstanceStoppedWaiter(f.ec2, func(o *ec2.InstanceStoppedWaiterOptions) { o.MinDelay = 10 * time.Millisecond }).
		Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, time.Minute); err != nil {
		t.Fatalf("waiting for %s to stop: %v", id, err)
	}
	if _, err := f.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
		InstanceType: &ec2types.AttributeValue{Value: aws.String(to)}}); err != nil {
		t.Fatalf("ModifyInstanceAttribute %s to %s: %v", id, to, err)
	}
	if _, err := f.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatalf("StartInstances %s: %v", id, err)
	}
}

// waitExecuted waits for the recommendation to close as executed.
func (e *accEnv) waitExecuted(t *testing.T, id string) *sirsiv1.Recommendation {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := e.admin.GetRecommendation(context.Background(), &sirsiv1.GetRecommendationRequest{TenantId: e.tenantID, Id: id})
		if err != nil {
			t.Fatalf("GetRecommendation: %v", err)
		}
		if r := out.GetRecommendation(); r.GetStatus() == sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("recommendation %s is %v 2m after the resize", id, out.GetRecommendation().GetStatus())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestAccRecommendedSizeExecutedByTerraform closes the loop under a policy
// whose right-sizing Terraform carries out (auto mode, so the agent would
// otherwise resize): the agent takes no action; the configuration's
// terraform_data shows the recommended size in the plan; the instance is
// resized to it through the EC2 API outside the agent, as the pipeline's
// apply would; the recommendation closes as executed by "external", the
// data source keeps the size, and sirsi_savings credits hours x the
// recommendation's hourly difference from the sweep that saw the change.
func TestAccRecommendedSizeExecutedByTerraform(t *testing.T) {
	env := testAccStart(t, cptest.WithAgentService())
	fleet := startRightsizeFleet(t, env, sirsiv1.PolicyMode_POLICY_MODE_AUTO, sirsiv1.Execution_EXECUTION_TERRAFORM)
	over := fleet.instance(t, awssim.ProfileOverProvisioned)
	rec := env.waitRecommendation(t, over.ID)
	ds := "data.sirsi_recommended_size.web"
	config := env.tenantProvider() + fmt.Sprintf(`
data "sirsi_recommended_size" "web" {
  resource_type = "aws_ec2_instance"
  tags          = { Name = %q }
  current       = %q
  only_approved = %t
}

resource "terraform_data" "web" {
  input = data.sirsi_recommended_size.web.size
}

data "sirsi_savings" "all" {
  depends_on = [terraform_data.web]
}
`, over.Tags["Name"], over.Type, false)
	var executed *sirsiv1.Recommendation
	hourly := ledger.HourlyFromMonthly(rec.GetCurrentMonthlyCost().GetMicros()) - ledger.HourlyFromMonthly(rec.GetProposedMonthlyCost().GetMicros())
	dollars := func(micros int64) knownvalue.Check { return moneyCheck(money.Micros(micros, money.USD)) }
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("terraform_data.web", tfjsonpath.New("input"), knownvalue.StringExact(rec.GetProposedSize())),
				}},
			},
			{
				// The pipeline's apply resizes the instance; the agent's next
				// sweep sees it.
				PreConfig: func() {
					fleet.resize(t, over.ID, rec.GetProposedSize())
					executed = env.waitExecuted(t, rec.GetId())
					if executed.GetExecutedBy() != ledger.ExecutedByExternal {
						t.Fatalf("recommendation executed by %q, want external", executed.GetExecutedBy())
					}
					if acts := env.listActions(t); len(acts) != 0 {
						t.Fatalf("the agent acted under a policy Terraform executes: %v", acts)
					}
					// Ten hours after the sweep saw the change.
					env.cp.Clock.Set(executed.GetUpdateTime().AsTime().Add(10 * time.Hour))
				},
				Config: strings.Replace(config, "only_approved = false", "only_approved = true", 1),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("terraform_data.web", plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("size"), knownvalue.StringExact(rec.GetProposedSize())),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("discovered_size"), knownvalue.StringExact(rec.GetProposedSize())),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("recommendation_id"), knownvalue.StringExact(rec.GetId())),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("status"), knownvalue.StringExact("executed")),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("executed_by"), knownvalue.StringExact("external")),
					statecheck.ExpectKnownValue("data.sirsi_savings.all", tfjsonpath.New("actions_taken"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue("data.sirsi_savings.all", tfjsonpath.New("to_date").AtMapKey("accrued_savings"), dollars(10*hourly)),
					statecheck.ExpectKnownValue("data.sirsi_savings.all", tfjsonpath.New("to_date").AtMapKey("by_action_type"),
						knownvalue.MapExact(map[string]knownvalue.Check{"resize": dollars(10 * hourly)})),
					statecheck.ExpectKnownValue("data.sirsi_savings.all", tfjsonpath.New("to_date").AtMapKey("by_policy"),
						knownvalue.MapExact(map[string]knownvalue.Check{fleet.policyID: dollars(10 * hourly)})),
					statecheck.ExpectKnownValue("data.sirsi_savings.all", tfjsonpath.New("monthly_run_rate"), dollars(hourly*730)),
					statecheck.ExpectKnownValue("data.sirsi_savings.all", tfjsonpath.New("open_entries"), knownvalue.Int64Exact(1)),
				},
			},
		},
	})
}

// moneyCheck is the value a money attribute holds for m: cents, as a float.
func moneyCheck(m *sirsiv1.Money) knownvalue.Check {
	v, _ := money.CentsFloat(m)
	return knownvalue.Float64Exact(v)
}
