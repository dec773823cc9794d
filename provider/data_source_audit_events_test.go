package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

func TestAuditEventsDataSourceSchema(t *testing.T) {
	checkDataSourceDocs(t, NewAuditEventsDataSource())
}

func TestAuditEventFromProto(t *testing.T) {
	at := time.Date(2026, 12, 6, 5, 4, 3, 210, time.UTC)
	e := auditEventFromProto(&sirsiv1.AuditEvent{
		Sequence: 42, Id: "ev-1", Time: timestamppb.New(at), RequestId: "req-1", Actor: "token:t1", SourceAddress: "127.0.0.1:5000",
		Action: "/sirsi.v1.ManagementService/DeleteCloudAccount", Target: "cloud_account/ca-1", Outcome: "PermissionDenied", Detail: "editor required",
	})
	if e.Sequence.ValueInt64() != 42 || e.ID.ValueString() != "ev-1" || e.Time.ValueString() != "2026-12-06T05:04:03.00000021Z" ||
		e.RequestID.ValueString() != "req-1" || e.Actor.ValueString() != "token:t1" || e.SourceAddress.ValueString() != "127.0.0.1:5000" ||
		e.Method.ValueString() != "/sirsi.v1.ManagementService/DeleteCloudAccount" || e.Target.ValueString() != "cloud_account/ca-1" ||
		e.Outcome.ValueString() != "PermissionDenied" || e.Detail.ValueString() != "editor required" {
		t.Errorf("auditEventFromProto = %+v", e)
	}
	if bare := auditEventFromProto(&sirsiv1.AuditEvent{Id: "ev-2"}); !bare.Time.IsNull() || !bare.Target.IsNull() || !bare.Detail.IsNull() || !bare.RequestID.IsNull() {
		t.Errorf("empty fields should be null: %+v", bare)
	}
}

// TestAccAuditEventsDataSource_mutation creates a cloud account through
// Terraform and reads the audit entry of that creation through the data
// source, compared field by field with the entry the API itself returns;
// then a time window and a limit; bad times fail at plan.
func TestAccAuditEventsDataSource_mutation(t *testing.T) {
	env := testAccStart(t)
	const account = "314159265358"
	start := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	account1 := fmt.Sprintf(`
resource "sirsi_cloud_account" "a" {
  account_id  = %q
  regions     = ["us-east-1"]
  role_arn    = "arn:aws:iam::%s:role/sirsi-agent"
  external_id = "ext-%s"
}
`, account, account, account)
	read := account1 + fmt.Sprintf(`
data "sirsi_audit_events" "created" {
  method = "/sirsi.v1.ManagementService/CreateCloudAccount"
  target = "cloud_account/${sirsi_cloud_account.a.id}"
  from   = %q
}

data "sirsi_audit_events" "none_before" {
  method     = "/sirsi.v1.ManagementService/CreateCloudAccount"
  to         = %q
  depends_on = [sirsi_cloud_account.a]
}

data "sirsi_audit_events" "first" {
  limit      = 1
  depends_on = [sirsi_cloud_account.a]
}
`, start, start)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkDestroyed("sirsi_cloud_account", env.getCloudAccount),
		Steps: []tfresource.TestStep{
			{
				Config:      env.tenantProvider() + "data \"sirsi_audit_events\" \"bad\" {\n  from = \"yesterday\"\n}\n",
				ExpectError: regexp.MustCompile(`(?s)Invalid RFC 3339 time.*from.*"yesterday" is not an RFC 3339 time`),
			},
			{
				Config:      env.tenantProvider() + "data \"sirsi_audit_events\" \"bad\" {\n  from = \"2026-12-02T00:00:00Z\"\n  to = \"2026-12-01T00:00:00Z\"\n}\n",
				ExpectError: regexp.MustCompile(`(?s)Invalid time window.*to \(2026-12-01T00:00:00Z\) must be after from`),
			},
			{
				Config:      env.tenantProvider() + "data \"sirsi_audit_events\" \"bad\" {\n  limit = 0\n}\n",
				ExpectError: regexp.MustCompile(`(?s)limit.*between 1 and 100000`),
			},
			{
				Config: env.tenantProvider() + read,
				Check: tfresource.ComposeAggregateTestCheckFunc(
					tfresource.TestCheckResourceAttr("data.sirsi_audit_events.created", "events.#", "1"),
					tfresource.TestCheckResourceAttr("data.sirsi_audit_events.created", "tenant_id", env.tenantID),
					tfresource.TestCheckResourceAttr("data.sirsi_audit_events.none_before", "events.#", "0"),
					tfresource.TestCheckResourceAttr("data.sirsi_audit_events.first", "events.#", "1"),
					env.checkAuditEventMatchesAPI("data.sirsi_audit_events.created", "sirsi_cloud_account.a"),
				),
			},
		},
	})
}

// checkAuditEventMatchesAPI compares the data source's only event, field
// by field, with the creation's entry as the API lists it, and checks
// what that entry must say: the tenant admin's token created this cloud
// account, successfully, from loopback.
func (e *accEnv) checkAuditEventMatchesAPI(dataAddr, resourceAddr string) tfresource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[resourceAddr]
		if !ok {
			return fmt.Errorf("%s not in state", resourceAddr)
		}
		ds, ok := s.RootModule().Resources[dataAddr]
		if !ok {
			return fmt.Errorf("%s not in state", dataAddr)
		}
		target := "cloud_account/" + rs.Primary.ID
		out, err := e.admin.ListAuditEvents(context.Background(), &sirsiv1.ListAuditEventsRequest{TenantId: e.tenantID, Target: target})
		if err != nil {
			return err
		}
		var api *sirsiv1.AuditEvent
		for _, ev := range out.GetEvents() {
			if ev.GetAction() == "/sirsi.v1.ManagementService/CreateCloudAccount" {
				api = ev
			}
		}
		if api == nil {
			return fmt.Errorf("the API lists no creation entry for %s", target)
		}
		if api.GetOutcome() != "ok" || !strings.HasPrefix(api.GetActor(), "token:") || !strings.HasPrefix(api.GetSourceAddress(), "127.0.0.1:") || api.GetRequestId() == "" {
			return fmt.Errorf("the creation entry is not the admin token's successful loopback call: %v", api)
		}
		want := map[string]string{
			"events.0.sequence":       fmt.Sprint(api.GetSequence()),
			"events.0.id":             api.GetId(),
			"events.0.time":           api.GetTime().AsTime().UTC().Format(time.RFC3339Nano),
			"events.0.request_id":     api.GetRequestId(),
			"events.0.actor":          api.GetActor(),
			"events.0.source_address": api.GetSourceAddress(),
			"events.0.method":         "/sirsi.v1.ManagementService/CreateCloudAccount",
			"events.0.target":         target,
			"events.0.outcome":        "ok",
		}
		for k, v := range want {
			if got := ds.Primary.Attributes[k]; got != v {
				return fmt.Errorf("%s.%s = %q, want %q", dataAddr, k, got, v)
			}
		}
		if _, ok := ds.Primary.Attributes["events.0.detail"]; ok {
			return fmt.Errorf("%s: a successful creation has detail %q, want null", dataAddr, ds.Primary.Attributes["events.0.detail"])
		}
		return nil
	}
}
