package sqlstore

import (
	"context"
	"runtime"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// tracer names the store's spans' instrumentation scope.
var tracer = otel.Tracer("github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlstore")

// startTx starts the span of a writer transaction, named for the store
// method that opened it (found from the call stack, and only when the
// span records: with tracing off this is a no-op span and nothing else).
func (s *Store) startTx(ctx context.Context) (context.Context, trace.Span) {
	ctx, span := tracer.Start(ctx, "store.tx", trace.WithAttributes(attribute.String("db.system.name", s.d.Name)))
	if span.IsRecording() {
		// Skip startTx and inTx; the caller may be a closure of a method.
		if pc, _, _, ok := runtime.Caller(2); ok {
			if fn := runtime.FuncForPC(pc); fn != nil {
				name := fn.Name()
				name = name[strings.LastIndex(name, "/")+1:]
				span.SetAttributes(attribute.String("code.function.name", name))
			}
		}
	}
	return ctx, span
}
