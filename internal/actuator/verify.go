package actuator

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

// verifyCPU waits until VerifyWait after the instance came up at its new
// size, then fails when CPU was pinned over the complete 5-minute periods
// since (see PinnedCPUPercent).
func (f *flow) verifyCPU(ctx context.Context) (result, error) {
	req := f.rec.Req
	if req.VerifyWait <= 0 {
		return result{skipped: true, detail: "verify wait is 0: CPU not checked"}, nil
	}
	if err := f.waitVerify(ctx); err != nil {
		return result{}, err
	}
	from, to, ok := f.verifyWindow()
	if !ok {
		return result{skipped: true, detail: "no complete 5-minute period since the start: CPU not checked"}, nil
	}
	avg, n, err := f.metricMean(ctx, "AWS/EC2", "CPUUtilization", map[string]string{"InstanceId": req.ResourceID}, "Average", from, to)
	if err != nil {
		return result{}, err
	}
	if n == 0 {
		return result{detail: fmt.Sprintf("no CPUUtilization datapoints %s to %s: CPU not judged", from.Format(time.RFC3339), to.Format(time.RFC3339))}, nil
	}
	if avg >= PinnedCPUPercent {
		return result{}, fmt.Errorf("instance %s CPU pinned at %s: average %.1f%% over %d datapoints since %s (limit %.0f%%)",
			req.ResourceID, req.ToSize, avg, n, from.Format(time.RFC3339), PinnedCPUPercent)
	}
	return result{detail: fmt.Sprintf("CPU average %.1f%% over %d datapoints", avg, n)}, nil
}

// metricMean is the mean of stat over the 5-minute datapoints of one
// metric from..to, and how many datapoints there were.
func (f *flow) metricMean(ctx context.Context, namespace, name string, dims map[string]string, stat string, from, to time.Time) (float64, int, error) {
	var ds []cwtypes.Dimension
	for _, k := range sortedKeys(dims) {
		ds = append(ds, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(dims[k])})
	}
	in := &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(from), EndTime: aws.Time(to),
		MetricDataQueries: []cwtypes.MetricDataQuery{{
			Id: aws.String("m"),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: aws.String(namespace), MetricName: aws.String(name), Dimensions: ds},
				Period: aws.Int32(int32(cpuPeriod / time.Second)),
				Stat:   aws.String(stat),
			},
		}},
	}
	cw := f.a.cfg.CloudWatch(f.rec.Req.Region)
	var sum float64
	n := 0
	for {
		out, err := cw.GetMetricData(ctx, in)
		if err != nil {
			return 0, 0, fmt.Errorf("reading %s %s of %s: %w", namespace, name, f.rec.Req.ResourceID, err)
		}
		for _, r := range out.MetricDataResults {
			for _, v := range r.Values {
				sum += v
				n++
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	if n == 0 {
		return 0, 0, nil
	}
	return sum / float64(n), n, nil
}

func (f *flow) describeVolume(ctx context.Context) (ec2types.Volume, error) {
	id := f.rec.Req.ResourceID
	out, err := f.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if err != nil {
		return ec2types.Volume{}, fmt.Errorf("describing volume %s: %w", id, err)
	}
	for _, v := range out.Volumes {
		if aws.ToString(v.VolumeId) == id {
			return v, nil
		}
	}
	return ec2types.Volume{}, fmt.Errorf("describing volume %s: not found", id)
}

func (f *flow) checkVolume(ctx context.Context) (string, string, error) {
	req := f.rec.Req
	v, err := f.describeVolume(ctx)
	if err != nil {
		return "", "", err
	}
	if err := f.checkTags(tagsOf(v.Tags)); err != nil {
		return "", "", err
	}
	if st := v.State; st != ec2types.VolumeStateInUse && st != ec2types.VolumeStateAvailable {
		return "", "", fmt.Errorf("volume %s is %s: migration needs it in-use or available", req.ResourceID, st)
	}
	cur := fmt.Sprintf("%s:%d", v.VolumeType, aws.ToInt32(v.Size))
	if cur != req.FromSize {
		return "", "", fmt.Errorf("volume %s is %s, not from_size %s: the recommendation is stale", req.ResourceID, cur, req.FromSize)
	}
	f.rec.OrigType, f.rec.OrigState = cur, string(v.State)
	return phaseModifyVolume, "volume " + req.ResourceID + ": " + cur, nil
}

func (f *flow) modifyVolume(ctx context.Context) (result, error) {
	id := f.rec.Req.ResourceID
	v, err := f.describeVolume(ctx)
	if err != nil {
		return result{}, err
	}
	if v.VolumeType == ec2types.VolumeTypeGp3 {
		return result{skipped: true, detail: "already gp3"}, nil
	}
	// The performance the recommendation priced: never slower than gp2.
	iops, thru := pricing.GP3ForGP2(int(aws.ToInt32(v.Size)))
	out, err := f.ec2.ModifyVolume(ctx, &ec2.ModifyVolumeInput{
		VolumeId: aws.String(id), VolumeType: ec2types.VolumeTypeGp3, Iops: aws.Int32(int32(iops)), Throughput: aws.Int32(int32(thru)),
	})
	if err != nil {
		return result{}, fmt.Errorf("modifying volume %s to gp3: %w", id, err)
	}
	detail := fmt.Sprintf("gp3, %d IOPS, %d MiB/s", iops, thru)
	if m := out.VolumeModification; m != nil && modificationDone(m.ModificationState) {
		return result{next: phaseTag, detail: detail + ", modification " + string(m.ModificationState)}, nil
	}
	return result{detail: detail}, nil
}

// modificationDone: from optimizing on the volume runs at its new type.
func modificationDone(s ec2types.VolumeModificationState) bool {
	return s == ec2types.VolumeModificationStateOptimizing || s == ec2types.VolumeModificationStateCompleted
}

func (f *flow) waitVolume(ctx context.Context) (result, error) {
	id := f.rec.Req.ResourceID
	deadline := f.a.cfg.Now().Add(f.a.cfg.StepTimeout)
	for {
		out, err := f.ec2.DescribeVolumesModifications(ctx, &ec2.DescribeVolumesModificationsInput{VolumeIds: []string{id}})
		if err != nil {
			return result{}, fmt.Errorf("reading the modification of volume %s: %w", id, err)
		}
		var latest *ec2types.VolumeModification
		for i, m := range out.VolumesModifications {
			if aws.ToString(m.VolumeId) == id && (latest == nil || aws.ToTime(m.StartTime).After(aws.ToTime(latest.StartTime))) {
				latest = &out.VolumesModifications[i]
			}
		}
		state := ec2types.VolumeModificationState("none")
		if latest != nil {
			state = latest.ModificationState
			if state == ec2types.VolumeModificationStateFailed {
				return result{}, fmt.Errorf("modification of volume %s failed: %s", id, aws.ToString(latest.StatusMessage))
			}
			if modificationDone(state) {
				return result{detail: "modification " + string(state)}, nil
			}
		}
		if !f.a.cfg.Now().Before(deadline) {
			return result{}, fmt.Errorf("modification of volume %s still %s after %v", id, state, f.a.cfg.StepTimeout)
		}
		if err := f.a.cfg.Sleep(ctx, f.a.cfg.PollInterval); err != nil {
			return result{}, err
		}
	}
}
