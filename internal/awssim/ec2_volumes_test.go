package awssim

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestVolumesAndSnapshots(t *testing.T) {
	ts := startSim(t, Options{StateDelay: time.Second})
	c := ec2Client(ts, "us-east-1")
	ctx := context.Background()
	inst := runOne(t, c, "m5.large", nil)
	id := aws.ToString(inst.InstanceId)
	az := aws.ToString(inst.Placement.AvailabilityZone)
	ts.Clock.Advance(time.Second)

	vol, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(az), Size: aws.Int32(100),
		VolumeType: types.VolumeTypeGp2, TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVolume,
			Tags: []types.Tag{{Key: aws.String("app"), Value: aws.String("db")}}}}})
	if err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	vid := aws.ToString(vol.VolumeId)
	if vol.State != types.VolumeStateCreating || aws.ToInt32(vol.Iops) != 300 || aws.ToInt32(vol.Size) != 100 {
		t.Fatalf("new volume: state %s iops %d size %d", vol.State, aws.ToInt32(vol.Iops), aws.ToInt32(vol.Size))
	}
	_, err = c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: &vid, InstanceId: &id, Device: aws.String("/dev/sdf")})
	if code := apiCode(t, err); code != "IncorrectState" {
		t.Fatalf("attach while creating: %s", code)
	}
	ts.Clock.Advance(time.Second)
	if _, err := c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: &vid, InstanceId: &id, Device: aws.String("/dev/sdf")}); err != nil {
		t.Fatalf("AttachVolume: %v", err)
	}
	_, err = c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: &vid})
	if code := apiCode(t, err); code != "VolumeInUse" {
		t.Fatalf("delete attached: %s, want VolumeInUse", code)
	}
	got, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{
		{Name: aws.String("attachment.instance-id"), Values: []string{id}}, {Name: aws.String("tag:app"), Values: []string{"db"}}}})
	if err != nil {
		t.Fatalf("DescribeVolumes: %v", err)
	}
	if len(got.Volumes) != 1 || aws.ToString(got.Volumes[0].VolumeId) != vid || got.Volumes[0].State != types.VolumeStateInUse ||
		len(got.Volumes[0].Attachments) != 1 || aws.ToString(got.Volumes[0].Attachments[0].Device) != "/dev/sdf" {
		t.Fatalf("DescribeVolumes by attachment: %+v", got.Volumes)
	}

	mod, err := c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: &vid, VolumeType: types.VolumeTypeGp3})
	if err != nil {
		t.Fatalf("ModifyVolume: %v", err)
	}
	m := mod.VolumeModification
	if m.OriginalVolumeType != types.VolumeTypeGp2 || m.TargetVolumeType != types.VolumeTypeGp3 || aws.ToInt32(m.TargetIops) != 3000 ||
		aws.ToInt32(m.TargetThroughput) != 125 || m.ModificationState != types.VolumeModificationStateModifying {
		t.Fatalf("modification = %+v", m)
	}
	_, err = c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: &vid, Size: aws.Int32(200)})
	if code := apiCode(t, err); code != "IncorrectModificationState" {
		t.Fatalf("second modify: %s", code)
	}
	ts.Clock.Advance(2 * time.Second)
	mods, err := c.DescribeVolumesModifications(ctx, &ec2.DescribeVolumesModificationsInput{VolumeIds: []string{vid}})
	if err != nil {
		t.Fatalf("DescribeVolumesModifications: %v", err)
	}
	if len(mods.VolumesModifications) != 1 || mods.VolumesModifications[0].TargetVolumeType != types.VolumeTypeGp3 ||
		mods.VolumesModifications[0].ModificationState == types.VolumeModificationStateModifying {
		t.Fatalf("modification after the state delay = %+v", mods.VolumesModifications)
	}
	_, err = c.DescribeVolumesModifications(ctx, &ec2.DescribeVolumesModificationsInput{VolumeIds: []string{"vol-0123456789abcdef0"}})
	if code := apiCode(t, err); code != "InvalidVolume.NotFound" {
		t.Fatalf("modifications of an unknown volume: %s", code)
	}
	_, err = c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: &vid, Size: aws.Int32(50)})
	if code := apiCode(t, err); code != "InvalidParameterValue" {
		t.Fatalf("shrinking a volume: %s, want InvalidParameterValue", code)
	}
	got, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{vid}})
	if err != nil {
		t.Fatalf("DescribeVolumes: %v", err)
	}
	if got.Volumes[0].VolumeType != types.VolumeTypeGp3 || aws.ToInt32(got.Volumes[0].Throughput) != 125 {
		t.Fatalf("after modify: %s / %d MiB/s", got.Volumes[0].VolumeType, aws.ToInt32(got.Volumes[0].Throughput))
	}

	snap, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: &vid, Description: aws.String("nightly")})
	if err != nil {
		t.Fatalf("CreateSnapshot: %v", err)
	}
	if snap.State != types.SnapshotStatePending || aws.ToInt32(snap.VolumeSize) != 100 || aws.ToString(snap.OwnerId) != DefaultAccountID {
		t.Fatalf("snapshot = %s %d %s", snap.State, aws.ToInt32(snap.VolumeSize), aws.ToString(snap.OwnerId))
	}
	ts.Clock.Advance(time.Second)
	mine, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	if err != nil {
		t.Fatalf("DescribeSnapshots: %v", err)
	}
	if len(mine.Snapshots) != 1 || mine.Snapshots[0].State != types.SnapshotStateCompleted || aws.ToString(mine.Snapshots[0].Description) != "nightly" {
		t.Fatalf("own snapshots = %+v", mine.Snapshots)
	}
	amazon, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"amazon"}})
	if err != nil {
		t.Fatalf("DescribeSnapshots amazon: %v", err)
	}
	if len(amazon.Snapshots) != 0 {
		t.Errorf("amazon-owned snapshots: %d, want 0", len(amazon.Snapshots))
	}

	// Pagination over root, data and six unattached volumes.
	for range 6 {
		if _, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1b"), Size: aws.Int32(10)}); err != nil {
			t.Fatalf("CreateVolume: %v", err)
		}
	}
	_, err = c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(vid), InstanceId: &id, Device: aws.String("/dev/sdg")})
	if code := apiCode(t, err); code != "VolumeInUse" {
		t.Errorf("attaching an attached volume: %s", code)
	}
	vp := ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(5)})
	var total, pages int
	for vp.HasMorePages() {
		out, err := vp.NextPage(ctx)
		if err != nil {
			t.Fatalf("DescribeVolumes page: %v", err)
		}
		total += len(out.Volumes)
		pages++
	}
	if total != 8 || pages != 2 {
		t.Fatalf("paged %d volumes in %d pages, want 8 (root + data + 6) in 2", total, pages)
	}
	_, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(501)})
	if code := apiCode(t, err); code != "InvalidParameterValue" {
		t.Errorf("DescribeVolumes MaxResults 501: %s, want InvalidParameterValue", code)
	}
	_, err = c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String("vol-0123456789abcdef0")})
	if code := apiCode(t, err); code != "InvalidVolume.NotFound" {
		t.Errorf("delete unknown: %s", code)
	}
}
