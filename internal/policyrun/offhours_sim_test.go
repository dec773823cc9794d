package policyrun

import (
	"context"
	"iter"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/actuator"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/discovery"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

// simAccount is a simulated account with the real actuator and discovery
// in front of it.
type simAccount struct {
	sim  *awssim.Sim
	ec2  *ec2.Client
	disc *discovery.Discoverer
	act  *actuator.Actuator
	snap *discovery.Snapshot
}

func newSimAccount(t *testing.T, dir string) *simAccount {
	t.Helper()
	sim, err := awssim.New(awssim.Options{Seed: 11, StateDelay: killDelay, Throttle: awssim.ThrottleOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cfg := killAWS(t, srv.URL)
	c, cw := ec2.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
	disc, err := discovery.New(discovery.Options{Config: cfg, AccountID: sim.AccountID(), Regions: []string{killRegion}, Types: []string{actuator.ResourceEC2Instance}})
	if err != nil {
		t.Fatal(err)
	}
	act, err := actuator.New(actuator.Config{DataDir: dir, EC2: func(string) actuator.EC2API { return c },
		CloudWatch: func(string) actuator.CloudWatchAPI { return cw }, PollInterval: time.Millisecond, StepTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = act.Close() })
	return &simAccount{sim: sim, ec2: c, disc: disc, act: act}
}

// runner is a Runner of policy p over the account on w's clock, and run,
// which discovers the account at an instant and runs p there, as the
// agent's discovery sweep and optimize run do.
func (a *simAccount) runner(t *testing.T, w *world, p *sirsiv1.OptimizationPolicy) (*Runner, func(at time.Time)) {
	t.Helper()
	r, err := New(Config{DataDir: w.dir, Executor: a.act, Reporter: w.rep, Reserver: w.res, Clock: func() time.Time { return w.now },
		Prices: flatPrices(0.1), Inventory: a.inventory})
	if err != nil {
		t.Fatal(err)
	}
	assignment := &sirsiv1.GetAssignmentResponse{Policies: []*sirsiv1.OptimizationPolicy{p}}
	return r, func(at time.Time) {
		t.Helper()
		w.now = at
		a.discover(t)
		if err := r.Run(context.Background(), assignment); err != nil {
			t.Fatal(err)
		}
	}
}

// discover sweeps the account, as the agent's discovery sweep does
// between optimize runs.
func (a *simAccount) discover(t *testing.T) {
	t.Helper()
	snap, err := a.disc.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a.snap = snap
}

func (a *simAccount) inventory() iter.Seq[*sirsiv1.Resource] {
	if a.snap == nil {
		return nil
	}
	return a.snap.Each
}

func (a *simAccount) states(t *testing.T) map[string]ec2types.InstanceStateName {
	t.Helper()
	out, err := a.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	st := map[string]ec2types.InstanceStateName{}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			st[aws.ToString(in.InstanceId)] = in.State.Name
		}
	}
	return st
}

// byHand stops or starts an instance as a person would, and waits.
func (a *simAccount) byHand(t *testing.T, id string, start bool) {
	t.Helper()
	ctx := context.Background()
	in := &ec2.DescribeInstancesInput{InstanceIds: []string{id}}
	var err error
	if start {
		if _, err = a.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err == nil {
			err = ec2.NewInstanceRunningWaiter(a.ec2, func(o *ec2.InstanceRunningWaiterOptions) { o.MinDelay, o.MaxDelay = killDelay, killDelay }).Wait(ctx, in, 10*time.Second)
		}
	} else if _, err = a.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err == nil {
		err = ec2.NewInstanceStoppedWaiter(a.ec2, func(o *ec2.InstanceStoppedWaiterOptions) { o.MinDelay, o.MaxDelay = killDelay, killDelay }).Wait(ctx, in, 10*time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestOffHoursScheduleAgainstTheSimulator: a daily stop over 20 selected
// instances stops all 20 (the policy allows 5 actions per run and the
// tenant cap 1: a schedule is under neither), never the Auto Scaling group
// member, the one-time Spot Instance or the excluded one, and the start
// firing starts exactly those 20, not the instance stopped by hand before.
// The next night a person starts one instance (it stays running) and
// starts and stops another (it stays stopped): the start firing starts the
// other 18.
func TestOffHoursScheduleAgainstTheSimulator(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC))
	w.res.cap = 1
	acct := newSimAccount(t, w.dir)
	w.exec = nil
	var web []string
	for range 21 {
		web = append(web, launchRunning(t, acct.ec2))
	}
	handStopped, web := web[20], web[:20]
	acct.byHand(t, handStopped, false)
	asg := launchRunning(t, acct.ec2)
	if err := acct.sim.SetSystemTags(acct.sim.AccountID(), killRegion, asg, map[string]string{"aws:autoscaling:groupName": "web-asg"}); err != nil {
		t.Fatal(err)
	}
	spot, err := acct.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), InstanceType: killBig,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceMarketOptions: &ec2types.InstanceMarketOptionsRequest{MarketType: ec2types.MarketTypeSpot}})
	if err != nil {
		t.Fatal(err)
	}
	excluded, err := acct.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), InstanceType: killBig,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
			Tags: []ec2types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	untouched := []string{asg, aws.ToString(spot.Instances[0].InstanceId), aws.ToString(excluded.Instances[0].InstanceId)}

	five := int32(5)
	p := &sirsiv1.OptimizationPolicy{Id: "p1", Name: "nights", Version: 1, Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO, Schedule: "0 3 1 1 *",
		MaxActionsPerRun: &five, ResourceTypes: []string{actuator.ResourceEC2Instance},
		Selector: &sirsiv1.PolicySelector{ExcludeTags: map[string]string{"team": "payments"}},
		Offhours: &sirsiv1.OffHoursSettings{StopCron: "0 19 * * *", StartCron: "0 7 * * *"}}
	_, run := acct.runner(t, w, p)
	want := func(when string, stopped ...string) {
		t.Helper()
		st := acct.states(t)
		for id, s := range st {
			if wantStopped := slices.Contains(stopped, id); (s == ec2types.InstanceStateNameStopped) != wantStopped || (!wantStopped && s != ec2types.InstanceStateNameRunning) {
				t.Errorf("%s: %s is %s, want stopped=%t", when, id, s, wantStopped)
			}
		}
		for _, id := range untouched {
			if st[id] != ec2types.InstanceStateNameRunning {
				t.Errorf("%s: %s (never to be stopped) is %s", when, id, st[id])
			}
		}
	}
	count := func(from int, action string) int {
		n := 0
		for _, a := range w.rep.actions[from:] {
			if a.GetAction() == action && a.GetStatus() == sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
				n++
			}
		}
		return n
	}

	run(w.now) // the policy is first seen at 18:00
	day := w.now.Truncate(24 * time.Hour)
	run(day.Add(19*time.Hour + 30*time.Second))
	want("after the first stop firing", append(slices.Clone(web), handStopped)...)
	if n := count(0, actuator.ActionStop); n != 20 {
		t.Errorf("%d stops reported, want 20", n)
	}
	reported := len(w.rep.actions)
	run(day.Add(31*time.Hour + 30*time.Second)) // 07:00 the next day
	want("after the start firing", handStopped)
	if n := count(reported, actuator.ActionStart); n != 20 {
		t.Errorf("%d starts reported, want 20", n)
	}

	day = day.Add(24 * time.Hour)
	run(day.Add(19*time.Hour + 30*time.Second))
	want("after the second stop firing", append(slices.Clone(web), handStopped)...)
	acct.byHand(t, web[0], true)
	acct.byHand(t, web[1], true)
	acct.byHand(t, web[1], false)
	reported = len(w.rep.actions)
	run(day.Add(31*time.Hour + 30*time.Second))
	want("after the second start firing", handStopped, web[1])
	if n := count(reported, actuator.ActionStart); n != 18 {
		t.Errorf("%d starts reported, want 18", n)
	}
	if w.res.granted != 0 {
		t.Errorf("off-hours reserved %d actions under the tenant cap", w.res.granted)
	}
}

// TestHibernateAgainstTheSimulator: a policy with hibernate set hibernates
// the instance enabled for hibernation at launch, at an off-hours stop and
// at an idle stop alike, and stops the one that is not (EC2 would refuse
// to hibernate it); the start firing starts both.
func TestHibernateAgainstTheSimulator(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC))
	acct := newSimAccount(t, w.dir)
	out, err := acct.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), InstanceType: killBig,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), HibernationOptions: &ec2types.HibernationOptionsRequest{Configured: aws.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	enabled := aws.ToString(out.Instances[0].InstanceId)
	acct.byHand(t, enabled, true)
	plain := launchRunning(t, acct.ec2)

	p := &sirsiv1.OptimizationPolicy{Id: "p1", Name: "nights", Version: 1, Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO, Schedule: "0 9 * * *",
		ResourceTypes: []string{actuator.ResourceEC2Instance}, Hibernate: true, CooldownHours: new(int32(0)),
		Offhours: &sirsiv1.OffHoursSettings{StopCron: "0 19 * * *", StartCron: "0 7 * * *"}}
	r, run := acct.runner(t, w, p)
	stopReasons := func(when string, want map[string]string) {
		t.Helper()
		desc, err := acct.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: slices.Sorted(maps.Keys(want))})
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range desc.Reservations {
			for _, in := range res.Instances {
				id := aws.ToString(in.InstanceId)
				if in.State.Name != ec2types.InstanceStateNameStopped || in.StateReason == nil || aws.ToString(in.StateReason.Code) != want[id] {
					t.Errorf("%s: %s is %s with state reason %+v, want stopped by %s", when, id, in.State.Name, in.StateReason, want[id])
				}
			}
		}
	}
	stopDetail := func(from int, id string) string {
		for _, a := range w.rep.actions[from:] {
			if a.GetResourceId() != id || a.GetAction() != actuator.ActionStop {
				continue
			}
			for _, s := range a.GetSteps() {
				if s.GetName() == "stop" {
					return s.GetDetail()
				}
			}
		}
		return "no stop step"
	}

	run(w.now)
	day := w.now.Truncate(24 * time.Hour)
	run(day.Add(19*time.Hour + 30*time.Second))
	stopReasons("after the stop firing", map[string]string{enabled: "Client.UserInitiatedHibernate", plain: "Client.UserInitiatedShutdown"})
	if d := stopDetail(0, enabled); !strings.Contains(d, "hibernated") {
		t.Errorf("the enabled instance's stop step says %q, want hibernated", d)
	}
	if d := stopDetail(0, plain); strings.Contains(d, "hibernated") {
		t.Errorf("the plain instance's stop step says %q", d)
	}
	run(day.Add(31*time.Hour + 30*time.Second))
	for id, s := range acct.states(t) {
		if s != ec2types.InstanceStateNameRunning {
			t.Errorf("after the start firing %s is %s, want running", id, s)
		}
	}

	// The idle rule's stop, in the policy's schedule window (no cool-down
	// after the start firing).
	reported := len(w.rep.actions)
	r.Decided(ctx, []*sirsiv1.OptimizationPolicy{p}, map[string][]*sirsiv1.Recommendation{"p1": {
		{Id: "r-enabled", PolicyId: "p1", ResourceId: enabled, ResourceType: actuator.ResourceEC2Instance, Region: killRegion, Action: actuator.ActionStop, CurrentSize: string(killBig)},
		{Id: "r-plain", PolicyId: "p1", ResourceId: plain, ResourceType: actuator.ResourceEC2Instance, Region: killRegion, Action: actuator.ActionStop, CurrentSize: string(killBig)},
	}})
	run(day.Add(33*time.Hour + 30*time.Second))
	stopReasons("after the idle stop", map[string]string{enabled: "Client.UserInitiatedHibernate", plain: "Client.UserInitiatedShutdown"})
	if d := stopDetail(reported, enabled); !strings.Contains(d, "hibernated") {
		t.Errorf("the idle stop's step says %q, want hibernated", d)
	}
}

// TestPlanListsWhatItLeavesAlone: an approve-mode plan over the simulated
// account lists, with the reason, every selected instance never stopped
// (Auto Scaling group member, one-time Spot, instance-store root, excluded
// by tag) and the recommendation the actuator's live check refused (an
// instance stopped since discovery); the plain instance's stop is the
// plan's one action.
func TestPlanListsWhatItLeavesAlone(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC))
	acct := newSimAccount(t, w.dir)
	const storeAMI = "ami-0fedcba987654321f"
	if err := acct.sim.SetImageRootDeviceType(storeAMI, "instance-store"); err != nil {
		t.Fatal(err)
	}
	launch := func(in *ec2.RunInstancesInput) string {
		t.Helper()
		in.InstanceType, in.MinCount, in.MaxCount = killBig, aws.Int32(1), aws.Int32(1)
		if in.ImageId == nil {
			in.ImageId = aws.String("ami-0abcdef1234567890")
		}
		out, err := acct.ec2.RunInstances(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(out.Instances[0].InstanceId)
		acct.byHand(t, id, true)
		return id
	}
	plain := launch(&ec2.RunInstancesInput{})
	stoppedSince := launch(&ec2.RunInstancesInput{})
	asg := launch(&ec2.RunInstancesInput{})
	if err := acct.sim.SetSystemTags(acct.sim.AccountID(), killRegion, asg, map[string]string{"aws:autoscaling:groupName": "web-asg"}); err != nil {
		t.Fatal(err)
	}
	spot := launch(&ec2.RunInstancesInput{InstanceMarketOptions: &ec2types.InstanceMarketOptionsRequest{MarketType: ec2types.MarketTypeSpot}})
	store := launch(&ec2.RunInstancesInput{ImageId: aws.String(storeAMI)})
	excluded := launch(&ec2.RunInstancesInput{TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
		Tags: []ec2types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}}}}})
	acct.discover(t)
	acct.byHand(t, stoppedSince, false)

	p := &sirsiv1.OptimizationPolicy{Id: "p1", Name: "review", Version: 1, Mode: sirsiv1.PolicyMode_POLICY_MODE_APPROVE, Schedule: "0 9 * * *",
		ResourceTypes: []string{actuator.ResourceEC2Instance}, Idle: &sirsiv1.IdleSettings{CpuBelowPercent: 2},
		Selector: &sirsiv1.PolicySelector{ExcludeTags: map[string]string{"team": "payments"}}}
	r, _ := acct.runner(t, w, p)
	stopRec := func(id string) *sirsiv1.Recommendation {
		return &sirsiv1.Recommendation{Id: "r-" + id, PolicyId: "p1", ResourceId: id, ResourceType: actuator.ResourceEC2Instance, Region: killRegion,
			Action: actuator.ActionStop, CurrentSize: string(killBig), EstimatedMonthlySavings: money.USDFromFloat(10)}
	}
	r.Decided(ctx, []*sirsiv1.OptimizationPolicy{p}, map[string][]*sirsiv1.Recommendation{"p1": {stopRec(plain), stopRec(stoppedSince)}})
	if len(w.rep.plans) != 1 {
		t.Fatalf("%d plans saved, want 1", len(w.rep.plans))
	}
	plan := w.rep.plans[0]
	if len(plan.GetActions()) != 1 || plan.GetActions()[0].GetResourceId() != plain {
		t.Errorf("plan actions %v, want the stop of %s only", plan.GetActions(), plain)
	}
	want := map[string]string{
		asg:          "Auto Scaling group web-asg",
		spot:         "Spot Instance",
		store:        "root device is instance store",
		excluded:     "exclude tag team=payments",
		stoppedSince: "stop needs it running",
	}
	got := map[string]*sirsiv1.PlanSkip{}
	for _, k := range plan.GetSkipped() {
		if got[k.GetResourceId()] != nil {
			t.Errorf("%s skipped twice", k.GetResourceId())
		}
		got[k.GetResourceId()] = k
	}
	for id, why := range want {
		k := got[id]
		switch {
		case k == nil:
			t.Errorf("%s (%s) is not in the plan's skipped list %v", id, why, plan.GetSkipped())
		case !strings.Contains(k.GetReason(), why) || k.GetAction() != actuator.ActionStop || k.GetRegion() != killRegion || k.GetResourceType() != actuator.ResourceEC2Instance:
			t.Errorf("%s skipped as %v, want a stop left alone because %q", id, k, why)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d skipped, want %d: %v", len(got), len(want), plan.GetSkipped())
	}
}
