package cptest

import (
	"context"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

func TestClock(t *testing.T) {
	var c Clock
	if d := time.Since(c.Now()); d < -time.Second || d > time.Second {
		t.Fatalf("a fresh clock is %s off real time", d)
	}
	c.Advance(time.Hour)
	if d := time.Until(c.Now()); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("advanced clock is %s ahead, want 1h", d)
	}
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c.Set(at)
	if !c.Now().Equal(at) {
		t.Fatalf("set clock = %s", c.Now())
	}
	c.Advance(time.Minute)
	if !c.Now().Equal(at.Add(time.Minute)) {
		t.Fatalf("set+advanced clock = %s", c.Now())
	}
}

func TestStartServesAndTenantTokensWork(t *testing.T) {
	env := Start(t)
	tn := env.NewTenant(t, "harness")
	ctx := context.Background()
	for name, c := range map[string]sirsiv1.ManagementServiceClient{"admin": tn.Admin, "editor": tn.Editor, "viewer": tn.Viewer} {
		id, err := c.GetIdentity(ctx, &sirsiv1.GetIdentityRequest{})
		if err != nil || id.TenantId != tn.ID || id.Operator {
			t.Fatalf("%s identity = %v, %v", name, id, err)
		}
	}
	if _, err := env.Dial(t, "").GetIdentity(ctx, &sirsiv1.GetIdentityRequest{}); err == nil {
		t.Fatal("a client without a token was accepted")
	}
}

func TestWithAgentServiceEnrolls(t *testing.T) {
	env := Start(t, WithAgentService(), WithTLS())
	tn := env.NewTenant(t, "agents")
	acct := env.NewCloudAccount(t, tn.ID, "123456789012")
	ag := env.EnrollAgent(t, tn.ID, acct.Id)
	if _, err := ag.Client.Heartbeat(context.Background(), &sirsiv1.HeartbeatRequest{}); err != nil {
		t.Fatalf("enrolled agent: %v", err)
	}
	if ag.Enroll.CaBundlePem != string(env.CACertPEM) || env.AgentEndpoint == "" {
		t.Fatalf("CA bundle or endpoint missing: %q", env.AgentEndpoint)
	}
	// The management API under WithTLS trusts the same CA.
	if _, err := tn.Viewer.ListAgents(context.Background(), &sirsiv1.ListAgentsRequest{TenantId: tn.ID}); err != nil {
		t.Fatal(err)
	}
}
