package controlplane_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
)

func listAudit(t *testing.T, c sirsiv1.ManagementServiceClient, tenantID string) []*sirsiv1.AuditEvent {
	t.Helper()
	var out []*sirsiv1.AuditEvent
	tok := ""
	for {
		r, err := c.ListAuditEvents(context.Background(), &sirsiv1.ListAuditEventsRequest{TenantId: tenantID, PageSize: 1000, PageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Events...)
		if tok = r.NextPageToken; tok == "" {
			return out
		}
	}
}

func findEvent(events []*sirsiv1.AuditEvent, action, outcome string) *sirsiv1.AuditEvent {
	for _, e := range events {
		if e.Action == action && e.Outcome == outcome {
			return e
		}
	}
	return nil
}

func TestAuditTrail(t *testing.T) {
	env := cptest.Start(t)
	tn := env.NewTenant(t, "audited")
	ctx := context.Background()
	secrets := []string{env.OperatorToken, tn.AdminToken, tn.EditorToken, tn.ViewerToken, "ext-secret-1"}

	// A successful mutation, with a caller-chosen request id echoed back.
	var hdr metadata.MD
	rctx := metadata.AppendToOutgoingContext(ctx, "x-request-id", "req-test-1")
	acct, err := tn.Editor.CreateCloudAccount(rctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: newAccount("")}, grpc.Header(&hdr))
	if err != nil {
		t.Fatal(err)
	}
	if got := hdr.Get("x-request-id"); len(got) != 1 || got[0] != "req-test-1" {
		t.Fatalf("x-request-id header = %v", got)
	}
	// A failed mutation.
	_, err = tn.Editor.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: newAccount("")})
	wantCode(t, err, codes.AlreadyExists)
	// Secrets made through the API.
	et, err := tn.Editor.CreateEnrollmentToken(ctx, &sirsiv1.CreateEnrollmentTokenRequest{CloudAccountId: acct.CloudAccount.Id})
	if err != nil {
		t.Fatal(err)
	}
	at, err := tn.Admin.CreateApiToken(ctx, &sirsiv1.CreateApiTokenRequest{Role: sirsiv1.Role_ROLE_EDITOR, Description: "deploy", Ttl: durationpb.New(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, et.EnrollmentToken.Token, at.ApiToken.Token)
	// A read is not audited; a forbidden call is.
	if _, err := tn.Viewer.ListCloudAccounts(ctx, &sirsiv1.ListCloudAccountsRequest{}); err != nil {
		t.Fatal(err)
	}
	_, err = tn.Viewer.DeleteCloudAccount(ctx, &sirsiv1.DeleteCloudAccountRequest{Id: acct.CloudAccount.Id})
	wantCode(t, err, codes.PermissionDenied)
	// Authentication failures: no token, a made-up token, an expired one.
	_, err = env.Dial(t, "").ListTenants(ctx, &sirsiv1.ListTenantsRequest{})
	wantCode(t, err, codes.Unauthenticated)
	_, err = env.Dial(t, "sxt_guess").GetIdentity(ctx, &sirsiv1.GetIdentityRequest{})
	wantCode(t, err, codes.Unauthenticated)
	env.Clock.Advance(2 * time.Hour)
	_, err = env.Dial(t, at.ApiToken.Token).GetIdentity(ctx, &sirsiv1.GetIdentityRequest{})
	wantCode(t, err, codes.Unauthenticated)

	events := listAudit(t, tn.Viewer, "")
	create := "/sirsi.v1.ManagementService/CreateCloudAccount"
	ok := findEvent(events, create, "ok")
	if ok == nil {
		t.Fatalf("no ok event for %s in %v", create, events)
	}
	editorID := strings.TrimPrefix(mustIdentity(t, tn.Editor).Actor, "token:")
	if ok.Actor != "token:"+editorID || ok.TenantId != tn.ID || ok.RequestId != "req-test-1" ||
		ok.Target != "cloud_account/"+acct.CloudAccount.Id || !strings.HasPrefix(ok.SourceAddress, "127.0.0.1:") || ok.Time == nil {
		t.Errorf("create event = %v", ok)
	}
	if e := findEvent(events, create, "AlreadyExists"); e == nil || e.Detail == "" {
		t.Errorf("no AlreadyExists event with a detail: %v", e)
	}
	if e := findEvent(events, "/sirsi.v1.ManagementService/DeleteCloudAccount", "PermissionDenied"); e == nil || !strings.HasPrefix(e.Actor, "token:") {
		t.Errorf("no PermissionDenied event: %v", e)
	}
	if e := findEvent(events, "/sirsi.v1.ManagementService/GetIdentity", "Unauthenticated"); e == nil || e.Actor != "token:"+at.ApiToken.Id {
		t.Errorf("expired token failure not in the tenant's log: %v", e)
	}
	if e := findEvent(events, "/sirsi.v1.ManagementService/ListCloudAccounts", "ok"); e != nil {
		t.Errorf("a successful read was audited: %v", e)
	}
	for _, action := range []string{"CreateEnrollmentToken", "CreateApiToken"} {
		if findEvent(events, "/sirsi.v1.ManagementService/"+action, "ok") == nil {
			t.Errorf("%s not audited", action)
		}
	}

	opEvents := listAudit(t, env.Client, "")
	if e := findEvent(opEvents, "/sirsi.v1.ManagementService/ListTenants", "Unauthenticated"); e == nil || e.Actor != "anonymous" || e.TenantId != "" {
		t.Errorf("missing-token failure = %v", e)
	}
	if findEvent(opEvents, "/sirsi.v1.ManagementService/CreateTenant", "ok") == nil {
		t.Error("tenant creation not in the operator log")
	}
	// A tenant token cannot read the operator log: its empty tenant_id
	// means its own tenant.
	for _, e := range events {
		if e.TenantId != tn.ID {
			t.Errorf("tenant listing returned event of tenant %q", e.TenantId)
		}
	}

	all := slices.Concat(events, opEvents)
	for _, e := range all {
		text := prototext.Format(e)
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("audit event contains a secret: %s", text)
			}
		}
	}
	if br, err := env.Store.VerifyAudit(ctx); err != nil || br != nil {
		t.Errorf("audit chain: %v, %v", br, err)
	}
	// Filters reach the store.
	r, err := tn.Viewer.ListAuditEvents(ctx, &sirsiv1.ListAuditEventsRequest{Outcome: "PermissionDenied"})
	if err != nil || len(r.Events) == 0 {
		t.Fatalf("filtered list = %v, %v", r, err)
	}
	for _, e := range r.Events {
		if e.Outcome != "PermissionDenied" {
			t.Errorf("filter let through %v", e)
		}
	}
}

func mustIdentity(t *testing.T, c sirsiv1.ManagementServiceClient) *sirsiv1.GetIdentityResponse {
	t.Helper()
	id, err := c.GetIdentity(context.Background(), &sirsiv1.GetIdentityRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return id
}
