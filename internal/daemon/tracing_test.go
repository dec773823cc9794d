package daemon

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
)

// consoleSpan is the part of the console exporter's JSON (one span per
// line) that the test reads.
type consoleSpan struct {
	Name        string
	SpanKind    int
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct {
		TraceID, SpanID string
		Remote          bool
	}
	Attributes []struct {
		Key   string
		Value struct{ Value any }
	}
	Resource []struct {
		Key   string
		Value struct{ Value any }
	}
}

const (
	spanKindServer = 2
	spanKindClient = 3
)

func (s consoleSpan) attr(key string) string {
	for _, a := range append(s.Attributes, s.Resource...) {
		if a.Key == key {
			if v, ok := a.Value.Value.(string); ok {
				return v
			}
		}
	}
	return ""
}

func readSpans(t *testing.T, path string) []consoleSpan {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the console exporter wrote no file: %v", err)
	}
	defer f.Close()
	var out []consoleSpan
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var s consoleSpan
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("%s: a line is not a JSON span: %v\n%s", path, err, sc.Text())
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// inventoryDelivered says whether path holds the span of an inventory
// delivery; a line still being written is skipped.
func inventoryDelivered(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		var s consoleSpan
		if json.Unmarshal([]byte(line), &s) == nil && s.Name == "agent.report" && s.attr("sirsi.batch.kind") == "inventory" {
			return true
		}
	}
	return false
}

// find returns the spans named name of kind (any when 0) whose parent span
// id is parent (any when "").
func find(spans []consoleSpan, name string, kind int, parent string) []consoleSpan {
	var out []consoleSpan
	for _, s := range spans {
		if s.Name == name && (kind == 0 || s.SpanKind == kind) && (parent == "" || s.Parent.SpanID == parent) {
			out = append(out, s)
		}
	}
	return out
}

// TestTracesAcrossProcesses runs a real terraform apply (Terraform CLI,
// the provider binary it starts as a plugin) against `agentd dev` with a
// simulated fleet, both with OTEL_TRACES_EXPORTER=console, and follows
// the spans each process wrote: the apply's trace goes from the
// provider's ApplyResourceChange through its CreateTenant call to the
// server's handler and the store in the other process, under one trace
// id; the dev agent's inventory delivery is a trace from the agent's
// report to the server's ingest.
func TestTracesAcrossProcesses(t *testing.T) {
	if os.Getenv(tfresource.EnvTfAcc) == "" {
		t.Skipf("runs the Terraform CLI: only with %s=1", tfresource.EnvTfAcc)
	}
	terraform, err := filepath.Abs("../../bin/terraform")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(terraform); err != nil {
		t.Fatalf("no Terraform CLI at %s: build it with make", terraform)
	}
	dir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "terraform-provider-sirsi"), "../..").CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	serverFile, providerFile := filepath.Join(dir, "agentd-spans.jsonl"), filepath.Join(dir, "provider-spans.jsonl")

	p := startAgentdEnv(t, []string{tracing.EnvExporter + "=console", tracing.EnvConsoleFile + "=" + serverFile},
		append(devArgs, "-dev-fleet-size", "3")...)
	ex := p.exports(4)

	cli := filepath.Join(dir, "cli.tfrc")
	if err := os.WriteFile(cli, []byte(`provider_installation {
  dev_overrides {
    "registry.terraform.io/sirsinexus/sirsi" = "`+dir+`"
  }
  direct {}
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(`terraform {
  required_providers {
    sirsi = { source = "sirsinexus/sirsi" }
  }
}

resource "sirsi_tenant" "t" {
  name = "traced"
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	apply := exec.Command(terraform, "apply", "-auto-approve", "-input=false", "-no-color")
	apply.Dir = work
	apply.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cli, "TF_IN_AUTOMATION=1",
		tracing.EnvExporter+"=console", tracing.EnvConsoleFile+"="+providerFile)
	for k, v := range ex {
		apply.Env = append(apply.Env, k+"="+v)
	}
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, out)
	}
	// The console exporter writes each span as it ends: wait (bounded)
	// for the end of the agent's first inventory delivery, which comes
	// after the server's ingest, then drain agentd (SIGTERM), which
	// flushes on the way out.
	deadline := time.Now().Add(waitBound)
	for !inventoryDelivered(serverFile) {
		if time.Now().After(deadline) {
			t.Fatalf("no inventory delivery span from the dev agent within %s", waitBound)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(); code != 0 {
		t.Fatalf("agentd dev exited %d", code)
	}

	provider, server := readSpans(t, providerFile), readSpans(t, serverFile)
	applies := find(provider, "terraform.ApplyResourceChange", 0, "")
	if len(applies) != 1 || applies[0].attr("terraform.type_name") != "sirsi_tenant" || applies[0].attr("service.name") != "terraform-provider-sirsi" {
		t.Fatalf("provider ApplyResourceChange spans: %+v, want one for sirsi_tenant from service terraform-provider-sirsi", applies)
	}
	root := applies[0]
	if root.Parent.SpanID != "" && root.Parent.SpanID != "0000000000000000" {
		t.Errorf("the apply span has parent %s; Terraform sends none", root.Parent.SpanID)
	}
	const rpc = "sirsi.v1.ManagementService/CreateTenant"
	calls := find(provider, rpc, spanKindClient, root.SpanContext.SpanID)
	if len(calls) != 1 || calls[0].SpanContext.TraceID != root.SpanContext.TraceID {
		t.Fatalf("provider client spans of %s under the apply span: %+v, want 1 in trace %s", rpc, calls, root.SpanContext.TraceID)
	}
	handled := find(server, rpc, spanKindServer, calls[0].SpanContext.SpanID)
	if len(handled) != 1 {
		t.Fatalf("agentd server spans of %s whose parent is the provider's call %s: %d, want 1", rpc, calls[0].SpanContext.SpanID, len(handled))
	}
	h := handled[0]
	if h.SpanContext.TraceID != root.SpanContext.TraceID || !h.Parent.Remote || h.attr("service.name") != "agentd-dev" {
		t.Errorf("server span: trace %s (want %s), remote parent %v, service %q", h.SpanContext.TraceID, root.SpanContext.TraceID, h.Parent.Remote, h.attr("service.name"))
	}
	if len(find(server, "store.tx", 0, h.SpanContext.SpanID)) == 0 {
		t.Errorf("no store.tx span under the server's %s span", rpc)
	}

	// The agent's inventory delivery: report -> RPC -> ingest -> store.
	reports := find(server, "agent.report", 0, "")
	var followed bool
	for _, r := range reports {
		if r.attr("sirsi.batch.kind") != "inventory" {
			continue
		}
		for _, c := range find(server, "sirsi.v1.AgentService/ReportInventory", spanKindClient, r.SpanContext.SpanID) {
			for _, s := range find(server, "sirsi.v1.AgentService/ReportInventory", spanKindServer, c.SpanContext.SpanID) {
				batches := find(server, "store.apply_batch", 0, s.SpanContext.SpanID)
				followed = followed || (len(batches) == 1 && batches[0].SpanContext.TraceID == r.SpanContext.TraceID && batches[0].attr("sirsi.batch.id") == r.attr("sirsi.batch.id"))
			}
		}
	}
	if !followed {
		t.Errorf("no inventory delivery followed from agent.report to store.apply_batch among %d agent.report spans", len(reports))
	}
	var aws bool
	for _, s := range server {
		aws = aws || (s.SpanKind == spanKindClient && strings.HasPrefix(s.Name, "EC2."))
	}
	if !aws {
		t.Error("no EC2 call spans from the dev agent's sweeps")
	}
}
