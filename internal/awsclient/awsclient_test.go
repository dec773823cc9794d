package awsclient

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
)

func startSim(t *testing.T, o awssim.Options) (*awssim.Sim, string) {
	t.Helper()
	sim, err := awssim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return sim, srv.URL
}

func staticCreds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
}

func TestValidate(t *testing.T) {
	good := Options{Region: "us-east-1"}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid options rejected: %v", err)
	}
	for want, o := range map[string]Options{
		"region":          {Region: "Mars"},
		"endpoint":        {Region: "us-east-1", Endpoint: "ftp://x"},
		"assume_role_arn": {Region: "us-east-1", AssumeRoleARN: "arn:aws:iam::12:role/x"},
		"external_id":     {Region: "us-east-1", ExternalID: "abc"},
		"max_attempts":    {Region: "us-east-1", MaxAttempts: 99},
		"retry_mode":      {Region: "us-east-1", RetryMode: "eager"},
	} {
		err := o.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%+v: error %v, want one naming %s", o, err, want)
		}
	}
	if _, err := Load(context.Background(), Options{Region: "x"}); err == nil {
		t.Error("Load accepted a bad region")
	}
}

// The limiter keeps a burst above the bucket's capacity inside AWS's
// quota: the simulator, enforcing the same buckets, throttles nothing.
// Without the limiter the same burst is throttled, so the check can fail.
func TestLimiterStaysInsideQuota(t *testing.T) {
	// Scale 0.2: EC2's non-mutating bucket holds 20 tokens and refills 4/s.
	sim, url := startSim(t, awssim.Options{Throttle: awssim.ThrottleOptions{Scale: 0.2}})
	_ = sim
	const calls = 24
	run := func(limited bool) float64 {
		reg := prometheus.NewRegistry()
		m, err := NewMetrics(reg)
		if err != nil {
			t.Fatal(err)
		}
		o := Options{Region: "us-east-1", Endpoint: url, Credentials: staticCreds(), Metrics: m, MaxAttempts: 1}
		if limited {
			if o.Limiter, err = NewLimiter(0.2, m); err != nil {
				t.Fatal(err)
			}
		}
		cfg, err := Load(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		c := ec2.NewFromConfig(cfg)
		var wg sync.WaitGroup
		for range calls {
			wg.Go(func() { _, _ = c.DescribeAddresses(context.Background(), &ec2.DescribeAddressesInput{}) })
		}
		wg.Wait()
		if got := counter(t, m.attempts.WithLabelValues("EC2", "DescribeAddresses", "ok")) + counter(t, m.attempts.WithLabelValues("EC2", "DescribeAddresses", "throttled")); got != calls {
			t.Errorf("limited=%v: %v attempts counted, want %d", limited, got, calls)
		}
		return counter(t, m.throttles.WithLabelValues("EC2"))
	}
	if th := run(true); th != 0 {
		t.Errorf("with the limiter: %v throttled attempts, want 0", th)
	}
	if err := sim.SetThrottle(awssim.ThrottleOptions{Scale: 0.2}); err != nil {
		t.Fatal(err)
	}
	if th := run(false); th == 0 {
		t.Error("without the limiter nothing was throttled: the test cannot tell the limiter works")
	}
}

// A storm of throttles and 5xx answers slows calls down but every call
// succeeds, in both retry modes. (Adaptive mode slows a client to about one
// call a second under a 30 % storm, hence fewer calls.)
func TestStormIsRetried(t *testing.T) {
	for mode, calls := range map[string]int{"standard": 100, "adaptive": 15} {
		t.Run(mode, func(t *testing.T) { storm(t, mode, calls) })
	}
}

func storm(t *testing.T, mode string, calls int) {
	sim, url := startSim(t, awssim.Options{Throttle: awssim.ThrottleOptions{Disabled: true}})
	if err := sim.SetFaults(awssim.FaultConfig{ThrottleRatio: 0.3, ServerErrorRatio: 0.05}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(context.Background(), Options{Region: "us-east-1", Endpoint: url, Credentials: staticCreds(), Metrics: m, MaxBackoff: 1, RetryMode: mode})
	if err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(cfg)
	for i := range calls {
		if _, err := c.DescribeAddresses(context.Background(), &ec2.DescribeAddressesInput{}); err != nil {
			t.Fatalf("call %d failed in the storm: %v", i, err)
		}
	}
	if counter(t, m.throttles.WithLabelValues("EC2")) == 0 {
		t.Error("no throttles counted at a 30% throttle ratio")
	}
}

func TestAssumeRoleWithExternalID(t *testing.T) {
	const role = "arn:aws:iam::210987654321:role/sirsi-agent"
	_, url := startSim(t, awssim.Options{RoleExternalIDs: map[string]string{role: "ext-123"}})
	for _, c := range []struct {
		ext    string
		wantOK bool
	}{{"ext-123", true}, {"wrong-id", false}} {
		cfg, err := Load(context.Background(), Options{Region: "us-east-1", Endpoint: url, Credentials: staticCreds(), AssumeRoleARN: role, ExternalID: c.ext})
		if err != nil {
			t.Fatal(err)
		}
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if !c.wantOK {
			if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
				t.Errorf("external id %q: err %v, want AccessDenied", c.ext, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("external id %q: %v", c.ext, err)
		}
		if aws.ToString(out.Account) != "210987654321" || !strings.Contains(aws.ToString(out.Arn), "assumed-role/sirsi-agent/sirsi-agent") {
			t.Errorf("caller identity %s %s, want the assumed role", aws.ToString(out.Account), aws.ToString(out.Arn))
		}
	}
}

func TestUnfilteredClassification(t *testing.T) {
	if !unfiltered(&ec2.DescribeInstancesInput{}) {
		t.Error("empty DescribeInstances input is unfiltered")
	}
	if unfiltered(&ec2.DescribeInstancesInput{MaxResults: aws.Int32(1000)}) {
		t.Error("a paginated DescribeInstances input counted as unfiltered")
	}
	if n := sliceLen(&ec2.StopInstancesInput{InstanceIds: []string{"i-1", "i-2"}}, "InstanceIds"); n != 2 {
		t.Errorf("instance count %d, want 2", n)
	}
}

func counter(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestIAMAction(t *testing.T) {
	for _, tc := range []struct{ pkg, op, want string }{
		{"ec2", "StopInstances", "ec2:StopInstances"},
		{"costexplorer", "GetCostAndUsage", "ce:GetCostAndUsage"},
		{"s3", "ListBuckets", "s3:ListAllMyBuckets"},
		{"s3", "GetBucketTagging", "s3:GetBucketTagging"},
	} {
		if got := IAMAction(tc.pkg, tc.op); got != tc.want {
			t.Errorf("IAMAction(%q, %q) = %q, want %q", tc.pkg, tc.op, got, tc.want)
		}
	}
}
