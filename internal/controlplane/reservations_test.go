package controlplane_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
)

func TestReserveActionsTenantWideCap(t *testing.T) {
	e := startAgentEnv(t)
	ctx := context.Background()
	ag1 := e.EnrollAgent(t, e.tn.ID, e.acct.Id)
	other := e.NewCloudAccount(t, e.tn.ID, "333333333333")
	ag2 := e.EnrollAgent(t, e.tn.ID, other.Id)
	pol, err := e.tn.Editor.CreateOptimizationPolicy(ctx, &sirsiv1.CreateOptimizationPolicyRequest{OptimizationPolicy: &sirsiv1.OptimizationPolicy{TenantId: e.tn.ID, Name: "cap"}})
	if err != nil {
		t.Fatal(err)
	}
	policyID := pol.OptimizationPolicy.Id
	t0 := e.Clock.Now().Truncate(time.Second)
	e.Clock.Set(t0)

	reserve := func(c sirsiv1.AgentServiceClient, id string, count int32) *sirsiv1.ReserveActionsResponse {
		t.Helper()
		r, err := c.ReserveActions(ctx, &sirsiv1.ReserveActionsRequest{ReservationId: id, PolicyId: policyID, Count: count})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// The default cap, shared by both agents of the tenant.
	if r := reserve(ag1.Client, "a", 15); r.Granted != 15 || r.RetryTime != nil {
		t.Fatalf("first reservation = %v", r)
	}
	e.Clock.Advance(10 * time.Minute)
	r := reserve(ag2.Client, "b", 10)
	if r.Granted != controlplane.DefaultMaxActionsPerHour-15 || !r.RetryTime.AsTime().Equal(t0.Add(time.Hour)) {
		t.Fatalf("second agent's reservation = %v, want %d granted and retry at %v", r, controlplane.DefaultMaxActionsPerHour-15, t0.Add(time.Hour))
	}
	if again := reserve(ag2.Client, "b", 10); !proto.Equal(again, r) {
		t.Fatalf("same reservation again = %v, want %v", again, r)
	}
	if r := reserve(ag1.Client, "c", 1); r.Granted != 0 {
		t.Fatalf("reservation over the cap = %v", r)
	}
	// The tenant raises its cap.
	tn, err := e.Client.GetTenant(ctx, &sirsiv1.GetTenantRequest{Id: e.tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	up := tn.Tenant
	up.MaxActionsPerHour, up.Version = proto.Int32(22), 0
	if _, err := e.Client.UpdateTenant(ctx, &sirsiv1.UpdateTenantRequest{Tenant: up}); err != nil {
		t.Fatal(err)
	}
	if r := reserve(ag1.Client, "d", 5); r.Granted != 2 {
		t.Fatalf("reservation under the raised cap = %v, want 2", r)
	}
	// An hour after the first reservation its 15 leave the window.
	e.Clock.Set(t0.Add(time.Hour))
	if r := reserve(ag1.Client, "e", 20); r.Granted != 15 || !r.RetryTime.AsTime().Equal(t0.Add(70*time.Minute)) {
		t.Fatalf("reservation an hour later = %v", r)
	}

	_, err = ag1.Client.ReserveActions(ctx, &sirsiv1.ReserveActionsRequest{ReservationId: "f", PolicyId: "missing", Count: 1})
	wantAgentCode(t, err, codes.NotFound, "reserve under a missing policy")

	ev := auditEvents(t, e.Env, e.tn.ID, "agent.reserve_actions")
	if len(ev) != 7 {
		t.Errorf("reservations audited %d times, want 7 (the repeat and the refusal included)", len(ev))
	}
	for _, x := range ev {
		if x.Target == "reservation/b" && x.Actor != "agent:"+ag2.ID {
			t.Errorf("reservation b audited with actor %q", x.Actor)
		}
	}
}

func TestReserveActionsValidation(t *testing.T) {
	e := startAgentEnv(t)
	ctx := context.Background()
	c := e.EnrollAgent(t, e.tn.ID, e.acct.Id).Client
	tests := []struct {
		name string
		req  *sirsiv1.ReserveActionsRequest
		want string
	}{
		{"no id", &sirsiv1.ReserveActionsRequest{PolicyId: "p", Count: 1}, "reservation_id"},
		{"long id", &sirsiv1.ReserveActionsRequest{ReservationId: string(make([]byte, 65)), PolicyId: "p", Count: 1}, "reservation_id"},
		{"no policy", &sirsiv1.ReserveActionsRequest{ReservationId: "r", Count: 1}, "policy_id"},
		{"zero", &sirsiv1.ReserveActionsRequest{ReservationId: "r", PolicyId: "p"}, "count"},
		{"too many", &sirsiv1.ReserveActionsRequest{ReservationId: "r", PolicyId: "p", Count: 1001}, "count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.ReserveActions(ctx, tt.req)
			wantAgentCode(t, err, codes.InvalidArgument, tt.name)
			if v := violations(err); len(v) != 1 || v[0] != tt.want {
				t.Fatalf("violations %v, want [%s]", v, tt.want)
			}
		})
	}
}
