// Package tracingtest records the spans of a test process in memory, so a
// test can follow one trace through the provider, the control plane, the
// store and the agent running in that process.
package tracingtest

import (
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
)

var (
	once     sync.Once
	exporter *tracetest.InMemoryExporter
)

// Install makes an SDK tracer provider over an in-memory exporter the
// global one, once per process (the global provider can be set only once
// for the instrumentation that already asked it for tracers), and returns
// the exporter emptied: spans ended from here on are in it as they end.
func Install(t testing.TB) *tracetest.InMemoryExporter {
	t.Helper()
	once.Do(func() {
		exporter = tracetest.NewInMemoryExporter()
		tracing.Install(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter)))
	})
	exporter.Reset()
	return exporter
}

// Trace is the spans of one trace.
type Trace []tracetest.SpanStub

// Of returns the spans of exp whose trace id is id.
func Of(exp *tracetest.InMemoryExporter, id trace.TraceID) Trace {
	var out Trace
	for _, s := range exp.GetSpans() {
		if s.SpanContext.TraceID() == id {
			out = append(out, s)
		}
	}
	return out
}

// Find returns the spans called name, of the given kind (any kind when
// trace.SpanKindUnspecified), whose parent is parent (any parent when
// parent is invalid).
func (tr Trace) Find(name string, kind trace.SpanKind, parent trace.SpanContext) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range tr {
		if s.Name != name || (kind != trace.SpanKindUnspecified && s.SpanKind != kind) {
			continue
		}
		if parent.IsValid() && s.Parent.SpanID() != parent.SpanID() {
			continue
		}
		out = append(out, s)
	}
	return out
}

// Names lists the trace's span names, for failure messages.
func (tr Trace) Names() []string {
	out := make([]string, len(tr))
	for i, s := range tr {
		out[i] = s.Name
	}
	return out
}
