package monitor

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
)

// retryThrottles retries call through throttles, counting and logging
// each wait.
func retryThrottles(ctx context.Context, b awsclient.Backoff, log hclog.Logger, call func() error, retries prometheus.Counter) error {
	return awsclient.RetryThrottles(ctx, b, func(context.Context) error { return call() }, func(d time.Duration, err error) {
		retries.Inc()
		log.Debug("throttled after the SDK's retries; backing off", "wait", d, "error", err)
	})
}
