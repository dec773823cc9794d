package awssim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestFaultRatios(t *testing.T) {
	ts := startSim(t, Options{})
	c := ec2Client(ts, "us-east-1")
	ctx := context.Background()
	if err := ts.SetFaults(FaultConfig{ThrottleRatio: 1, Services: []string{"ec2"}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if code := apiCode(t, err); code != "RequestLimitExceeded" {
		t.Fatalf("throttle fault: %s", code)
	}
	// The fault is scoped to ec2: STS still answers.
	if _, err := sts.NewFromConfig(ts.awsConfig("us-east-1", "AKIDTEST")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("sts under an ec2-only fault: %v", err)
	}
	if err := ts.SetFaults(FaultConfig{ServerErrorRatio: 1, Actions: []string{"DescribeVolumes"}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
	if code := apiCode(t, err); code != "InternalError" || httpStatus(t, err) != http.StatusInternalServerError {
		t.Fatalf("5xx fault: %s", code)
	}
	if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatalf("action outside the fault's scope: %v", err)
	}
	if err := ts.SetFaults(FaultConfig{ThrottleRatio: 2}); err == nil {
		t.Fatal("ratio 2 accepted")
	}
}

// TestFaultsAreSeeded: the same seed gives the same pattern of injected
// failures, a different seed a different one.
func TestFaultsAreSeeded(t *testing.T) {
	pattern := func(seed int64) string {
		ts := startSim(t, Options{Seed: seed})
		if err := ts.SetFaults(FaultConfig{ThrottleRatio: 0.5}); err != nil {
			t.Fatal(err)
		}
		c := ec2Client(ts, "us-east-1")
		var b strings.Builder
		for range 32 {
			if _, err := c.DescribeRegions(context.Background(), &ec2.DescribeRegionsInput{}); err != nil {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	a, b, other := pattern(7), pattern(7), pattern(8)
	if a != b {
		t.Fatalf("seed 7 gave %s then %s", a, b)
	}
	if a == other {
		t.Fatalf("seeds 7 and 8 gave the same pattern %s", a)
	}
	if !strings.Contains(a, "x") || !strings.Contains(a, ".") {
		t.Fatalf("ratio 0.5 gave %s", a)
	}
}

func TestFailNextModify(t *testing.T) {
	ts := startSim(t, Options{})
	c := ec2Client(ts, "us-east-1")
	ctx := context.Background()
	id := aws.ToString(runOne(t, c, "m5.large", nil).InstanceId)
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if err := ts.FailNext(FailNextSpec{Service: "ec2", Action: "ModifyInstanceAttribute", ResourceID: id, Code: "UnsupportedOperation"}); err != nil {
		t.Fatal(err)
	}
	modify := func() error {
		_, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, InstanceType: &types.AttributeValue{Value: aws.String("m5.large")}})
		return err
	}
	if code := apiCode(t, modify()); code != "UnsupportedOperation" {
		t.Fatalf("armed modify: %s", code)
	}
	if err := modify(); err != nil {
		t.Fatalf("the failure fired twice: %v", err)
	}
	if err := ts.FailNext(FailNextSpec{Service: "ec2", Action: "ModifyInstanceAttribute"}); err == nil {
		t.Fatal("fail-next without a resource accepted")
	}
}

// TestFaultLatency: with a minute of injected latency a call cannot finish
// within its caller's short deadline; once the fault is cleared it can.
func TestFaultLatency(t *testing.T) {
	ts := startSim(t, Options{})
	c := ec2Client(ts, "us-east-1")
	if err := ts.SetFaults(FaultConfig{LatencyMS: 60_000, Actions: []string{"DescribeRegions"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call under a minute of latency: %v, want the caller's deadline to expire", err)
	}
	ts.ClearFaults()
	if _, err := c.DescribeRegions(context.Background(), &ec2.DescribeRegionsInput{}); err != nil {
		t.Fatalf("after clearing: %v", err)
	}
}
