// Package tracing is SirsiNexus's OpenTelemetry tracing: Setup installs the
// global tracer provider from the standard OTEL_* environment variables
// (off unless OTEL_TRACES_EXPORTER names an exporter), and the helpers
// beside it instrument gRPC servers and clients, the AWS SDK and our own
// spans, so every binary traces the same way.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// Environment variables read here beyond what the OpenTelemetry SDK reads
// itself (OTEL_EXPORTER_OTLP_*, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
// OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, OTEL_BSP_*).
const (
	// EnvExporter selects the exporter: otlp, console or none. Unset means
	// none: unlike the specification's default (otlp), tracing is opt-in,
	// so a daemon without a collector does not retry exports forever.
	EnvExporter = "OTEL_TRACES_EXPORTER"
	// EnvConsoleFile, when set, makes the console exporter append its
	// JSON lines (one span per line) to this file instead of stderr.
	EnvConsoleFile = "SIRSI_OTEL_CONSOLE_FILE"
)

// Shutdown flushes the spans still buffered and stops the exporter.
type Shutdown func(context.Context) error

// Setup installs the global tracer provider and the W3C trace-context
// propagator as the environment asks, and returns the function that
// flushes them (call it once, on the way out). With tracing off it
// installs nothing: the global no-op tracer stays, every instrumented call
// costs a no-op span, and nothing is propagated.
//
// service is the default service.name; OTEL_SERVICE_NAME overrides it.
// The console exporter writes to console (stderr in our binaries: stdout
// carries the provider's plugin handshake and `agentd dev`'s exports) or
// to the file named by SIRSI_OTEL_CONSOLE_FILE.
func Setup(ctx context.Context, service string, console io.Writer) (Shutdown, error) {
	noop := func(context.Context) error { return nil }
	kind := strings.TrimSpace(os.Getenv(EnvExporter))
	var (
		exp       sdktrace.SpanExporter
		closeFile func() error
		err       error
	)
	switch kind {
	case "", "none":
		return noop, nil
	case "console":
		// Our own console exporter: the one autoexport registers writes
		// to stdout, which our binaries cannot give it.
		if path := os.Getenv(EnvConsoleFile); path != "" {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
			if err != nil {
				return nil, fmt.Errorf("%s: opening the console trace file: %w", EnvConsoleFile, err)
			}
			console, closeFile = f, f.Close
		}
		exp, err = stdouttrace.New(stdouttrace.WithWriter(console))
	default:
		exp, err = autoexport.NewSpanExporter(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("%s=%q: creating the span exporter: %w", EnvExporter, kind, err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(service)),
		resource.WithTelemetrySDK(),
		// Last, so OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("building the trace resource from OTEL_RESOURCE_ATTRIBUTES/OTEL_SERVICE_NAME: %w", err)
	}
	// The console exporter exports each span as it ends: it is for
	// reading along, and a process killed after a span ended still shows
	// it. OTLP batches; Shutdown (and ForceFlush) send the rest.
	processor := sdktrace.WithBatcher(exp)
	if kind == "console" {
		processor = sdktrace.WithSyncer(exp)
	}
	// The sampler is the SDK's default, which reads OTEL_TRACES_SAMPLER
	// and OTEL_TRACES_SAMPLER_ARG (parentbased_always_on when unset).
	tp := sdktrace.NewTracerProvider(processor, sdktrace.WithResource(res))
	Install(tp)
	return func(ctx context.Context) error {
		err := tp.Shutdown(ctx)
		if closeFile != nil {
			err = errors.Join(err, closeFile())
		}
		if err != nil {
			return fmt.Errorf("flushing traces: %w", err)
		}
		return nil
	}, nil
}

// Install makes tp the global tracer provider and W3C trace context (plus
// baggage) the global propagator; tests call it with an SDK provider over
// an in-memory exporter.
func Install(tp *sdktrace.TracerProvider) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
}

// Flush exports the spans ended so far, when the global tracer provider
// is the SDK's; the provider calls it at the end of every Terraform RPC,
// since Terraform may stop the plugin process without warning.
func Flush(ctx context.Context) error {
	if tp, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); ok {
		if err := tp.ForceFlush(ctx); err != nil {
			return fmt.Errorf("flushing traces: %w", err)
		}
	}
	return nil
}
