package awssim

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
)

// testStart is a fixed instant so tests never depend on the wall clock.
var testStart = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

type testSim struct {
	*Sim
	URL   string
	Clock *ManualClock
}

// startSim serves a simulator with a manual clock and throttling off unless
// opts say otherwise.
func startSim(t testing.TB, opts Options) *testSim {
	t.Helper()
	clock := NewManualClock(testStart)
	if opts.Clock == nil {
		opts.Clock = clock
	}
	if opts.Throttle == (ThrottleOptions{}) {
		opts.Throttle.Disabled = true
	}
	sim, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &testSim{Sim: sim, URL: srv.URL, Clock: clock}
}

// awsConfig points the SDK at the simulator with fixed credentials. It
// retries only connection errors, so every AWS answer (throttling included)
// reaches the test unaltered; its HTTP client is the agent's (see
// awsclient.OwnBody for the SDK bug it avoids).
func (ts *testSim) awsConfig(region, accessKey string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, "secret", ""),
		BaseEndpoint: aws.String(ts.URL),
		HTTPClient:   awsclient.HTTPClient(),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 5
				o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

func TestNewValidatesOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"short account":     {AccountID: "1234"},
		"mapped account":    {Accounts: map[string]string{"AKID": "x"}},
		"region":            {Regions: []string{"Mars"}},
		"negative delay":    {StateDelay: -time.Second},
		"negative backfill": {Backfill: -time.Hour},
		"throttle scale":    {Throttle: ThrottleOptions{Scale: -2}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New accepted %+v", name, o)
		}
	}
	sim, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sim.AccountID() != DefaultAccountID || len(sim.Regions()) != len(DefaultRegions) {
		t.Errorf("defaults: account %s, regions %v", sim.AccountID(), sim.Regions())
	}
}
