package daemon

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// agentdBin is built once by TestMain.
var agentdBin string

const testVersion = "v0.0.0-test"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "agentd-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agentdBin = filepath.Join(dir, "agentd")
	build := exec.Command("go", "build", "-ldflags", "-X github.com/sirsinexus/terraform-provider-sirsi/internal/version.Version="+testVersion, "-o", agentdBin, "../../agentd")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building agentd: %v\n%s", err, out)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// waitBound keeps a broken daemon from hanging the test; it is a bound on
// waiting, not an assertion about speed.
const waitBound = 60 * time.Second

// proc is one agentd process with its stdout and JSON log lines collected.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	mu   sync.Mutex
	cond *sync.Cond
	out  []string
	logs []map[string]any
	raw  []string
	done bool
	code int
}

func startAgentd(t *testing.T, args ...string) *proc {
	t.Helper()
	return startAgentdEnv(t, nil, args...)
}

// startAgentdEnv is startAgentd with env added to the process's
// environment.
func startAgentdEnv(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, cmd: exec.Command(agentdBin, args...)}
	p.cond = sync.NewCond(&p.mu)
	p.cmd.Env = append(append(os.Environ(), "SIRSI_LOG_FORMAT=json"), env...)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		p.scan(stdout, func(line string) { p.out = append(p.out, line) })
	}()
	go func() {
		defer readers.Done()
		p.scan(stderr, func(line string) {
			p.raw = append(p.raw, line)
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil {
				p.logs = append(p.logs, m)
			}
		})
	}()
	go func() {
		readers.Wait()
		err := p.cmd.Wait()
		p.mu.Lock()
		defer p.mu.Unlock()
		p.done = true
		p.code = p.cmd.ProcessState.ExitCode()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			p.code = -1
		}
		p.cond.Broadcast()
	}()
	t.Cleanup(func() {
		p.mu.Lock()
		done := p.done
		p.mu.Unlock()
		if !done {
			_ = p.cmd.Process.Kill()
			p.waitFor(func() bool { return p.done })
		}
		if t.Failed() {
			p.mu.Lock()
			t.Logf("agentd %v stderr:\n%s", args, strings.Join(p.raw, "\n"))
			p.mu.Unlock()
		}
	})
	return p
}

func (p *proc) scan(r io.Reader, add func(string)) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		p.mu.Lock()
		add(s.Text())
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}

// waitFor waits until cond (called with p.mu held) is true, failing the
// test after waitBound.
func (p *proc) waitFor(cond func() bool) bool {
	timer := time.AfterFunc(waitBound, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(waitBound)
	p.mu.Lock()
	defer p.mu.Unlock()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		p.cond.Wait()
	}
	return true
}

// waitLog returns the first log line with message msg (and the given
// attributes), waiting for it.
func (p *proc) waitLog(msg string, attrs ...string) map[string]any {
	p.t.Helper()
	var found map[string]any
	ok := p.waitFor(func() bool {
		found = findLog(p.logs, msg, attrs...)
		return found != nil || p.done
	})
	if !ok || found == nil {
		p.t.Fatalf("agentd never logged %q %v (exited: %v)", msg, attrs, p.done)
	}
	return found
}

func findLog(logs []map[string]any, msg string, attrs ...string) map[string]any {
	for _, l := range logs {
		if l["@message"] != msg {
			continue
		}
		match := true
		for i := 0; i+1 < len(attrs); i += 2 {
			if fmt.Sprint(l[attrs[i]]) != attrs[i+1] {
				match = false
			}
		}
		if match {
			return l
		}
	}
	return nil
}

// exports waits for the dev export lines and returns them by name; every
// stdout line must be one.
func (p *proc) exports(n int) map[string]string {
	p.t.Helper()
	if !p.waitFor(func() bool { return len(p.out) >= n || p.done }) {
		p.t.Fatal("no export lines")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.out) < n {
		p.t.Fatalf("agentd exited after printing %q", p.out)
	}
	got := map[string]string{}
	for _, line := range p.out {
		name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !strings.HasPrefix(line, "export ") || !ok {
			p.t.Fatalf("stdout line %q is not an export line", line)
		}
		got[name] = value
	}
	return got
}

func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// wait returns the exit code.
func (p *proc) wait() int {
	p.t.Helper()
	if !p.waitFor(func() bool { return p.done }) {
		p.t.Fatal("agentd did not exit")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.code
}

func (p *proc) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.raw, "\n")
}

// httpAddr is the bound address of the health/metrics listener.
func (p *proc) httpAddr() string {
	return fmt.Sprint(p.waitLog("HTTP listening", "listener", "http_listen")["addr"])
}

// dial connects a plain gRPC client (no retries, unlike internal/client, so
// a cut RPC shows as cut) that trusts caFile, or plaintext when caFile is
// empty.
func dial(t *testing.T, endpoint, caFile string) sirsiv1.ManagementServiceClient {
	t.Helper()
	return sirsiv1.NewManagementServiceClient(dialConn(t, endpoint, caFile))
}

func dialConn(t *testing.T, endpoint, caFile string) *grpc.ClientConn {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	creds := insecure.NewCredentials()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			t.Fatalf("%s holds no certificate", caFile)
		}
		creds = credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	}
	conn, err := grpc.NewClient(u.Host, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func withToken(ctx context.Context, tok string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

func httpGet(t *testing.T, addr, path string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// waitMetric polls /metrics until it holds line; the bound only keeps a
// broken daemon from hanging the test.
func waitMetric(t *testing.T, addr, line string) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for time.Now().Before(deadline) {
		_, body := httpGet(t, addr, "/metrics")
		if strings.Contains(body, line) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("/metrics never showed %q", line)
}
