package awssim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestDenyRoleActions: a role's session is refused exactly the denied
// actions, with each service's own code and HTTP 403, before the call is
// looked at (the named resources do not exist); its other actions, other
// roles' sessions and long-term keys are unaffected.
func TestDenyRoleActions(t *testing.T) {
	const role, other = "arn:aws:iam::123456789012:role/sirsi-agent", "arn:aws:iam::123456789012:role/admin"
	ts := startSim(t, Options{})
	if err := ts.DenyRoleActions(role, "ec2:StopInstances", "rds:ModifyDBInstance", "lambda:UpdateFunctionConfiguration"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{{"arn:aws:iam::1:role/x", "ec2:StopInstances"}, {role, "StopInstances"}, {role, "ec2:Stop*"}} {
		if err := ts.DenyRoleActions(bad[0], bad[1]); err == nil {
			t.Errorf("DenyRoleActions(%q, %q) accepted", bad[0], bad[1])
		}
	}
	ctx := context.Background()
	as := func(roleARN string) aws.Config {
		base := ts.awsConfig("us-east-1", "AKIDBASE")
		out, err := sts.NewFromConfig(base).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("agent")})
		if err != nil {
			t.Fatalf("AssumeRole %s: %v", roleARN, err)
		}
		cfg := base.Copy()
		cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId),
			aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
		return cfg
	}
	denied := as(role)
	refusals := map[string]struct {
		call func(aws.Config) error
		code string
	}{
		"ec2:StopInstances": {func(c aws.Config) error {
			_, err := ec2.NewFromConfig(c).StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
			return err
		}, "UnauthorizedOperation"},
		"rds:ModifyDBInstance": {func(c aws.Config) error {
			_, err := rds.NewFromConfig(c).ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("nope"), DBInstanceClass: aws.String("db.t3.small")})
			return err
		}, "AccessDenied"},
		"lambda:UpdateFunctionConfiguration": {func(c aws.Config) error {
			_, err := lambda.NewFromConfig(c).UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("nope"), MemorySize: aws.Int32(256)})
			return err
		}, "AccessDeniedException"},
	}
	for action, r := range refusals {
		err := r.call(denied)
		if code := apiCode(t, err); code != r.code {
			t.Errorf("%s as %s: %s, want %s", action, role, code, r.code)
		}
		var re *smithyhttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
			t.Errorf("%s: HTTP status %v, want 403", action, err)
		}
		if want := "arn:aws:sts::123456789012:assumed-role/sirsi-agent/agent is not authorized to perform: " + action; !strings.Contains(err.Error(), want) {
			t.Errorf("%s: message %q does not say %q", action, err, want)
		}
		// Another role and long-term keys get past authorisation to the
		// service's own answer about the missing resource.
		for who, cfg := range map[string]aws.Config{other: as(other), "AKIDBASE": ts.awsConfig("us-east-1", "AKIDBASE")} {
			if code := apiCode(t, r.call(cfg)); code == r.code {
				t.Errorf("%s as %s: refused with %s, but only %s is denied it", action, who, code, role)
			}
		}
	}
	// The role's other actions still work.
	if _, err := ec2.NewFromConfig(denied).DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Errorf("DescribeInstances as %s: %v", role, err)
	}
	if _, err := lambda.NewFromConfig(denied).ListFunctions(ctx, &lambda.ListFunctionsInput{FunctionVersion: lambdatypes.FunctionVersionAll}); err != nil {
		t.Errorf("ListFunctions as %s: %v", role, err)
	}
}
