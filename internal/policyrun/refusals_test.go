package policyrun

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/actuator"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

// TestMarkSkips: in auto and approve mode the policy's own reasons are set
// (right-sizing Terraform carries out, an irreversible action in auto), a
// reason the optimizer set stays, and recommend mode marks nothing.
func TestMarkSkips(t *testing.T) {
	w := newWorld(t, time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	r := w.runner(t)
	recs := func() []*sirsiv1.Recommendation {
		return []*sirsiv1.Recommendation{
			{ResourceId: "i-1", ResourceType: actuator.ResourceEC2Instance, Action: actuator.ActionResize, CurrentSize: "m5.xlarge", ProposedSize: "m5.large"},
			{ResourceId: "eipalloc-1", ResourceType: actuator.ResourceEIP, Action: actuator.ActionRelease},
			{ResourceId: "i-2", ResourceType: actuator.ResourceEC2Instance, Action: actuator.ActionResize, CurrentSize: "m5.xlarge", ProposedSize: "m5.large",
				SkipReason: sirsiv1.SkipReason_SKIP_REASON_AUTO_SCALING_GROUP, SkipDetail: "a member of Auto Scaling group web"},
		}
	}
	none := sirsiv1.SkipReason_SKIP_REASON_UNSPECIFIED
	asg := sirsiv1.SkipReason_SKIP_REASON_AUTO_SCALING_GROUP
	cases := []struct {
		name string
		p    *sirsiv1.OptimizationPolicy
		want []sirsiv1.SkipReason
	}{
		{"recommend", &sirsiv1.OptimizationPolicy{Id: "p", Mode: sirsiv1.PolicyMode_POLICY_MODE_RECOMMEND, Execution: sirsiv1.Execution_EXECUTION_TERRAFORM},
			[]sirsiv1.SkipReason{none, none, asg}},
		{"auto", &sirsiv1.OptimizationPolicy{Id: "p", Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO},
			[]sirsiv1.SkipReason{none, sirsiv1.SkipReason_SKIP_REASON_IRREVERSIBLE, asg}},
		{"approve", &sirsiv1.OptimizationPolicy{Id: "p", Mode: sirsiv1.PolicyMode_POLICY_MODE_APPROVE},
			[]sirsiv1.SkipReason{none, none, asg}},
		{"auto, terraform executes", &sirsiv1.OptimizationPolicy{Id: "p", Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO, Execution: sirsiv1.Execution_EXECUTION_TERRAFORM},
			[]sirsiv1.SkipReason{sirsiv1.SkipReason_SKIP_REASON_TERRAFORM_EXECUTES, sirsiv1.SkipReason_SKIP_REASON_IRREVERSIBLE, asg}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := recs()
			r.MarkSkips(c.p, got)
			for i, rec := range got {
				if rec.GetSkipReason() != c.want[i] || (rec.GetSkipDetail() == "") != (c.want[i] == none) {
					t.Errorf("%s: skip %v %q, want %v with a detail", rec.GetResourceId(), rec.GetSkipReason(), rec.GetSkipDetail(), c.want[i])
				}
			}
		})
	}
}

// TestRefusedAttemptIsReportedNextTime runs the real actuator against the
// simulator: a person tags an instance with the policy's exclude tag after
// discovery, so the live check refuses the resize and nothing changes; the
// next report of that recommendation carries SKIP_REASON_CHECK_REFUSED
// naming the tag (a different proposal or resource does not). The agent
// tries again; the tag gone, the resize succeeds and the mark is cleared.
func TestRefusedAttemptIsReportedNextTime(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, time.Date(2026, 6, 1, 9, 0, 30, 0, time.UTC))
	acct := newSimAccount(t, w.dir)
	id := launchRunning(t, acct.ec2)
	zero := int32(0)
	p := &sirsiv1.OptimizationPolicy{Id: "p1", Name: "rightsize", Version: 1, Mode: sirsiv1.PolicyMode_POLICY_MODE_AUTO, Schedule: "* * * * *",
		ResourceTypes: []string{actuator.ResourceEC2Instance}, CooldownHours: &zero, Verify: &sirsiv1.VerifySettings{},
		Selector: &sirsiv1.PolicySelector{ExcludeTags: map[string]string{"team": "payments"}}}
	r, run := acct.runner(t, w, p)
	rec := func(recID, proposed string) *sirsiv1.Recommendation {
		return &sirsiv1.Recommendation{Id: recID, PolicyId: "p1", ResourceId: id, ResourceType: actuator.ResourceEC2Instance, Region: killRegion,
			Action: actuator.ActionResize, CurrentSize: killBig, ProposedSize: proposed, EstimatedMonthlySavings: money.USDFromFloat(100)}
	}
	tag := func(create bool) {
		t.Helper()
		tags := []ec2types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}}
		var err error
		if create {
			_, err = acct.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: tags})
		} else {
			_, err = acct.ec2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: tags})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	typeNow := func() string {
		t.Helper()
		out, err := acct.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		return string(out.Reservations[0].Instances[0].InstanceType)
	}
	decide := func(recID string) {
		r.Decided(ctx, []*sirsiv1.OptimizationPolicy{p}, map[string][]*sirsiv1.Recommendation{"p1": {rec(recID, killSmall)}})
	}

	acct.discover(t)
	tag(true) // after discovery: only the live check sees it
	decide("rec-1")
	run(w.now)
	if got := typeNow(); got != killBig {
		t.Fatalf("the refused resize left %s at %s, want %s", id, got, killBig)
	}
	if n := len(w.rep.actions); n != 1 || !actuator.Refused(w.rep.actions[0]) {
		t.Fatalf("reported %d actions (%v), want the one refused", n, w.rep.actions)
	}
	next := []*sirsiv1.Recommendation{rec("", killSmall), rec("", "m5.xlarge")}
	next[1].ResourceId = "i-other"
	again := rec("", "c5.large")
	r.MarkSkips(p, append(next, again))
	if next[0].GetSkipReason() != sirsiv1.SkipReason_SKIP_REASON_CHECK_REFUSED || !strings.Contains(next[0].GetSkipDetail(), "exclude tag team=payments") ||
		!strings.Contains(next[0].GetSkipDetail(), "2026-06-01T09:00:30Z") {
		t.Fatalf("the next report of the refused resize: skip %v %q, want check_refused naming the tag and the time", next[0].GetSkipReason(), next[0].GetSkipDetail())
	}
	if next[1].GetSkipReason() != 0 || again.GetSkipReason() != 0 {
		t.Fatalf("another resource (%v) or another proposal (%v) marked refused", next[1].GetSkipReason(), again.GetSkipReason())
	}

	// The tag removed, the next attempt (the control plane's new id for
	// the recommendation after the refused one) is carried out.
	tag(false)
	w.now = w.now.Add(time.Hour)
	decide("rec-2")
	run(w.now)
	if got := typeNow(); got != killSmall {
		t.Fatalf("after the retry %s is %s, want %s", id, got, killSmall)
	}
	cleared := []*sirsiv1.Recommendation{rec("", killSmall)}
	r.MarkSkips(p, cleared)
	if cleared[0].GetSkipReason() != 0 || cleared[0].GetSkipDetail() != "" {
		t.Fatalf("after a carried-out attempt the mark stays: %v %q", cleared[0].GetSkipReason(), cleared[0].GetSkipDetail())
	}
}
