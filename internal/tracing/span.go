package tracing

import (
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// End ends span, first marking it failed with err when err is not nil.
// Deferred as `defer func() { tracing.End(span, err) }()` with a named
// error result, so every return path is recorded.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
