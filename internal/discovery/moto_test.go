package discovery

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim/awstest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// motoDeviations are where moto departs from AWS in what this test sees,
// and how the test accommodates each.
var motoDeviations = map[string]string{
	"AMI snapshots": "moto registers the snapshots behind its built-in AMIs as owned by the caller's account, so " +
		"DescribeSnapshots OwnerIds=self returns them (over 2,000 in this test); on AWS public AMIs' snapshots belong to " +
		"Amazon. The test lists them before creating anything and leaves them out of the comparison.",
}

// TestDiscoveryAgainstMoto runs the collectors against moto, an AWS
// emulator written independently of the simulator: a fleet of every kind
// created through the SDK in two regions must come back exactly.
func TestDiscoveryAgainstMoto(t *testing.T) {
	motoURL := awstest.StartMoto(t)
	ctx := context.Background()
	regions := []string{"us-east-1", "eu-west-1"}
	cfg := awsConfig(t, motoURL, awsclient.Options{})

	// moto launches only AMIs it knows and gives functions only roles that
	// exist in its IAM (created with the CLI: the module pins no IAM client).
	images, err := ec2.NewFromConfig(cfg).DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	if err != nil || len(images.Images) == 0 {
		t.Fatalf("listing moto's AMIs: %v", err)
	}
	awstest.CLI(t, motoURL, "iam", "create-role", "--role-name", "sim-lambda", "--assume-role-policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	man, err := awssim.GenerateFleet(ctx, cfg, awssim.FleetSpec{N: 18, Regions: regions, Seed: 21,
		ImageID: aws.ToString(images.Images[0].ImageId), PollInterval: 20 * time.Millisecond,
		Mix: awssim.FleetMix{Instances: 4, Volumes: 4, Addresses: 2, DBInstances: 2, Buckets: 2, Functions: 2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"instance", "volume", "address", "db-instance", "bucket", "function"} {
		if man.Count(kind) < 2 {
			t.Fatalf("the fleet has %d of kind %s; the test needs one per region", man.Count(kind), kind)
		}
	}
	preexisting := motoSnapshots(t, cfg, regions)
	want := append(fromManifest(man), createSnapshot(t, cfg, man))

	snap, err := newDiscoverer(t, Options{Config: cfg, Regions: regions}).Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Incomplete) > 0 {
		t.Fatalf("incomplete units against moto: %v", snap.Incomplete)
	}
	t.Logf("known moto deviation: %s", motoDeviations["AMI snapshots"])
	n := len(snap.Resources)
	snap.Resources = slices.DeleteFunc(snap.Resources, func(r *sirsiv1.Resource) bool {
		return r.Type == validation.ResourceEBSSnapshot && preexisting[r.ResourceId]
	})
	if n-len(snap.Resources) != len(preexisting) {
		t.Fatalf("the sweep returned %d of moto's %d AMI snapshots", n-len(snap.Resources), len(preexisting))
	}
	// moto keeps its own state, so root volumes are recognised by shape:
	// not created by the fleet, untagged, attached to a fleet instance, one
	// per instance.
	instances := map[string]bool{}
	for _, r := range man.Resources {
		if r.Kind == "instance" {
			instances[r.ID] = true
		}
	}
	inFleet := map[string]bool{}
	for _, w := range want {
		inFleet[w.id] = true
	}
	roots := map[string]int{}
	for _, r := range snap.Resources {
		if r.Type != validation.ResourceEBSVolume || inFleet[r.ResourceId] {
			continue
		}
		attached := r.Attributes["attached_to"]
		if !instances[attached] || len(r.Tags) != 0 {
			t.Errorf("volume %s is neither the fleet's nor an untagged root volume of a fleet instance (attached to %q, tags %v)", r.ResourceId, attached, r.Tags)
			continue
		}
		roots[attached]++
		want = append(want, expected{typ: r.Type, region: r.Region, id: r.ResourceId, size: r.Size, attachedTo: attached, tags: r.Tags})
	}
	for id := range instances {
		if roots[id] != 1 {
			t.Errorf("instance %s has %d root volumes, want 1", id, roots[id])
		}
	}
	assertInventory(t, snap, want)
	checkRecords(t, snap)
}

// motoSnapshots lists the snapshots moto reports as the caller's before the
// test creates any.
func motoSnapshots(t *testing.T, cfg aws.Config, regions []string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, region := range regions {
		p := ec2.NewDescribeSnapshotsPaginator(ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = region }),
			&ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatalf("listing moto's own snapshots in %s: %v", region, err)
			}
			for _, s := range page.Snapshots {
				ids[aws.ToString(s.SnapshotId)] = true
			}
		}
	}
	return ids
}
