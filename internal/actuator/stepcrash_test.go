package actuator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/uuid"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
)

const (
	// crashStateDelay is the simulator's transition time on the wall clock:
	// long enough that a kill lands inside the waits, short enough that a
	// flow takes a fraction of a second.
	crashStateDelay = 15 * time.Millisecond

	stepURLEnv  = "ACTUATOR_STEP_URL"
	stepDirEnv  = "ACTUATOR_STEP_DIR"
	stepReqEnv  = "ACTUATOR_STEP_REQUEST"
	stepKillEnv = "ACTUATOR_STEP_KILL"
)

// TestHelperStepCrashChild is the child of TestKilledAtEveryStepResumes:
// it executes the request in its environment and SIGKILLs itself at the
// n-th step boundary, printing "K <point>" just before; "D <status>" when
// the flow ended first.
func TestHelperStepCrashChild(t *testing.T) {
	url := os.Getenv(stepURLEnv)
	if url == "" {
		t.Skip("child process of TestKilledAtEveryStepResumes")
	}
	var req Request
	if err := json.Unmarshal([]byte(os.Getenv(stepReqEnv)), &req); err != nil {
		t.Fatal(err)
	}
	kill, err := strconv.Atoi(os.Getenv(stepKillEnv))
	if err != nil {
		t.Fatal(err)
	}
	n, last := 0, ""
	boundary := func(point string) {
		if n++; n == kill {
			fmt.Printf("K %s\n", point)
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute) // the signal is on its way
		}
	}
	cfg := newClients(t, url).withServices(crashConfig(t, url, os.Getenv(stepDirEnv)))
	cfg.Journaled = func() { boundary("journaled " + last) }
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.beforeJournal = func(phase string) {
		last = phase
		boundary("ran " + phase)
	}
	act := a.Execute(context.Background(), req)
	fmt.Printf("D %s\n", act.Status)
}

// TestKilledAtEveryStepResumes SIGKILLs an agent at every step boundary of
// every action, each before and after the step is journaled, on the
// way to success and on the way through a rollback (the failure injected
// before the child starts), then resumes the journal in a fresh actuator:
// each ends exactly where an uninterrupted flow ends. In the gone variant
// a person deletes the resource while the agent is down: the resumed flow
// must still end, without a rollback against nothing, either done (the
// change was complete, or the deletion is what the action did) or failed
// with AWS's code saying the resource is gone.
func TestKilledAtEveryStepResumes(t *testing.T) {
	if os.Getenv(stepURLEnv) != "" {
		t.Skip("running as the child")
	}
	sim, url := startSim(t, nil, crashStateDelay)
	c := newClients(t, url)
	settle := func() { time.Sleep(10 * crashStateDelay) }
	release := kind{
		name: "release",
		create: func(t testing.TB, c clients, _ func()) Request {
			out, err := c.ec2.AllocateAddress(context.Background(), &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
			if err != nil {
				t.Fatal(err)
			}
			return Request{ID: uuid.NewString(), ResourceID: aws.ToString(out.AllocationId), ResourceType: ResourceEIP, Region: region,
				Action: ActionRelease, Approved: true}
		},
		vanish: func(t testing.TB, c clients, req Request, _ func()) {
			if _, err := c.ec2.ReleaseAddress(context.Background(), &ec2.ReleaseAddressInput{AllocationId: aws.String(req.ResourceID)}); err != nil &&
				awsCode(err) != "InvalidAllocationID.NotFound" {
				t.Fatalf("releasing %s: %v", req.ResourceID, err)
			}
		},
		done: func(t testing.TB, c clients, req Request) {
			if _, err := c.ec2.DescribeAddresses(context.Background(), &ec2.DescribeAddressesInput{AllocationIds: []string{req.ResourceID}}); awsCode(err) != "InvalidAllocationID.NotFound" {
				t.Fatalf("address %s still allocated (%v)", req.ResourceID, err)
			}
		},
	}
	// The EC2 resize, the first flow, is killed the same way: its rollback
	// is driven by status checks that fail at the new type.
	resize := kind{
		name: "ec2_resize",
		create: func(t testing.TB, c clients, settle func()) Request {
			id := launch(t, c.ec2, 1, bigType, map[string]string{awssim.ProfileTag: string(awssim.ProfileOverProvisioned)}, settle)[0]
			req := resizeReq(id)
			// A real wait a kill can interrupt, too short for a complete
			// CloudWatch period, so the CPU check is skipped on the wall clock.
			req.VerifyWait = 20 * time.Millisecond
			return req
		},
		inject: func(_ testing.TB, sim *awssim.Sim, req Request) {
			sim.FailStatusChecksAtType(req.ResourceID, smallType)
		},
		done: func(t testing.TB, c clients, req Request) { wantInstance(t, c, req.ResourceID, smallType) },
		kept: func(t testing.TB, c clients, req Request) { wantInstance(t, c, req.ResourceID, bigType) },
		vanish: func(t testing.TB, c clients, req Request, settle func()) {
			if _, err := c.ec2.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{req.ResourceID}}); err != nil {
				t.Fatalf("terminating %s: %v", req.ResourceID, err)
			}
			settle()
		},
	}
	for _, k := range append(kinds, resize, release) {
		for _, variant := range []string{"", "rollback", "gone"} {
			if variant == "rollback" && k.inject == nil {
				continue
			}
			name := k.name
			if variant != "" {
				name += "/" + variant
			}
			t.Run(name, func(t *testing.T) {
				points := map[string]bool{}
				for kill := 1; ; kill++ {
					req := k.create(t, c, settle)
					if variant == "rollback" {
						k.inject(t, sim, req)
					}
					dir := t.TempDir()
					out := runStepChild(t, url, dir, req, kill)
					killed := strings.HasPrefix(out, "K ")
					if variant == "gone" && killed {
						k.vanish(t, c, req, settle)
					}
					a, err := New(c.withServices(crashConfig(t, url, dir)))
					if err != nil {
						t.Fatalf("kill %d: New after SIGKILL: %v", kill, err)
					}
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					a.Resume(ctx, func(*sirsiv1.Action) {})
					cancel()
					rec, err := a.j.get(req.ID)
					if err != nil || rec == nil {
						t.Fatalf("kill %d (%s): journal record %v %v", kill, out, rec, err)
					}
					if err := a.Close(); err != nil {
						t.Fatal(err)
					}
					switch {
					case variant == "gone" && killed:
						wantGoneOutcome(t, kill, out, rec)
					case variant == "rollback":
						if rec.Outcome != outcomeRolledBack {
							t.Fatalf("kill %d (%s): outcome %q (%s), want %q", kill, out, rec.Outcome, rec.Error, outcomeRolledBack)
						}
						k.kept(t, c, req)
					default:
						if rec.Outcome != outcomeSucceeded {
							t.Fatalf("kill %d (%s): outcome %q (%s), want %q", kill, out, rec.Outcome, rec.Error, outcomeSucceeded)
						}
						k.done(t, c, req)
					}
					if !killed {
						break // the flow finished before the kill point
					}
					points[strings.TrimPrefix(out, "K ")] = true
				}
				t.Logf("killed at %d step boundaries: %v", len(points), points)
				if len(points) < 4 {
					t.Fatalf("only %d kill points: the test proved too little", len(points))
				}
			})
		}
	}
}

// wantGoneOutcome checks a flow resumed after its resource was deleted
// while the agent was down: it ended, and not by rolling back (there is
// nothing to put back); done when the change was complete or the deletion
// is what the action did (a volume or an address nobody holds), otherwise
// failed: refused by the live check, or with AWS's code for the missing
// resource recorded as gone.
func wantGoneOutcome(t *testing.T, kill int, out string, rec *record) {
	t.Helper()
	switch rec.Outcome {
	case outcomeSucceeded:
	case outcomeFailed:
		// Gone before the live check, it is a refusal: nothing was begun.
		refused := len(rec.Steps) > 0 && rec.Steps[0].Name == phaseCheck && rec.Steps[0].Status == statusFailed
		if rec.Gone == "" && !refused {
			t.Fatalf("kill %d (%s), then deleted: failed with %q after %v, but not as gone", kill, out, rec.Error, stepNamesOf(rec))
		}
	default:
		t.Fatalf("kill %d (%s), then deleted: outcome %q (%s) after %v; want done or failed saying it is gone",
			kill, out, rec.Outcome, rec.Error, stepNamesOf(rec))
	}
}

func stepNamesOf(rec *record) []string {
	names := make([]string, len(rec.Steps))
	for i, s := range rec.Steps {
		names[i] = s.Name + ":" + s.Status
	}
	return names
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

// wantInstance fails unless instance id runs as typ: a resize never
// leaves an instance stopped.
func wantInstance(t testing.TB, c clients, id, typ string) {
	t.Helper()
	if live := describe(t, c.ec2, id); live.state != "running" || live.typ != typ {
		t.Fatalf("instance %s is %s %s, want running %s", id, live.state, live.typ, typ)
	}
}

// runStepChild runs the child until it dies or finishes and returns its
// last line ("K <point>" or "D <status>").
func runStepChild(t *testing.T, url, dir string, req Request, kill int) string {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperStepCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), stepURLEnv+"="+url, stepDirEnv+"="+dir, stepReqEnv+"="+string(b), stepKillEnv+"="+strconv.Itoa(kill))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run() // killed or finished: the output says which
	last := ""
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "K ") || strings.HasPrefix(l, "D ") {
			last = l
		}
	}
	if last == "" {
		t.Fatalf("kill %d: child printed neither K nor D:\n%s\n%s", kill, stdout.String(), stderr.String())
	}
	return last
}
