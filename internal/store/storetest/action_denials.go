package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// testActionDenials: actions AWS refuses with an authorization code turn
// the cloud account actions_denied from the second in a row, with the
// action, resource and code as its detail; a heartbeat of a connected
// agent keeps it, a credentials verdict replaces it; other failures and
// dry runs change nothing; an action that succeeds (or is rolled back
// after a failure of another kind) clears it, and the count starts again.
// A rolled-back action AWS refused counts as a refusal (a resize whose
// stop AWS refused leaves the instance as it was). ListActions gives each
// action's code back.
func testActionDenials(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	a := newAccount(t, ts, "123456789012")
	other := newAccount(t, ts, "210987654321")
	ag := must(ts.CreateAgent(c, &sirsiv1.Agent{CloudAccountId: a.Id}))
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	heartbeat := func(v sirsiv1.CredentialsVerdict) {
		t.Helper()
		must(ts.RecordHeartbeat(c, ag.Id, store.Heartbeat{At: at, Version: "0.2.0", Hostname: "h", CredentialsVerdict: v}))
	}
	heartbeat(sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_OK)
	n := 0
	apply := func(account string, st sirsiv1.ActionStatus, code string, dry bool) {
		t.Helper()
		n++
		must(ts.ApplyActions(c, account, fmt.Sprintf("deny-%d", n), []*sirsiv1.Action{{Id: fmt.Sprintf("deny-act-%d", n), ResourceId: "i-1",
			ResourceType: "aws_ec2_instance", Action: "stop", Status: st, ErrorCode: code, DryRun: dry}}))
	}
	want := func(what string, status sirsiv1.CloudAccountStatus, detail string) {
		t.Helper()
		got := must(ts.GetCloudAccount(c, a.Id))
		if got.Status != status || !strings.Contains(got.StatusDetail, detail) || (detail == "" && got.StatusDetail != "") {
			t.Fatalf("%s: account %v %q, want %v with %q", what, got.Status, got.StatusDetail, status, detail)
		}
	}
	failed, succeeded := sirsiv1.ActionStatus_ACTION_STATUS_FAILED, sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED
	connected, denied := sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CONNECTED, sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_ACTIONS_DENIED

	apply(a.Id, failed, "UnauthorizedOperation", false)
	want("one refusal", connected, "")
	apply(a.Id, failed, "UnauthorizedOperation", true)
	apply(other.Id, failed, "UnauthorizedOperation", false)
	apply(a.Id, failed, "InvalidInstanceID.NotFound", false)
	want("a dry run, another account's refusal and a failure of another kind", connected, "")
	apply(a.Id, failed, "AccessDenied", false)
	want("two refusals in a row", denied, "AWS refused stop of aws_ec2_instance i-1: AccessDenied")
	heartbeat(sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_OK)
	heartbeat(sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_UNSPECIFIED)
	want("heartbeats of a connected agent", denied, "AccessDenied")
	apply(a.Id, failed, "InvalidInstanceID.NotFound", false)
	want("a failure of another kind", denied, "AccessDenied")
	apply(a.Id, succeeded, "", false)
	want("an action AWS allowed", connected, "")
	apply(a.Id, failed, "AccessDenied", false)
	want("one refusal after the reset", connected, "")
	apply(a.Id, sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK, "UnauthorizedOperation", false)
	want("refused again, the change rolled back", denied, "AWS refused stop of aws_ec2_instance i-1: UnauthorizedOperation")
	acts, _, err := ts.ListActions(c, store.ActionFilter{Status: sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK}, store.Page{Size: 10})
	ok(t, err)
	if len(acts) != 1 || acts[0].ErrorCode != "UnauthorizedOperation" {
		t.Fatalf("rolled-back actions read back: %v, want the one with error_code UnauthorizedOperation", acts)
	}
	apply(a.Id, sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK, "IncorrectInstanceState", false)
	want("a rollback after a failure of another kind", connected, "")
	apply(a.Id, failed, "AccessDenied", false)
	apply(a.Id, failed, "AccessDenied", false)
	want("refused twice more", denied, "AccessDenied")
	heartbeat(sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_MISMATCH)
	want("a credentials mismatch", sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CREDENTIALS_MISMATCH, "")
	apply(a.Id, sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK, "", false)
	want("a rollback does not clear a credentials status", sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CREDENTIALS_MISMATCH, "")
	if o := must(ts.GetCloudAccount(c, other.Id)); o.Status == denied {
		t.Fatalf("one refusal on the other account made it %v", o.Status)
	}
}
