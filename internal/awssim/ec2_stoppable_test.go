package awssim

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestHibernation: as in EC2, StopInstances with Hibernate=true hibernates
// an instance launched with HibernationOptions.Configured (state reason
// Client.UserInitiatedHibernate) and refuses any other with
// UnsupportedHibernationConfiguration, changing nothing; an instance-store
// root cannot be enabled for hibernation at launch.
func TestHibernation(t *testing.T) {
	ts := startSim(t, Options{})
	c := ec2Client(ts, "us-east-1")
	ctx := context.Background()
	const storeAMI = "ami-0fedcba9876543210"
	if err := ts.SetImageRootDeviceType(storeAMI, "instance-store"); err != nil {
		t.Fatal(err)
	}
	run := func(ami string, hibernate bool) (string, error) {
		out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: types.InstanceTypeM5Large,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), HibernationOptions: &types.HibernationOptionsRequest{Configured: aws.Bool(hibernate)}})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Instances[0].InstanceId), nil
	}
	if _, err := run(storeAMI, true); apiCode(t, err) != "UnsupportedHibernationConfiguration" {
		t.Errorf("launching an instance-store instance enabled for hibernation: %v, want UnsupportedHibernationConfiguration", err)
	}
	enabled, err := run("ami-0123456789abcdef0", true)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := run("ami-0123456789abcdef0", false)
	if err != nil {
		t.Fatal(err)
	}
	describe := func(id string) types.Instance {
		t.Helper()
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Reservations[0].Instances[0]
	}
	if h := describe(enabled).HibernationOptions; h == nil || !aws.ToBool(h.Configured) {
		t.Errorf("enabled instance describes HibernationOptions %+v, want configured", h)
	}
	if h := describe(plain).HibernationOptions; h == nil || aws.ToBool(h.Configured) {
		t.Errorf("plain instance describes HibernationOptions %+v, want present and not configured", h)
	}

	// One refused instance in the call changes none of them.
	_, err = c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{enabled, plain}, Hibernate: aws.Bool(true)})
	if apiCode(t, err) != "UnsupportedHibernationConfiguration" {
		t.Fatalf("hibernating an instance not configured for it: %v, want UnsupportedHibernationConfiguration", err)
	}
	for _, id := range []string{enabled, plain} {
		if st := describe(id).State.Name; st != types.InstanceStateNameRunning {
			t.Errorf("%s is %s after a refused hibernate, want running", id, st)
		}
	}
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{enabled}, Hibernate: aws.Bool(true)}); err != nil {
		t.Fatalf("hibernating an enabled instance: %v", err)
	}
	in := describe(enabled)
	if in.State.Name != types.InstanceStateNameStopped && in.State.Name != types.InstanceStateNameStopping {
		t.Errorf("hibernated instance is %s", in.State.Name)
	}
	if in.StateReason == nil || aws.ToString(in.StateReason.Code) != "Client.UserInitiatedHibernate" {
		t.Errorf("hibernated instance's state reason %+v, want Client.UserInitiatedHibernate", in.StateReason)
	}
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{plain}}); err != nil {
		t.Errorf("a plain stop of an instance not configured for hibernation: %v", err)
	}
	if code := aws.ToString(describe(plain).StateReason.Code); code != "Client.UserInitiatedShutdown" {
		t.Errorf("stopped instance's state reason %s, want Client.UserInitiatedShutdown", code)
	}
}
