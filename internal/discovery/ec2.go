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

// Page sizes are each Describe call's documented maximum: the fewest calls
// against the region's non-mutating bucket (a paginated call also stays out
// of the stricter "unfiltered and unpaginated" bucket). DescribeVolumes
// takes 5..500, the others 5..1000.
const (
	ec2PageSize    = 1000
	volumePageSize = 500
)

func (d *Discoverer) ec2Client(region string) *ec2.Client {
	return ec2.NewFromConfig(d.cfg, func(o *ec2.Options) { o.Region = region })
}

func ec2TagMap(tags []ec2types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func (d *Discoverer) ec2ARN(region, kind, id string) string {
	return fmt.Sprintf("arn:%s:ec2:%s:%s:%s/%s", partition(region), region, d.accountID, kind, id)
}

var ec2Instances = &collector{
	typ:     validation.ResourceEC2Instance,
	actions: []string{"ec2:DescribeInstances"},
	collect: func(ctx context.Context, d *Discoverer, region string, _ any) ([]*sirsiv1.Resource, error) {
		p := ec2.NewDescribeInstancesPaginator(d.ec2Client(region), &ec2.DescribeInstancesInput{MaxResults: aws.Int32(ec2PageSize)})
		var out []*sirsiv1.Resource
		for p.HasMorePages() {
			page, err := retryThrottled(ctx, func(ctx context.Context) (*ec2.DescribeInstancesOutput, error) { return p.NextPage(ctx) })
			if err != nil {
				return nil, fmt.Errorf("describing EC2 instances: %w", err)
			}
			for _, rv := range page.Reservations {
				for _, in := range rv.Instances {
					out = append(out, d.instanceResource(region, in))
				}
			}
		}
		return out, nil
	},
}

func (d *Discoverer) instanceResource(region string, in ec2types.Instance) *sirsiv1.Resource {
	id := aws.ToString(in.InstanceId)
	tags := ec2TagMap(in.Tags)
	attrs := map[string]string{}
	putAttr(attrs, "architecture", string(in.Architecture))
	if in.Placement != nil {
		putAttr(attrs, "availability_zone", aws.ToString(in.Placement.AvailabilityZone))
		putAttr(attrs, "tenancy", string(in.Placement.Tenancy))
	}
	// PlatformDetails names the billed platform ("Linux/UNIX", "Red Hat
	// Enterprise Linux", ...); Platform is only ever "windows".
	platform := aws.ToString(in.PlatformDetails)
	if platform == "" {
		platform = "Linux/UNIX"
		if in.Platform == ec2types.PlatformValuesWindows {
			platform = "Windows"
		}
	}
	attrs["platform"] = platform
	putAttr(attrs, "vpc_id", aws.ToString(in.VpcId))
	putAttr(attrs, "subnet_id", aws.ToString(in.SubnetId))
	// EC2 leaves InstanceLifecycle out for on-demand instances.
	lifecycle := string(in.InstanceLifecycle)
	if lifecycle == "" {
		lifecycle = "on-demand"
	}
	attrs[resourceattr.Lifecycle] = lifecycle
	putAttr(attrs, resourceattr.RootDeviceType, string(in.RootDeviceType))
	attrs[resourceattr.Hibernation] = strconv.FormatBool(in.HibernationOptions != nil && aws.ToBool(in.HibernationOptions.Configured))
	root := aws.ToString(in.RootDeviceName)
	for _, bd := range in.BlockDeviceMappings {
		if aws.ToString(bd.DeviceName) == root && bd.Ebs != nil {
			putAttr(attrs, "root_volume_id", aws.ToString(bd.Ebs.VolumeId))
		}
	}
	r := &sirsiv1.Resource{
		ResourceId: id,
		Arn:        d.ec2ARN(region, "instance", id),
		Name:       nameOf(tags, id),
		Size:       string(in.InstanceType),
		Tags:       tags,
		Attributes: attrs,
		LaunchTime: ts(in.LaunchTime),
	}
	if in.State != nil {
		r.State = string(in.State.Name)
	}
	return r
}
