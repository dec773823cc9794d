package agent

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
)

// fleetRegions are the regions cptest.NewCloudAccount lists.
var fleetRegions = []string{"us-east-1", "eu-west-1"}

var kindType = map[string]string{
	"instance": "aws_ec2_instance", "volume": "aws_ebs_volume", "address": "aws_eip",
	"db-instance": "aws_rds_instance", "bucket": "aws_s3_bucket", "function": "aws_lambda_function",
}

func staticCreds() aws.CredentialsProvider {
	return awscreds.NewStaticCredentialsProvider("AKIDAGENTTEST", "secret", "")
}

// seededSim serves a simulated account with a fleet of every kind and 30
// days of history.
func seededSim(t *testing.T, n int) (string, awssim.FleetManifest) {
	t.Helper()
	_, url, man := seededSimulator(t, n)
	return url, man
}

// seededSimulator is seededSim with the simulator itself, for tests that
// change its account directly.
func seededSimulator(t *testing.T, n int) (*awssim.Sim, string, awssim.FleetManifest) {
	t.Helper()
	sim, url, cfg := emptySimulator(t)
	man, err := awssim.GenerateFleet(context.Background(), cfg, awssim.FleetSpec{N: n, Regions: fleetRegions, Seed: 3, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatalf("GenerateFleet: %v", err)
	}
	return sim, url, man
}

// emptySimulator is a simulator with 30 days of history for what is
// launched in it, its URL, and an AWS configuration (us-east-1) for it.
func emptySimulator(t *testing.T) (*awssim.Sim, string, aws.Config) {
	t.Helper()
	sim, err := awssim.New(awssim.Options{Seed: 5, Backfill: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Region: "us-east-1", Endpoint: srv.URL, Credentials: staticCreds()})
	if err != nil {
		t.Fatal(err)
	}
	return sim, srv.URL, cfg
}

type testAgent struct {
	*Agent
	reg  *prometheus.Registry
	stop func()
}

// startAgent runs an agent until the test ends (or stop is called).
func startAgent(t *testing.T, cfg Config) *testAgent {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	if cfg.Logger == nil {
		cfg.Logger = hclog.New(&hclog.LoggerOptions{Name: "agent", Level: hclog.Warn, Output: testWriter{t}})
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatalf("agent.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("agent.Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("the agent did not stop within 30s of its context ending")
			}
		})
	}
	t.Cleanup(stop)
	return &testAgent{Agent: a, reg: reg, stop: stop}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func agentConfig(env *cptest.Env, dir, server, token, simURL string) Config {
	return Config{
		DataDir: dir, Servers: []string{server}, CACertPEM: env.CACertPEM, EnrollToken: token, Version: "test",
		AWS:                 awsclient.Options{Region: "us-east-1", Endpoint: simURL, Credentials: staticCreds()},
		DiscoverySchedule:   "@every 1h",
		UtilizationSchedule: "@every 1h",
		CostSchedule:        "@every 1h",
	}
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %s", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func listResources(t *testing.T, c sirsiv1.ManagementServiceClient, tenantID string) []*sirsiv1.Resource {
	t.Helper()
	var out []*sirsiv1.Resource
	tok := ""
	for {
		resp, err := c.ListResources(context.Background(), &sirsiv1.ListResourcesRequest{TenantId: tenantID, PageSize: 1000, PageToken: tok})
		if err != nil {
			t.Fatalf("ListResources: %v", err)
		}
		out = append(out, resp.Resources...)
		if tok = resp.NextPageToken; tok == "" {
			return out
		}
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue metric
				}
			}
			sum += value(m)
		}
	}
	return sum
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	}
	return 0
}

// The agent enrolls, discovers the seeded fleet and reports exactly it;
// utilisation and costs arrive; a restart from the data dir needs no token
// and reports no inventory again.
func TestAgentReportsSeededFleet(t *testing.T) {
	simURL, man := seededSim(t, 40)
	env := cptest.Start(t, cptest.WithAgentService())
	tn := env.NewTenant(t, "acme")
	acct := env.NewCloudAccount(t, tn.ID, awssim.DefaultAccountID)
	dir := t.TempDir()
	cfg := agentConfig(env, dir, env.AgentEndpoint, env.NewEnrollmentToken(t, tn.ID, acct.Id), simURL)
	a := startAgent(t, cfg)

	instances := man.Count("instance")
	want := len(man.Resources) + instances // every instance brings its root volume
	var got []*sirsiv1.Resource
	waitFor(t, "the seeded inventory", 60*time.Second, func() bool {
		got = listResources(t, tn.Viewer, tn.ID)
		return len(got) >= want
	})
	if len(got) != want {
		t.Fatalf("%d resources stored, want %d (%d seeded + %d root volumes)", len(got), want, len(man.Resources), instances)
	}
	byID := map[string]*sirsiv1.Resource{}
	for _, r := range got {
		byID[r.GetResourceId()] = r
	}
	manifestInstances := map[string]bool{}
	for _, r := range man.Resources {
		s, ok := byID[r.ID]
		switch {
		case !ok:
			t.Errorf("seeded %s %s (%s) missing", r.Kind, r.ID, r.Region)
			continue
		case s.GetType() != kindType[r.Kind] || s.GetRegion() != r.Region || s.GetAccountId() != awssim.DefaultAccountID || s.GetCloudAccountId() != acct.Id:
			t.Errorf("%s: stored as %s in %s (account %s, cloud account %s), want %s in %s", r.ID, s.GetType(), s.GetRegion(), s.GetAccountId(), s.GetCloudAccountId(), kindType[r.Kind], r.Region)
		}
		for k, v := range r.Tags {
			if s.GetTags()[k] != v {
				t.Errorf("%s: tag %s=%q, want %q", r.ID, k, s.GetTags()[k], v)
			}
		}
		if r.Kind == "instance" {
			manifestInstances[r.ID] = true
			if s.GetSize() != r.Type {
				t.Errorf("instance %s: size %q, want %q", r.ID, s.GetSize(), r.Type)
			}
			if money.FloatOr(s.GetMonthlyCost(), math.NaN()) <= 0 {
				t.Errorf("instance %s: no monthly cost estimate", r.ID)
			}
		}
		delete(byID, r.ID)
	}
	for id, r := range byID {
		if r.GetType() != "aws_ebs_volume" || !manifestInstances[r.GetAttributes()["attached_to"]] {
			t.Errorf("unexpected resource %s %s (attached to %q)", r.GetType(), id, r.GetAttributes()["attached_to"])
		}
	}

	inst := slices.IndexFunc(man.Resources, func(r awssim.FleetResource) bool { return r.Kind == "instance" })
	waitFor(t, "utilization summaries", 60*time.Second, func() bool {
		resp, err := tn.Viewer.ListUtilization(context.Background(), &sirsiv1.ListUtilizationRequest{TenantId: tn.ID, ResourceId: man.Resources[inst].ID, Metric: "cpu_utilization"})
		if err != nil {
			t.Fatalf("ListUtilization: %v", err)
		}
		stats := map[string]bool{}
		for _, s := range resp.GetSummaries() {
			if s.GetCoverage() > 0 {
				stats[s.GetStatistic()] = true
			}
		}
		return stats["p95"] && stats["Average"] && stats["Maximum"]
	})
	waitFor(t, "daily costs", 60*time.Second, func() bool {
		end := time.Now().UTC()
		resp, err := tn.Viewer.GetCostSummary(context.Background(), &sirsiv1.GetCostSummaryRequest{TenantId: tn.ID,
			Start: end.AddDate(0, 0, -20).Format(time.DateOnly), End: end.Format(time.DateOnly), Granularity: sirsiv1.Granularity_GRANULARITY_DAILY, GroupBy: "service"})
		if err != nil {
			t.Fatalf("GetCostSummary: %v", err)
		}
		return resp.GetTotal().GetMicros() > 0
	})
	waitFor(t, "a heartbeat with the discovery sweep", 60*time.Second, func() bool {
		resp, err := tn.Viewer.ListAgents(context.Background(), &sirsiv1.ListAgentsRequest{TenantId: tn.ID})
		if err != nil {
			t.Fatalf("ListAgents: %v", err)
		}
		return len(resp.GetAgents()) == 1 && resp.GetAgents()[0].GetLastSweepTimes()["discovery"] != nil
	})
	id := a.Identity()
	a.stop()

	// A restart: no token, same identity, nothing new to report.
	cfg.EnrollToken = ""
	b := startAgent(t, cfg)
	waitFor(t, "the restarted agent's discovery sweep", 60*time.Second, func() bool {
		return counter(t, b.reg, "sirsi_agent_sweep_last_success_timestamp_seconds", map[string]string{"sweep": "discovery"}) > 0
	})
	if b.Identity() != id {
		t.Errorf("identity after restart %+v, want %+v", b.Identity(), id)
	}
	// An unchanged fleet has no delta; the one batch states the units'
	// membership, as every sweep does.
	if n := counter(t, b.reg, "sirsi_agent_spool_appended_total", map[string]string{"kind": "inventory"}); n != 1 {
		t.Errorf("the restarted agent spooled %v inventory batches for an unchanged fleet, want only the membership", n)
	}
	if n := len(listResources(t, tn.Viewer, tn.ID)); n != want {
		t.Errorf("%d resources after the restart, want %d", n, want)
	}
}

func TestAgentWithoutIdentityOrToken(t *testing.T) {
	env := cptest.Start(t, cptest.WithAgentService())
	a, err := New(agentConfig(env, t.TempDir(), env.AgentEndpoint, "", "http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(context.Background()); !errors.Is(err, ErrNotEnrolled) {
		t.Errorf("Run without identity or token: %v, want ErrNotEnrolled", err)
	}
}

func TestEnrollmentErrorsAreClear(t *testing.T) {
	env := cptest.Start(t, cptest.WithAgentService())
	tn := env.NewTenant(t, "acme")
	acct := env.NewCloudAccount(t, tn.ID, awssim.DefaultAccountID)
	tok := env.NewEnrollmentToken(t, tn.ID, acct.Id)
	startAgent(t, agentConfig(env, t.TempDir(), env.AgentEndpoint, tok, "http://127.0.0.1:1"))
	waitFor(t, "the first enrollment", 30*time.Second, func() bool {
		resp, err := tn.Viewer.ListAgents(context.Background(), &sirsiv1.ListAgentsRequest{TenantId: tn.ID})
		return err == nil && len(resp.GetAgents()) == 1
	})
	a, err := New(agentConfig(env, t.TempDir(), env.AgentEndpoint, tok, "http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = a.Run(ctx)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("a used token: Run returned %v (context %v), want an enrollment error", err, ctx.Err())
	}
	t.Logf("used token: %v", err)
}

func TestConfigValidation(t *testing.T) {
	good := Config{DataDir: "/tmp/x", Servers: []string{"127.0.0.1:7444"}, AWS: awsclient.Options{Region: "us-east-1"}}
	good.defaults()
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	for field, mut := range map[string]func(*Config){
		"data_dir":             func(c *Config) { c.DataDir = "" },
		"servers":              func(c *Config) { c.Servers = []string{"no-port"} },
		"discovery_schedule":   func(c *Config) { c.DiscoverySchedule = "every day" },
		"utilization_schedule": func(c *Config) { c.UtilizationSchedule = "61 * * * *" },
		"jitter":               func(c *Config) { c.Jitter = -time.Second },
		"cost_days":            func(c *Config) { c.CostDays = 1000 },
		"cost_min_interval":    func(c *Config) { c.CostMinInterval = time.Second },
		"report_batch_size":    func(c *Config) { c.ReportBatchSize = 9000 },
		"aws: region":          func(c *Config) { c.AWS.Region = "moon" },
	} {
		c := good
		mut(&c)
		err := c.Validate()
		if err == nil || len(err.Error()) < len(field) || err.Error()[:len(field)] != field {
			t.Errorf("%s: error %v, want one naming it", field, err)
		}
	}
}

// proxy forwards TCP to a target and can be cut (listener closed, every
// connection dropped) and restored on the same address: a control plane
// outage as the agent sees it.
type proxy struct {
	t      *testing.T
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); _ = u.Close() }()
			go func() { _, _ = io.Copy(c, u); _ = c.Close() }()
		}
	}()
}

func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func (p *proxy) up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("re-listening on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// countingStore counts how often each batch id is applied (not merely
// acknowledged as a duplicate).
type countingStore struct {
	store.Store
	mu      sync.Mutex
	applied map[string]int
}

func (c *countingStore) Tenant(id string) store.TenantStore {
	return countingTenant{TenantStore: c.Store.Tenant(id), c: c}
}

func (c *countingStore) count(batchID string, dup bool, err error) {
	if err != nil || dup {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applied[batchID]++
}

type countingTenant struct {
	store.TenantStore
	c *countingStore
}

func (t countingTenant) ApplyInventory(ctx context.Context, acct, batchID string, b store.InventoryBatch) (store.InventoryResult, error) {
	res, err := t.TenantStore.ApplyInventory(ctx, acct, batchID, b)
	t.c.count(batchID, res.Duplicate, err)
	return res, err
}

func (t countingTenant) ApplyUtilization(ctx context.Context, acct, batchID string, s []*sirsiv1.UtilizationSummary) (bool, error) {
	dup, err := t.TenantStore.ApplyUtilization(ctx, acct, batchID, s)
	t.c.count(batchID, dup, err)
	return dup, err
}

func (t countingTenant) ApplyCosts(ctx context.Context, acct, batchID string, r []*sirsiv1.CostRecord, a []*sirsiv1.CostAnomaly) (bool, error) {
	dup, err := t.TenantStore.ApplyCosts(ctx, acct, batchID, r, a)
	t.c.count(batchID, dup, err)
	return dup, err
}

func (t countingTenant) ApplyResourceCosts(ctx context.Context, acct, batchID string, costs []*sirsiv1.ResourceCost, unavailable string) (bool, error) {
	dup, err := t.TenantStore.ApplyResourceCosts(ctx, acct, batchID, costs, unavailable)
	t.c.count(batchID, dup, err)
	return dup, err
}

// The control plane goes away mid-run while sweeps keep producing
// batches; once it is back every batch arrives, and each is applied once.
func TestAgentSurvivesControlPlaneOutage(t *testing.T) {
	simURL, _ := seededSim(t, 12)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cp.db"), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: st, applied: map[string]int{}}
	env := cptest.Start(t, cptest.WithAgentService(), cptest.WithStore(cs))
	tn := env.NewTenant(t, "acme")
	acct := env.NewCloudAccount(t, tn.ID, awssim.DefaultAccountID)
	px := newProxy(t, env.AgentEndpoint)
	cfg := agentConfig(env, t.TempDir(), px.addr, env.NewEnrollmentToken(t, tn.ID, acct.Id), simURL)
	cfg.UtilizationSchedule = "@every 1s"
	a := startAgent(t, cfg)
	sent := func() float64 {
		return counter(t, a.reg, "sirsi_agent_report_batches_total", map[string]string{"outcome": "sent"}) +
			counter(t, a.reg, "sirsi_agent_report_batches_total", map[string]string{"outcome": "duplicate"})
	}
	waitFor(t, "the first batches", 60*time.Second, func() bool { return sent() >= 3 })

	px.down()
	before := counter(t, a.reg, "sirsi_agent_spool_appended_total", map[string]string{"kind": "utilization"})
	waitFor(t, "batches spooled during the outage", 30*time.Second, func() bool {
		return counter(t, a.reg, "sirsi_agent_spool_appended_total", map[string]string{"kind": "utilization"}) >= before+3
	})
	px.up()
	waitFor(t, "the spool to drain", 60*time.Second, func() bool {
		appended := counter(t, a.reg, "sirsi_agent_spool_appended_total", nil)
		return appended > 0 && sent() == appended && a.spool.Len() == 0
	})
	// The spool's metrics go when it closes.
	appended := counter(t, a.reg, "sirsi_agent_spool_appended_total", nil)
	a.stop()
	if rejected := counter(t, a.reg, "sirsi_agent_report_batches_total", map[string]string{"outcome": "rejected"}); rejected != 0 {
		t.Errorf("%v batches rejected", rejected)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if float64(len(cs.applied)) != appended {
		t.Errorf("%d distinct batches applied, the agent spooled %v", len(cs.applied), appended)
	}
	for id, n := range cs.applied {
		if n != 1 {
			t.Errorf("batch %s applied %d times", id, n)
		}
	}
}
