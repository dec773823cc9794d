package awssim

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim/awstest"
)

// ec2MotoDeviations lists the bad EC2 calls where moto 5.2 departs from
// AWS's documentation; the simulator follows AWS. Each entry is asserted on
// both sides, so a moto release that fixes one fails here and the entry goes.
var ec2MotoDeviations = map[string]string{
	"DescribeInstances MaxResults 4": "moto does not enforce DescribeInstances' documented MaxResults range 5..1000",
	"DescribeInstances malformed id": "moto answers InvalidInstanceID.NotFound for an id that is not i- plus 8 or 17 hex digits; AWS answers InvalidInstanceID.Malformed",
	"CreateTags unknown instance":    "moto tags an instance id that does not exist; AWS answers InvalidInstanceID.NotFound",
}

// TestEC2MotoErrorCodes makes the same bad EC2 calls against the simulator
// and moto (each on an identical small fleet created through the API) and
// compares the error codes.
func TestEC2MotoErrorCodes(t *testing.T) {
	motoURL := awstest.StartMoto(t)
	ts := startSim(t, Options{})
	ctx := context.Background()
	simCfg := ts.awsConfig("us-east-1", "AKIDTEST")
	motoCfg := ts.awsConfig("us-east-1", "AKIDTEST")
	motoCfg.BaseEndpoint = aws.String(motoURL)

	images, err := ec2.NewFromConfig(motoCfg).DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	if err != nil || len(images.Images) == 0 {
		t.Fatalf("listing moto's AMIs: %v", err)
	}
	spec := FleetSpec{N: 10, Regions: []string{"us-east-1"}, Seed: 77, ImageID: aws.ToString(images.Images[0].ImageId),
		PollInterval: 20 * time.Millisecond, Mix: FleetMix{Instances: 4, Volumes: 3, Addresses: 3}}
	simMan, err := GenerateFleet(ctx, simCfg, spec)
	if err != nil {
		t.Fatalf("fleet in the simulator: %v", err)
	}
	motoMan, err := GenerateFleet(ctx, motoCfg, spec)
	if err != nil {
		t.Fatalf("fleet in moto: %v", err)
	}
	first := func(m FleetManifest, kind string, attached bool) string {
		for _, r := range m.Resources {
			if r.Kind == kind && (r.AttachedTo != "") == attached {
				return r.ID
			}
		}
		t.Fatalf("the fleet has no %s (attached=%v)", kind, attached)
		return ""
	}
	calls := []struct {
		name string
		want string
		call func(c *ec2.Client, m FleetManifest) error
	}{
		{"DescribeInstances malformed id", "InvalidInstanceID.Malformed", func(c *ec2.Client, _ FleetManifest) error {
			_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-xyz"}})
			return err
		}},
		{"StopInstances unknown id", "InvalidInstanceID.NotFound", func(c *ec2.Client, _ FleetManifest) error {
			_, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
			return err
		}},
		{"DescribeInstances MaxResults 4", "InvalidParameterValue", func(c *ec2.Client, _ FleetManifest) error {
			_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(4)})
			return err
		}},
		{"DescribeInstances MaxResults with InstanceIds", "InvalidParameterCombination", func(c *ec2.Client, m FleetManifest) error {
			_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), InstanceIds: []string{first(m, "instance", false)}})
			return err
		}},
		{"DescribeVolumes unknown id", "InvalidVolume.NotFound", func(c *ec2.Client, _ FleetManifest) error {
			_, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-0123456789abcdef0"}})
			return err
		}},
		{"DeleteVolume attached", "VolumeInUse", func(c *ec2.Client, m FleetManifest) error {
			_, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(first(m, "volume", true))})
			return err
		}},
		{"DescribeAddresses unknown allocation", "InvalidAllocationID.NotFound", func(c *ec2.Client, _ FleetManifest) error {
			_, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{"eipalloc-0123456789abcdef0"}})
			return err
		}},
		{"CreateTags unknown instance", "InvalidInstanceID.NotFound", func(c *ec2.Client, _ FleetManifest) error {
			_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"i-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}},
	}
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		if err == nil {
			return "(success)"
		}
		return err.Error()
	}
	for _, c := range calls {
		simCode := code(c.call(ec2.NewFromConfig(simCfg), simMan))
		motoCode := code(c.call(ec2.NewFromConfig(motoCfg), motoMan))
		if simCode != c.want {
			t.Errorf("%s: simulator %s, AWS documents %s", c.name, simCode, c.want)
		}
		if why, deviates := ec2MotoDeviations[c.name]; deviates {
			if motoCode == c.want {
				t.Errorf("%s: moto now answers %s like AWS; drop the deviation %q", c.name, motoCode, why)
			}
			continue
		}
		if motoCode != simCode {
			t.Errorf("%s: simulator %s, moto %s", c.name, simCode, motoCode)
		}
	}
}
