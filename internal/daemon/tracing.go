package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
)

// traceFlushTimeout bounds the final export on the way out: a collector
// that is down must not hold the exit longer than this.
const traceFlushTimeout = 5 * time.Second

// startTracing installs OpenTelemetry tracing as the OTEL_* environment
// asks (off unless OTEL_TRACES_EXPORTER is set). The returned function
// flushes the spans still buffered; the commands defer it, so it runs
// after the drain that a SIGTERM starts.
func startTracing(env *environment, log hclog.Logger, service string) (func(), error) {
	shutdown, err := tracing.Setup(context.Background(), service, env.stderr)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), traceFlushTimeout)
		defer cancel()
		if err := shutdown(ctx); err != nil {
			log.Warn("could not flush the last traces", "error", err)
		}
	}, nil
}
