package tracing

import (
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	"google.golang.org/grpc"
)

// notHealth leaves the health checks (load balancers, systemd probes, the
// agent's readiness polls) out of the traces: they would outnumber every
// other span and say nothing.
var notHealth = otelgrpc.WithFilter(filters.Not(filters.HealthCheck()))

// ServerOption instruments a gRPC server: one server span per RPC, child
// of the caller's span when the request carries a W3C traceparent.
func ServerOption() grpc.ServerOption {
	return grpc.StatsHandler(otelgrpc.NewServerHandler(notHealth))
}

// DialOption instruments a gRPC client: one client span per attempt,
// whose context travels to the server in the traceparent header.
func DialOption() grpc.DialOption {
	return grpc.WithStatsHandler(otelgrpc.NewClientHandler(notHealth))
}
