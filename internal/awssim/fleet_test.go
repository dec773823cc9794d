package awssim

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

var ec2Mix = FleetMix{Instances: 5, Volumes: 3, Addresses: 2}

// TestGenerateFleetThroughAPI creates a fleet over two regions through the
// SDK and checks the simulator holds exactly what the manifest says.
func TestGenerateFleetThroughAPI(t *testing.T) {
	ts := startSim(t, Options{Seed: 3})
	ctx := context.Background()
	spec := FleetSpec{N: 40, Regions: []string{"us-east-1", "eu-central-1"}, Seed: 11, Mix: ec2Mix}
	man, err := GenerateFleet(ctx, ts.awsConfig("us-east-1", "AKIDFLEET"), spec)
	if err != nil {
		t.Fatalf("GenerateFleet: %v", err)
	}
	if len(man.Resources) != 40 || man.Count("instance") != 20 || man.Count("volume") != 12 || man.Count("address") != 8 {
		t.Fatalf("manifest: %d resources (%d instances, %d volumes, %d addresses)", len(man.Resources), man.Count("instance"), man.Count("volume"), man.Count("address"))
	}
	for _, region := range spec.Regions {
		c := ec2Client(ts, region)
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]types.Instance{}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				got[aws.ToString(in.InstanceId)] = in
			}
		}
		vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{{Name: aws.String("tag-key"), Values: []string{"sirsi-sim:fleet"}}}})
		if err != nil {
			t.Fatal(err)
		}
		attached := map[string]string{}
		for _, v := range vols.Volumes {
			if len(v.Attachments) == 1 {
				attached[aws.ToString(v.VolumeId)] = aws.ToString(v.Attachments[0].InstanceId)
			} else {
				attached[aws.ToString(v.VolumeId)] = ""
			}
		}
		addrs, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
		if err != nil {
			t.Fatal(err)
		}
		assoc := map[string]string{}
		for _, a := range addrs.Addresses {
			assoc[aws.ToString(a.AllocationId)] = aws.ToString(a.InstanceId)
		}
		for _, r := range man.Resources {
			if r.Region != region {
				continue
			}
			switch r.Kind {
			case "instance":
				in, ok := got[r.ID]
				if !ok || string(in.InstanceType) != r.Type || in.State.Name != types.InstanceStateNameRunning {
					t.Errorf("%s: manifest %s, simulator %v", r.ID, r.Type, in.InstanceType)
				}
				ts.mu.Lock()
				p := ts.accounts[DefaultAccountID].Regions[region].Instances[r.ID].Profile
				ts.mu.Unlock()
				if p != r.Profile || r.Profile == "" {
					t.Errorf("%s: profile %q in the simulator, %q in the manifest", r.ID, p, r.Profile)
				}
			case "volume":
				if at, ok := attached[r.ID]; !ok || at != r.AttachedTo {
					t.Errorf("%s: attached to %q, manifest says %q", r.ID, at, r.AttachedTo)
				}
			case "address":
				if at, ok := assoc[r.ID]; !ok || at != r.AttachedTo {
					t.Errorf("%s: associated with %q, manifest says %q", r.ID, at, r.AttachedTo)
				}
			}
		}
	}
	// Same seed, same plan.
	again := planFleet(FleetSpec{N: 40, Regions: spec.Regions, Seed: 11, Mix: ec2Mix})
	first := planFleet(FleetSpec{N: 40, Regions: spec.Regions, Seed: 11, Mix: ec2Mix})
	for i := range first {
		if first[i].typ != again[i].typ || first[i].profile != again[i].profile || first[i].region != again[i].region {
			t.Fatalf("plan %d differs between runs with one seed", i)
		}
	}
}

// TestGenerateFleetAllServices seeds every kind, including the RDS, S3 and
// Lambda resources those services' handlers serve.
func TestGenerateFleetAllServices(t *testing.T) {
	for _, svc := range []string{"rds", "s3", "lambda"} {
		if _, ok := services[svc]; !ok {
			t.Skipf("service %s is not registered in this build", svc)
		}
	}
	ts := startSim(t, Options{})
	man, err := GenerateFleet(context.Background(), ts.awsConfig("us-east-1", "AKIDFLEET"), FleetSpec{N: 20, Regions: []string{"us-east-1", "us-west-2"}, Seed: 5})
	if err != nil {
		t.Fatalf("GenerateFleet: %v", err)
	}
	for _, kind := range []string{"instance", "volume", "address", "db-instance", "bucket", "function"} {
		if man.Count(kind) == 0 {
			t.Errorf("no %s in a 20-resource default-mix fleet", kind)
		}
	}
	if len(man.Resources) != 20 {
		t.Errorf("%d resources, want 20", len(man.Resources))
	}
}

func TestSeedFleetInProcess(t *testing.T) {
	ts := startSim(t, Options{})
	man, err := ts.SeedFleet(DefaultAccountID, FleetSpec{N: 3000, Regions: []string{"us-east-1", "us-west-2", "eu-west-1"}, Seed: 9, Mix: ec2Mix})
	if err != nil {
		t.Fatalf("SeedFleet: %v", err)
	}
	want := map[string]int{"instance": 1500, "volume": 900, "address": 600}
	for k, n := range want {
		if man.Count(k) != n {
			t.Errorf("%d %s, want %d", man.Count(k), k, n)
		}
	}
	running := 0
	for _, s := range ts.Summary() {
		running += s.Instances["running"]
	}
	if running != 1500 {
		t.Errorf("%d running instances in the simulator, want 1500", running)
	}
	p := ec2.NewDescribeInstancesPaginator(ec2Client(ts, "us-west-2"), &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1000),
		Filters: []types.Filter{{Name: aws.String("tag:" + ProfileTag), Values: []string{"idle"}}}})
	idle := 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		idle += len(instanceIDs(out))
	}
	wantIdle := 0
	for _, r := range man.Resources {
		if r.Kind == "instance" && r.Region == "us-west-2" && r.Profile == ProfileIdle {
			wantIdle++
		}
	}
	if idle != wantIdle || idle == 0 {
		t.Errorf("idle instances in us-west-2: %d, manifest says %d", idle, wantIdle)
	}
	if _, err := ts.SeedFleet(DefaultAccountID, FleetSpec{N: 10, Regions: []string{"us-east-1"}}); err == nil {
		t.Error("SeedFleet accepted a mix with RDS, S3 and Lambda")
	}
	if _, err := ts.SeedFleet(DefaultAccountID, FleetSpec{N: 0, Regions: []string{"us-east-1"}, Mix: ec2Mix}); err == nil {
		t.Error("SeedFleet accepted N=0")
	}
}
