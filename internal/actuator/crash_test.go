package actuator

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/google/uuid"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
)

const (
	crashURLEnv = "ACTUATOR_CRASH_URL"
	crashDirEnv = "ACTUATOR_CRASH_DIR"
	crashIDsEnv = "ACTUATOR_CRASH_IDS"
	crashRuns   = 12
	// crashStateDelay is the simulator's transition time on the wall clock:
	// long enough that a kill lands inside the waits, short enough that a
	// run takes a fraction of a second.
	crashStateDelay = 15 * time.Millisecond
)

// crashActionID is the action id of the resize of instance id, the same in
// parent and child.
func crashActionID(id string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("actuator-crash/"+id)).String()
}

func crashConfig(t testing.TB, url, dir string) Config {
	cfg := awsConfig(t, url)
	e, cw := ec2.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
	return Config{
		DataDir:      dir,
		EC2:          func(string) EC2API { return e },
		CloudWatch:   func(string) CloudWatchAPI { return cw },
		PollInterval: 2 * time.Millisecond,
		StepTimeout:  10 * time.Second,
	}
}

func crashRequest(id string) Request {
	req := resizeReq(id)
	req.ID = crashActionID(id)
	// A real wait that a kill can interrupt; too short for a complete
	// CloudWatch period, so the CPU step is skipped on the wall clock.
	req.VerifyWait = 20 * time.Millisecond
	return req
}

// TestHelperCrashChild is the child of TestKilledMidFlowResumes: it resizes
// the instances named in its environment one after another, printing
// "R" when it starts and "D <instance> <status>" after each.
func TestHelperCrashChild(t *testing.T) {
	url := os.Getenv(crashURLEnv)
	if url == "" {
		t.Skip("child process of TestKilledMidFlowResumes")
	}
	a, err := New(crashConfig(t, url, os.Getenv(crashDirEnv)))
	if err != nil {
		fmt.Printf("E %v\n", err)
		t.Fatal(err)
	}
	fmt.Println("R")
	for _, id := range strings.Split(os.Getenv(crashIDsEnv), ",") {
		act := a.Execute(context.Background(), crashRequest(id))
		fmt.Printf("D %s %s\n", id, act.Status)
	}
}

// TestKilledMidFlowResumes SIGKILLs an agent resizing two instances (one
// healthy, one whose status checks fail so that it must roll back) at a
// different moment in each of 12 runs on one journal, then resumes in a
// fresh actuator: every instance ends resized-and-running or
// original-and-running, never stopped.
func TestKilledMidFlowResumes(t *testing.T) {
	if os.Getenv(crashURLEnv) != "" {
		t.Skip("running as the child")
	}
	sim, url := startSim(t, nil, crashStateDelay)
	cfg := awsConfig(t, url)
	c := ec2.NewFromConfig(cfg)
	ids := launch(t, c, 2*crashRuns, bigType, map[string]string{awssim.ProfileTag: string(awssim.ProfileOverProvisioned)}, func() {
		time.Sleep(10 * crashStateDelay)
	})
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	interrupted := map[string]int{} // phase a kill left a flow in -> count
	resized, original, untouched := 0, 0, 0
	for run := range crashRuns {
		healthy, failing := ids[2*run], ids[2*run+1]
		sim.FailStatusChecksAtType(failing, smallType)
		// Spread the kills over the two flows' lifetime.
		delay := time.Duration(run)*20*time.Millisecond + time.Duration(rng.IntN(15))*time.Millisecond
		lines := runCrashChild(t, url, dir, []string{healthy, failing}, delay)

		a, err := New(crashConfig(t, url, dir))
		if err != nil {
			t.Fatalf("run %d: New after SIGKILL: %v", run, err)
		}
		recs, err := a.j.all()
		if err != nil {
			t.Fatal(err)
		}
		journaled := map[string]bool{}
		for _, r := range recs {
			journaled[r.Req.ResourceID] = true
			if !r.terminal() {
				interrupted[r.Phase]++
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		a.Resume(ctx, func(act *sirsiv1.Action) {
			if act.Status == sirsiv1.ActionStatus_ACTION_STATUS_RUNNING || act.Status == sirsiv1.ActionStatus_ACTION_STATUS_FAILED {
				t.Errorf("run %d: resumed %s ended %v: %s", run, act.ResourceId, act.Status, act.Error)
			}
		})
		cancel()
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{healthy, failing} {
			live := describe(t, c, id)
			switch {
			case live.state != "running":
				t.Fatalf("run %d: instance %s left %s (%s) after kill and resume; child said %q", run, id, live.state, live.typ, lines)
			case !journaled[id]:
				if live.typ != bigType {
					t.Fatalf("run %d: %s changed to %s without a journal record", run, id, live.typ)
				}
				untouched++
			case id == failing && live.typ != bigType:
				t.Fatalf("run %d: %s failed its status checks but kept %s", run, id, live.typ)
			case id == healthy && live.typ != smallType:
				t.Fatalf("run %d: healthy %s ended %s, want %s", run, id, live.typ, smallType)
			case live.typ == smallType:
				resized++
			default:
				original++
			}
		}
		t.Logf("run %d: kill after %v, child reported %q", run, delay, lines)
	}
	t.Logf("resized %d, rolled back %d, never started %d; flows interrupted by phase: %v", resized, original, untouched, interrupted)
	if resized+original+untouched != len(ids) {
		t.Fatalf("counted %d instances, launched %d", resized+original+untouched, len(ids))
	}
	if len(interrupted) < 2 {
		t.Fatalf("kills interrupted flows in %d distinct phases (%v); the test proved too little", len(interrupted), interrupted)
	}
	if resized == 0 || original == 0 {
		t.Fatalf("resized %d, rolled back %d: both outcomes must occur", resized, original)
	}
}

// runCrashChild starts the child, SIGKILLs it delay after it reports ready
// and returns what it printed.
func runCrashChild(t *testing.T, url, dir string, ids []string, delay time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashURLEnv+"="+url, crashDirEnv+"="+dir, crashIDsEnv+"="+strings.Join(ids, ","))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var got []string
	for l := range lines {
		got = append(got, l)
		if l == "R" {
			break
		}
		if strings.HasPrefix(l, "E ") {
			_ = cmd.Wait()
			t.Fatalf("child failed: %s\n%s", l, stderr.String())
		}
	}
	if len(got) == 0 || got[len(got)-1] != "R" {
		_ = cmd.Wait()
		t.Fatalf("child exited before starting: %q\n%s", got, stderr.String())
	}
	time.Sleep(delay)
	_ = cmd.Process.Kill() // SIGKILL on unix
	for l := range lines {
		if strings.HasPrefix(l, "D ") {
			got = append(got, l)
		}
	}
	_ = cmd.Wait()
	if ctx.Err() != nil {
		t.Fatal("child outlived its 30 s bound")
	}
	return got[1:]
}
