package awssim

import (
	"fmt"
	"math"
	"sync"

	"golang.org/x/time/rate"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsquota"
)

// BucketSpec is one token bucket from AWS's published quotas, the same
// table the agent's client-side limiter uses.
type BucketSpec = awsquota.Bucket

// ThrottleOptions configures the token buckets.
type ThrottleOptions struct {
	// Disabled admits every call (benchmarks, most functional tests).
	Disabled bool
	// Scale multiplies every bucket's capacity and refill rate; 0 means 1.
	// A test can set 0.05 to hit limits within a handful of calls.
	Scale float64
}

type throttler struct {
	mu       sync.Mutex
	disabled bool
	scale    float64
	buckets  map[bucketKey]*rate.Limiter
}

type bucketKey struct {
	account, region, service, bucket string
}

func newThrottler(o ThrottleOptions) (*throttler, error) {
	if o.Scale < 0 || math.IsNaN(o.Scale) || math.IsInf(o.Scale, 0) {
		return nil, fmt.Errorf("throttle scale %v: must be a positive number", o.Scale)
	}
	if o.Scale == 0 {
		o.Scale = 1
	}
	return &throttler{disabled: o.Disabled, scale: o.Scale, buckets: map[bucketKey]*rate.Limiter{}}, nil
}

// allow takes n tokens from the bucket spec names for rc's account and
// region, at the simulator's clock (so a manual clock drives refills).
func (t *throttler) allow(rc *Request, spec BucketSpec, n int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.disabled {
		return true
	}
	k := bucketKey{rc.Account, rc.Region, rc.Service, spec.Name}
	l, ok := t.buckets[k]
	if !ok {
		burst := max(1, int(math.Round(spec.Capacity*t.scale)))
		l = rate.NewLimiter(rate.Limit(spec.Refill*t.scale), burst)
		t.buckets[k] = l
	}
	return l.AllowN(rc.Now, n)
}

// setOptions replaces the throttle configuration and empties every bucket's
// history, so a test starts from full buckets.
func (t *throttler) setOptions(o ThrottleOptions) error {
	fresh, err := newThrottler(o)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.disabled, t.scale, t.buckets = fresh.disabled, fresh.scale, fresh.buckets
	return nil
}

// SetThrottle reconfigures throttling at run time; all buckets restart full.
func (s *Sim) SetThrottle(o ThrottleOptions) error {
	if err := s.throttle.setOptions(o); err != nil {
		return fmt.Errorf("awssim: throttle options: %w", err)
	}
	return nil
}
