package awsclient

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Backoff is the wait between retries of a call still throttled after the
// SDK's own retries: Base doubling up to Max, with jitter so that callers
// throttled together do not come back in step.
type Backoff struct{ Base, Max time.Duration }

// DefaultBackoff starts at a second, since the SDK has already waited, and
// grows to half a minute.
var DefaultBackoff = Backoff{Base: time.Second, Max: 30 * time.Second}

// Wait is the delay before retry number attempt (0 first).
func (b Backoff) Wait(attempt int) time.Duration {
	d := b.Base << min(attempt, 16)
	if d <= 0 || d > b.Max {
		d = b.Max
	}
	return d/2 + rand.N(d/2+1)
}

// RetryThrottles runs call until it succeeds, fails with anything but a
// throttle, or ctx ends: a sweep has nothing better to do than wait, since
// AWS's answer to too many calls is "later", never "no". onRetry, when
// set, hears of every wait.
func RetryThrottles(ctx context.Context, b Backoff, call func(context.Context) error, onRetry func(wait time.Duration, err error)) error {
	for attempt := 0; ; attempt++ {
		err := call(ctx)
		if err == nil || !IsThrottle(err) {
			return err
		}
		d := b.Wait(attempt)
		if onRetry != nil {
			onRetry(d, err)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting to retry a throttled call: %w (last: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}
