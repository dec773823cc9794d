package agent

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim/awstest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/monitor"
)

// TestAgentAgainstMoto runs the agent against moto, an AWS emulator
// written independently of the simulator, whose CloudWatch cannot answer
// the Go SDK (it does not speak the CBOR protocol the SDK uses): every
// utilisation sweep fails. Still, each volume is estimated at list price
// from moto's own description of it (GiB × rate, plus gp3 performance
// above the included baseline), each Elastic IP at $0.005/h in use or
// not, and the decisions that need no metrics appear: every gp2 volume to
// gp3, every unassociated address released.
func TestAgentAgainstMoto(t *testing.T) {
	motoURL := awstest.StartMoto(t)
	ctx := context.Background()
	awsCfg, err := awsclient.Load(ctx, awsclient.Options{Region: "us-east-1", Endpoint: motoURL, Credentials: staticCreds()})
	if err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(awsCfg)
	images, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	if err != nil || len(images.Images) == 0 {
		t.Fatalf("listing moto's AMIs: %v", err)
	}
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: images.Images[0].ImageId, InstanceType: ec2types.InstanceTypeM5Large,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	instance := run.Instances[0]
	for _, v := range []struct {
		typ        ec2types.VolumeType
		gib        int32
		iops, tput int32
		attach     string
	}{
		{typ: "gp2", gib: 100},
		{typ: "gp2", gib: 50, attach: "/dev/sdf"},
		{typ: "gp3", gib: 200, iops: 4000, tput: 250},
		{typ: "gp3", gib: 30},
	} {
		in := &ec2.CreateVolumeInput{AvailabilityZone: instance.Placement.AvailabilityZone, Size: aws.Int32(v.gib), VolumeType: v.typ}
		if v.iops > 0 {
			in.Iops, in.Throughput = aws.Int32(v.iops), aws.Int32(v.tput)
		}
		out, err := c.CreateVolume(ctx, in)
		if err != nil {
			t.Fatalf("CreateVolume %s:%d: %v", v.typ, v.gib, err)
		}
		if v.attach != "" {
			if _, err := c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: out.VolumeId, InstanceId: instance.InstanceId, Device: aws.String(v.attach)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 2 {
		a, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: a.AllocationId, InstanceId: instance.InstanceId}); err != nil {
				t.Fatal(err)
			}
		}
	}

	// moto's own description of the account, and what it should cost and
	// call for. us-east-1 list prices: gp2 $0.10/GB-month, gp3 $0.08 plus
	// $0.005 per IOPS above 3000 and $0.04 per MiB/s above 125; public
	// IPv4 $0.005/h × 730. gp2 volumes here are at most 170 GiB: on gp3
	// they keep 128 MiB/s for $0.12 more, so gp3 is cheaper from 7 GiB.
	vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
	if err != nil {
		t.Fatal(err)
	}
	wantCost := map[string]float64{}
	var want []string
	for _, v := range vols.Volumes {
		id, gib := aws.ToString(v.VolumeId), float64(aws.ToInt32(v.Size))
		switch v.VolumeType {
		case "gp2":
			wantCost[id] = gib * 0.10
			if gib >= 7 {
				want = append(want, id+" migrate_gp3")
			}
		case "gp3":
			wantCost[id] = gib*0.08 + math.Max(0, float64(aws.ToInt32(v.Iops))-3000)*0.005 + math.Max(0, float64(aws.ToInt32(v.Throughput))-125)*0.04
		default:
			t.Fatalf("moto made a %s volume", v.VolumeType)
		}
	}
	for _, a := range addrs.Addresses {
		id := aws.ToString(a.AllocationId)
		wantCost[id] = 0.005 * 730
		if aws.ToString(a.AssociationId) == "" {
			want = append(want, id+" release")
		}
	}
	slices.Sort(want)
	if len(want) < 3 || len(wantCost) < 7 {
		t.Fatalf("moto's account calls for %v and prices %d resources; the test needs more", want, len(wantCost))
	}

	env := cptest.Start(t, cptest.WithAgentService())
	tn := env.NewTenant(t, "moto")
	// One region: moto's thousands of AMI snapshots are discovered in
	// each region listed.
	created, err := env.Client.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: &sirsiv1.CloudAccount{
		TenantId: tn.ID, Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: "123456789012", Regions: []string{"us-east-1"},
		RoleArn: "arn:aws:iam::123456789012:role/sirsi-agent", ExternalId: "moto-external-id",
	}})
	if err != nil {
		t.Fatal(err)
	}
	acct := created.GetCloudAccount()
	pol, err := tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{
		TenantId: tn.ID, Name: "storage-and-addresses", Mode: sirsiv1.PolicyMode_POLICY_MODE_RECOMMEND,
		// moto registers its AMIs' snapshots as the caller's (see the
		// discovery moto test): snapshots are left out of scope.
		ResourceTypes: []string{"aws_ebs_volume", "aws_eip"},
		Schedule:      "0 2 * * *", Timezone: "UTC",
	}})
	if err != nil {
		t.Fatalf("CreateOptimizationPolicy: %v", err)
	}
	policyID := pol.GetOptimizationPolicy().GetId()
	cfg := agentConfig(env, t.TempDir(), env.AgentEndpoint, env.NewEnrollmentToken(t, tn.ID, acct.Id), motoURL)
	ag := startAgent(t, cfg)

	waitFor(t, "metric-free recommendations from moto's account", 120*time.Second, func() bool {
		return slices.Equal(openRecommendations(t, tn, policyID, ""), want)
	})
	waitFor(t, "the utilisation sweep to fail on moto's CloudWatch", 120*time.Second, func() bool {
		return counter(t, ag.reg, "sirsi_agent_sweep_errors_total", map[string]string{"sweep": sweepUtilization}) >= 1
	})
	priced := 0
	for _, res := range listResources(t, tn.Viewer, tn.ID) {
		w, ok := wantCost[res.GetResourceId()]
		if !ok {
			continue
		}
		priced++
		if got := money.FloatOr(res.GetMonthlyCost(), math.NaN()); math.IsNaN(got) || math.Abs(got-w) > 1e-6 {
			t.Errorf("%s %s (%s) estimated at %v, want %v", res.GetType(), res.GetResourceId(), res.GetSize(), res.GetMonthlyCost(), w)
		}
	}
	if priced != len(wantCost) {
		t.Errorf("%d of moto's %d volumes and addresses in the inventory", priced, len(wantCost))
	}
	// moto 5.2.1 does not serve GetCostAndUsageWithResources (it answers
	// 500, like an account without resource-level data answers an error):
	// the pull fails rather than returning no costs, so the agent reports
	// the ledger unverifiable instead of verified at $0.
	costs, err := monitor.NewCosts(monitor.CostOptions{Config: awsCfg, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rcs, err := costs.PullResources(ctx); err == nil {
		t.Errorf("moto answered resource-level costs (%d): the agent would verify the ledger from them", len(rcs))
	}
}
