package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
)

// serverLimits lift the per-minute budgets the benchmark would otherwise
// hit by design (1000 req/s from one tenant; 1000 API tokens; the
// operator creating them; 20 inventory batches): per-token budgets stay
// on at their maximum so the limiter's work is still measured, the
// tenant's aggregate budget and its token cap are off.
var serverLimits = []string{
	"-rate-limit-management-per-minute", "100000",
	"-rate-limit-operator-per-minute", "100000",
	"-rate-limit-agent-per-minute", "100000",
	"-rate-limit-tenant-per-minute", "0",
	"-rate-limit-max-api-tokens-per-tenant", "0",
}

// server is one `agentd server` process on loopback ports it chose.
type server struct {
	cmd     *exec.Cmd
	dataDir string
	// grpcAddr and agentAddr are the management and agent listeners;
	// caCert is the file of the CA both present certificates from.
	grpcAddr, agentAddr, caCert string
	done                        chan struct{}
}

// startupTimeout bounds a server's start (opening and migrating its
// store, making its CA) up to both listeners being ready.
const startupTimeout = 2 * time.Minute

// startServer runs `agentd server` with its data in dataDir on
// 127.0.0.1:0 ports, logging JSON into logFile, with extra flags and
// environment, and waits for the log lines naming both listeners.
func startServer(ctx context.Context, agentd, dataDir, logFile string, flags, env []string) (*server, error) {
	args := append([]string{"server", "-data-dir", dataDir, "-listen", "127.0.0.1:0", "-agent-listen", "127.0.0.1:0",
		"-http-listen", "127.0.0.1:0", "-log-format", "json"}, serverLimits...)
	args = append(args, flags...)
	lf, err := os.Create(logFile)
	if err != nil {
		return nil, fmt.Errorf("starting agentd server: its log file: %w", err)
	}
	s := &server{cmd: exec.Command(agentd, args...), dataDir: dataDir, done: make(chan struct{})}
	s.cmd.Env = append(os.Environ(), env...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		lf.Close()
		return nil, fmt.Errorf("starting agentd server: %w", err)
	}
	if err := s.cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("starting agentd server %s: %w", agentd, err)
	}
	ready := make(chan struct{})
	go func() {
		defer close(s.done)
		defer lf.Close()
		s.scan(stderr, lf, ready)
		_ = s.cmd.Wait()
	}()
	t := time.NewTimer(startupTimeout)
	defer t.Stop()
	select {
	case <-ready:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("agentd server exited before its listeners were ready (%v); its log is %s", s.cmd.ProcessState, logFile)
	case <-t.C:
		s.stop()
		return nil, fmt.Errorf("agentd server's listeners were not ready within %s; its log is %s", startupTimeout, logFile)
	case <-ctx.Done():
		s.stop()
		return nil, fmt.Errorf("starting agentd server: %w", ctx.Err())
	}
}

// scan copies the server's log to w and closes ready once the log has
// named the management listener and the agent listener with its CA.
func (s *server) scan(r io.Reader, w io.Writer, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	signalled := false
	for sc.Scan() {
		line := sc.Bytes()
		_, _ = w.Write(append(line, '\n'))
		if signalled {
			continue
		}
		var l struct {
			Message string `json:"@message"`
			Addr    string `json:"addr"`
			CACert  string `json:"ca_cert"`
		}
		if json.Unmarshal(line, &l) != nil {
			continue
		}
		switch l.Message {
		case "gRPC API listening":
			s.grpcAddr = l.Addr
		case "agent listener ready":
			s.agentAddr, s.caCert = l.Addr, l.CACert
		}
		if s.grpcAddr != "" && s.agentAddr != "" {
			signalled = true
			close(ready)
		}
	}
	// A line too long for the buffer stops the scan; keep draining so the
	// server never blocks on a full pipe.
	_, _ = io.Copy(w, r)
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stopTimeout is how long a stopping server may drain before SIGKILL.
const stopTimeout = 15 * time.Second

// stop sends SIGTERM, and SIGKILL if the drain outlasts stopTimeout.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// replicaShares are what replicas on one database must share
// (docs/production.md): the seal key and the CA, whose key is sealed
// with it.
var replicaShares = []string{"seal.key", filepath.Join("tls", pki.CACertFile), filepath.Join("tls", pki.CAKeyFile)}

// shareReplicaFiles copies replicaShares from the first replica's data
// dir into a new replica's.
func shareReplicaFiles(from, to string) error {
	if err := os.MkdirAll(filepath.Join(to, "tls"), 0o700); err != nil {
		return fmt.Errorf("a replica's data dir: %w", err)
	}
	for _, f := range replicaShares {
		b, err := os.ReadFile(filepath.Join(from, f))
		if err != nil {
			return fmt.Errorf("reading what replicas share: %w", err)
		}
		if err := os.WriteFile(filepath.Join(to, f), b, 0o600); err != nil {
			return fmt.Errorf("writing what replicas share: %w", err)
		}
	}
	return nil
}

// operatorToken is the token a server wrote into its data dir on first
// start.
func operatorToken(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "operator-token"))
	if err != nil {
		return "", fmt.Errorf("reading the operator token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", errors.New("the operator token file is empty")
	}
	return tok, nil
}
