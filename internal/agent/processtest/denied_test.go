package processtest

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
)

// TestAgentWhoseRoleMayNotStopInstances runs `agentd server` and
// `agentd agent` for a cloud account whose role lacks ec2:StopInstances:
// the simulator refuses that action to the role's sessions as IAM would
// (UnauthorizedOperation, HTTP 403) and allows everything else. An auto
// policy resizes instances, and a resize stops the instance first. Each
// action must end at that step with AWS's code, rolled back (nothing to
// undo) or failed; every instance must stay running at its type, changed
// only by the sirsi: tags that record the failed action; the cloud
// account must show actions_denied naming
// the refused action and the code, and the agent must keep running and
// sweeping: after the account changes, the control plane lists exactly it
// again, field by field.
func TestAgentWhoseRoleMayNotStopInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("starts agentd server and agentd agent")
	}
	w, _ := newServerWorld(t, awssim.FleetSpec{N: 120, Seed: 41, Mix: awssim.FleetMix{Instances: 60, Volumes: 40}}, "sqlite")
	if err := w.sim.DenyRoleActions("arn:aws:iam::"+awssim.DefaultAccountID+":role/sirsi-agent", "ec2:StopInstances"); err != nil {
		t.Fatal(err)
	}
	before := w.truth(t)
	rightsizeInAuto(t, w)
	ctx := context.Background()
	args := w.agentArgs(t.TempDir(), w.enrollmentToken(t))
	args[slices.Index(args, "-schedule-discovery")+1] = "@every 2s"
	a := start(t, append(args, "-schedule-optimize", "@every 2s")...)

	var acts []*sirsiv1.Action
	waitUntil(t, "every action refused and reported", 3*convergeBound, a, func() bool {
		resp, err := w.viewer.ListActions(ctx, &sirsiv1.ListActionsRequest{TenantId: w.tenantID, PageSize: 100})
		if err != nil {
			t.Fatalf("ListActions: %v", err)
		}
		acts = resp.GetActions()
		done := 0
		for _, act := range acts {
			if act.GetStatus() != sirsiv1.ActionStatus_ACTION_STATUS_RUNNING && act.GetStatus() != sirsiv1.ActionStatus_ACTION_STATUS_PLANNED {
				done++
			}
		}
		return done == actionCap
	})
	for _, act := range acts {
		if st := act.GetStatus(); (st != sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK && st != sirsiv1.ActionStatus_ACTION_STATUS_FAILED) ||
			act.GetErrorCode() != "UnauthorizedOperation" {
			t.Errorf("action %s on %s: %v, code %q (%s); want rolled back or failed with UnauthorizedOperation", act.GetId(), act.GetResourceId(), st, act.GetErrorCode(), act.GetError())
		}
		i := slices.IndexFunc(act.GetSteps(), func(s *sirsiv1.ActionStep) bool { return s.GetName() == "stop" })
		if i < 0 || act.GetSteps()[i].GetStatus() != "failed" || !strings.Contains(act.GetSteps()[i].GetDetail(), "UnauthorizedOperation") {
			t.Errorf("action %s: steps %v; want the stop failed with AWS's code", act.GetId(), act.GetSteps())
		}
	}

	// AWS's side: nothing was stopped or resized; the only change is the
	// tags saying what failed.
	after := w.truth(t)
	for k, f := range before {
		g, ok := after[k]
		if ok {
			maps.DeleteFunc(g.tags, func(key, _ string) bool { return strings.HasPrefix(key, "sirsi:") })
		}
		if !ok || !g.equal(f) {
			t.Errorf("%s was %v and is now %v: a refused action changed it", k, f, g)
		}
	}

	accts, err := w.viewer.ListCloudAccounts(ctx, &sirsiv1.ListCloudAccountsRequest{TenantId: w.tenantID})
	if err != nil || len(accts.GetCloudAccounts()) != 1 {
		t.Fatalf("ListCloudAccounts: %v %v", accts, err)
	}
	acct := accts.GetCloudAccounts()[0]
	if acct.GetStatus() != sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_ACTIONS_DENIED ||
		!strings.Contains(acct.GetStatusDetail(), "resize") || !strings.Contains(acct.GetStatusDetail(), "UnauthorizedOperation") {
		t.Errorf("cloud account: %v %q; want actions_denied naming the refused resize and AWS's code", acct.GetStatus(), acct.GetStatusDetail())
	}

	// The agent goes on: its next discovery sweeps bring the control plane
	// to the changed account.
	w.change(t, 0)
	w.converge(t, a, "after AWS refused the agent's actions")
	if again, err := w.viewer.GetCloudAccount(ctx, &sirsiv1.GetCloudAccountRequest{TenantId: w.tenantID, Id: acct.GetId()}); err != nil ||
		again.GetCloudAccount().GetStatus() != sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_ACTIONS_DENIED {
		t.Errorf("after more heartbeats the cloud account is %v (%v); want still actions_denied", again.GetCloudAccount().GetStatus(), err)
	}
}
