package actuator

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// describeAddress returns the live Elastic IP by allocation id; nil when
// it no longer exists.
func (f *flow) describeAddress(ctx context.Context) (*ec2types.Address, error) {
	id := f.rec.Req.ResourceID
	out, err := f.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{id}})
	if awsCode(err) == "InvalidAllocationID.NotFound" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describing address %s: %w", id, err)
	}
	for i, a := range out.Addresses {
		if aws.ToString(a.AllocationId) == id {
			return &out.Addresses[i], nil
		}
	}
	return nil, nil
}

// checkAddress: only an address associated with nothing is released.
func (f *flow) checkAddress(ctx context.Context) (string, string, error) {
	id := f.rec.Req.ResourceID
	a, err := f.describeAddress(ctx)
	if err != nil {
		return "", "", err
	}
	if a == nil {
		return "", "", fmt.Errorf("address %s: not found", id)
	}
	if err := f.checkTags(tagsOf(a.Tags)); err != nil {
		return "", "", err
	}
	if aws.ToString(a.AssociationId) != "" || aws.ToString(a.InstanceId) != "" || aws.ToString(a.NetworkInterfaceId) != "" {
		return "", "", fmt.Errorf("address %s (%s) is associated (%s%s): only an idle address is released",
			id, aws.ToString(a.PublicIp), aws.ToString(a.InstanceId), aws.ToString(a.NetworkInterfaceId))
	}
	f.rec.OrigState = "unassociated"
	f.rec.Restore = "a released address cannot be got back: " + aws.ToString(a.PublicIp) + " goes back to AWS's pool"
	return phaseRelease, fmt.Sprintf("address %s (%s): unassociated", id, aws.ToString(a.PublicIp)), nil
}

// release releases the address. One already gone counts as released:
// after a crash the flow cannot tell its own release from another's.
func (f *flow) release(ctx context.Context) (result, error) {
	id := f.rec.Req.ResourceID
	a, err := f.describeAddress(ctx)
	if err != nil {
		return result{}, err
	}
	if a == nil {
		return result{skipped: true, detail: "address already released"}, nil
	}
	if aws.ToString(a.AssociationId) != "" {
		return result{}, fmt.Errorf("address %s was associated in the meantime: not released", id)
	}
	if _, err := f.ec2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(id)}); err != nil {
		if awsCode(err) == "InvalidAllocationID.NotFound" {
			return result{skipped: true, detail: "address already released"}, nil
		}
		return result{}, fmt.Errorf("releasing address %s: %w", id, err)
	}
	return result{detail: "released " + aws.ToString(a.PublicIp)}, nil
}
