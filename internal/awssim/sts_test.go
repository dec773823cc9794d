package awssim

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestSTSCallerIdentityAndAssumeRole(t *testing.T) {
	const role = "arn:aws:iam::210987654321:role/sirsi-agent"
	ts := startSim(t, Options{RoleExternalIDs: map[string]string{role: "tenant-42"}})
	ctx := context.Background()
	c := sts.NewFromConfig(ts.awsConfig("us-east-1", "AKIDBASE"))

	id, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if aws.ToString(id.Account) != DefaultAccountID || aws.ToString(id.Arn) != "arn:aws:iam::123456789012:user/sim-akidbase" {
		t.Fatalf("identity = %s %s", aws.ToString(id.Account), aws.ToString(id.Arn))
	}

	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")})
	if code := apiCode(t, err); code != "AccessDenied" {
		t.Fatalf("AssumeRole without the external id: %s, want AccessDenied", code)
	}
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::1:role/x"), RoleSessionName: aws.String("s1")})
	if code := apiCode(t, err); code != "ValidationError" {
		t.Fatalf("AssumeRole with a bad ARN: %s, want ValidationError", code)
	}
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1"), ExternalId: aws.String("tenant-42"), DurationSeconds: aws.Int32(60)})
	if code := apiCode(t, err); code != "ValidationError" {
		t.Fatalf("AssumeRole for 60s: %s, want ValidationError", code)
	}
	out, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("agent-session"), ExternalId: aws.String("tenant-42")})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::210987654321:assumed-role/sirsi-agent/agent-session" {
		t.Errorf("assumed role arn = %s", got)
	}
	if !out.Credentials.Expiration.Equal(testStart.Add(3600e9)) {
		t.Errorf("expiration = %v, want an hour after %v", out.Credentials.Expiration, testStart)
	}

	// The temporary credentials act in the role's account.
	cfg := ts.awsConfig("us-east-1", "unused")
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId),
		aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	roleID, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity as role: %v", err)
	}
	if aws.ToString(roleID.Account) != "210987654321" || aws.ToString(roleID.Arn) != aws.ToString(out.AssumedRoleUser.Arn) {
		t.Fatalf("role identity = %s %s", aws.ToString(roleID.Account), aws.ToString(roleID.Arn))
	}
	if _, err := ec2.NewFromConfig(cfg).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"),
		InstanceType: "t3.small", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}); err != nil {
		t.Fatalf("RunInstances as role: %v", err)
	}
	mine, err := ec2Client(ts, "us-east-1").DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	if n := len(instanceIDs(mine)); n != 0 {
		t.Errorf("the base account sees %d of the role account's instances", n)
	}
	theirs, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatalf("DescribeInstances as role: %v", err)
	}
	if n := len(instanceIDs(theirs)); n != 1 || aws.ToString(theirs.Reservations[0].OwnerId) != "210987654321" {
		t.Errorf("role account sees %d instances", n)
	}

	// An hour later the session has expired.
	ts.Clock.Advance(time.Hour)
	_, err = ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if code := apiCode(t, err); code != "RequestExpired" {
		t.Errorf("EC2 with expired session credentials: %s, want RequestExpired", code)
	}
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if code := apiCode(t, err); code != "ExpiredToken" {
		t.Errorf("STS with expired session credentials: %s, want ExpiredToken", code)
	}
}
