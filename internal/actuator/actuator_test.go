package actuator

import (
	"context"
	"errors"
	"google.golang.org/protobuf/proto"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

const (
	region    = "us-east-1"
	amiID     = "ami-0abcdef1234567890"
	bigType   = "m5.2xlarge"
	smallType = "m5.large"
)

// env is a simulated account on a manual clock that the actuator's Sleep
// advances, so waits of minutes take no wall time.
type env struct {
	sim   *awssim.Sim
	clock *awssim.ManualClock
	url   string
	ec2   *ec2.Client
	cw    *cloudwatch.Client
}

func startSim(t *testing.T, clock awssim.Clock, stateDelay time.Duration) (*awssim.Sim, string) {
	t.Helper()
	sim, err := awssim.New(awssim.Options{Seed: 7, Clock: clock, StateDelay: stateDelay, Throttle: awssim.ThrottleOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return sim, srv.URL
}

func awsConfig(t testing.TB, url string) aws.Config {
	t.Helper()
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{
		Region: region, Endpoint: url, MaxAttempts: 3,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clock := awssim.NewManualClock(time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC))
	sim, url := startSim(t, clock, 30*time.Second)
	cfg := awsConfig(t, url)
	return &env{sim: sim, clock: clock, url: url, ec2: ec2.NewFromConfig(cfg), cw: cloudwatch.NewFromConfig(cfg)}
}

// config is an actuator on e's clock; with overrides the EC2 or CloudWatch
// client.
func (e *env) config(t *testing.T, dir string) Config {
	t.Helper()
	return Config{
		DataDir:    dir,
		EC2:        func(string) EC2API { return e.ec2 },
		CloudWatch: func(string) CloudWatchAPI { return e.cw },
		Now:        e.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			e.clock.Advance(d)
			return ctx.Err()
		},
	}
}

func (e *env) actuator(t *testing.T, cfg Config) *Actuator {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// launch starts n instances of typ with tags and waits until they run.
func launch(t testing.TB, c *ec2.Client, n int, typ string, tags map[string]string, settle func()) []string {
	t.Helper()
	var ts []ec2types.Tag
	for k, v := range tags {
		ts = append(ts, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	in := &ec2.RunInstancesInput{ImageId: aws.String(amiID), InstanceType: ec2types.InstanceType(typ),
		MinCount: aws.Int32(int32(n)), MaxCount: aws.Int32(int32(n))}
	if len(ts) > 0 {
		in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: ts}}
	}
	out, err := c.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, i := range out.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	settle()
	return ids
}

func (e *env) launch(t *testing.T, typ string, tags map[string]string) string {
	t.Helper()
	all := map[string]string{awssim.ProfileTag: string(awssim.ProfileOverProvisioned)}
	for k, v := range tags {
		all[k] = v
	}
	return launch(t, e.ec2, 1, typ, all, func() { e.clock.Advance(time.Minute) })[0]
}

type liveInstance struct {
	state, typ string
	tags       map[string]string
}

func describe(t testing.TB, c *ec2.Client, id string) liveInstance {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	in := out.Reservations[0].Instances[0]
	return liveInstance{state: string(in.State.Name), typ: string(in.InstanceType), tags: tagsOf(in.Tags)}
}

func resizeReq(id string) Request {
	return Request{
		ID: uuid.NewString(), PolicyID: "pol-1", RecommendationID: "rec-1",
		ResourceID: id, ResourceType: ResourceEC2Instance, Region: region,
		Action: ActionResize, FromSize: bigType, ToSize: smallType,
		EstimatedMonthlySavings: money.USDFromFloat(210.24), VerifyWait: 15 * time.Minute,
		RollbackOnFailure: true, Cooldown: 24 * time.Hour,
	}
}

// eventsOf counts the simulator's recorded changes to one resource: every
// mutation (state, type, tags) appends one.
func eventsOf(sim *awssim.Sim, id string) int {
	n := 0
	for _, e := range sim.Events(sim.AccountID()) {
		if e.ResourceID == id {
			n++
		}
	}
	return n
}

func stepNames(a *sirsiv1.Action) []string {
	var out []string
	for _, s := range a.Steps {
		out = append(out, s.Name)
	}
	return out
}

func stepDetail(a *sirsiv1.Action, name string) string {
	for _, s := range a.Steps {
		if s.Name == name {
			return s.Status + ": " + s.Detail
		}
	}
	return ""
}

func TestResizeSucceeds(t *testing.T) {
	e := newEnv(t)
	id := e.launch(t, bigType, nil)
	reg := prometheus.NewRegistry()
	cfg := e.config(t, t.TempDir())
	cfg.Registerer = reg
	a := e.actuator(t, cfg)
	req := resizeReq(id)
	act := a.Execute(context.Background(), req)
	if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
		t.Fatalf("status %v, error %q, steps %v", act.Status, act.Error, act.Steps)
	}
	want := []string{"check", "stop", "wait_stopped", "modify", "start", "wait_running", "verify_status", "verify_cpu", "tag"}
	if got := stepNames(act); !slices.Equal(got, want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
	for _, s := range act.Steps {
		if s.Status != statusSucceeded || s.Time == nil {
			t.Errorf("step %s: status %q time %v (%s)", s.Name, s.Status, s.Time, s.Detail)
		}
	}
	if d := stepDetail(act, "verify_cpu"); !strings.Contains(d, "CPU average") {
		t.Errorf("verify_cpu did not judge CPU from datapoints: %s", d)
	}
	if !proto.Equal(act.RealizedMonthlySavings, req.EstimatedMonthlySavings) || act.RealizedMonthlySavings == nil || act.Id != req.ID || act.PolicyId != "pol-1" || act.EndTime == nil {
		t.Errorf("action fields: %+v", act)
	}
	live := describe(t, e.ec2, id)
	if live.state != "running" || live.typ != smallType {
		t.Fatalf("instance is %s %s, want running %s", live.state, live.typ, smallType)
	}
	if tag := live.tags[TagLastAction]; !strings.HasPrefix(tag, "resize m5.2xlarge->m5.large 2026-11-02T") {
		t.Errorf("%s = %q", TagLastAction, tag)
	}
	if last, ok := a.LastAction(id); !ok || last.Before(act.StartTime.AsTime()) {
		t.Errorf("LastAction = %v, %v", last, ok)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			got[mf.GetName()]++
			if mf.GetName() == "sirsi_agent_actions_total" && m.GetCounter().GetValue() != 1 {
				t.Errorf("%s %v = %v, want 1", mf.GetName(), m.GetLabel(), m.GetCounter().GetValue())
			}
		}
	}
	if got["sirsi_agent_actions_total"] != 1 || got["sirsi_agent_action_step_seconds"] != len(want) {
		t.Errorf("metric series %v, want 1 action counter and %d step histograms", got, len(want))
	}
}

func TestResizeRollsBack(t *testing.T) {
	cases := []struct {
		name   string
		inject func(e *env, id string, cfg *Config)
		reason string
	}{
		{"modify fails", func(e *env, id string, _ *Config) {
			if err := e.sim.FailNext(awssim.FailNextSpec{Service: "ec2", Action: "ModifyInstanceAttribute", ResourceID: id, Code: "UnsupportedOperation"}); err != nil {
				t.Fatal(err)
			}
		}, "UnsupportedOperation"},
		{"status checks fail after start", func(e *env, id string, _ *Config) {
			e.sim.FailStatusChecksAtType(id, smallType)
		}, "status checks impaired"},
		{"CPU pinned at the new size", func(_ *env, _ string, cfg *Config) {
			cfg.CloudWatch = func(string) CloudWatchAPI { return pinnedCPU{} }
		}, "CPU pinned"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.launch(t, bigType, nil)
			cfg := e.config(t, t.TempDir())
			tc.inject(e, id, &cfg)
			a := e.actuator(t, cfg)
			act := a.Execute(context.Background(), resizeReq(id))
			if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK {
				t.Fatalf("status %v, error %q, steps %v", act.Status, act.Error, stepNames(act))
			}
			if !strings.Contains(act.Error, tc.reason) || act.RealizedMonthlySavings != nil {
				t.Errorf("error %q (want %q), realised %v", act.Error, tc.reason, act.RealizedMonthlySavings)
			}
			live := describe(t, e.ec2, id)
			if live.state != "running" || live.typ != bigType {
				t.Fatalf("instance is %s %s, want running %s", live.state, live.typ, bigType)
			}
			if !strings.Contains(live.tags[TagError], tc.reason) || !strings.Contains(live.tags[TagLastAction], "rolled-back") {
				t.Errorf("tags %v", live.tags)
			}
			if names := stepNames(act); !slices.Contains(names, "rollback_start") || !slices.Contains(names, "rollback_verify_status") || names[len(names)-1] != "tag_error" {
				t.Errorf("steps %v", names)
			}
		})
	}
}

// TestRollbackRechecksStatus: an instance whose status checks fail at its
// original type too was not brought back by the rollback, so the action
// is failed (not rolled back) and says so; the instance still runs.
func TestRollbackRechecksStatus(t *testing.T) {
	e := newEnv(t)
	id := e.launch(t, bigType, nil)
	e.sim.FailStatusChecks(id, true)
	a := e.actuator(t, e.config(t, t.TempDir()))
	act := a.Execute(context.Background(), resizeReq(id))
	if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_FAILED || !strings.Contains(act.Error, "status checks after the rollback") {
		t.Fatalf("status %v, error %q, steps %v", act.Status, act.Error, stepNames(act))
	}
	live := describe(t, e.ec2, id)
	if live.state != "running" || live.typ != bigType || !strings.Contains(live.tags[TagLastAction], "failed") {
		t.Fatalf("instance is %s %s tagged %v, want running %s tagged failed", live.state, live.typ, live.tags, bigType)
	}
}

// pinnedCPU answers every CPU query with a saturated instance.
type pinnedCPU struct{}

func (pinnedCPU) GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	return &cloudwatch.GetMetricDataOutput{MetricDataResults: []cwtypes.MetricDataResult{{Id: aws.String("cpu"), Values: []float64{96, 99.5, 97}}}}, nil
}

// failRollbackModify fails every change back to the original type, so the
// rollback cannot complete.
type failRollbackModify struct {
	*ec2.Client
	to string
}

func (f failRollbackModify) ModifyInstanceAttribute(ctx context.Context, in *ec2.ModifyInstanceAttributeInput, opts ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error) {
	if in.InstanceType != nil && aws.ToString(in.InstanceType.Value) == f.to {
		return nil, errors.New("injected: modify back refused")
	}
	return f.Client.ModifyInstanceAttribute(ctx, in, opts...)
}

func TestFailedRollbackStillStartsTheInstance(t *testing.T) {
	e := newEnv(t)
	id := e.launch(t, bigType, nil)
	e.sim.FailStatusChecks(id, true)
	cfg := e.config(t, t.TempDir())
	cfg.EC2 = func(string) EC2API { return failRollbackModify{Client: e.ec2, to: bigType} }
	a := e.actuator(t, cfg)
	act := a.Execute(context.Background(), resizeReq(id))
	if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_FAILED {
		t.Fatalf("status %v, error %q, steps %v", act.Status, act.Error, stepNames(act))
	}
	if !strings.Contains(act.Error, "status checks impaired") || !strings.Contains(act.Error, "modify back refused") {
		t.Errorf("error %q does not carry both failures", act.Error)
	}
	if live := describe(t, e.ec2, id); live.state != "running" {
		t.Fatalf("instance left %s after a failed rollback", live.state)
	}
}

func TestRefusedWithoutMutation(t *testing.T) {
	e := newEnv(t)
	recent := e.clock.Now().Add(-time.Hour).Format(time.RFC3339)
	cases := []struct {
		name   string
		tags   map[string]string
		mutate func(r *Request)
		reason string
	}{
		{"exclude tag value", map[string]string{"env": "prod"}, func(r *Request) { r.ExcludeTags = map[string]string{"env": "prod"} }, "exclude tag env=prod"},
		{"exclude tag any value", map[string]string{"owner": "db-team"}, func(r *Request) { r.ExcludeTags = map[string]string{"owner": "*"} }, "exclude tag owner=db-team"},
		{"sirsi:optimize=false", map[string]string{TagOptimize: "False"}, func(*Request) {}, "sirsi:optimize=false"},
		{"cool-down by tag", map[string]string{TagLastAction: "stop " + recent}, func(*Request) {}, "cool-down"},
		{"wrong from_size", nil, func(r *Request) { r.FromSize = "c5.2xlarge" }, "not from_size c5.2xlarge"},
		{"start of a running instance", nil, func(r *Request) {
			r.Action, r.FromSize, r.ToSize = ActionStart, "", ""
		}, "start needs it stopped"},
		{"unknown action", nil, func(r *Request) { r.Action = "terminate" }, "request.action"},
		{"missing id", nil, func(r *Request) { r.ID = "" }, "request.id"},
		{"volume action on an instance", nil, func(r *Request) { r.Action, r.FromSize, r.ToSize = ActionMigrateGP3, "gp2:100", "gp3:100" }, "request.resource_type"},
	}
	a := e.actuator(t, e.config(t, t.TempDir()))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := e.launch(t, bigType, tc.tags)
			before := eventsOf(e.sim, id)
			req := resizeReq(id)
			tc.mutate(&req)
			for _, act := range []*sirsiv1.Action{a.DryRun(context.Background(), req), a.Execute(context.Background(), req)} {
				if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_FAILED || !strings.Contains(act.Error, tc.reason) {
					t.Errorf("dry_run=%v: status %v error %q, want FAILED naming %q", act.DryRun, act.Status, act.Error, tc.reason)
				}
			}
			if after := eventsOf(e.sim, id); after != before {
				t.Errorf("a refused request changed the instance: %d events, was %d", after, before)
			}
			if live := describe(t, e.ec2, id); live.state != "running" || live.typ != bigType {
				t.Errorf("instance now %s %s", live.state, live.typ)
			}
			if _, ok := a.LastAction(id); ok {
				t.Error("a refused request counts for cool-down")
			}
		})
	}
}

func TestCooldownFromJournal(t *testing.T) {
	e := newEnv(t)
	id := e.launch(t, bigType, nil)
	a := e.actuator(t, e.config(t, t.TempDir()))
	if act := a.Execute(context.Background(), resizeReq(id)); act.Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
		t.Fatalf("first resize: %v %s", act.Status, act.Error)
	}
	// Overwrite the tag so that only the journal remembers the resize.
	old := "manual 2020-01-01T00:00:00Z"
	if _, err := e.ec2.CreateTags(context.Background(), &ec2.CreateTagsInput{Resources: []string{id},
		Tags: []ec2types.Tag{{Key: aws.String(TagLastAction), Value: aws.String(old)}}}); err != nil {
		t.Fatal(err)
	}
	before := eventsOf(e.sim, id)
	back := resizeReq(id)
	back.FromSize, back.ToSize = smallType, bigType
	act := a.Execute(context.Background(), back)
	if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_FAILED || !strings.Contains(act.Error, "(journal): inside the 24h0m0s cool-down") {
		t.Fatalf("status %v error %q", act.Status, act.Error)
	}
	if eventsOf(e.sim, id) != before {
		t.Error("refused request mutated the instance")
	}
	e.clock.Advance(25 * time.Hour)
	back.ID = uuid.NewString()
	if act := a.Execute(context.Background(), back); act.Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
		t.Fatalf("after the cool-down: %v %s", act.Status, act.Error)
	}
}

func TestExecuteTwiceActsOnce(t *testing.T) {
	e := newEnv(t)
	id := e.launch(t, bigType, nil)
	dir := t.TempDir()
	a := e.actuator(t, e.config(t, dir))
	req := resizeReq(id)
	first := a.Execute(context.Background(), req)
	if first.Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
		t.Fatalf("first: %v %s", first.Status, first.Error)
	}
	events := eventsOf(e.sim, id)
	// The same id again, also with the request's sizes swapped (as a
	// confused caller might): nothing happens, the first outcome comes back.
	again := req
	again.FromSize, again.ToSize = smallType, bigType
	for _, r := range []Request{req, again} {
		second := a.Execute(context.Background(), r)
		if second.Status != first.Status || len(second.Steps) != len(first.Steps) || second.ToSize != smallType {
			t.Errorf("second Execute: %v with %d steps to %s", second.Status, len(second.Steps), second.ToSize)
		}
	}
	if eventsOf(e.sim, id) != events {
		t.Fatal("the second Execute with one id acted")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// And after a restart, from the journal alone.
	b := e.actuator(t, e.config(t, dir))
	if act := b.Execute(context.Background(), req); act.Status != first.Status || eventsOf(e.sim, id) != events {
		t.Fatalf("after restart: %v, events %d -> %d", act.Status, events, eventsOf(e.sim, id))
	}
	if got := resumeAll(b); len(got) != 0 {
		t.Errorf("Resume found %d unfinished flows", len(got))
	}
}

func TestConcurrentExecuteOnOneResource(t *testing.T) {
	e := newEnv(t)
	id := e.launch(t, bigType, nil)
	a := e.actuator(t, e.config(t, t.TempDir()))
	var wg sync.WaitGroup
	acts := make([]*sirsiv1.Action, 4)
	for i := range acts {
		wg.Go(func() { acts[i] = a.Execute(context.Background(), resizeReq(id)) })
	}
	wg.Wait()
	ok := 0
	for _, act := range acts {
		if act.Status == sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d of 4 concurrent resizes of one instance succeeded, want exactly 1", ok)
	}
}

func TestDryRunMutatesNothing(t *testing.T) {
	e := newEnv(t)
	id := e.launch(t, bigType, nil)
	a := e.actuator(t, e.config(t, t.TempDir()))
	before := eventsOf(e.sim, id)
	req := resizeReq(id)
	req.PlanID = "plan-1"
	act := a.DryRun(context.Background(), req)
	if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_PLANNED || !act.DryRun || act.PlanId != "plan-1" {
		t.Fatalf("dry run: %v dry_run=%v plan %q error %q", act.Status, act.DryRun, act.PlanId, act.Error)
	}
	want := []string{"check", "stop", "wait_stopped", "modify", "start", "wait_running", "verify_status", "verify_cpu", "tag"}
	if got := stepNames(act); !slices.Equal(got, want) {
		t.Fatalf("planned steps %v, want %v", got, want)
	}
	for _, s := range act.Steps[1:] {
		if s.Status != statusPlanned {
			t.Errorf("step %s is %s, want planned", s.Name, s.Status)
		}
	}
	if eventsOf(e.sim, id) != before {
		t.Fatal("DryRun mutated the instance")
	}
	if _, ok := a.LastAction(id); ok {
		t.Fatal("DryRun was journaled as an action")
	}
	// A dry run does not use up the id.
	if act := a.Execute(context.Background(), req); act.Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
		t.Fatalf("Execute after DryRun: %v %s", act.Status, act.Error)
	}
}

func TestStopThenStart(t *testing.T) {
	e := newEnv(t)
	id := e.launch(t, bigType, nil)
	a := e.actuator(t, e.config(t, t.TempDir()))
	for _, step := range []struct{ action, state string }{{ActionStop, "stopped"}, {ActionStart, "running"}} {
		req := Request{ID: uuid.NewString(), ResourceID: id, ResourceType: ResourceEC2Instance, Region: region,
			Action: step.action, EstimatedMonthlySavings: money.USDFromFloat(12.5)}
		act := a.Execute(context.Background(), req)
		if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
			t.Fatalf("%s: %v %s", step.action, act.Status, act.Error)
		}
		want := append([]string(nil), flowKinds[flowKey{ResourceEC2Instance, step.action}].forward...)
		if got := stepNames(act); !slices.Equal(got, want) {
			t.Errorf("%s steps %v, want %v", step.action, got, want)
		}
		live := describe(t, e.ec2, id)
		if live.state != step.state || !strings.HasPrefix(live.tags[TagLastAction], step.action+" 2026-") {
			t.Fatalf("after %s: %s, tag %q", step.action, live.state, live.tags[TagLastAction])
		}
	}
}

// slowModification adds DescribeVolumesModifications, which the simulator
// lacks, walking the volume through modifying -> optimizing.
type slowModification struct {
	*ec2.Client
	mu    sync.Mutex
	calls int
}

func (s *slowModification) DescribeVolumesModifications(_ context.Context, in *ec2.DescribeVolumesModificationsInput, _ ...func(*ec2.Options)) (*ec2.DescribeVolumesModificationsOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	state := ec2types.VolumeModificationStateModifying
	if s.calls >= 3 {
		state = ec2types.VolumeModificationStateOptimizing
	}
	return &ec2.DescribeVolumesModificationsOutput{VolumesModifications: []ec2types.VolumeModification{{
		VolumeId: aws.String(in.VolumeIds[0]), ModificationState: state, StartTime: aws.Time(time.Now()),
	}}}, nil
}

func TestMigrateGP3(t *testing.T) {
	e := newEnv(t)
	out, err := e.ec2.CreateVolume(context.Background(), &ec2.CreateVolumeInput{AvailabilityZone: aws.String(region + "a"),
		VolumeType: ec2types.VolumeTypeGp2, Size: aws.Int32(1500)})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.VolumeId)
	e.clock.Advance(time.Minute)
	wrapped := &slowModification{Client: e.ec2}
	cfg := e.config(t, t.TempDir())
	cfg.EC2 = func(string) EC2API { return wrapped }
	a := e.actuator(t, cfg)
	req := Request{ID: uuid.NewString(), ResourceID: id, ResourceType: ResourceEBSVolume, Region: region,
		Action: ActionMigrateGP3, FromSize: "gp2:1500", ToSize: "gp3:1500", EstimatedMonthlySavings: money.USDFromFloat(30)}
	act := a.Execute(context.Background(), req)
	if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED || money.FloatOr(act.RealizedMonthlySavings, math.NaN()) != 30 {
		t.Fatalf("status %v error %q steps %v", act.Status, act.Error, act.Steps)
	}
	if got, want := stepNames(act), flowKinds[flowKey{ResourceEBSVolume, ActionMigrateGP3}].forward; !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
	if wrapped.calls != 3 {
		t.Errorf("polled the modification %d times, want 3 (until optimizing)", wrapped.calls)
	}
	vols, err := e.ec2.DescribeVolumes(context.Background(), &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	v := vols.Volumes[0]
	// gp2 gave 1500 GiB a 4500 IOPS baseline and 250 MiB/s; gp3 must
	// not be slower.
	if v.VolumeType != ec2types.VolumeTypeGp3 || aws.ToInt32(v.Iops) != 4500 || aws.ToInt32(v.Throughput) != 250 {
		t.Errorf("volume is %s, %d IOPS, %d MiB/s", v.VolumeType, aws.ToInt32(v.Iops), aws.ToInt32(v.Throughput))
	}
	if tag := tagsOf(v.Tags)[TagLastAction]; !strings.HasPrefix(tag, "migrate_gp3 gp2:1500->gp3:1500 ") {
		t.Errorf("%s = %q", TagLastAction, tag)
	}
	again := req
	again.ID = uuid.NewString()
	if act := a.Execute(context.Background(), again); act.Status != sirsiv1.ActionStatus_ACTION_STATUS_FAILED || !strings.Contains(act.Error, "not from_size gp2:1500") {
		t.Errorf("migrating a gp3 volume again: %v %q", act.Status, act.Error)
	}
}

func TestCorruptRecordIsQuarantined(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	a := e.actuator(t, e.config(t, dir))
	id := e.launch(t, bigType, nil)
	good := resizeReq(id)
	if act := a.Execute(context.Background(), good); act.Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
		t.Fatalf("%v %s", act.Status, act.Error)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, journalFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{"flip": nil, "short": {1, 2}, "version": {9, 0, 0, 0, 0, '{', '}'}}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(flowsBucket)
		v := append([]byte(nil), b.Get([]byte(good.ID))...)
		v[len(v)-2] ^= 0xff // damage the body under a valid header
		bad["flip"] = v
		for k, v := range bad {
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b := e.actuator(t, e.config(t, dir))
	if got := resumeAll(b); len(got) != 0 {
		t.Errorf("Resume returned %d actions from corrupt records", len(got))
	}
	if _, ok := b.LastAction(id); !ok {
		t.Error("the intact record was lost with the corrupt ones")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = bolt.Open(filepath.Join(dir, journalFile), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		for k := range bad {
			if tx.Bucket(quarantineBucket).Get([]byte(k)) == nil || tx.Bucket(flowsBucket).Get([]byte(k)) != nil {
				t.Errorf("record %q not quarantined", k)
			}
		}
		return nil
	})
}

func TestNewValidatesConfig(t *testing.T) {
	ok := Config{DataDir: t.TempDir(), EC2: func(string) EC2API { return nil }, CloudWatch: func(string) CloudWatchAPI { return nil }}
	for field, mutate := range map[string]func(c *Config){
		"DataDir":      func(c *Config) { c.DataDir = "" },
		"EC2":          func(c *Config) { c.EC2 = nil },
		"CloudWatch":   func(c *Config) { c.CloudWatch = nil },
		"PollInterval": func(c *Config) { c.PollInterval = -time.Second },
	} {
		c := ok
		mutate(&c)
		if _, err := New(c); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error %v, want one naming the field", field, err)
		}
	}
	a, err := New(ok)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := os.Stat(filepath.Join(ok.DataDir, journalFile)); err != nil {
		t.Fatalf("journal not created: %v", err)
	}
	// A second actuator on the same directory fails fast instead of
	// sharing the journal.
	if _, err := New(ok); err == nil {
		t.Fatal("a second actuator opened the same journal")
	}
}

func TestPruneOldTerminalFlows(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	a := e.actuator(t, e.config(t, dir))
	id := e.launch(t, bigType, nil)
	if act := a.Execute(context.Background(), resizeReq(id)); act.Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
		t.Fatalf("%v %s", act.Status, act.Error)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(29 * 24 * time.Hour)
	b := e.actuator(t, e.config(t, dir))
	if _, ok := b.LastAction(id); !ok {
		t.Fatal("pruned a flow younger than 30 days")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * 24 * time.Hour)
	c := e.actuator(t, e.config(t, dir))
	if _, ok := c.LastAction(id); ok {
		t.Fatal("kept a flow older than 30 days")
	}
}

func TestTruncateTag(t *testing.T) {
	long := strings.Repeat("é", 300)
	got := truncateTag(long)
	if n := len([]rune(got)); n != maxTagValue {
		t.Fatalf("%d characters, want %d", n, maxTagValue)
	}
	if short := "resize failed"; truncateTag(short) != short {
		t.Fatal("a short value changed")
	}
}

func TestResizeWithoutRollbackStillRestarts(t *testing.T) {
	e := newEnv(t)
	id := e.launch(t, bigType, nil)
	e.sim.FailStatusChecks(id, true)
	a := e.actuator(t, e.config(t, t.TempDir()))
	req := resizeReq(id)
	req.RollbackOnFailure = false
	act := a.Execute(context.Background(), req)
	if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_FAILED || !strings.Contains(act.Error, "status checks impaired") {
		t.Fatalf("status %v error %q", act.Status, act.Error)
	}
	if names := stepNames(act); slices.Contains(names, "rollback_modify") {
		t.Errorf("rolled back although rollback_on_failure is off: %v", names)
	}
	if live := describe(t, e.ec2, id); live.state != "running" || live.typ != smallType {
		t.Fatalf("instance is %s %s, want running %s", live.state, live.typ, smallType)
	}
}

func TestResizeStoppedInstanceStaysStopped(t *testing.T) {
	e := newEnv(t)
	id := e.launch(t, bigType, nil)
	if _, err := e.ec2.StopInstances(context.Background(), &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	a := e.actuator(t, e.config(t, t.TempDir()))
	req := resizeReq(id)
	want := []string{"check", "stop", "wait_stopped", "modify", "tag"}
	if got := stepNames(a.DryRun(context.Background(), req)); !slices.Equal(got, want) {
		t.Errorf("planned %v, want %v", got, want)
	}
	act := a.Execute(context.Background(), req)
	if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
		t.Fatalf("status %v error %q", act.Status, act.Error)
	}
	if got := stepNames(act); !slices.Equal(got, []string{"check", "stop", "wait_stopped", "modify", "start", "tag"}) {
		t.Errorf("steps %v", got)
	}
	if live := describe(t, e.ec2, id); live.state != "stopped" || live.typ != smallType {
		t.Fatalf("instance is %s %s, want stopped %s", live.state, live.typ, smallType)
	}
}

// A cancelled context leaves the flow journaled mid-way; Resume finishes it.
func TestCancelledFlowResumes(t *testing.T) {
	e := newEnv(t)
	id := e.launch(t, bigType, nil)
	cfg := e.config(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	sleeps := 0
	cfg.Sleep = func(ctx context.Context, d time.Duration) error {
		e.clock.Advance(d)
		if sleeps++; sleeps == 3 {
			cancel()
		}
		return ctx.Err()
	}
	a := e.actuator(t, cfg)
	act := a.Execute(ctx, resizeReq(id))
	if act.Status != sirsiv1.ActionStatus_ACTION_STATUS_RUNNING {
		t.Fatalf("cancelled Execute returned %v", act.Status)
	}
	resumed := resumeAll(a)
	if len(resumed) != 1 || resumed[0].Status != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED || resumed[0].Id != act.Id {
		t.Fatalf("Resume: %v", resumed)
	}
	if live := describe(t, e.ec2, id); live.state != "running" || live.typ != smallType {
		t.Fatalf("instance is %s %s", live.state, live.typ)
	}
}

// resumeAll resumes a's interrupted flows and returns those that finished.
func resumeAll(a *Actuator) []*sirsiv1.Action {
	var out []*sirsiv1.Action
	a.Resume(context.Background(), func(act *sirsiv1.Action) { out = append(out, act) })
	return out
}
