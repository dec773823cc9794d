package daemon

import (
	"bytes"
	"context"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
)

func TestSimServesAndPrintsExports(t *testing.T) {
	p := startAgentd(t, "sim", "-listen", "127.0.0.1:0", "-account-id", "210987654321", "-log-format", "json")
	ex := p.exports(5)
	if !strings.HasPrefix(ex["AWS_ENDPOINT_URL"], "http://127.0.0.1:") || ex["AWS_ACCESS_KEY_ID"] == "" || ex["AWS_REGION"] == "" {
		t.Fatalf("exports = %v", ex)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	client := sts.New(sts.Options{
		Region:       ex["AWS_REGION"],
		BaseEndpoint: aws.String(ex["AWS_ENDPOINT_URL"]),
		Credentials:  credentials.NewStaticCredentialsProvider(ex["AWS_ACCESS_KEY_ID"], ex["AWS_SECRET_ACCESS_KEY"], ""),
	})
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity against agentd sim: %v", err)
	}
	if aws.ToString(out.Account) != "210987654321" {
		t.Errorf("account = %q, want the -account-id", aws.ToString(out.Account))
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(); code != exitOK {
		t.Fatalf("exit code %d", code)
	}
}

func TestSimFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "-account-id", "12"}, "-account-id"},
		{[]string{"sim", "-regions", " , "}, "-regions"},
		{[]string{"sim", "-listen", "10.0.0.1:0"}, "loopback"},
		{[]string{"sim", "-fleet-size", "-1"}, "-fleet-size -1: must be between 0 and 50000"},
		{[]string{"sim", "-fleet-size", "50001"}, "-fleet-size 50001"},
	} {
		var stdout, stderr bytes.Buffer
		code := Main(tt.args, &stdout, &stderr)
		if code == exitOK || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want a failure naming %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}

// TestSimSeedsFleet counts, through the SDK, every resource -fleet-size
// asked for once the export lines are out; root volumes come with their
// instances and are not part of the count, as in awssim.FleetSpec.N.
func TestSimSeedsFleet(t *testing.T) {
	const size = 20
	p := startAgentd(t, "sim", "-listen", "127.0.0.1:0", "-regions", "eu-west-1", "-fleet-size", "20", "-fleet-seed", "7", "-log-format", "json")
	ex := p.exports(5)
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	cfg := aws.Config{Region: ex["AWS_REGION"], BaseEndpoint: aws.String(ex["AWS_ENDPOINT_URL"]), HTTPClient: awsclient.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider(ex["AWS_ACCESS_KEY_ID"], ex["AWS_SECRET_ACCESS_KEY"], "")}
	instances, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	nInstances := 0
	for _, r := range instances.Reservations {
		nInstances += len(r.Instances)
	}
	volumes, err := ec2.NewFromConfig(cfg).DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
	if err != nil {
		t.Fatalf("DescribeVolumes: %v", err)
	}
	addrs, err := ec2.NewFromConfig(cfg).DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
	if err != nil {
		t.Fatalf("DescribeAddresses: %v", err)
	}
	dbs, err := rds.NewFromConfig(cfg).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	if err != nil {
		t.Fatalf("DescribeDBInstances: %v", err)
	}
	buckets, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	fns, err := lambda.NewFromConfig(cfg).ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatalf("ListFunctions: %v", err)
	}
	if nInstances == 0 {
		t.Fatal("no instances seeded")
	}
	// Every instance has one root volume: instances plus data volumes are
	// all the volumes.
	got := len(volumes.Volumes) + len(addrs.Addresses) + len(dbs.DBInstances) + len(buckets.Buckets) + len(fns.Functions)
	if got != size {
		t.Errorf("seeded %d resources (%d instances, %d volumes with roots, %d addresses, %d DB instances, %d buckets, %d functions), want -fleet-size %d",
			got, nInstances, len(volumes.Volumes), len(addrs.Addresses), len(dbs.DBInstances), len(buckets.Buckets), len(fns.Functions), size)
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(); code != exitOK {
		t.Fatalf("exit code %d", code)
	}
}
