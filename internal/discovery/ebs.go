package discovery

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/resourceattr"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// EBS volume records: size is "<volume type>:<GiB>" ("gp3:100"), the two
// facts that set the volume's price and that a right-sizing changes
// together; iops and throughput, which gp3/io1/io2 bill separately, are
// attributes. attached_to and device name the (first) attachment.
var ebsVolumes = &collector{
	typ:     validation.ResourceEBSVolume,
	actions: []string{"ec2:DescribeVolumes"},
	collect: func(ctx context.Context, d *Discoverer, region string, _ any) ([]*sirsiv1.Resource, error) {
		p := ec2.NewDescribeVolumesPaginator(d.ec2Client(region), &ec2.DescribeVolumesInput{MaxResults: aws.Int32(volumePageSize)})
		var out []*sirsiv1.Resource
		for p.HasMorePages() {
			page, err := retryThrottled(ctx, func(ctx context.Context) (*ec2.DescribeVolumesOutput, error) { return p.NextPage(ctx) })
			if err != nil {
				return nil, fmt.Errorf("describing EBS volumes: %w", err)
			}
			for _, v := range page.Volumes {
				out = append(out, d.volumeResource(region, v))
			}
		}
		return out, nil
	},
}

func (d *Discoverer) volumeResource(region string, v ec2types.Volume) *sirsiv1.Resource {
	id := aws.ToString(v.VolumeId)
	tags := ec2TagMap(v.Tags)
	attrs := map[string]string{}
	putAttr(attrs, "availability_zone", aws.ToString(v.AvailabilityZone))
	if v.Iops != nil {
		attrs[resourceattr.IOPS] = strconv.Itoa(int(*v.Iops))
	}
	if v.Throughput != nil {
		attrs[resourceattr.Throughput] = strconv.Itoa(int(*v.Throughput))
	}
	attrs["encrypted"] = strconv.FormatBool(aws.ToBool(v.Encrypted))
	if len(v.Attachments) > 0 {
		putAttr(attrs, resourceattr.AttachedTo, aws.ToString(v.Attachments[0].InstanceId))
		putAttr(attrs, "device", aws.ToString(v.Attachments[0].Device))
	}
	return &sirsiv1.Resource{
		ResourceId: id,
		Arn:        d.ec2ARN(region, "volume", id),
		Name:       nameOf(tags, id),
		Size:       resourceattr.FormatVolumeSize(string(v.VolumeType), int(aws.ToInt32(v.Size))),
		State:      string(v.State),
		Tags:       tags,
		Attributes: attrs,
		LaunchTime: ts(v.CreateTime),
	}
}

// EBS snapshot records: size is the source volume's GiB (what a snapshot is
// priced by, at most), repeated as attributes.size_gib for readers that
// want the number without parsing; launch_time is the start time.
var ebsSnapshots = &collector{
	typ:     validation.ResourceEBSSnapshot,
	actions: []string{"ec2:DescribeSnapshots"},
	collect: func(ctx context.Context, d *Discoverer, region string, _ any) ([]*sirsiv1.Resource, error) {
		p := ec2.NewDescribeSnapshotsPaginator(d.ec2Client(region), &ec2.DescribeSnapshotsInput{
			OwnerIds: []string{"self"}, MaxResults: aws.Int32(ec2PageSize),
		})
		var out []*sirsiv1.Resource
		for p.HasMorePages() {
			page, err := retryThrottled(ctx, func(ctx context.Context) (*ec2.DescribeSnapshotsOutput, error) { return p.NextPage(ctx) })
			if err != nil {
				return nil, fmt.Errorf("describing EBS snapshots: %w", err)
			}
			for _, s := range page.Snapshots {
				out = append(out, d.snapshotResource(region, s))
			}
		}
		return out, nil
	},
}

func (d *Discoverer) snapshotResource(region string, s ec2types.Snapshot) *sirsiv1.Resource {
	id := aws.ToString(s.SnapshotId)
	tags := ec2TagMap(s.Tags)
	gib := strconv.Itoa(int(aws.ToInt32(s.VolumeSize)))
	attrs := map[string]string{resourceattr.SizeGiB: gib}
	putAttr(attrs, "volume_id", aws.ToString(s.VolumeId))
	putAttr(attrs, "storage_tier", string(s.StorageTier))
	return &sirsiv1.Resource{
		ResourceId: id,
		Arn:        fmt.Sprintf("arn:%s:ec2:%s::snapshot/%s", partition(region), region, id),
		Name:       nameOf(tags, id),
		Size:       gib,
		State:      string(s.State),
		Tags:       tags,
		Attributes: attrs,
		LaunchTime: ts(s.StartTime),
	}
}
