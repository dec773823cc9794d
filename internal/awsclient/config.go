package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
)

// Options say how to reach one AWS account.
type Options struct {
	// Region is the home region (STS, and the default for clients that do
	// not name one). Required.
	Region string
	// Endpoint replaces every service's endpoint (the simulator, moto).
	// Empty: AWS, or whatever AWS_ENDPOINT_URL_* in the environment says.
	Endpoint string
	// Credentials replaces the SDK's default chain (environment, shared
	// profile, ECS task role, EC2 instance profile), e.g. with Vault's
	// leased credentials.
	Credentials aws.CredentialsProvider
	// AssumeRoleARN, when set, is assumed through STS with ExternalID
	// (recommended for a role in another account) on top of the base
	// credentials.
	AssumeRoleARN string
	ExternalID    string
	// SessionName names the assumed-role session; default "sirsi-agent".
	SessionName string
	// Limiter, when set, paces every attempt inside AWS's quotas.
	Limiter *Limiter
	// Metrics, when set, counts attempts and throttles.
	Metrics *Metrics
	// MaxAttempts per call, retries included; default 10. Throttles and
	// transient errors are retried with backoff up to this many attempts.
	MaxAttempts int
	// MaxBackoff caps the delay between attempts; default 20s.
	MaxBackoff time.Duration
	// RetryMode is "adaptive" (default: the SDK slows the client down after
	// throttles) or "standard" (exponential backoff only; for accounts where
	// throttles come from elsewhere and adaptive pacing would starve a
	// sweep).
	RetryMode string
}

var (
	roleARN    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	externalID = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	regionName = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-\d$`)
)

// Validate names the first wrong field.
func (o Options) Validate() error {
	if !regionName.MatchString(o.Region) {
		return fmt.Errorf("region %q: not an AWS region name", o.Region)
	}
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("endpoint %q: must be an http(s) URL", o.Endpoint)
		}
	}
	if o.AssumeRoleARN != "" && !roleARN.MatchString(o.AssumeRoleARN) {
		return fmt.Errorf("assume_role_arn %q: not an IAM role ARN", o.AssumeRoleARN)
	}
	if o.ExternalID != "" && o.AssumeRoleARN == "" {
		return errors.New("external_id: only used together with assume_role_arn")
	}
	if o.ExternalID != "" && (len(o.ExternalID) < 2 || len(o.ExternalID) > 1224 || !externalID.MatchString(o.ExternalID)) {
		return errors.New("external_id: must be 2..1224 characters of letters, digits and +=,.@:/-")
	}
	if o.RetryMode != "" && o.RetryMode != "adaptive" && o.RetryMode != "standard" {
		return fmt.Errorf("retry_mode %q: must be adaptive or standard", o.RetryMode)
	}
	if o.MaxAttempts < 0 || o.MaxAttempts > 50 {
		return fmt.Errorf("max_attempts %d: must be 0 (default) to 50", o.MaxAttempts)
	}
	return nil
}

// Load builds the account's aws.Config. It does not call AWS: credentials
// are resolved on first use, so a missing role shows up in the first
// sweep's error, not at start.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	if err := o.Validate(); err != nil {
		return aws.Config{}, err
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 10
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 20 * time.Second
	}
	if o.SessionName == "" {
		o.SessionName = "sirsi-agent"
	}
	loaders := []func(*config.LoadOptions) error{
		config.WithRegion(o.Region),
		config.WithRetryer(func() aws.Retryer { return newRetryer(o.RetryMode, o.MaxAttempts, o.MaxBackoff) }),
	}
	if o.Credentials != nil {
		loaders = append(loaders, config.WithCredentialsProvider(o.Credentials))
	}
	if o.Endpoint != "" {
		loaders = append(loaders, config.WithBaseEndpoint(o.Endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	// Wrapped after loading, so AWS_CA_BUNDLE and the other transport
	// settings the loader applies to its buildable client still apply.
	cfg.HTTPClient = OwnBody(cfg.HTTPClient)
	cfg.APIOptions = append(cfg.APIOptions, attemptMiddleware(o.Limiter, o.Metrics))
	tracing.AWS(&cfg)
	if o.AssumeRoleARN != "" {
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), o.AssumeRoleARN, func(ao *stscreds.AssumeRoleOptions) {
			ao.RoleSessionName = o.SessionName
			if o.ExternalID != "" {
				ao.ExternalID = aws.String(o.ExternalID)
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(provider)
	}
	return cfg, nil
}

// newRetryer drops the standard retry quota in both modes: under a
// throttling storm that quota runs dry and turns throttles into failed
// sweeps, while the client-side buckets already keep the rate honest.
func newRetryer(mode string, attempts int, maxBackoff time.Duration) aws.Retryer {
	std := func(so *retry.StandardOptions) {
		so.MaxAttempts = attempts
		so.MaxBackoff = maxBackoff
		so.RateLimiter = ratelimit.None
	}
	if mode == "standard" {
		return retry.NewStandard(std)
	}
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, std)
	})
}
