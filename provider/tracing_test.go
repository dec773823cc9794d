package provider

import (
	"testing"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing/tracingtest"
)

// TestAccTracing_applyIsOneTrace follows a real terraform apply creating a
// tenant through the spans of the provider, the gRPC client, the control
// plane's gRPC server and the store, all in this process: one trace, each
// span the child of the one before.
func TestAccTracing_applyIsOneTrace(t *testing.T) {
	exp := tracingtest.Install(t)
	env := testAccStart(t)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkTenantsDestroyed,
		Steps: []tfresource.TestStep{{
			Config: env.operatorProvider() + `resource "sirsi_tenant" "t" { name = "traced" }`,
		}},
	})

	var creates []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == "terraform.ApplyResourceChange" && hasAttr(s, attribute.String("terraform.type_name", "sirsi_tenant")) {
			creates = append(creates, s)
		}
	}
	// The create and the destroy.
	if len(creates) != 2 {
		t.Fatalf("%d ApplyResourceChange spans for sirsi_tenant, want 2 (create and destroy)", len(creates))
	}
	apply := creates[0]
	if apply.Parent.IsValid() {
		t.Errorf("the apply span has a parent %s; Terraform sends none, so it should be a root", apply.Parent.SpanID())
	}
	tr := tracingtest.Of(exp, apply.SpanContext.TraceID())
	const rpc = "sirsi.v1.ManagementService/CreateTenant"
	client := one(t, tr, rpc, trace.SpanKindClient, apply.SpanContext)
	server := one(t, tr, rpc, trace.SpanKindServer, client.SpanContext)
	if !server.Parent.IsRemote() {
		t.Errorf("the server span's parent is not remote: the context did not cross the wire in traceparent")
	}
	// The tenant row is one INSERT; the audit record of the call is the
	// transaction (it extends the hash chain).
	tx := one(t, tr, "store.tx", trace.SpanKindInternal, server.SpanContext)
	if !hasAttr(tx, attribute.String("code.function.name", "sqlstore.(*Store).AppendAudit")) {
		t.Errorf("store span attributes %v, want code.function.name of AppendAudit", tx.Attributes)
	}
	for _, s := range []tracetest.SpanStub{apply, client, server, tx} {
		if s.Status.Code != 0 && s.Status.Code != 1 { // Unset or Ok
			t.Errorf("span %s ended with status %v", s.Name, s.Status)
		}
	}
}

// one returns the single span of tr matching name, kind and parent.
func one(t *testing.T, tr tracingtest.Trace, name string, kind trace.SpanKind, parent trace.SpanContext) tracetest.SpanStub {
	t.Helper()
	found := tr.Find(name, kind, parent)
	if len(found) != 1 {
		t.Fatalf("%d %s spans of kind %s under span %s, want 1; the trace has %v", len(found), name, kind, parent.SpanID(), tr.Names())
	}
	return found[0]
}

func hasAttr(s tracetest.SpanStub, want attribute.KeyValue) bool {
	for _, a := range s.Attributes {
		if a.Key == want.Key {
			return a.Value == want.Value
		}
	}
	return false
}
