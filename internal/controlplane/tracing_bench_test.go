package controlplane_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
)

var tracingOn sync.Once

// BenchmarkListResourcesTracing is one page of ListResources over gRPC
// (traced client, traced server, interceptors, store) with tracing off,
// the default (the global no-op tracer), then on (the SDK sampling every
// span, batched to an exporter that drops them, so the figure is the cost
// of recording and not of a network). Off runs first: the global tracer
// provider cannot be switched back off within a process.
//
//	go test -run '^$' -bench BenchmarkListResourcesTracing -benchtime 3000x -benchmem ./internal/controlplane/
func BenchmarkListResourcesTracing(b *testing.B) {
	_, tn := benchEnv(b)
	ctx := context.Background()
	page := func(b *testing.B) {
		tok := ""
		cpu0 := cpuTime(b)
		for b.Loop() {
			r, err := tn.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{PageSize: benchPageSize, PageToken: tok})
			if err != nil {
				b.Fatal(err)
			}
			tok = r.NextPageToken
		}
		b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
	b.Run("off", func(b *testing.B) {
		if _, on := otel.GetTracerProvider().(*sdktrace.TracerProvider); on {
			b.Skip("tracing was switched on earlier in this process (-count > 1)")
		}
		page(b)
	})
	b.Run("on", func(b *testing.B) {
		tracingOn.Do(func() {
			tracing.Install(sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter())))
		})
		page(b)
	})
}
