package agent

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing/tracingtest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// TestAgentTraces follows an agent against an in-process control plane
// and simulated account through its spans: the discovery sweep is a trace
// of its own with a span per unit and the AWS calls beneath; the delivery
// of the inventory batch is another, carried by the report RPC to the
// server and down to the store's transaction.
func TestAgentTraces(t *testing.T) {
	exp := tracingtest.Install(t)
	simURL, _ := seededSim(t, 5)
	env := cptest.Start(t, cptest.WithAgentService())
	tn := env.NewTenant(t, "traced")
	acct := env.NewCloudAccount(t, tn.ID, awssim.DefaultAccountID)
	startAgent(t, agentConfig(env, t.TempDir(), env.AgentEndpoint, env.NewEnrollmentToken(t, tn.ID, acct.Id), simURL))

	var report, sweep tracetest.SpanStub
	waitFor(t, "the discovery sweep's and the inventory delivery's spans", 60*time.Second, func() bool {
		for _, s := range exp.GetSpans() {
			switch {
			case s.Name == "agent.sweep" && attr(s, "sirsi.sweep") == "discovery":
				sweep = s
			case s.Name == "agent.report" && attr(s, "sirsi.batch.kind") == "inventory" && s.Status.Code == 0:
				report = s
			}
		}
		return sweep.SpanContext.IsValid() && report.SpanContext.IsValid()
	})

	// The sweep: a root, a span per (type, region) unit, AWS calls in each.
	if sweep.Parent.IsValid() {
		t.Errorf("the sweep span has a parent; a sweep starts its own trace")
	}
	st := tracingtest.Of(exp, sweep.SpanContext.TraceID())
	units := st.Find("discovery.unit", trace.SpanKindInternal, sweep.SpanContext)
	if len(units) == 0 {
		t.Fatalf("no discovery.unit spans under the sweep; the trace has %v", st.Names())
	}
	var ec2Unit tracetest.SpanStub
	for _, u := range units {
		if attr(u, "sirsi.resource.type") == validation.ResourceEC2Instance && attr(u, "cloud.region") == "us-east-1" {
			ec2Unit = u
		}
	}
	if !ec2Unit.SpanContext.IsValid() {
		t.Fatalf("no unit span for %s in us-east-1 among %d units", validation.ResourceEC2Instance, len(units))
	}
	calls := st.Find("EC2.DescribeInstances", trace.SpanKindClient, ec2Unit.SpanContext)
	if len(calls) == 0 {
		t.Fatalf("no EC2.DescribeInstances span under the instance unit; the trace has %v", st.Names())
	}
	if attr(calls[0], "rpc.method") == "" && attr(calls[0], "aws.region") == "" && attr(calls[0], "cloud.region") == "" {
		t.Errorf("the AWS call span carries neither method nor region: %v", calls[0].Attributes)
	}

	// The delivery: agent.report -> client RPC -> server RPC -> store.
	if report.Parent.IsValid() {
		t.Errorf("the report span has a parent; a delivery starts its own trace")
	}
	rt := tracingtest.Of(exp, report.SpanContext.TraceID())
	const rpc = "sirsi.v1.AgentService/ReportInventory"
	clients := rt.Find(rpc, trace.SpanKindClient, report.SpanContext)
	if len(clients) != 1 {
		t.Fatalf("%d client spans of %s under agent.report, want 1; the trace has %v", len(clients), rpc, rt.Names())
	}
	servers := rt.Find(rpc, trace.SpanKindServer, clients[0].SpanContext)
	if len(servers) != 1 || !servers[0].Parent.IsRemote() {
		t.Fatalf("server spans of %s under the client span: %d (want 1, with a remote parent); the trace has %v", rpc, len(servers), rt.Names())
	}
	batches := rt.Find("store.apply_batch", trace.SpanKindInternal, servers[0].SpanContext)
	if len(batches) != 1 || attr(batches[0], "sirsi.batch.id") != attr(report, "sirsi.batch.id") {
		t.Fatalf("store.apply_batch spans under the server span: %d, want 1 for batch %s; the trace has %v", len(batches), attr(report, "sirsi.batch.id"), rt.Names())
	}
	if len(rt.Find("store.tx", trace.SpanKindInternal, batches[0].SpanContext)) != 1 {
		t.Errorf("no store.tx span under store.apply_batch; the trace has %v", rt.Names())
	}
}

// attr is the string value of the span attribute key, "" when absent.
func attr(s tracetest.SpanStub, key attribute.Key) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.String()
		}
	}
	return ""
}
