package awssim

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestAddresses(t *testing.T) {
	ts := startSim(t, Options{})
	c := ec2Client(ts, "us-west-2")
	ctx := context.Background()
	id := aws.ToString(runOne(t, c, "t3.small", nil).InstanceId)
	a1, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatalf("AllocateAddress: %v", err)
	}
	a2, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{})
	if err != nil {
		t.Fatalf("AllocateAddress: %v", err)
	}
	assoc, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: a1.AllocationId, InstanceId: &id})
	if err != nil {
		t.Fatalf("AssociateAddress: %v", err)
	}
	if aws.ToString(assoc.AssociationId) == "" {
		t.Fatal("no association id")
	}
	out, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: []types.Filter{{Name: aws.String("instance-id"), Values: []string{id}}}})
	if err != nil {
		t.Fatalf("DescribeAddresses: %v", err)
	}
	if len(out.Addresses) != 1 || aws.ToString(out.Addresses[0].AllocationId) != aws.ToString(a1.AllocationId) ||
		aws.ToString(out.Addresses[0].PublicIp) != aws.ToString(a1.PublicIp) {
		t.Fatalf("addresses of %s = %+v", id, out.Addresses)
	}
	if got := describeOne(t, c, id); aws.ToString(got.PublicIpAddress) != aws.ToString(a1.PublicIp) {
		t.Errorf("instance public ip = %q, want %q", aws.ToString(got.PublicIpAddress), aws.ToString(a1.PublicIp))
	}
	_, err = c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: a1.AllocationId})
	if code := apiCode(t, err); code != "InvalidIPAddress.InUse" {
		t.Fatalf("release associated: %s", code)
	}
	if _, err := c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: a2.AllocationId}); err != nil {
		t.Fatalf("ReleaseAddress: %v", err)
	}
	_, err = c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{aws.ToString(a2.AllocationId)}})
	if code := apiCode(t, err); code != "InvalidAllocationID.NotFound" {
		t.Fatalf("describe released: %s", code)
	}
	// Terminating the instance frees its address.
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatalf("TerminateInstances: %v", err)
	}
	if _, err := c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: a1.AllocationId}); err != nil {
		t.Fatalf("release after terminate: %v", err)
	}
}
