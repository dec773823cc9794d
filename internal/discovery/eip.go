package discovery

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/resourceattr"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// Elastic IP records: the allocation id is the resource id; attached_to is
// the associated instance, or the network interface when the address is
// associated with an interface that no instance holds (NAT gateways, load
// balancers). DescribeAddresses has no pagination: AWS returns every
// address of the region in one answer.
var elasticIPs = &collector{
	typ:     validation.ResourceEIP,
	actions: []string{"ec2:DescribeAddresses"},
	collect: func(ctx context.Context, d *Discoverer, region string, _ any) ([]*sirsiv1.Resource, error) {
		c := d.ec2Client(region)
		page, err := retryThrottled(ctx, func(ctx context.Context) (*ec2.DescribeAddressesOutput, error) {
			return c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
		})
		if err != nil {
			return nil, fmt.Errorf("describing Elastic IPs: %w", err)
		}
		out := make([]*sirsiv1.Resource, 0, len(page.Addresses))
		for _, a := range page.Addresses {
			if aws.ToString(a.AllocationId) == "" {
				// An EC2-Classic address has no allocation id and cannot
				// be managed through the VPC APIs the agent uses.
				continue
			}
			out = append(out, d.addressResource(region, a))
		}
		return out, nil
	},
}

func (d *Discoverer) addressResource(region string, a ec2types.Address) *sirsiv1.Resource {
	id := aws.ToString(a.AllocationId)
	tags := ec2TagMap(a.Tags)
	attrs := map[string]string{}
	putAttr(attrs, "public_ip", aws.ToString(a.PublicIp))
	putAttr(attrs, "domain", string(a.Domain))
	putAttr(attrs, resourceattr.AssociationID, aws.ToString(a.AssociationId))
	putAttr(attrs, "network_interface_id", aws.ToString(a.NetworkInterfaceId))
	attached := aws.ToString(a.InstanceId)
	if attached == "" {
		attached = aws.ToString(a.NetworkInterfaceId)
	}
	putAttr(attrs, resourceattr.AttachedTo, attached)
	state := "unassociated"
	if aws.ToString(a.AssociationId) != "" || attached != "" {
		state = "associated"
	}
	return &sirsiv1.Resource{
		ResourceId: id,
		Arn:        d.ec2ARN(region, "elastic-ip", id),
		Name:       nameOf(tags, aws.ToString(a.PublicIp)),
		State:      state,
		Tags:       tags,
		Attributes: attrs,
	}
}
