package awssim

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim/awstest"
)

// TestEC2AndSTSResponsesMatchModels runs every EC2 and STS operation the
// simulator serves, successes and errors, and validates every response body
// strictly against the botocore models: the SDK decoders silently drop
// misnamed members, this does not.
func TestEC2AndSTSResponsesMatchModels(t *testing.T) {
	ec2Model := awstest.RequireModel(t, "ec2")
	stsModel := awstest.RequireModel(t, "sts")
	ts := startSim(t, Options{StateDelay: time.Second})
	rec := &awstest.RecordingTransport{}
	cfg := ts.awsConfig("us-east-1", "AKIDTEST")
	cfg.HTTPClient = rec.Client()
	e := ec2.NewFromConfig(cfg)
	s := sts.NewFromConfig(cfg)
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	tag := []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}}
	run, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), InstanceType: "m5.large",
		MinCount: aws.Int32(2), MaxCount: aws.Int32(2), TagSpecifications: tag})
	must("RunInstances", err)
	id := aws.ToString(run.Instances[0].InstanceId)
	az := aws.ToString(run.Instances[0].Placement.AvailabilityZone)
	ts.Clock.Advance(time.Second)
	ts.FailStatusChecks(aws.ToString(run.Instances[1].InstanceId), true)
	_, err = e.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	must("DescribeInstances", err)
	_, err = e.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{IncludeAllInstances: aws.Bool(true)})
	must("DescribeInstanceStatus", err)
	ts.Clock.Advance(time.Second)
	_, err = e.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{})
	must("DescribeInstanceStatus", err)
	_, err = e.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{MaxResults: aws.Int32(20)})
	must("DescribeInstanceTypes", err)
	_, err = e.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	must("DescribeRegions", err)
	_, err = e.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, InstanceType: &types.AttributeValue{Value: aws.String("m5.xlarge")}})
	if err == nil {
		t.Fatal("modify while running succeeded")
	}
	_, err = e.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	must("StopInstances", err)
	ts.Clock.Advance(time.Second)
	_, err = e.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, InstanceType: &types.AttributeValue{Value: aws.String("m5.xlarge")}})
	must("ModifyInstanceAttribute", err)
	_, err = e.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	must("StartInstances", err)
	ts.Clock.Advance(time.Second)
	vol, err := e.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: &az, Size: aws.Int32(50), VolumeType: types.VolumeTypeGp2})
	must("CreateVolume", err)
	ts.Clock.Advance(time.Second)
	_, err = e.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: vol.VolumeId, InstanceId: &id, Device: aws.String("/dev/sdf")})
	must("AttachVolume", err)
	_, err = e.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
	must("DescribeVolumes", err)
	_, err = e.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: vol.VolumeId, VolumeType: types.VolumeTypeGp3})
	must("ModifyVolume", err)
	_, err = e.DescribeVolumesModifications(ctx, &ec2.DescribeVolumesModificationsInput{VolumeIds: []string{aws.ToString(vol.VolumeId)}})
	must("DescribeVolumesModifications", err)
	snap, err := e.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: vol.VolumeId, Description: aws.String("d")})
	must("CreateSnapshot", err)
	_, err = e.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	must("DescribeSnapshots", err)
	_, err = e.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: snap.SnapshotId})
	must("DeleteSnapshot", err)
	free, err := e.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: &az, Size: aws.Int32(10)})
	must("CreateVolume", err)
	ts.Clock.Advance(time.Second)
	_, err = e.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: free.VolumeId})
	must("DeleteVolume", err)
	addr, err := e.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	must("AllocateAddress", err)
	_, err = e.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: addr.AllocationId, InstanceId: &id})
	must("AssociateAddress", err)
	_, err = e.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
	must("DescribeAddresses", err)
	_, err = e.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	must("CreateTags", err)
	_, err = e.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("k")}}})
	must("DeleteTags", err)
	_, err = e.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	must("DescribeInstances", err)
	spare, err := e.AllocateAddress(ctx, &ec2.AllocateAddressInput{})
	must("AllocateAddress", err)
	_, err = e.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: spare.AllocationId})
	must("ReleaseAddress", err)
	_, err = e.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	must("TerminateInstances", err)
	_, _ = e.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	_, _ = e.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String("vol-0123456789abcdef0")})
	_, _ = e.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(2)})
	_, err = s.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must("GetCallerIdentity", err)
	_, err = s.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::210987654321:role/r"), RoleSessionName: aws.String("s1")})
	must("AssumeRole", err)
	_, _ = s.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("nope"), RoleSessionName: aws.String("s")})

	seen := map[string]bool{}
	errorsSeen := 0
	for _, ex := range rec.Exchanges() {
		form, err := url.ParseQuery(string(ex.Body))
		if err != nil {
			t.Fatalf("recorded request body: %v", err)
		}
		action := form.Get("Action")
		model := ec2Model
		if form.Get("Version") == stsVersion {
			model = stsModel
		}
		if ex.Status == 200 {
			model.Check(t, action, ex.RespBody)
			seen[action] = true
			continue
		}
		errorsSeen++
		if code := model.CheckError(t, ex.Status, ex.RespHeader, ex.RespBody); code == "" {
			t.Errorf("%s: error without a code", action)
		}
	}
	for action := range ec2Handlers {
		if !seen[action] {
			t.Errorf("%s: no successful response validated", action)
		}
	}
	if !seen["GetCallerIdentity"] || !seen["AssumeRole"] || errorsSeen < 5 {
		t.Errorf("STS coverage %v, %d error responses validated", seen, errorsSeen)
	}
}
