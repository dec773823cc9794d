package policyrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"google.golang.org/protobuf/proto"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/actuator"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/agent/spool"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

const (
	killURLEnv = "POLICYRUN_KILL_URL"
	killDirEnv = "POLICYRUN_KILL_DIR"
	killIDsEnv = "POLICYRUN_KILL_IDS"
	killAtEnv  = "POLICYRUN_KILL_AT"
	killRegion = "us-east-1"
	killBig    = "m5.2xlarge"
	killSmall  = "m5.large"
	killDelay  = 5 * time.Millisecond
)

func killAWS(t testing.TB, url string) aws.Config {
	t.Helper()
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Region: killRegion, Endpoint: url, MaxAttempts: 3,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// spoolReporter reports into the agent's spool, as the agent does, and
// counts each append as a step.
type spoolReporter struct {
	sp   *spool.Spool
	step func()
}

func (s spoolReporter) ReportAction(act *sirsiv1.Action) error {
	b, err := proto.Marshal(&sirsiv1.ReportActionsRequest{Actions: []*sirsiv1.Action{act}})
	if err != nil {
		return err
	}
	if _, err := s.sp.Append(spool.KindActions, ReportBatchID(act), b); err != nil {
		return err
	}
	s.step()
	return nil
}

func (spoolReporter) SavePlan(context.Context, *sirsiv1.ActionPlan) error { return nil }

type grantAll struct{}

func (grantAll) Reserve(_ context.Context, _ string, n int) (int, time.Time, error) {
	return n, time.Time{}, nil
}

// TestHelperKillChild is the child of TestEveryActionReportedAcrossKills:
// a runner resizing the two instances of its environment that SIGKILLs
// itself right after its POLICYRUN_KILL_AT-th durable step (a journal
// write or a spool append; 0 never), or prints "DONE" when it gets to the
// end.
func TestHelperKillChild(t *testing.T) {
	url := os.Getenv(killURLEnv)
	if url == "" {
		t.Skip("child process of TestEveryActionReportedAcrossKills")
	}
	killAt, err := strconv.Atoi(os.Getenv(killAtEnv))
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv(killDirEnv)
	var steps atomic.Int64
	step := func() {
		if steps.Add(1) == int64(killAt) {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
	cfg := killAWS(t, url)
	e, cw := ec2.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
	act, err := actuator.New(actuator.Config{DataDir: dir, EC2: func(string) actuator.EC2API { return e },
		CloudWatch: func(string) actuator.CloudWatchAPI { return cw }, PollInterval: time.Millisecond, StepTimeout: 10 * time.Second, Journaled: step})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spool.Open(spool.Options{Dir: dir + "/spool"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{DataDir: dir, Executor: act, Reporter: spoolReporter{sp: sp, step: step}, Reserver: grantAll{}, Clock: time.Now,
		Prices: flatPrices(0), Inventory: func() iter.Seq[*sirsiv1.Resource] { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r.Resume(ctx)
	zero, two := int32(0), int32(2)
	p := &sirsiv1.OptimizationPolicy{Id: "p1", Name: "kill", Version: 1, Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO, Schedule: "* * * * *",
		MaxActionsPerRun: &two, CooldownHours: &zero, Verify: &sirsiv1.VerifySettings{}}
	var recs []*sirsiv1.Recommendation
	for _, id := range strings.Split(os.Getenv(killIDsEnv), ",") {
		recs = append(recs, &sirsiv1.Recommendation{Id: "rec-" + id, ResourceId: id, ResourceType: actuator.ResourceEC2Instance, Region: killRegion,
			Action: actuator.ActionResize, CurrentSize: killBig, ProposedSize: killSmall, EstimatedMonthlySavings: money.USDFromFloat(100)})
	}
	asg := &sirsiv1.GetAssignmentResponse{Policies: []*sirsiv1.OptimizationPolicy{p}}
	r.Decided(ctx, asg.Policies, map[string][]*sirsiv1.Recommendation{"p1": recs})
	if err := r.Run(ctx, asg); err != nil {
		t.Fatal(err)
	}
	fmt.Println("DONE")
}

// TestEveryActionReportedAcrossKills kills the runner right after each of
// its durable steps in turn (every journal write of two resizes, one of
// which must roll back, every spool append and every mark as reported),
// then its restart after the same number of steps, then lets a third run
// finish. Each action is then in the spool once under its batch id, with
// the outcome AWS shows, and none is left unreported.
func TestEveryActionReportedAcrossKills(t *testing.T) {
	if os.Getenv(killURLEnv) != "" {
		t.Skip("running as the child")
	}
	sim, err := awssim.New(awssim.Options{Seed: 7, StateDelay: killDelay, Throttle: awssim.ThrottleOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	c := ec2.NewFromConfig(killAWS(t, srv.URL))
	var total int
	outcomes := map[sirsiv1.ActionStatus]int{}
	for killAt := 1; ; killAt++ {
		healthy, failing := launchRunning(t, c), launchRunning(t, c)
		sim.FailStatusChecksAtType(failing, killSmall)
		dir := t.TempDir()
		ids := healthy + "," + failing
		finished := runKillChild(t, srv.URL, dir, ids, killAt)
		// Every third time the restart is killed at the same step count
		// too: while it reports what finished unreported, or while it
		// resumes the interrupted flows one after the other.
		if !finished && (killAt%3 != 0 || !runKillChild(t, srv.URL, dir, ids, killAt)) && !runKillChild(t, srv.URL, dir, ids, 0) {
			t.Fatalf("kill at %d: the last run was killed", killAt)
		}
		checkReported(t, killAt, dir, c, map[string]sirsiv1.ActionStatus{
			healthy: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, failing: sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK}, outcomes)
		if finished {
			// No kill: every step boundary before has been killed at.
			total = killAt - 1
			break
		}
	}
	if total < 20 || outcomes[sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED] == 0 || outcomes[sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK] == 0 {
		t.Fatalf("the runs took %d durable steps with outcomes %v; two resizes (one rolled back) and their reports take more: the kills proved too little", total, outcomes)
	}
	t.Logf("killed after each of %d durable steps; outcomes %v", total, outcomes)
}

func launchRunning(t *testing.T, c *ec2.Client) string {
	t.Helper()
	ctx := context.Background()
	out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), InstanceType: killBig,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	w := ec2.NewInstanceRunningWaiter(c, func(o *ec2.InstanceRunningWaiterOptions) { o.MinDelay, o.MaxDelay = killDelay, killDelay })
	if err := w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return id
}

// runKillChild runs the child to its end or its kill; true means it got
// to the end.
func runKillChild(t *testing.T, url, dir, ids string, killAt int) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperKillChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), killURLEnv+"="+url, killDirEnv+"="+dir, killIDsEnv+"="+ids, killAtEnv+"="+strconv.Itoa(killAt))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("kill at %d: the child outlived its bound:\n%s", killAt, out.String())
	}
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return false
		}
	}
	if err != nil || !strings.Contains(out.String(), "DONE") {
		t.Fatalf("kill at %d: the child failed (%v):\n%s", killAt, err, out.String())
	}
	return true
}

// checkReported compares the spool and the journal with AWS: an instance
// the journal holds a flow for is reported once, with the outcome it
// has in AWS (want); one without was never touched (a kill before its
// flow began uses up the window's room, counted before acting).
func checkReported(t *testing.T, killAt int, dir string, c *ec2.Client, want map[string]sirsiv1.ActionStatus, outcomes map[sirsiv1.ActionStatus]int) {
	t.Helper()
	sp, err := spool.Open(spool.Options{Dir: dir + "/spool"})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	recs, err := sp.Peek(1000)
	if err != nil {
		t.Fatal(err)
	}
	batches := map[string]bool{}
	reported := map[string]sirsiv1.ActionStatus{}
	for _, rec := range recs {
		var req sirsiv1.ReportActionsRequest
		if err := proto.Unmarshal(rec.Payload, &req); err != nil {
			t.Fatal(err)
		}
		if batches[rec.BatchID] {
			continue // the server applies a batch once
		}
		batches[rec.BatchID] = true
		for _, a := range req.GetActions() {
			if _, dup := reported[a.GetResourceId()]; dup {
				t.Errorf("kill at %d: %s reported twice under different batches", killAt, a.GetResourceId())
			}
			reported[a.GetResourceId()] = a.GetStatus()
		}
	}
	act, err := actuator.New(actuator.Config{DataDir: dir, EC2: func(string) actuator.EC2API { return c },
		CloudWatch: func(string) actuator.CloudWatchAPI { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer act.Close()
	if left, err := act.Unreported(); err != nil || len(left) != 0 {
		t.Errorf("kill at %d: %d actions left unreported (%v)", killAt, len(left), err)
	}
	for id, status := range want {
		_, journaled := act.LastAction(id)
		out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		in := out.Reservations[0].Instances[0]
		wantType := ec2types.InstanceType(killBig)
		switch got, ok := reported[id]; {
		case !journaled && ok:
			t.Errorf("kill at %d: %s reported %v without a flow", killAt, id, got)
		case !journaled:
		case got != status:
			t.Errorf("kill at %d: %s reported %v, want %v (reports %v)", killAt, id, got, status, reported)
		case status == sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED:
			wantType = killSmall
		}
		outcomes[reported[id]]++
		if in.State.Name != ec2types.InstanceStateNameRunning || in.InstanceType != wantType {
			t.Errorf("kill at %d: %s is %s %s, want running %s", killAt, id, in.State.Name, in.InstanceType, wantType)
		}
	}
}
