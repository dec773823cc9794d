package processtest

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
)

// TestAgentSurvivesSIGKILL kills `agentd agent` with SIGKILL twenty times at
// random instants of its first minutes (enrolment, discovery, spooling,
// reporting, utilisation), restarting it on the same data dir each time.
// Afterwards the control plane must hold exactly the seeded fleet: nothing
// lost, nothing twice, and no restart may find its spool or identity
// damaged.
func TestAgentSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts agentd 21 times")
	}
	w := newWorld(t, awssim.FleetSpec{N: 3000, Seed: 11, Mix: awssim.FleetMix{Instances: 60, Volumes: 25, Addresses: 15}}, "sqlite")
	dir := t.TempDir()
	token := w.enrollmentToken(t)
	rng := rand.New(rand.NewPCG(5, 9))
	const kills = 20
	phases := map[string]int{}
	for i := range kills {
		// The token is single-use; once an identity is on disk the agent
		// must not need it, and a kill before enrolment finished must be
		// able to use it again, so keep passing it.
		p := start(t, w.agentArgs(dir, token)...)
		// Spread the kills over the life of a run: some during enrolment,
		// most while discovery spools and the reporter sends.
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		select {
		case <-p.done:
			t.Fatalf("run %d: agentd exited by itself:\n%s", i, strings.Join(p.raw, "\n"))
		default:
		}
		p.kill()
		switch {
		case p.logged("inventory", ""):
			phases["after the inventory was spooled"]++
		case p.logged("agent identity", ""):
			phases["during discovery"]++
		default:
			phases["before the identity was ready"]++
		}
		for _, line := range p.errorLines() {
			if strings.Contains(line, "spool") || strings.Contains(line, "identity") || strings.Contains(line, "snapshot") {
				t.Errorf("run %d logged damage after a kill: %s", i, line)
			}
		}
	}

	t.Logf("kills by phase: %v", phases)
	if phases["during discovery"]+phases["after the inventory was spooled"] == 0 {
		t.Fatal("no kill landed after enrolment: the test did not exercise the spool")
	}

	p := start(t, w.agentArgs(dir, token)...)
	want := len(w.fleet.Resources)
	waitUntil(t, "the seeded inventory", 3*time.Minute, p, func() bool { return len(w.inventory(t)) >= want && p.logged("sweep done", "discovery") })
	// One more discovery-and-report cycle could only add duplicates if the
	// spool held any; give the reporter time to drain by waiting for the
	// utilisation sweep, which runs after discovery.
	waitUntil(t, "the utilisation sweep", 3*time.Minute, p, func() bool { return p.logged("sweep done", "utilization") })
	got := w.inventory(t)
	seen := map[string]int{}
	for _, r := range got {
		seen[r.GetResourceId()]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("resource %s stored %d times", id, n)
		}
	}
	for _, r := range w.fleet.Resources {
		if seen[r.ID] != 1 {
			t.Errorf("seeded %s %s (%s) stored %d times, want once", r.Kind, r.ID, r.Region, seen[r.ID])
		}
	}
	if len(got) != want {
		t.Errorf("%d resources stored, want exactly the %d seeded", len(got), want)
	}
	for _, line := range p.errorLines() {
		t.Errorf("final run logged an error: %s", line)
	}
}
