package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// RequiredIAMActions are the calls of the credentials check. AWS allows
// sts:GetCallerIdentity to every principal; it is listed so the generated
// policy (internal/iampolicy) names everything the agent calls.
func RequiredIAMActions() []string { return []string{"sts:GetCallerIdentity"} }

// credentialsCheck is what the last check before a sweep found: whose AWS
// credentials the agent holds. Heartbeats carry it to the control plane,
// which shows a mismatch or a refused role as the status of the agent and
// of its cloud account.
type credentialsCheck struct {
	verdict sirsiv1.CredentialsVerdict
	detail  string
}

// errCredentials is a check that found the credentials wrong; every sweep
// (and so every action) stops for the account until a check passes.
var errCredentials = errors.New("AWS credentials check failed: no sweep or action runs for this account")

// checkCredentials asks AWS, through the role the agent assumes when it
// has one, which account its credentials belong to, and compares it with
// the cloud account's. A verdict is returned whenever AWS answered; an
// error without a verdict (network, throttling) decides nothing, and the
// sweep waits for a check that does.
func checkCredentials(ctx context.Context, cfg aws.Config, roleARN, wantAccount string) (credentialsCheck, error) {
	if roleARN != "" {
		// Retrieved on their own first, so that a refused AssumeRole is
		// told apart from a refused GetCallerIdentity.
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			if code, ok := awsRefusal(err); ok {
				c := credentialsCheck{verdict: sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_ASSUME_ROLE_FAILED,
					detail: fmt.Sprintf("sts:AssumeRole of %s refused: %s", roleARN, code)}
				return c, fmt.Errorf("%w: %s", errCredentials, c.detail)
			}
			return credentialsCheck{}, fmt.Errorf("assuming role %s: %w", roleARN, err)
		}
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		if code, ok := awsRefusal(err); ok {
			c := credentialsCheck{verdict: sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_MISMATCH,
				detail: "sts:GetCallerIdentity refused the credentials: " + code}
			return c, fmt.Errorf("%w: %s", errCredentials, c.detail)
		}
		return credentialsCheck{}, fmt.Errorf("checking the AWS credentials with sts:GetCallerIdentity: %w", err)
	}
	if got := aws.ToString(out.Account); got != wantAccount {
		c := credentialsCheck{verdict: sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_MISMATCH,
			detail: fmt.Sprintf("the credentials (%s) belong to AWS account %s, not the cloud account's %s", aws.ToString(out.Arn), got, wantAccount)}
		return c, fmt.Errorf("%w: %s", errCredentials, c.detail)
	}
	return credentialsCheck{verdict: sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_OK}, nil
}

// awsRefusal returns AWS's error code and message when AWS answered err
// with a refusal that trying again will not change; throttles and
// server-side failures are not refusals.
func awsRefusal(err error) (string, bool) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "", false
	}
	code := ae.ErrorCode()
	if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
		return "", false
	}
	if _, ok := retry.DefaultRetryableErrorCodes[code]; ok {
		return "", false
	}
	if ae.ErrorFault() == smithy.FaultServer {
		return "", false
	}
	return code + ": " + ae.ErrorMessage(), true
}
