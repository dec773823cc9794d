package processtest

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/version"
)

// The versions of the skew test: the server's, the oldest agent it
// supports (one minor version older) and one it refuses.
const (
	skewServer   = "v0.5.0"
	skewOlder    = "v0.4.0"
	skewTooOld   = "v0.3.2"
	versionLDVar = "github.com/sirsinexus/terraform-provider-sirsi/internal/version.Version"
)

// buildVersion builds agentd from this tree stamped with v.
func buildVersion(t *testing.T, v string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "agentd-"+v)
	if out, err := exec.Command("go", "build", "-tags", "crashtest", "-ldflags", "-X "+versionLDVar+"="+v, "-o", bin, "../../../agentd").CombinedOutput(); err != nil {
		t.Fatalf("building agentd %s: %v\n%s", v, err, out)
	}
	return bin
}

// TestVersionSkew runs agents of other versions against a server of
// skewServer, the policy of docs/production.md: an agent two minor
// versions older is refused at enrollment without using up its token;
// upgraded to one minor version older, on the same data dir and token, it
// enrolls, heartbeats and its inventory equals the account's.
//
// What this does not test: code of an actual older release. No release
// has been cut, so both agents are this tree stamped with an older version
// (the version is what the server's gate sees); the protocol's
// compatibility across releases rests on sirsi.v1 only growing (buf lint).
func TestVersionSkew(t *testing.T) {
	if testing.Short() {
		t.Skip("builds agentd twice")
	}
	tooOld, older := buildVersion(t, skewTooOld), buildVersion(t, skewOlder)
	serverVersion := version.Version
	version.Version = skewServer
	t.Cleanup(func() { version.Version = serverVersion })

	w := newWorld(t, awssim.FleetSpec{N: 20, Seed: 3, Mix: awssim.FleetMix{Instances: 10, Volumes: 10}}, "sqlite")
	dir := t.TempDir()
	token := w.enrollmentToken(t)

	p := startBinary(t, tooOld, nil, w.agentArgs(dir, token)...)
	select {
	case <-p.done:
	case <-time.After(convergeBound):
		t.Fatal("the too old agent kept running")
	}
	if code := p.cmd.ProcessState.ExitCode(); code == 0 {
		t.Error("the too old agent exited 0")
	}
	if want := "agent " + skewTooOld + " is more than one minor version older than server " + skewServer; !p.rawContains(want) {
		t.Errorf("the too old agent did not say %q", want)
	}
	if agents := w.agents(t); len(agents) != 0 {
		t.Fatalf("the refused agent was recorded: %v", agents)
	}

	p = startBinary(t, older, nil, w.agentArgs(dir, token)...)
	w.converge(t, p, "an agent one minor version older")
	waitUntil(t, "the older agent's heartbeat", convergeBound, p, func() bool {
		agents := w.agents(t)
		return len(agents) == 1 && agents[0].GetVersion() == skewOlder && agents[0].GetUptime() != nil
	})
	for _, line := range p.errorLines() {
		t.Errorf("the older agent logged an error: %s", line)
	}
}

func (w *world) agents(tb testing.TB) []*sirsiv1.Agent {
	tb.Helper()
	resp, err := w.viewer.ListAgents(context.Background(), &sirsiv1.ListAgentsRequest{TenantId: w.tenantID})
	if err != nil {
		tb.Fatalf("ListAgents: %v", err)
	}
	return resp.GetAgents()
}
