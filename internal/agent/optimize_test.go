package agent

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

// TestAutoPolicyResizesWithinLimits runs an auto policy with an open
// window over a seeded fleet: the agent resizes only instances whose
// utilisation profile is over-provisioned or idle, never an excluded one,
// at most the tenant-wide cap (2) although the policy allows 3 per run and
// the optimize sweep runs many times in the window, and leaves every
// instance running at the size the recommendation proposed.
func TestAutoPolicyResizesWithinLimits(t *testing.T) {
	simURL, man := seededSim(t, 40)
	env := cptest.Start(t, cptest.WithAgentService())
	tn := env.NewTenant(t, "optimize")
	acct := env.NewCloudAccount(t, tn.ID, awssim.DefaultAccountID)
	ctx := context.Background()

	cap2, three := int32(2), int32(3)
	got, err := env.Client.GetTenant(ctx, &sirsiv1.GetTenantRequest{Id: tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	upd := got.GetTenant()
	upd.MaxActionsPerHour = &cap2
	if _, err := env.Client.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: upd}); err != nil {
		t.Fatalf("UpdateTenant: %v", err)
	}
	// Exclude one team: its instances must stay as they are whatever
	// their utilisation.
	const excludedTeam = "payments"
	pol, err := tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{
		TenantId: tn.ID, Name: "rightsize", Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO,
		ResourceTypes: []string{"aws_ec2_instance"},
		Selector:      &sirsiv1.PolicySelector{ExcludeTags: map[string]string{"team": excludedTeam}},
		Rightsizing: &sirsiv1.RightsizingSettings{Statistic: sirsiv1.Statistic_STATISTIC_MAX, LookbackDays: 14, HeadroomPercent: 20,
			MinMonthlySavings: money.USDFromFloat(1)},
		Schedule: "* * * * *", Timezone: "UTC", MaxActionsPerRun: &three,
		// CPU after the resize is the actuator's own test; here the flow
		// must not wait ten minutes of real time for it.
		Verify: &sirsiv1.VerifySettings{WaitMinutes: 0},
	}})
	if err != nil {
		t.Fatalf("CreateOptimizationPolicy: %v", err)
	}

	cfg := agentConfig(env, t.TempDir(), env.AgentEndpoint, env.NewEnrollmentToken(t, tn.ID, acct.Id), simURL)
	cfg.OptimizeSchedule, cfg.ActionPollInterval = "@every 1s", 20*time.Millisecond
	startAgent(t, cfg)

	var recs []*sirsiv1.Recommendation
	waitFor(t, "resize recommendations", 90*time.Second, func() bool {
		resp, err := tn.Viewer.ListRecommendations(ctx, &sirsiv1.ListRecommendationsRequest{TenantId: tn.ID, PolicyId: pol.GetOptimizationPolicy().GetId(),
			Status: sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED})
		if err != nil {
			t.Fatalf("ListRecommendations: %v", err)
		}
		recs = resp.GetRecommendations()
		return len(recs) >= 2
	})
	// Let the optimize sweep run several more times inside the same
	// window: the cap must hold.
	time.Sleep(5 * time.Second)

	profile := map[string]awssim.FleetResource{}
	for _, r := range man.Resources {
		if r.Kind == "instance" {
			profile[r.ID] = r
		}
	}
	acts, err := tn.Viewer.ListActions(ctx, &sirsiv1.ListActionsRequest{TenantId: tn.ID})
	if err != nil {
		t.Fatalf("ListActions: %v", err)
	}
	if n := len(acts.GetActions()); n != 2 {
		t.Fatalf("%d actions taken, want exactly the tenant-wide cap of 2: %v", n, acts.GetActions())
	}
	byResource := map[string]*sirsiv1.Action{}
	var savings float64
	for _, a := range acts.GetActions() {
		fr, ok := profile[a.GetResourceId()]
		switch {
		case !ok:
			t.Errorf("action on %s, which is not a seeded instance", a.GetResourceId())
		case fr.Profile != awssim.ProfileOverProvisioned && fr.Profile != awssim.ProfileIdle:
			t.Errorf("resized %s whose profile is %s", a.GetResourceId(), fr.Profile)
		case fr.Tags["team"] == excludedTeam:
			t.Errorf("resized %s of the excluded team", a.GetResourceId())
		}
		if a.GetStatus() != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED || a.GetAction() != "resize" {
			t.Errorf("action on %s: %s %s (%s)", a.GetResourceId(), a.GetAction(), a.GetStatus(), a.GetError())
		}
		byResource[a.GetResourceId()] = a
		savings += money.FloatOr(a.GetRealizedMonthlySavings(), math.NaN())
	}

	// AWS's view: resized instances run at the proposed size, and no
	// instance is left stopped.
	awsCfg, err := awsclient.Load(ctx, awsclient.Options{Region: "us-east-1", Endpoint: simURL, Credentials: staticCreds()})
	if err != nil {
		t.Fatal(err)
	}
	for _, region := range fleetRegions {
		c := ec2.NewFromConfig(awsCfg, func(o *ec2.Options) { o.Region = region })
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range out.Reservations {
			for _, in := range res.Instances {
				id := aws.ToString(in.InstanceId)
				if s := string(in.State.Name); s != "running" {
					t.Errorf("instance %s is %s after the run", id, s)
				}
				want := profile[id].Type
				if a, ok := byResource[id]; ok {
					want = a.GetToSize()
				}
				if got := string(in.InstanceType); got != want {
					t.Errorf("instance %s is %s, want %s", id, got, want)
				}
			}
		}
	}

	sum, err := tn.Viewer.GetSavingsSummary(ctx, &sirsiv1.GetSavingsSummaryRequest{TenantId: tn.ID})
	if err != nil {
		t.Fatalf("GetSavingsSummary: %v", err)
	}
	// Both resizes are open in the ledger: the monthly run-rate is their
	// estimated monthly savings (to the rounding of hourly rates).
	if sum.GetActionsSucceeded() != 2 || sum.GetOpenEntries() != 2 || math.Abs(money.FloatOr(sum.GetMonthlyRunRate(), math.NaN())-savings) > 0.005 || savings <= 0 {
		t.Errorf("savings summary %v, want 2 succeeded, 2 open and %.2f a month", sum, savings)
	}
}

// TestApprovePolicyActsOnlyOnApprovedPlan: in approve mode the agent saves
// its dry run as a plan and acts on nothing until the plan is approved;
// then it carries out exactly the plan's actions, and the plan ends
// executed.
func TestApprovePolicyActsOnlyOnApprovedPlan(t *testing.T) {
	simURL, _ := seededSim(t, 40)
	env := cptest.Start(t, cptest.WithAgentService())
	tn := env.NewTenant(t, "approve")
	acct := env.NewCloudAccount(t, tn.ID, awssim.DefaultAccountID)
	ctx := context.Background()
	two := int32(2)
	pol, err := tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{
		TenantId: tn.ID, Name: "approve", Mode: sirsiv1.PolicyMode_POLICY_MODE_APPROVE,
		ResourceTypes: []string{"aws_ec2_instance"},
		Rightsizing:   &sirsiv1.RightsizingSettings{Statistic: sirsiv1.Statistic_STATISTIC_MAX, LookbackDays: 14, HeadroomPercent: 20, MinMonthlySavings: money.USDFromFloat(1)},
		Schedule:      "* * * * *", Timezone: "UTC", MaxActionsPerRun: &two,
		Verify: &sirsiv1.VerifySettings{WaitMinutes: 0},
	}})
	if err != nil {
		t.Fatalf("CreateOptimizationPolicy: %v", err)
	}
	cfg := agentConfig(env, t.TempDir(), env.AgentEndpoint, env.NewEnrollmentToken(t, tn.ID, acct.Id), simURL)
	cfg.OptimizeSchedule, cfg.ActionPollInterval = "@every 1s", 20*time.Millisecond
	startAgent(t, cfg)

	var plan *sirsiv1.ActionPlan
	waitFor(t, "a pending plan", 90*time.Second, func() bool {
		resp, err := tn.Viewer.ListActionPlans(ctx, &sirsiv1.ListActionPlansRequest{TenantId: tn.ID, PolicyId: pol.GetOptimizationPolicy().GetId(),
			Status: sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_PENDING})
		if err != nil {
			t.Fatalf("ListActionPlans: %v", err)
		}
		if len(resp.GetPlans()) == 1 {
			plan = resp.GetPlans()[0]
		}
		return plan != nil
	})
	if n := len(plan.GetActions()); n != 2 {
		t.Fatalf("the plan holds %d actions, want max_actions_per_run = 2", n)
	}
	// Several optimize runs in an open window: nothing may happen yet.
	time.Sleep(3 * time.Second)
	acts, err := tn.Viewer.ListActions(ctx, &sirsiv1.ListActionsRequest{TenantId: tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(acts.GetActions()) != 0 {
		t.Fatalf("%d actions before any approval", len(acts.GetActions()))
	}

	if _, err := tn.Editor.ApproveActionPlan(ctx, &sirsiv1.ApproveActionPlanRequest{TenantId: tn.ID, Id: plan.GetId()}); err != nil {
		t.Fatalf("ApproveActionPlan: %v", err)
	}
	waitFor(t, "the plan executed", 60*time.Second, func() bool {
		resp, err := tn.Viewer.GetActionPlan(ctx, &sirsiv1.GetActionPlanRequest{TenantId: tn.ID, Id: plan.GetId()})
		if err != nil {
			t.Fatalf("GetActionPlan: %v", err)
		}
		return resp.GetPlan().GetStatus() == sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_EXECUTED
	})
	acts, err = tn.Viewer.ListActions(ctx, &sirsiv1.ListActionsRequest{TenantId: tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, a := range plan.GetActions() {
		want[a.GetResourceId()] = a.GetToSize()
	}
	if len(acts.GetActions()) != len(want) {
		t.Fatalf("%d actions taken, want the plan's %d", len(acts.GetActions()), len(want))
	}
	for _, a := range acts.GetActions() {
		if to, ok := want[a.GetResourceId()]; !ok || to != a.GetToSize() || a.GetPlanId() != plan.GetId() ||
			a.GetStatus() != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED {
			t.Errorf("action %s on %s to %s (plan %q, %s); the plan says %q", a.GetAction(), a.GetResourceId(), a.GetToSize(), a.GetPlanId(), a.GetStatus(), to)
		}
	}
}

// TestOffHoursStopsAtFirings: an auto policy's off-hours stop cron stops
// the selected running instances at its firing, never an excluded one.
// The agent's clock runs 30 times faster than the wall so that a firing
// of a per-minute cron comes within seconds.
func TestOffHoursStopsAtFirings(t *testing.T) {
	simURL, man := seededSim(t, 40)
	env := cptest.Start(t, cptest.WithAgentService())
	tn := env.NewTenant(t, "offhours")
	acct := env.NewCloudAccount(t, tn.ID, awssim.DefaultAccountID)
	ctx := context.Background()
	hundred := int32(100)
	const excludedTeam = "payments"
	if _, err := tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{
		TenantId: tn.ID, Name: "nights", Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO,
		ResourceTypes: []string{"aws_ec2_instance"},
		Selector:      &sirsiv1.PolicySelector{ExcludeTags: map[string]string{"team": excludedTeam}},
		Offhours:      &sirsiv1.OffHoursSettings{StopCron: "* * * * *", Timezone: "Europe/Berlin"},
		Schedule:      "0 3 1 1 *", Timezone: "UTC", MaxActionsPerRun: &hundred,
	}}); err != nil {
		t.Fatalf("CreateOptimizationPolicy: %v", err)
	}
	cfg := agentConfig(env, t.TempDir(), env.AgentEndpoint, env.NewEnrollmentToken(t, tn.ID, acct.Id), simURL)
	cfg.OptimizeSchedule, cfg.ActionPollInterval = "@every 1s", 20*time.Millisecond
	base := time.Now()
	cfg.Clock = func() time.Time { return base.Add(30 * time.Since(base)) }
	startAgent(t, cfg)

	var stop, keep []string
	for _, r := range man.Resources {
		if r.Kind != "instance" {
			continue
		}
		if r.Tags["team"] == excludedTeam {
			keep = append(keep, r.ID)
		} else {
			stop = append(stop, r.ID)
		}
	}
	if len(stop) == 0 || len(keep) == 0 {
		t.Fatalf("the seeded fleet has %d instances to stop and %d excluded: pick another seed", len(stop), len(keep))
	}
	awsCfg, err := awsclient.Load(ctx, awsclient.Options{Region: "us-east-1", Endpoint: simURL, Credentials: staticCreds()})
	if err != nil {
		t.Fatal(err)
	}
	states := func() map[string]string {
		out := map[string]string{}
		for _, region := range fleetRegions {
			resp, err := ec2.NewFromConfig(awsCfg, func(o *ec2.Options) { o.Region = region }).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
			if err != nil {
				t.Fatal(err)
			}
			for _, res := range resp.Reservations {
				for _, in := range res.Instances {
					out[aws.ToString(in.InstanceId)] = string(in.State.Name)
				}
			}
		}
		return out
	}
	waitFor(t, "the off-hours stop", 60*time.Second, func() bool {
		st := states()
		for _, id := range stop {
			if st[id] != "stopped" {
				return false
			}
		}
		return true
	})
	st := states()
	for _, id := range keep {
		if st[id] != "running" {
			t.Errorf("excluded instance %s is %s", id, st[id])
		}
	}
	acts, err := tn.Viewer.ListActions(ctx, &sirsiv1.ListActionsRequest{TenantId: tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stop actions reported", 30*time.Second, func() bool {
		acts, err = tn.Viewer.ListActions(ctx, &sirsiv1.ListActionsRequest{TenantId: tn.ID})
		if err != nil {
			t.Fatal(err)
		}
		return len(acts.GetActions()) >= len(stop)
	})
	for _, a := range acts.GetActions() {
		if a.GetAction() != "stop" || a.GetStatus() != sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED || money.FloatOr(a.GetRealizedMonthlySavings(), math.NaN()) <= 0 {
			t.Errorf("action %s on %s: %s, saving %s (%s)", a.GetAction(), a.GetResourceId(), a.GetStatus(), money.Format(a.GetRealizedMonthlySavings()), a.GetError())
		}
	}
	if len(acts.GetActions()) != len(stop) {
		t.Errorf("%d actions, want one stop per selected instance (%d)", len(acts.GetActions()), len(stop))
	}
}
