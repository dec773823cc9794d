// Package processtest runs `agentd agent` as a real process against an
// in-process control plane and simulated AWS account: what only a process
// shows (SIGKILL at any instant, resident memory) is measured here.
package processtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/postgres"
)

var agentdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "agentd-proc-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agentdBin = filepath.Join(dir, "agentd")
	// The crashtest tag gives the binary its crash points (inert unless
	// crashpoint.EnvVar names one); release builds do not carry it.
	if out, err := exec.Command("go", "build", "-tags", "crashtest", "-o", agentdBin, "../../../agentd").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building agentd: %v\n%s", err, out)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	if err := pgtest.StopShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// fleetRegions are the regions cptest.NewCloudAccount lists.
var fleetRegions = []string{"us-east-1", "eu-west-1"}

// backends are the stores a control plane runs on; convergence must hold
// on each.
var backends = []string{"sqlite", "postgres"}

// world is one control plane, one tenant with a cloud account for the
// simulated account, and the simulator holding a seeded fleet.
type world struct {
	sim    *awssim.Sim
	simURL string
	fleet  awssim.FleetManifest

	// What the agent and the test need of the control plane.
	agentEndpoint string
	caFile        string
	tenantID      string
	viewer        sirsiv1.ManagementServiceClient
	// enrollmentToken makes a single-use token for the cloud account.
	enrollmentToken func(tb testing.TB) string
}

// newSim starts the simulator with a fleet seeded by spec.
func newSim(tb testing.TB, spec awssim.FleetSpec) *world {
	tb.Helper()
	sim, err := awssim.New(awssim.Options{Seed: 7, Regions: fleetRegions, Backfill: 15 * 24 * time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	spec.Regions = fleetRegions
	man, err := sim.SeedFleet(awssim.DefaultAccountID, spec)
	if err != nil {
		tb.Fatalf("seeding the fleet: %v", err)
	}
	return &world{sim: sim, simURL: srv.URL, fleet: man}
}

// newWorld runs the control plane in process, on SQLite or on a fresh
// PostgreSQL database (backend "postgres").
func newWorld(tb testing.TB, spec awssim.FleetSpec, backend string) *world {
	tb.Helper()
	w := newSim(tb, spec)
	opts := []cptest.Option{cptest.WithAgentService()}
	if backend == "postgres" {
		st, err := postgres.Open(context.Background(), pgtest.Database(tb), postgres.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		opts = append(opts, cptest.WithStore(st))
	}
	env := cptest.Start(tb, opts...)
	tn := env.NewTenant(tb, "proc")
	acct := env.NewCloudAccount(tb, tn.ID, awssim.DefaultAccountID)
	w.caFile = filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(w.caFile, env.CACertPEM, 0o600); err != nil {
		tb.Fatal(err)
	}
	w.agentEndpoint, w.tenantID, w.viewer = env.AgentEndpoint, tn.ID, tn.Viewer
	w.enrollmentToken = func(tb testing.TB) string { return env.NewEnrollmentToken(tb, tn.ID, acct.Id) }
	return w
}

// agentArgs runs every sweep once at start and then hourly, so what a test
// sees is the first sweep of each kind.
func (w *world) agentArgs(dataDir, token string) []string {
	args := []string{"agent", "-data-dir", dataDir, "-server", w.agentEndpoint, "-ca-cert-file", w.caFile,
		"-aws-endpoint", w.simURL, "-aws-region", "us-east-1", "-http-listen", "127.0.0.1:0",
		"-schedule-discovery", "@every 1h", "-schedule-utilization", "@every 1h", "-schedule-costs", "@every 1h",
		"-schedule-jitter", "0s", "-log-format", "json"}
	if token != "" {
		args = append(args, "-enroll-token", token)
	}
	return args
}

// inventory lists every resource the control plane holds for the tenant.
func (w *world) inventory(tb testing.TB) []*sirsiv1.Resource {
	tb.Helper()
	var out []*sirsiv1.Resource
	req := &sirsiv1.ListResourcesRequest{TenantId: w.tenantID, PageSize: 1000}
	for {
		resp, err := w.viewer.ListResources(context.Background(), req)
		if err != nil {
			tb.Fatalf("ListResources: %v", err)
		}
		out = append(out, resp.GetResources()...)
		if resp.GetNextPageToken() == "" {
			return out
		}
		req.PageToken = resp.GetNextPageToken()
	}
}

// proc is one agentd process and the JSON log lines it wrote.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs []map[string]any
	raw  []string
	done chan struct{}
}

func start(tb testing.TB, args ...string) *proc {
	tb.Helper()
	return startEnv(tb, nil, args...)
}

// startEnv is start with extra environment variables.
func startEnv(tb testing.TB, env []string, args ...string) *proc {
	tb.Helper()
	return startBinary(tb, agentdBin, env, args...)
}

// startBinary is startEnv with another build of agentd.
func startBinary(tb testing.TB, bin string, env []string, args ...string) *proc {
	tb.Helper()
	p := &proc{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	// The simulator takes any key; the agent finds these through the SDK's
	// default chain, as it would an instance profile.
	p.cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDPROCTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_EC2_METADATA_DISABLED=true")
	p.cmd.Env = append(p.cmd.Env, env...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		p.scan(stderr)
		_ = p.cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() {
		p.kill()
		if tb.Failed() {
			p.mu.Lock()
			tb.Logf("agentd %v stderr (last lines):\n%s", args, strings.Join(p.raw[max(0, len(p.raw)-40):], "\n"))
			p.mu.Unlock()
		}
	})
	return p
}

func (p *proc) scan(r io.Reader) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		line := s.Text()
		var m map[string]any
		p.mu.Lock()
		p.raw = append(p.raw, line)
		if json.Unmarshal([]byte(line), &m) == nil {
			p.logs = append(p.logs, m)
		}
		p.mu.Unlock()
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// logged reports whether a log line has this message and, when module is
// not empty, an @module ending in it.
func (p *proc) logged(msg, module string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.logs {
		if l["@message"] == msg && (module == "" || strings.HasSuffix(fmt.Sprint(l["@module"]), module)) {
			return true
		}
	}
	return false
}

// errors returns the error-level lines.
func (p *proc) errorLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, l := range p.logs {
		if l["@level"] == "error" {
			b, _ := json.Marshal(l)
			out = append(out, string(b))
		}
	}
	return out
}

// waitUntil polls cond; bound keeps a broken agent from hanging the run and
// is not a claim about speed.
func waitUntil(tb testing.TB, what string, bound time.Duration, p *proc, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		select {
		case <-p.done:
			tb.Fatalf("agentd exited while waiting for %s", what)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no %s within %s", what, bound)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// procStatusKB reads a field (VmRSS, VmHWM) of /proc/<pid>/status in KiB.
func procStatusKB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}
