package actuator

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// awsCode is AWS's error code in err, "" when AWS did not answer.
func awsCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// checkUnattachedVolume: snapshot_and_delete only takes a volume nothing
// has attached (state available) of the recommended type and size.
func (f *flow) checkUnattachedVolume(ctx context.Context) (string, string, error) {
	req := f.rec.Req
	v, err := f.describeVolume(ctx)
	if err != nil {
		return "", "", err
	}
	if err := f.checkTags(tagsOf(v.Tags)); err != nil {
		return "", "", err
	}
	if v.State != ec2types.VolumeStateAvailable || len(v.Attachments) > 0 {
		return "", "", fmt.Errorf("volume %s is %s with %d attachments: only an unattached (available) volume is snapshotted and deleted", req.ResourceID, v.State, len(v.Attachments))
	}
	cur := fmt.Sprintf("%s:%d", v.VolumeType, aws.ToInt32(v.Size))
	if cur != req.FromSize {
		return "", "", fmt.Errorf("volume %s is %s, not from_size %s: the recommendation is stale", req.ResourceID, cur, req.FromSize)
	}
	f.rec.OrigType, f.rec.OrigState = cur, string(v.State)
	f.rec.Restore = fmt.Sprintf("CreateVolume SnapshotId=<snapshot> AvailabilityZone=%s VolumeType=%s Size=%d",
		aws.ToString(v.AvailabilityZone), v.VolumeType, aws.ToInt32(v.Size))
	if v.Iops != nil && v.VolumeType != ec2types.VolumeTypeGp2 {
		f.rec.Restore += fmt.Sprintf(" Iops=%d", aws.ToInt32(v.Iops))
	}
	if v.Throughput != nil {
		f.rec.Restore += fmt.Sprintf(" Throughput=%d", aws.ToInt32(v.Throughput))
	}
	return phaseSnapshot, "volume " + req.ResourceID + ": " + cur + ", unattached in " + aws.ToString(v.AvailabilityZone), nil
}

// findSnapshot returns the snapshot this flow started, found by its
// action-id tag: after a crash between CreateSnapshot and the journal, the
// flow adopts it rather than taking a second one.
func (f *flow) findSnapshot(ctx context.Context) (*ec2types.Snapshot, error) {
	in := &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}}
	if f.rec.SnapshotID != "" {
		in.SnapshotIds = []string{f.rec.SnapshotID}
	} else {
		in.Filters = []ec2types.Filter{
			{Name: aws.String("volume-id"), Values: []string{f.rec.Req.ResourceID}},
			{Name: aws.String("tag:" + TagActionID), Values: []string{f.rec.Req.ID}},
		}
	}
	out, err := f.ec2.DescribeSnapshots(ctx, in)
	if awsCode(err) == "InvalidSnapshot.NotFound" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking for the snapshot of volume %s: %w", f.rec.Req.ResourceID, err)
	}
	for i := range out.Snapshots {
		return &out.Snapshots[i], nil
	}
	return nil, nil
}

// snapshot takes the snapshot, tagged with the volume's tags, the
// recommendation and the action.
func (f *flow) snapshot(ctx context.Context) (result, error) {
	req := f.rec.Req
	if sn, err := f.findSnapshot(ctx); err != nil || sn != nil {
		if sn != nil {
			f.rec.SnapshotID = aws.ToString(sn.SnapshotId)
			return result{skipped: true, detail: "snapshot " + f.rec.SnapshotID + " already taken"}, nil
		}
		return result{}, err
	}
	v, err := f.describeVolume(ctx)
	if err != nil {
		return result{}, err
	}
	tags := tagsOf(v.Tags)
	for k := range tags {
		// aws:* are reserved (AWS refuses to set them); the opt-out tag
		// is one the agent may never write (see internal/iampolicy).
		if strings.HasPrefix(k, "aws:") || k == TagOptimize {
			delete(tags, k)
		}
	}
	tags[TagActionID] = req.ID
	if req.RecommendationID != "" {
		tags[TagRecommendationID] = req.RecommendationID
	}
	tags[TagLastAction] = f.lastActionValue("snapshot of " + req.ResourceID)
	var list []ec2types.Tag
	for _, k := range sortedKeys(tags) {
		list = append(list, ec2types.Tag{Key: aws.String(k), Value: aws.String(truncateTag(tags[k]))})
	}
	out, err := f.ec2.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{
		VolumeId:          aws.String(req.ResourceID),
		Description:       aws.String(truncateTag("sirsi: before deleting unattached volume " + req.ResourceID)),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: list}},
	})
	if err != nil {
		return result{}, fmt.Errorf("snapshotting volume %s: %w", req.ResourceID, err)
	}
	f.rec.SnapshotID = aws.ToString(out.SnapshotId)
	return result{detail: "snapshot " + f.rec.SnapshotID + " started"}, nil
}

// waitSnapshot waits until the snapshot is completed; a snapshot in error
// fails the flow before anything is deleted.
func (f *flow) waitSnapshot(ctx context.Context) (result, error) {
	return f.poll(ctx, func() (bool, string, error) {
		sn, err := f.findSnapshot(ctx)
		if err != nil {
			return false, "", err
		}
		if sn == nil {
			return false, "", fmt.Errorf("snapshot %s of volume %s disappeared", f.rec.SnapshotID, f.rec.Req.ResourceID)
		}
		switch sn.State {
		case ec2types.SnapshotStateCompleted:
			return true, "snapshot " + f.rec.SnapshotID + " completed", nil
		case ec2types.SnapshotStateError:
			return false, "", fmt.Errorf("snapshot %s of volume %s failed: %s", f.rec.SnapshotID, f.rec.Req.ResourceID, aws.ToString(sn.StateMessage))
		}
		return false, "snapshot " + string(sn.State) + " " + aws.ToString(sn.Progress), nil
	})
}

// deleteVolume deletes the volume once its snapshot is complete. A volume
// already gone counts as deleted: after a crash the flow cannot tell its
// own DeleteVolume from someone else's, and the snapshot holds the data
// either way.
func (f *flow) deleteVolume(ctx context.Context) (result, error) {
	id := f.rec.Req.ResourceID
	restore := strings.Replace(f.rec.Restore, "<snapshot>", f.rec.SnapshotID, 1)
	f.rec.Restore = restore
	v, err := f.describeVolume(ctx)
	switch {
	case awsCode(err) == "InvalidVolume.NotFound":
		f.rec.Deleted = true
		return result{skipped: true, detail: "volume already deleted; restore with " + restore}, nil
	case err != nil:
		return result{}, err
	case v.State != ec2types.VolumeStateAvailable || len(v.Attachments) > 0:
		return result{}, fmt.Errorf("volume %s became %s with %d attachments while it was snapshotted: not deleted", id, v.State, len(v.Attachments))
	}
	if _, err := f.ec2.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)}); err != nil {
		if awsCode(err) == "InvalidVolume.NotFound" {
			f.rec.Deleted = true
			return result{skipped: true, detail: "volume already deleted; restore with " + restore}, nil
		}
		return result{}, fmt.Errorf("deleting volume %s: %w", id, err)
	}
	f.rec.Deleted = true
	return result{detail: "volume deleted; restore with " + restore}, nil
}

// deleteSnapshot rolls a failed snapshot_and_delete back: the volume was
// not deleted, so the snapshot taken for it (complete or not) goes.
func (f *flow) deleteSnapshot(ctx context.Context) (result, error) {
	sn, err := f.findSnapshot(ctx)
	if err != nil {
		return result{}, err
	}
	if sn == nil {
		return result{next: phaseTagError, skipped: true, detail: "no snapshot was taken"}, nil
	}
	id := aws.ToString(sn.SnapshotId)
	if _, err := f.ec2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)}); err != nil && awsCode(err) != "InvalidSnapshot.NotFound" {
		return result{}, fmt.Errorf("deleting snapshot %s of the kept volume %s: %w", id, f.rec.Req.ResourceID, err)
	}
	return result{next: phaseTagError, detail: "snapshot " + id + " deleted; volume kept"}, nil
}

// poll calls check every PollInterval until it is done, fails, or the
// step timeout passes.
func (f *flow) poll(ctx context.Context, check func() (bool, string, error)) (result, error) {
	deadline := f.a.cfg.Now().Add(f.a.cfg.StepTimeout)
	for {
		ok, detail, err := check()
		if err != nil {
			return result{}, err
		}
		if ok {
			return result{detail: detail}, nil
		}
		if !f.a.cfg.Now().Before(deadline) {
			return result{}, fmt.Errorf("%s %s: still %s after %v", f.rec.Req.ResourceType, f.rec.Req.ResourceID, detail, f.a.cfg.StepTimeout)
		}
		if err := f.a.cfg.Sleep(ctx, f.a.cfg.PollInterval); err != nil {
			return result{}, err
		}
	}
}
