package agent

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

// TestMetricFreeRecommendationsWithoutCloudWatch: with every CloudWatch
// call failing, the agent still recommends what needs no metrics, exactly
// as the simulated account's own EC2 answers call for: each unattached
// volume (30 days old) snapshot and delete, each attached gp2 volume to
// gp3, each unassociated address released. The failing utilisation sweep
// closes nothing: a recommendation about an instance made before stays
// open. Volumes are estimated at list price (GiB × the us-east-1 rate).
func TestMetricFreeRecommendationsWithoutCloudWatch(t *testing.T) {
	ctx := context.Background()
	sim, err := awssim.New(awssim.Options{Seed: 7, Backfill: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if _, err := sim.SeedFleet(awssim.DefaultAccountID, awssim.FleetSpec{N: 40, Regions: []string{"us-east-1"}, Seed: 11,
		Mix: awssim.FleetMix{Instances: 2, Volumes: 3, Addresses: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetFaults(awssim.FaultConfig{ServerErrorRatio: 1, Services: []string{"monitoring"}}); err != nil {
		t.Fatal(err)
	}

	env := cptest.Start(t, cptest.WithAgentService())
	tn := env.NewTenant(t, "metric-free")
	acct := env.NewCloudAccount(t, tn.ID, awssim.DefaultAccountID)
	pol, err := tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{
		TenantId: tn.ID, Name: "everything", Mode: sirsiv1.PolicyMode_POLICY_MODE_RECOMMEND,
		Rightsizing: &sirsiv1.RightsizingSettings{LookbackDays: 14},
		Schedule:    "0 2 * * *", Timezone: "UTC",
	}})
	if err != nil {
		t.Fatalf("CreateOptimizationPolicy: %v", err)
	}
	policyID := pol.GetOptimizationPolicy().GetId()
	// A utilisation-based recommendation from before CloudWatch failed.
	seeded, _, err := env.Store.Tenant(tn.ID).ApplyRecommendations(ctx, acct.Id, "before", policyID, nil, []*sirsiv1.Recommendation{{
		ResourceId: "i-0123456789abcdef0", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize",
		CurrentSize: "m5.xlarge", ProposedSize: "m5.large", CurrentMonthlyCost: money.USDFromFloat(140.16), ProposedMonthlyCost: money.USDFromFloat(70.08), EstimatedMonthlySavings: money.USDFromFloat(70.08),
	}})
	if err != nil {
		t.Fatal(err)
	}

	// What the account calls for, from its own answers.
	awsCfg, err := awsclient.Load(ctx, awsclient.Options{Region: "us-east-1", Endpoint: srv.URL, Credentials: staticCreds()})
	if err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(awsCfg)
	vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	gbMonth := map[string]float64{"gp2": 0.10, "gp3": 0.08}
	wantCost := map[string]float64{}
	for _, v := range vols.Volumes {
		id := aws.ToString(v.VolumeId)
		wantCost[id] = float64(aws.ToInt32(v.Size)) * gbMonth[string(v.VolumeType)]
		switch {
		case v.State == "available":
			want = append(want, id+" snapshot_and_delete")
		case v.VolumeType == "gp2":
			want = append(want, id+" migrate_gp3")
		}
	}
	for _, a := range addrs.Addresses {
		if aws.ToString(a.AssociationId) == "" {
			want = append(want, aws.ToString(a.AllocationId)+" release")
		}
	}
	slices.Sort(want)
	if len(want) < 3 {
		t.Fatalf("the seeded fleet calls for only %v", want)
	}

	cfg := agentConfig(env, t.TempDir(), env.AgentEndpoint, env.NewEnrollmentToken(t, tn.ID, acct.Id), srv.URL)
	ag := startAgent(t, cfg)
	waitFor(t, "metric-free recommendations", 90*time.Second, func() bool {
		return slices.Equal(openRecommendations(t, tn, policyID, "aws_ec2_instance"), want)
	})
	waitFor(t, "a failed utilisation sweep", 90*time.Second, func() bool {
		return counter(t, ag.reg, "sirsi_agent_sweep_errors_total", map[string]string{"sweep": sweepUtilization}) >= 1
	})
	r, err := tn.Viewer.GetRecommendation(ctx, &sirsiv1.GetRecommendationRequest{TenantId: tn.ID, Id: seeded[0]})
	if err != nil {
		t.Fatal(err)
	}
	if st := r.GetRecommendation().GetStatus(); st != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN {
		t.Errorf("the instance recommendation is %v after CloudWatch failed, want still open", st)
	}

	for _, res := range listResources(t, tn.Viewer, tn.ID) {
		if res.GetType() != "aws_ebs_volume" {
			continue
		}
		if w, ok := wantCost[res.GetResourceId()]; !ok || math.Abs(money.FloatOr(res.GetMonthlyCost(), math.NaN())-w) > 1e-6 || math.IsNaN(money.FloatOr(res.GetMonthlyCost(), math.NaN())) {
			t.Errorf("volume %s (%s) estimated at %v, want %v", res.GetResourceId(), res.GetSize(), res.GetMonthlyCost(), fmt.Sprint(w))
		}
	}
}

// openRecommendations lists the policy's open recommendations as sorted
// "resource_id action" strings, leaving out those of resource type
// leaveOut.
func openRecommendations(t *testing.T, tn *cptest.Tenant, policyID, leaveOut string) []string {
	t.Helper()
	resp, err := tn.Viewer.ListRecommendations(context.Background(), &sirsiv1.ListRecommendationsRequest{TenantId: tn.ID, PolicyId: policyID})
	if err != nil {
		t.Fatalf("ListRecommendations: %v", err)
	}
	var got []string
	for _, r := range resp.GetRecommendations() {
		if r.GetResourceType() != leaveOut {
			got = append(got, r.GetResourceId()+" "+r.GetAction())
		}
	}
	slices.Sort(got)
	return got
}
