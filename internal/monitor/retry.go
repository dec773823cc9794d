package monitor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
)

// backoff is the wait between retries of a throttled call once the SDK's
// own retries are spent: base doubling up to max, with full jitter so that
// concurrent batches do not come back in step.
type backoff struct{ base, max time.Duration }

var defaultBackoff = backoff{base: time.Second, max: 30 * time.Second}

func (b backoff) wait(attempt int) time.Duration {
	d := b.base << min(attempt, 16)
	if d <= 0 || d > b.max {
		d = b.max
	}
	return d/2 + rand.N(d/2+1)
}

// retryThrottles runs call until it succeeds, fails with anything but a
// throttle, or ctx ends. A monitoring sweep has nothing better to do than
// wait: AWS's answer to too many calls is "later", never "no".
func retryThrottles(ctx context.Context, b backoff, log hclog.Logger, call func() error, retries prometheus.Counter) error {
	for attempt := 0; ; attempt++ {
		err := call()
		if err == nil || !awsclient.IsThrottle(err) {
			return err
		}
		retries.Inc()
		d := b.wait(attempt)
		log.Debug("throttled after the SDK's retries; backing off", "wait", d, "error", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting to retry a throttled call: %w (last: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}
