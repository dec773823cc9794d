package daemon

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

var devArgs = []string{"dev", "-listen", "127.0.0.1:0", "-http-listen", "127.0.0.1:0", "-log-format", "json"}

func TestDevEndToEnd(t *testing.T) {
	p := startAgentd(t, devArgs...)
	ex := p.exports(4)
	for _, k := range []string{"SIRSI_ENDPOINT", "SIRSI_TOKEN", "SIRSI_TENANT_ID", "SIRSI_CA_CERT_FILE"} {
		if ex[k] == "" {
			t.Errorf("no %s in %v", k, ex)
		}
	}
	if len(ex) != 4 {
		t.Errorf("exports = %v, want exactly 4", ex)
	}
	if !strings.HasPrefix(ex["SIRSI_ENDPOINT"], "https://127.0.0.1:") || ex["SIRSI_TOKEN"] != DevToken {
		t.Errorf("endpoint %q token %q", ex["SIRSI_ENDPOINT"], ex["SIRSI_TOKEN"])
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	c, err := client.New(ctx, client.Config{
		Endpoint:     ex["SIRSI_ENDPOINT"],
		Token:        ex["SIRSI_TOKEN"],
		CACertFile:   ex["SIRSI_CA_CERT_FILE"],
		TenantID:     ex["SIRSI_TENANT_ID"],
		RetryTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id, err := c.Management.GetIdentity(ctx, &sirsiv1.GetIdentityRequest{})
	if err != nil {
		t.Fatalf("GetIdentity over TLS with the printed CA and token: %v", err)
	}
	if !id.GetOperator() {
		t.Errorf("identity = %v, want the operator", id)
	}
	tenants, err := c.Management.ListTenants(ctx, &sirsiv1.ListTenantsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var dev *sirsiv1.Tenant
	for _, tn := range tenants.GetTenants() {
		if tn.GetName() == DevTenant {
			dev = tn
		}
	}
	if dev == nil || dev.GetId() != ex["SIRSI_TENANT_ID"] {
		t.Fatalf("ListTenants = %v, want tenant dev with id %s", tenants.GetTenants(), ex["SIRSI_TENANT_ID"])
	}

	// The sign-in token printed with the console's address is an admin
	// token of the dev tenant.
	const signIn = "sign in with this admin API token of tenant"
	if !p.waitFor(func() bool { return strings.Contains(strings.Join(p.raw, "\n"), signIn) }) {
		t.Fatalf("no console sign-in token on stderr:\n%s", p.stderrText())
	}
	_, line, _ := strings.Cut(p.stderrText(), signIn)
	line, _, _ = strings.Cut(line, "\n")
	consoleToken := line[strings.LastIndex(line, " ")+1:]
	cc, err := client.New(ctx, client.Config{Endpoint: ex["SIRSI_ENDPOINT"], Token: consoleToken, CACertFile: ex["SIRSI_CA_CERT_FILE"],
		TenantID: ex["SIRSI_TENANT_ID"], RetryTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if id, err := cc.Management.GetIdentity(ctx, &sirsiv1.GetIdentityRequest{}); err != nil || id.GetTenantId() != dev.GetId() || id.GetRole() != sirsiv1.Role_ROLE_ADMIN {
		t.Errorf("identity of the printed console token = %v, %v; want an admin of tenant %s", id, err, dev.GetId())
	}

	_, err = dial(t, ex["SIRSI_ENDPOINT"], ex["SIRSI_CA_CERT_FILE"]).GetIdentity(withToken(ctx, "wrong-token-0123456789"), &sirsiv1.GetIdentityRequest{})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("wrong token: %v, want Unauthenticated", err)
	}
	_, err = dial(t, ex["SIRSI_ENDPOINT"], "").GetIdentity(withToken(ctx, DevToken), &sirsiv1.GetIdentityRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("plaintext client against the TLS listener: %v, want Unavailable", err)
	}

	hc, err := healthpb.NewHealthClient(dialConn(t, ex["SIRSI_ENDPOINT"], ex["SIRSI_CA_CERT_FILE"])).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("grpc.health.v1 Check = %v, %v; want SERVING", hc, err)
	}

	addr := p.httpAddr()
	for _, path := range []string{"/healthz", "/readyz"} {
		if resp, body := httpGet(t, addr, path); resp.StatusCode != http.StatusOK {
			t.Errorf("%s = %d %s", path, resp.StatusCode, body)
		}
	}
	resp, metrics := httpGet(t, addr, "/metrics")
	for _, want := range []string{
		`sirsi_grpc_requests_total{code="OK",method="/sirsi.v1.ManagementService/ListTenants"} 1`,
		`sirsi_grpc_requests_total{code="Unauthenticated",method="/sirsi.v1.ManagementService/GetIdentity"} 1`,
		"sirsi_grpc_request_duration_seconds_bucket",
		"sirsi_store_operation_duration_seconds",
		"go_goroutines",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("/metrics headers = %v", resp.Header)
	}
	if resp, _ := httpGet(t, addr, "/debug/pprof/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("pprof served without -pprof-listen: %d", resp.StatusCode)
	}

	p.signal(syscall.SIGTERM)
	if code := p.wait(); code != exitOK {
		t.Fatalf("exit code after SIGTERM = %d, want 0", code)
	}
	if _, err := os.Stat(ex["SIRSI_CA_CERT_FILE"]); !os.IsNotExist(err) {
		t.Errorf("the temporary data dir outlived dev mode: %v", err)
	}
	if strings.Contains(p.stderrText(), "wrong-token-0123456789") {
		t.Error("a presented token appears in the log")
	}
}

func TestDevRestartWithDataDirKeepsTenantAndCA(t *testing.T) {
	dir := t.TempDir()
	args := append(append([]string{}, devArgs...), "-data-dir", dir, "-dev-token", "my-dev-token-0001")
	first := startAgentd(t, args...)
	ex1 := first.exports(4)
	ca1, err := os.ReadFile(ex1["SIRSI_CA_CERT_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	if ex1["SIRSI_TOKEN"] != "my-dev-token-0001" {
		t.Errorf("SIRSI_TOKEN = %q, want the -dev-token value", ex1["SIRSI_TOKEN"])
	}
	first.signal(syscall.SIGINT)
	if code := first.wait(); code != exitOK {
		t.Fatalf("exit code %d", code)
	}

	second := startAgentd(t, args...)
	ex2 := second.exports(4)
	if ex2["SIRSI_TENANT_ID"] != ex1["SIRSI_TENANT_ID"] {
		t.Errorf("tenant id changed across restarts: %s then %s", ex1["SIRSI_TENANT_ID"], ex2["SIRSI_TENANT_ID"])
	}
	ca2, err := os.ReadFile(ex2["SIRSI_CA_CERT_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca1, ca2) {
		t.Error("the CA was replaced on restart")
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	tenants, err := dial(t, ex2["SIRSI_ENDPOINT"], ex2["SIRSI_CA_CERT_FILE"]).ListTenants(withToken(ctx, "my-dev-token-0001"), &sirsiv1.ListTenantsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tenants.GetTenants()); n != 1 {
		t.Errorf("%d tenants after a restart, want the one dev tenant", n)
	}
	second.signal(syscall.SIGTERM)
	if code := second.wait(); code != exitOK {
		t.Fatalf("exit code %d", code)
	}
	if _, err := os.Stat(ex2["SIRSI_CA_CERT_FILE"]); err != nil {
		t.Errorf("dev mode removed a data dir it was given: %v", err)
	}
}

func TestDevInsecure(t *testing.T) {
	p := startAgentd(t, append(append([]string{}, devArgs...), "-insecure", "-pprof-listen", "127.0.0.1:0")...)
	ex := p.exports(3)
	pprofAddr := fmt.Sprint(p.waitLog("HTTP listening", "listener", "pprof_listen")["addr"])
	if resp, body := httpGet(t, pprofAddr, "/debug/pprof/cmdline"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "agentd") {
		t.Errorf("pprof on -pprof-listen: %d %q", resp.StatusCode, body)
	}
	if !strings.HasPrefix(ex["SIRSI_ENDPOINT"], "http://127.0.0.1:") {
		t.Errorf("endpoint %q, want http://", ex["SIRSI_ENDPOINT"])
	}
	if _, ok := ex["SIRSI_CA_CERT_FILE"]; ok {
		t.Error("a CA printed for a plaintext listener")
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	if _, err := dial(t, ex["SIRSI_ENDPOINT"], "").GetIdentity(withToken(ctx, ex["SIRSI_TOKEN"]), &sirsiv1.GetIdentityRequest{}); err != nil {
		t.Fatal(err)
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(); code != exitOK {
		t.Fatalf("exit code %d", code)
	}
}

func TestSIGTERMDrainsInFlightRPC(t *testing.T) {
	p := startAgentd(t, append(append([]string{}, devArgs...), "-dev-rpc-latency", "2s")...)
	ex := p.exports(4)
	addr := p.httpAddr()
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	mc := dial(t, ex["SIRSI_ENDPOINT"], ex["SIRSI_CA_CERT_FILE"])
	result := make(chan error, 1)
	go func() {
		_, err := mc.GetIdentity(withToken(ctx, ex["SIRSI_TOKEN"]), &sirsiv1.GetIdentityRequest{})
		result <- err
	}()
	waitMetric(t, addr, "sirsi_grpc_requests_in_flight 1")
	p.signal(syscall.SIGTERM)
	if err := <-result; err != nil {
		t.Errorf("the in-flight RPC was not drained: %v", err)
	}
	if code := p.wait(); code != exitOK {
		t.Fatalf("exit code %d, want 0", code)
	}
	p.waitLog("gRPC drained")
}

func TestSecondSignalForcesExit(t *testing.T) {
	p := startAgentd(t, append(append([]string{}, devArgs...), "-dev-rpc-latency", "10m")...)
	ex := p.exports(4)
	addr := p.httpAddr()
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	mc := dial(t, ex["SIRSI_ENDPOINT"], ex["SIRSI_CA_CERT_FILE"])
	result := make(chan error, 1)
	go func() {
		_, err := mc.GetIdentity(withToken(ctx, ex["SIRSI_TOKEN"]), &sirsiv1.GetIdentityRequest{})
		result <- err
	}()
	waitMetric(t, addr, "sirsi_grpc_requests_in_flight 1")
	p.signal(syscall.SIGTERM)
	p.waitLog("shutting down: draining in-flight RPCs (send the signal again to force)")
	p.signal(syscall.SIGTERM)
	if code := p.wait(); code != exitForced {
		t.Fatalf("exit code %d, want %d (forced)", code, exitForced)
	}
	if err := <-result; status.Code(err) != codes.Unavailable && status.Code(err) != codes.Canceled {
		t.Errorf("the cut RPC returned %v, want Unavailable or Canceled", err)
	}
	if _, err := os.Stat(ex["SIRSI_CA_CERT_FILE"]); !os.IsNotExist(err) {
		t.Errorf("a forced exit left the temporary data dir behind: %v", err)
	}
}

// agentd dev's agent enrolls into tenant dev and reports the simulated
// fleet, with utilisation and the dev policy's recommendations, within a
// minute.
func TestDevAgentReportsSimulatedFleet(t *testing.T) {
	const size = 24
	p := startAgentd(t, append(slices.Clone(devArgs), "-dev-fleet-size", strconv.Itoa(size))...)
	ex := p.exports(4)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.New(ctx, client.Config{Endpoint: ex["SIRSI_ENDPOINT"], Token: ex["SIRSI_TOKEN"], CACertFile: ex["SIRSI_CA_CERT_FILE"],
		TenantID: ex["SIRSI_TENANT_ID"], RetryTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tenant := ex["SIRSI_TENANT_ID"]
	for {
		res, err := c.Management.ListResources(ctx, &sirsiv1.ListResourcesRequest{TenantId: tenant, PageSize: 1000})
		if err != nil {
			t.Fatalf("ListResources: %v", err)
		}
		sums, err := c.Management.ListUtilization(ctx, &sirsiv1.ListUtilizationRequest{TenantId: tenant, PageSize: 10})
		if err != nil {
			t.Fatalf("ListUtilization: %v", err)
		}
		agents, err := c.Management.ListAgents(ctx, &sirsiv1.ListAgentsRequest{TenantId: tenant})
		if err != nil {
			t.Fatalf("ListAgents: %v", err)
		}
		recs, err := c.Management.ListRecommendations(ctx, &sirsiv1.ListRecommendationsRequest{TenantId: tenant})
		if err != nil {
			t.Fatalf("ListRecommendations: %v", err)
		}
		if len(res.GetResources()) >= size && len(sums.GetSummaries()) > 0 && len(agents.GetAgents()) == 1 && len(recs.GetRecommendations()) > 0 {
			if money.FloatOr(recs.GetTotalMonthlySavings(), math.NaN()) <= 0 {
				t.Errorf("%d recommendations saving %s a month", len(recs.GetRecommendations()), money.Format(recs.GetTotalMonthlySavings()))
			}
			if got := agents.GetAgents()[0].GetStatus(); got != sirsiv1.AgentStatus_AGENT_STATUS_CONNECTED {
				t.Errorf("dev agent status %s, want connected", got)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("after a minute: %d resources (want >= %d), %d summaries, %d agents, %d recommendations", len(res.GetResources()), size,
				len(sums.GetSummaries()), len(agents.GetAgents()), len(recs.GetRecommendations()))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Two dev instances side by side need their own agent listeners:
// -agent-listen picks it, and the log says where it is.
func TestDevAgentListenFlag(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	p := startAgentd(t, append(append([]string{}, devArgs...), "-agent-listen", addr, "-dev-fleet-size", "0")...)
	l := p.waitLog("agent listener ready")
	if got := fmt.Sprint(l["addr"]); got != addr {
		t.Errorf("agent listener on %s, want the -agent-listen %s", got, addr)
	}
	p.signal(syscall.SIGINT)
	if code := p.wait(); code != exitOK {
		t.Fatalf("exit code %d", code)
	}
}
