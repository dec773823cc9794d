package agent

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

// TestAutoPolicySkipsAreVisibleThroughTheAPI runs a real control plane and
// agent over the simulator, an auto policy without dry run: five equally
// over-provisioned instances are recommended a smaller type; the plain one
// is resized, while the Auto Scaling group member, the EKS node, the
// instance-store-root instance and the one carrying the policy's exclude
// tag are never acted on (no action, still running at their type in
// AWS), and the API shows each one's recommendation open with its skip
// reason and detail, by ListRecommendations and GetRecommendation alike.
func TestAutoPolicySkipsAreVisibleThroughTheAPI(t *testing.T) {
	sim, simURL, awsCfg := emptySimulator(t)
	ctx := context.Background()
	const region, big, storeAMI = "us-east-1", "m5.2xlarge", "ami-0fedcba987654321f"
	if err := sim.SetImageRootDeviceType(storeAMI, "instance-store"); err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(awsCfg)
	launch := func(ami string, tags map[string]string) string {
		t.Helper()
		set := []ec2types.Tag{{Key: aws.String(awssim.ProfileTag), Value: aws.String(string(awssim.ProfileOverProvisioned))}}
		for k, v := range tags {
			set = append(set, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: big, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: set}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	const ami = "ami-0abcdef1234567890"
	plain := launch(ami, nil)
	asg := launch(ami, nil)
	eks := launch(ami, nil)
	store := launch(storeAMI, nil)
	excluded := launch(ami, map[string]string{"team": "payments"})
	for id, tags := range map[string]map[string]string{asg: {"aws:autoscaling:groupName": "web-asg"}, eks: {"eks:cluster-name": "prod"}} {
		if err := sim.SetSystemTags(sim.AccountID(), region, id, tags); err != nil {
			t.Fatal(err)
		}
	}
	all := []string{plain, asg, eks, store, excluded}
	if err := ec2.NewInstanceRunningWaiter(c, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	}).
		Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: all}, 30*time.Second); err != nil {
		t.Fatal(err)
	}

	env := cptest.Start(t, cptest.WithAgentService())
	tn := env.NewTenant(t, "skips")
	acct := env.NewCloudAccount(t, tn.ID, awssim.DefaultAccountID)
	five := int32(5)
	pol, err := tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{
		TenantId: tn.ID, Name: "rightsize", Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO,
		ResourceTypes: []string{"aws_ec2_instance"},
		Selector:      &sirsiv1.PolicySelector{ExcludeTags: map[string]string{"team": "payments"}},
		Rightsizing: &sirsiv1.RightsizingSettings{Statistic: sirsiv1.Statistic_STATISTIC_MAX, LookbackDays: 14, HeadroomPercent: 20,
			MinMonthlySavings: money.USDFromFloat(1)},
		Schedule: "* * * * *", Timezone: "UTC", MaxActionsPerRun: &five,
		Verify: &sirsiv1.VerifySettings{WaitMinutes: 0},
	}})
	if err != nil {
		t.Fatalf("CreateOptimizationPolicy: %v", err)
	}
	policyID := pol.GetOptimizationPolicy().GetId()
	cfg := agentConfig(env, t.TempDir(), env.AgentEndpoint, env.NewEnrollmentToken(t, tn.ID, acct.Id), simURL)
	cfg.OptimizeSchedule, cfg.ActionPollInterval = "@every 1s", 20*time.Millisecond
	startAgent(t, cfg)

	// The plain instance's resize runs in the same policy run as any other
	// would (all five are decided in one report, and max_actions_per_run
	// leaves room for all): once it is reported, an action on another
	// would have started too.
	listed := func(st sirsiv1.RecommendationStatus) map[string]*sirsiv1.Recommendation {
		t.Helper()
		resp, err := tn.Viewer.ListRecommendations(ctx, &sirsiv1.ListRecommendationsRequest{TenantId: tn.ID, PolicyId: policyID, Status: st})
		if err != nil {
			t.Fatalf("ListRecommendations: %v", err)
		}
		out := map[string]*sirsiv1.Recommendation{}
		for _, r := range resp.GetRecommendations() {
			out[r.GetResourceId()] = r
		}
		return out
	}
	waitFor(t, "the plain instance's resize", 90*time.Second, func() bool {
		return listed(sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED)[plain] != nil
	})

	acts, err := tn.Viewer.ListActions(ctx, &sirsiv1.ListActionsRequest{TenantId: tn.ID})
	if err != nil {
		t.Fatalf("ListActions: %v", err)
	}
	if n := len(acts.GetActions()); n != 1 || acts.GetActions()[0].GetResourceId() != plain ||
		acts.GetActions()[0].GetStatus() != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
		t.Fatalf("actions %v, want one, the plain instance's resize, succeeded", acts.GetActions())
	}
	desc, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: all})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range desc.Reservations {
		for _, in := range res.Instances {
			id := aws.ToString(in.InstanceId)
			if id == plain {
				continue
			}
			if in.State.Name != ec2types.InstanceStateNameRunning || in.InstanceType != big {
				t.Errorf("%s (never to be acted on) is %s at %s, want running at %s", id, in.State.Name, in.InstanceType, big)
			}
		}
	}

	want := map[string]struct {
		reason sirsiv1.SkipReason
		detail string
	}{
		asg:      {sirsiv1.SkipReason_SKIP_REASON_AUTO_SCALING_GROUP, "never stopped or resized by the agent: a member of Auto Scaling group web-asg"},
		eks:      {sirsiv1.SkipReason_SKIP_REASON_EKS_NODE, "never stopped or resized by the agent: a node of EKS cluster prod"},
		store:    {sirsiv1.SkipReason_SKIP_REASON_INSTANCE_STORE_ROOT, "never stopped or resized by the agent: its root device is instance store"},
		excluded: {sirsiv1.SkipReason_SKIP_REASON_EXCLUDED, "excluded: carries the policy's exclude tag team=payments"},
	}
	open := listed(sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN)
	// Advice the agent has no action for (the Savings Plan the five
	// instances' spend suggests) carries no skip reason: it is not left
	// alone, it is never the agent's.
	for id, r := range open {
		if r.GetAction() == "commit_savings_plan" {
			if r.GetSkipReason() != sirsiv1.SkipReason_SKIP_REASON_UNSPECIFIED {
				t.Errorf("advice %s has skip reason %v", id, r.GetSkipReason())
			}
			delete(open, id)
		}
	}
	if len(open) != len(want) {
		t.Errorf("%d open recommendations, want the %d skipped ones: %v", len(open), len(want), open)
	}
	for id, w := range want {
		r := open[id]
		if r == nil {
			t.Errorf("%s has no open recommendation", id)
			continue
		}
		got, err := tn.Viewer.GetRecommendation(ctx, &sirsiv1.GetRecommendationRequest{TenantId: tn.ID, Id: r.GetId()})
		if err != nil {
			t.Fatalf("GetRecommendation: %v", err)
		}
		for how, r := range map[string]*sirsiv1.Recommendation{"listed": r, "got": got.GetRecommendation()} {
			if r.GetSkipReason() != w.reason || !strings.HasPrefix(r.GetSkipDetail(), w.detail) || r.GetAction() != "resize" ||
				r.GetCurrentSize() != big || r.GetProposedSize() == "" || r.GetPolicyId() != policyID || r.GetCloudAccountId() != acct.Id ||
				r.GetRegion() != region || r.GetStatus() != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN {
				t.Errorf("%s (%s): %s %s to %s, %v, skip %v %q; want open with skip %v %q...", id, how, r.GetAction(), r.GetCurrentSize(), r.GetProposedSize(),
					r.GetStatus(), r.GetSkipReason(), r.GetSkipDetail(), w.reason, w.detail)
			}
		}
	}
	if r := listed(sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED)[plain]; r.GetSkipReason() != sirsiv1.SkipReason_SKIP_REASON_UNSPECIFIED || r.GetSkipDetail() != "" {
		t.Errorf("the resized instance's recommendation has skip %v %q", r.GetSkipReason(), r.GetSkipDetail())
	}
}
