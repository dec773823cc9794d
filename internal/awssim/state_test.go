package awssim

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestHistoryForCosts checks the billing history Cost Explorer prices from:
// volume type/size changes and Elastic IP association changes, each at the
// instant it happened.
func TestHistoryForCosts(t *testing.T) {
	ts := startSim(t, Options{})
	c := ec2Client(ts, "us-east-1")
	ctx := context.Background()
	inst := runOne(t, c, "t3.small", nil)
	id := aws.ToString(inst.InstanceId)
	vol, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: inst.Placement.AvailabilityZone, Size: aws.Int32(100), VolumeType: types.VolumeTypeGp2})
	if err != nil {
		t.Fatal(err)
	}
	ts.Clock.Advance(time.Hour)
	if _, err := c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: vol.VolumeId, VolumeType: types.VolumeTypeGp3, Size: aws.Int32(200)}); err != nil {
		t.Fatal(err)
	}
	addr, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{})
	if err != nil {
		t.Fatal(err)
	}
	ts.Clock.Advance(time.Hour)
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: addr.AllocationId, InstanceId: &id}); err != nil {
		t.Fatal(err)
	}
	ts.Clock.Advance(time.Hour)
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	ts.Clock.Advance(time.Hour)
	if _, err := c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: addr.AllocationId}); err != nil {
		t.Fatal(err)
	}
	var volLog, addrLog []string
	for _, e := range ts.Events(DefaultAccountID) {
		at := e.Time.Sub(testStart)
		switch e.ResourceID {
		case aws.ToString(vol.VolumeId):
			volLog = append(volLog, fmt.Sprintf("%s %s %s/%d/%d", at, e.Kind, e.Type, e.SizeGiB, e.Iops))
		case aws.ToString(addr.AllocationId):
			addrLog = append(addrLog, fmt.Sprintf("%s %s %s", at, e.Kind, e.State))
		}
	}
	if got, want := strings.Join(volLog, "; "), "0s created gp2/100/300; 1h0m0s modified gp3/200/3000"; got != want {
		t.Errorf("volume history = %s\nwant %s", got, want)
	}
	if got, want := strings.Join(addrLog, "; "), "1h0m0s created unassociated; 2h0m0s state associated; 3h0m0s state unassociated; 4h0m0s deleted unassociated"; got != want {
		t.Errorf("address history = %s\nwant %s", got, want)
	}
}

// TestBackfill: with Options.Backfill a new instance has been running for
// that long, so dev mode shows weeks of metrics and costs at once.
func TestBackfill(t *testing.T) {
	ts := startSim(t, Options{Backfill: 30 * 24 * time.Hour, StateDelay: time.Minute})
	c := ec2Client(ts, "us-east-1")
	inst := runOne(t, c, "m5.large", nil)
	got := describeOne(t, c, aws.ToString(inst.InstanceId))
	if got.State.Name != types.InstanceStateNameRunning || !aws.ToTime(got.LaunchTime).Equal(testStart.Add(-30*24*time.Hour)) {
		t.Fatalf("backfilled instance: %s launched %v", got.State.Name, aws.ToTime(got.LaunchTime))
	}
	evs := ts.Events(DefaultAccountID)
	var running time.Time
	for _, e := range evs {
		if e.ResourceID == aws.ToString(inst.InstanceId) && e.State == "running" {
			running = e.Time
		}
	}
	if want := testStart.Add(-30*24*time.Hour + time.Minute); !running.Equal(want) {
		t.Fatalf("running since %v, want %v", running, want)
	}
}
