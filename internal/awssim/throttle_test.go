package awssim

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func httpStatus(t *testing.T, err error) int {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want an HTTP response error, got %v", err)
	}
	return re.HTTPStatusCode()
}

// TestEC2Throttling drives the EC2 buckets at a tenth of AWS's size with a
// manual clock: the unfiltered Describe bucket holds 5 tokens and refills 1/s,
// the filtered (non-mutating) one 10 and 2/s, independently.
func TestEC2Throttling(t *testing.T) {
	ts := startSim(t, Options{Throttle: ThrottleOptions{Scale: 0.1}})
	c := ec2Client(ts, "us-east-1")
	ctx := context.Background()
	unfiltered := func() error {
		_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		return err
	}
	filtered := func() error {
		_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running"}}}})
		return err
	}
	for i := range 5 {
		if err := unfiltered(); err != nil {
			t.Fatalf("unfiltered call %d within the bucket: %v", i+1, err)
		}
	}
	err := unfiltered()
	if code := apiCode(t, err); code != "RequestLimitExceeded" {
		t.Fatalf("6th unfiltered call: %s, want RequestLimitExceeded", code)
	}
	if st := httpStatus(t, err); st != http.StatusServiceUnavailable {
		t.Fatalf("EC2 throttling status %d, want 503", st)
	}
	for i := range 10 {
		if err := filtered(); err != nil {
			t.Fatalf("filtered call %d, another bucket: %v", i+1, err)
		}
	}
	if code := apiCode(t, filtered()); code != "RequestLimitExceeded" {
		t.Fatalf("11th filtered call: %s", code)
	}
	ts.Clock.Advance(time.Second)
	if err := unfiltered(); err != nil {
		t.Fatalf("after 1s refill: %v", err)
	}
	if code := apiCode(t, unfiltered()); code != "RequestLimitExceeded" {
		t.Fatalf("refill gave more than 1 token/s: %s", code)
	}
	// Another region has its own buckets.
	if _, err := ec2Client(ts, "eu-west-1").DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatalf("eu-west-1 throttled by us-east-1's bucket: %v", err)
	}
	// Switching throttling off admits everything.
	if err := ts.SetThrottle(ThrottleOptions{Disabled: true}); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := unfiltered(); err != nil {
			t.Fatalf("throttling disabled: %v", err)
		}
	}
}

// TestRunInstancesResourceBucket: RunInstances is also limited per launched
// instance (bucket 1000, refill 2/s; at scale 0.01: 10 and 0.02/s).
func TestRunInstancesResourceBucket(t *testing.T) {
	ts := startSim(t, Options{Throttle: ThrottleOptions{Scale: 0.01}})
	c := ec2Client(ts, "us-east-1")
	run := func(n int32) error {
		_, err := c.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"),
			InstanceType: "t3.small", MinCount: aws.Int32(n), MaxCount: aws.Int32(n)})
		return err
	}
	if err := run(10); err != nil {
		t.Fatalf("10 instances within the resource bucket: %v", err)
	}
	if code := apiCode(t, run(1)); code != "RequestLimitExceeded" {
		t.Fatalf("11th instance: %s, want RequestLimitExceeded", code)
	}
	ts.Clock.Advance(50 * time.Second)
	if err := run(1); err != nil {
		t.Fatalf("after refill: %v", err)
	}
}

func TestQueryThrottlingEnvelope(t *testing.T) {
	ts := startSim(t, Options{Throttle: ThrottleOptions{Scale: 0.01}})
	c := sts.NewFromConfig(ts.awsConfig("us-east-1", "AKIDTEST"))
	if _, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("first call: %v", err)
	}
	_, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if code := apiCode(t, err); code != "Throttling" {
		t.Fatalf("query-protocol throttling code %s, want Throttling", code)
	}
	if st := httpStatus(t, err); st != http.StatusBadRequest {
		t.Fatalf("query-protocol throttling status %d, want 400", st)
	}
}

func TestThrottleOptionsValidated(t *testing.T) {
	if _, err := New(Options{Throttle: ThrottleOptions{Scale: -1}}); err == nil {
		t.Fatal("negative scale accepted")
	}
}
