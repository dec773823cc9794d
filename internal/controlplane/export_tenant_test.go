package controlplane_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
)

// exportAll reads a whole export: the records by table.
func exportAll(ctx context.Context, c sirsiv1.ManagementServiceClient, tenantID string) (map[string][]map[string]any, error) {
	stream, err := c.ExportTenant(ctx, &sirsiv1.ExportTenantRequest{TenantId: tenantID})
	if err != nil {
		return nil, err
	}
	out := map[string][]map[string]any{}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(msg.Record), &rec); err != nil {
			return nil, err
		}
		out[msg.Table] = append(out[msg.Table], rec)
	}
}

// TestExportTenantAuthorisedAndAudited: the operator exports any tenant, a
// tenant admin its own; editors, viewers and other tenants' admins are
// refused; each export and each refusal is in the audit log.
func TestExportTenantAuthorisedAndAudited(t *testing.T) {
	e := cptest.Start(t)
	ctx := context.Background()
	a, b := e.NewTenant(t, "alpha"), e.NewTenant(t, "beta")
	acct := e.NewCloudAccount(t, a.ID, "123456789012")

	for name, c := range map[string]sirsiv1.ManagementServiceClient{"operator": e.Client, "admin": a.Admin} {
		got, err := exportAll(ctx, c, a.ID)
		if err != nil {
			t.Fatalf("%s export: %v", name, err)
		}
		if len(got["tenants"]) != 1 || got["tenants"][0]["name"] != "alpha" || len(got["cloud_accounts"]) != 1 || got["cloud_accounts"][0]["id"] != acct.Id {
			t.Fatalf("%s export: %v", name, got)
		}
		if n := len(got["api_tokens"]); n != 3 {
			t.Errorf("%s export: %d API tokens, want alpha's 3", name, n)
		}
	}
	for name, c := range map[string]sirsiv1.ManagementServiceClient{"editor": a.Editor, "viewer": a.Viewer, "other admin": b.Admin} {
		_, err := exportAll(ctx, c, a.ID)
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s export: %v, want PermissionDenied", name, err)
		}
	}
	_, err := exportAll(ctx, e.Client, "")
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("operator export without tenant: %v, want InvalidArgument", err)
	}
	_, err = exportAll(ctx, e.Client, "0190c0de-0000-7000-8000-000000000000")
	if status.Code(err) != codes.NotFound {
		t.Errorf("export of a missing tenant: %v, want NotFound", err)
	}

	ev, err := e.Client.ListAuditEvents(ctx, &sirsiv1.ListAuditEventsRequest{TenantId: a.ID, Action: sirsiv1.ManagementService_ExportTenant_FullMethodName})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for _, x := range ev.Events {
		outcomes[x.Outcome]++
	}
	// Two exports; the editor's and viewer's refusals land in alpha's log.
	if outcomes["ok"] != 2 || outcomes["PermissionDenied"] != 2 {
		t.Errorf("audited export outcomes %v, want 2 ok and 2 PermissionDenied", outcomes)
	}
}
