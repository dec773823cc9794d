package processtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/crashpoint"
)

// convergeBound keeps a broken agent from hanging the run; it is not a
// claim about speed (the measured times are logged).
const convergeBound = 2 * time.Minute

// converge waits until the control plane lists exactly the account, field
// by field, and returns how long that took.
func (w *world) converge(tb testing.TB, p *proc, what string) time.Duration {
	tb.Helper()
	begin := time.Now()
	var diff string
	for {
		listed, twice := w.listed(tb)
		if diff = differences(w.truth(tb), listed, twice); diff == "" {
			return time.Since(begin)
		}
		select {
		case <-p.done:
			tb.Fatalf("%s: agentd exited before the control plane converged:\n%s", what, diff)
		default:
		}
		if time.Since(begin) > convergeBound {
			tb.Fatalf("%s: the control plane did not converge within %s:\n%s", what, convergeBound, diff)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// change makes the account differ from what the agent last reported: a
// volume created, volumes deleted, an instance retagged, one terminated.
func (w *world) change(tb testing.TB, round int) {
	tb.Helper()
	ctx := context.Background()
	c := w.ec2("us-east-1")
	vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: aws.String("status"), Values: []string{"available"}}}})
	if err != nil {
		tb.Fatalf("DescribeVolumes: %v", err)
	}
	for _, v := range vols.Volumes[:min(2, len(vols.Volumes))] {
		if _, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: v.VolumeId}); err != nil {
			tb.Fatalf("DeleteVolume %s: %v", aws.ToString(v.VolumeId), err)
		}
	}
	if _, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(int32(10 + round)), VolumeType: ec2types.VolumeTypeGp3,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVolume, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String(fmt.Sprintf("round-%d", round))}}}}}); err != nil {
		tb.Fatalf("CreateVolume: %v", err)
	}
	ins, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running"}}}})
	if err != nil {
		tb.Fatalf("DescribeInstances: %v", err)
	}
	var running []string
	for _, rv := range ins.Reservations {
		for _, in := range rv.Instances {
			running = append(running, aws.ToString(in.InstanceId))
		}
	}
	if len(running) < 2 {
		tb.Fatalf("only %d running instances left to change", len(running))
	}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: running[:1], Tags: []ec2types.Tag{{Key: aws.String("round"), Value: aws.String(fmt.Sprint(round))}}}); err != nil {
		tb.Fatalf("CreateTags: %v", err)
	}
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: running[1:2]}); err != nil {
		tb.Fatalf("TerminateInstances: %v", err)
	}
}

// TestAgentCrashAtEveryStepConverges kills `agentd agent` at each step
// boundary of a discovery sweep (after collect, after spool append, after
// send, after the snapshot save, after the spool ack), each time after
// changing the account, and restarts it: the control plane, on SQLite and
// on PostgreSQL, must then list exactly the account, field by field, with
// no phantom left. Afterwards no temporary snapshot file may remain.
func TestAgentCrashAtEveryStepConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("starts agentd 11 times per store")
	}
	if !crashpoint.Enabled {
		t.Log("the test binary itself lacks crash points; agentd is built with them")
	}
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) { agentCrashAtEveryStep(t, backend) })
	}
}

func agentCrashAtEveryStep(t *testing.T, backend string) {
	w := newWorld(t, awssim.FleetSpec{N: 150, Seed: 21, Mix: awssim.FleetMix{Instances: 60, Volumes: 40}}, backend)
	dir := t.TempDir()
	token := w.enrollmentToken(t)
	p := start(t, w.agentArgs(dir, token)...)
	w.converge(t, p, "the seeded fleet")
	p.kill()
	for round, point := range crashpoint.AgentPoints {
		w.change(t, round)
		p := startEnv(t, []string{crashpoint.EnvVar + "=" + point}, w.agentArgs(dir, token)...)
		expectCrash(t, p, point)
		p = start(t, w.agentArgs(dir, token)...)
		took := w.converge(t, p, "after a crash "+point)
		logConvergence(t, "agent crash "+point, backend, took)
		// And stays equal once the restarted agent's own sweep is reported.
		waitUntil(t, "the restarted agent's discovery sweep", convergeBound, p, func() bool { return p.logged("sweep done", "discovery") })
		w.converge(t, p, "after the restarted agent's sweep, "+point)
		for _, line := range p.errorLines() {
			t.Errorf("restart after %s logged an error: %s", point, line)
		}
		p.kill()
	}
	// A kill in the middle of a snapshot save leaves its temporary file;
	// make sure there is one, then a start must remove it.
	leftover := filepath.Join(dir, ".inventory.snapshot.tmp-killed")
	if err := os.WriteFile(leftover, []byte(`{"version":1`), 0o600); err != nil {
		t.Fatal(err)
	}
	left, err := filepath.Glob(filepath.Join(dir, ".inventory.snapshot.tmp*"))
	if err != nil {
		t.Fatal(err)
	}
	p = start(t, w.agentArgs(dir, token)...)
	waitUntil(t, "the agent's start", convergeBound, p, func() bool { return p.logged("agent identity", "") })
	for _, f := range left {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("temporary snapshot file %s left behind after a restart (stat: %v)", f, err)
		}
	}
}

// TestServerCrashAtEveryIngestStepConverges kills `agentd server` (on
// SQLite and on PostgreSQL) at each step boundary of an inventory ingest:
// the batch received and nothing written, the upserts written in the
// transaction, everything applied but not committed, committed but not
// acknowledged. Each time the account changed first and the agent, left
// running, reports the change into the crash. After the server's restart
// the agent's retry must make the control plane list exactly the account,
// field by field: nothing lost, nothing applied twice.
func TestServerCrashAtEveryIngestStepConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("starts agentd server 9 times per store")
	}
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			w, srv := newServerWorld(t, awssim.FleetSpec{N: 120, Seed: 33, Mix: awssim.FleetMix{Instances: 60, Volumes: 40}}, backend)
			dir := t.TempDir()
			a := start(t, w.agentArgs(dir, w.enrollmentToken(t))...)
			w.converge(t, a, "the seeded fleet")
			a.kill()
			for round, point := range crashpoint.ServerPoints {
				srv.p.kill()
				w.change(t, round)
				srv.start(t, []string{crashpoint.EnvVar + "=" + point})
				// The agent's first sweep reports the change into the crash.
				a := start(t, w.agentArgs(dir, "")...)
				expectCrash(t, srv.p, point)
				srv.start(t, nil)
				took := w.converge(t, a, "after a server crash "+point)
				logConvergence(t, "server crash "+point, backend, took)
				a.kill()
			}
		})
	}
}

// expectCrash waits for p to exit and checks that it was its crash point
// that killed it.
func expectCrash(t *testing.T, p *proc, point string) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(convergeBound):
		t.Fatalf("agentd never reached %s", point)
	}
	if !p.rawContains("crashpoint: killing the process at " + point) {
		t.Fatalf("agentd exited without crashing at %s", point)
	}
}

// logConvergence logs a measured convergence time in one shape, which
// docs/benchmarks.md takes its medians from.
func logConvergence(t *testing.T, fault, backend string, took time.Duration) {
	t.Helper()
	t.Logf("convergence: fault=%q store=%s took=%s", fault, backend, took.Round(time.Millisecond))
}

// TestUnitFailureKeepsStaleThenConverges fails the volume listing while
// volumes are deleted: the control plane (on SQLite and on PostgreSQL)
// keeps the volumes as they were, flagged stale with their last sighting;
// once the listing works again, the deleted volumes are gone without any
// deletion delta.
func TestUnitFailureKeepsStaleThenConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("starts agentd 3 times per store")
	}
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) { unitFailureKeepsStale(t, backend) })
	}
}

func unitFailureKeepsStale(t *testing.T, backend string) {
	w := newWorld(t, awssim.FleetSpec{N: 80, Seed: 5, Mix: awssim.FleetMix{Instances: 50, Volumes: 50}}, backend)
	dir := t.TempDir()
	token := w.enrollmentToken(t)
	p := start(t, w.agentArgs(dir, token)...)
	w.converge(t, p, "the seeded fleet")
	p.kill()

	before, _ := w.listed(t)
	w.change(t, 0)
	if err := w.sim.SetFaults(awssim.FaultConfig{ServerErrorRatio: 1, Services: []string{"ec2"}, Actions: []string{"DescribeVolumes"}}); err != nil {
		t.Fatal(err)
	}
	p = start(t, w.agentArgs(dir, token)...)
	waitUntil(t, "the failed sweep's report", convergeBound, p, func() bool {
		listed, _ := w.listed(t)
		for k, f := range listed {
			if strings.HasPrefix(k, "aws_ebs_volume/") && !f.stale {
				return false
			}
		}
		return true
	})
	listed, _ := w.listed(t)
	for k, f := range before {
		if !strings.HasPrefix(k, "aws_ebs_volume/") {
			continue
		}
		got, ok := listed[k]
		got.stale = false
		if !ok || !got.equal(f) {
			t.Errorf("volume %s while its unit failed: %v, want kept as last seen %v", k, got, f)
		}
	}
	p.kill()

	if err := w.sim.SetFaults(awssim.FaultConfig{}); err != nil {
		t.Fatal(err)
	}
	p = start(t, w.agentArgs(dir, token)...)
	took := w.converge(t, p, "after the unit recovered")
	logConvergence(t, "unit failure, then recovery", backend, took)
}

// rawContains reports whether any stderr line contains s.
func (p *proc) rawContains(s string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.raw {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}
