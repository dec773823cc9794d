package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
)

// tracer names the provider's spans' instrumentation scope.
var tracer = otel.Tracer("github.com/sirsinexus/terraform-provider-sirsi/provider")

// flushTimeout bounds the export at the end of each traced RPC: a
// collector that is down must not stall terraform for long.
const flushTimeout = 2 * time.Second

// NewServer returns the provider's protocol 6 server with a span around
// every Terraform RPC that can reach the control plane. Terraform sends
// no trace context to providers, so each such span is the root of its
// trace; the control-plane calls made while serving it are its children
// and carry the trace to the server in the traceparent header. Spans are
// flushed at the end of each traced RPC, because Terraform stops plugin
// processes without waiting for anything.
func NewServer(version string) func() (tfprotov6.ProviderServer, error) {
	inner := providerserver.NewProtocol6WithError(New(version)())
	return func() (tfprotov6.ProviderServer, error) {
		s, err := inner()
		if err != nil {
			return nil, err
		}
		return tracedServer{s}, nil
	}
}

// tracedServer wraps the framework's server; the RPCs it does not
// override (schemas, validation, upgrades) never leave the process.
type tracedServer struct {
	tfprotov6.ProviderServer
}

// traced runs call inside a span named "terraform.<rpc>", marks the span
// failed when the response carries an error diagnostic, and flushes.
func traced[R any](ctx context.Context, rpc, typeName string, call func(context.Context) (R, error), diags func(R) []*tfprotov6.Diagnostic) (R, error) {
	var attrs []attribute.KeyValue
	if typeName != "" {
		attrs = append(attrs, attribute.String("terraform.type_name", typeName))
	}
	ctx, span := tracer.Start(ctx, "terraform."+rpc, trace.WithAttributes(attrs...))
	resp, err := call(ctx)
	if err == nil {
		for _, d := range diags(resp) {
			if d != nil && d.Severity == tfprotov6.DiagnosticSeverityError {
				span.SetStatus(codes.Error, d.Summary)
				break
			}
		}
	}
	tracing.End(span, err)
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	// A failed export loses spans, not the user's apply.
	_ = tracing.Flush(fctx)
	return resp, err
}

func (s tracedServer) ConfigureProvider(ctx context.Context, req *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	return traced(ctx, "ConfigureProvider", "", func(ctx context.Context) (*tfprotov6.ConfigureProviderResponse, error) {
		return s.ProviderServer.ConfigureProvider(ctx, req)
	}, func(r *tfprotov6.ConfigureProviderResponse) []*tfprotov6.Diagnostic { return r.Diagnostics })
}

func (s tracedServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return traced(ctx, "ReadResource", req.TypeName, func(ctx context.Context) (*tfprotov6.ReadResourceResponse, error) {
		return s.ProviderServer.ReadResource(ctx, req)
	}, func(r *tfprotov6.ReadResourceResponse) []*tfprotov6.Diagnostic { return r.Diagnostics })
}

func (s tracedServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	return traced(ctx, "PlanResourceChange", req.TypeName, func(ctx context.Context) (*tfprotov6.PlanResourceChangeResponse, error) {
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}, func(r *tfprotov6.PlanResourceChangeResponse) []*tfprotov6.Diagnostic { return r.Diagnostics })
}

func (s tracedServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	return traced(ctx, "ApplyResourceChange", req.TypeName, func(ctx context.Context) (*tfprotov6.ApplyResourceChangeResponse, error) {
		return s.ProviderServer.ApplyResourceChange(ctx, req)
	}, func(r *tfprotov6.ApplyResourceChangeResponse) []*tfprotov6.Diagnostic { return r.Diagnostics })
}

func (s tracedServer) ImportResourceState(ctx context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	return traced(ctx, "ImportResourceState", req.TypeName, func(ctx context.Context) (*tfprotov6.ImportResourceStateResponse, error) {
		return s.ProviderServer.ImportResourceState(ctx, req)
	}, func(r *tfprotov6.ImportResourceStateResponse) []*tfprotov6.Diagnostic { return r.Diagnostics })
}

func (s tracedServer) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	return traced(ctx, "ReadDataSource", req.TypeName, func(ctx context.Context) (*tfprotov6.ReadDataSourceResponse, error) {
		return s.ProviderServer.ReadDataSource(ctx, req)
	}, func(r *tfprotov6.ReadDataSourceResponse) []*tfprotov6.Diagnostic { return r.Diagnostics })
}

func (s tracedServer) OpenEphemeralResource(ctx context.Context, req *tfprotov6.OpenEphemeralResourceRequest) (*tfprotov6.OpenEphemeralResourceResponse, error) {
	return traced(ctx, "OpenEphemeralResource", req.TypeName, func(ctx context.Context) (*tfprotov6.OpenEphemeralResourceResponse, error) {
		return s.ProviderServer.OpenEphemeralResource(ctx, req)
	}, func(r *tfprotov6.OpenEphemeralResourceResponse) []*tfprotov6.Diagnostic { return r.Diagnostics })
}

func (s tracedServer) CloseEphemeralResource(ctx context.Context, req *tfprotov6.CloseEphemeralResourceRequest) (*tfprotov6.CloseEphemeralResourceResponse, error) {
	return traced(ctx, "CloseEphemeralResource", req.TypeName, func(ctx context.Context) (*tfprotov6.CloseEphemeralResourceResponse, error) {
		return s.ProviderServer.CloseEphemeralResource(ctx, req)
	}, func(r *tfprotov6.CloseEphemeralResourceResponse) []*tfprotov6.Diagnostic { return r.Diagnostics })
}
