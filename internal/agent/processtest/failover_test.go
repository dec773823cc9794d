package processtest

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/crashpoint"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
)

// TestAgentFailsOverBetweenReplicas runs two `agentd server` replicas on
// one PostgreSQL database, sharing the seal key and the CA as
// docs/production.md says, and one `agentd agent` given both (-servers,
// the first replica first). The account changes, and the first replica
// is killed by its crash point in the middle of the agent's report: once
// with the batch stored but not acknowledged (the agent must not make the
// next replica store it twice), once with it received but not committed
// (the agent must not lose it). The running agent must move to the second
// replica with its identity and spool, and the control plane must then
// list exactly the account, field by field, with the agent's spool
// drained.
func TestAgentFailsOverBetweenReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two agentd servers and agentd agent several times")
	}
	w, first := newServerWorld(t, awssim.FleetSpec{N: 120, Seed: 41, Mix: awssim.FleetMix{Instances: 60, Volumes: 40}}, "postgres")
	second := first.replica(t)
	// The test's own view goes through the replica that stays up.
	w.viewer = second.operator(t)
	dir := t.TempDir()
	token := w.enrollmentToken(t)
	servers := first.agentAddr() + "," + second.agentAddr()

	for round, point := range []string{crashpoint.ServerAfterCommit, crashpoint.ServerBeforeCommit} {
		first.p.kill()
		w.change(t, round)
		first.start(t, []string{crashpoint.EnvVar + "=" + point})
		metrics := freeAddr(t)
		// The token is only used by the first start (enrolment, through the
		// first replica); later starts have the identity in the data dir.
		a := start(t, failoverArgs(w.agentArgs(dir, token), servers, metrics)...)
		token = ""
		expectCrash(t, first.p, point)
		took := w.converge(t, a, "after the first replica died at "+point)
		logConvergence(t, "replica killed at "+point+", agent failed over", "postgres", took)
		waitUntil(t, "the agent's spool to drain", convergeBound, a, func() bool { return spoolRecords(t, metrics) == 0 })
		for _, line := range a.errorLines() {
			t.Errorf("the agent logged an error while failing over (%s): %s", point, line)
		}
		a.kill()
	}
}

// failoverArgs points agentArgs at several replicas and a known metrics
// address.
func failoverArgs(args []string, servers, metrics string) []string {
	out := slices.Clone(args)
	for i := 0; i < len(out)-1; i++ {
		switch out[i] {
		case "-server":
			out[i], out[i+1] = "-servers", servers
		case "-http-listen":
			out[i+1] = metrics
		}
	}
	return out
}

// spoolRecords reads sirsi_agent_spool_records (all kinds) from the agent's
// /metrics; -1 while it cannot be read.
func spoolRecords(tb testing.TB, addr string) int {
	tb.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	total, seen := 0, false
	s := bufio.NewScanner(io.LimitReader(resp.Body, 8<<20))
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		line := s.Text()
		if !strings.HasPrefix(line, "sirsi_agent_spool_records{") {
			continue
		}
		f := strings.Fields(line)
		n, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			tb.Fatalf("metrics line %q: %v", line, err)
		}
		total, seen = total+int(n), true
	}
	if !seen {
		return -1
	}
	return total
}

// replica starts a second `agentd server` on the same database with its own
// data dir and ports, sharing what replicas must share (docs/production.md):
// the seal key and the CA (its key sealed with that seal key).
func (s *serverProc) replica(tb testing.TB) *serverProc {
	tb.Helper()
	from, dataDir := s.arg("-data-dir"), tb.TempDir()
	share := []string{"seal.key", filepath.Join("tls", pki.CACertFile), filepath.Join("tls", pki.CAKeyFile)}
	if err := os.MkdirAll(filepath.Join(dataDir, "tls"), 0o700); err != nil {
		tb.Fatal(err)
	}
	for _, f := range share {
		b, err := os.ReadFile(filepath.Join(from, f))
		if err != nil {
			tb.Fatalf("reading what replicas share: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dataDir, f), b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	r := &serverProc{args: slices.Clone(s.args)}
	r.set("-data-dir", dataDir)
	r.set("-listen", freeAddr(tb))
	r.set("-agent-listen", freeAddr(tb))
	r.start(tb, nil)
	r.token = s.token
	return r
}

func (s *serverProc) agentAddr() string { return s.arg("-agent-listen") }

func (s *serverProc) arg(flag string) string {
	if i := slices.Index(s.args, flag); i >= 0 && i+1 < len(s.args) {
		return s.args[i+1]
	}
	panic(fmt.Sprintf("agentd server started without %s", flag))
}

func (s *serverProc) set(flag, v string) {
	i := slices.Index(s.args, flag)
	if i < 0 || i+1 >= len(s.args) {
		panic(fmt.Sprintf("agentd server started without %s", flag))
	}
	s.args[i+1] = v
}
