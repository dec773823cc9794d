package console_test

import (
	"bufio"
	"context"
	"google.golang.org/protobuf/types/known/timestamppb"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/console"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// replica is one agentd server on the shared database: its control plane
// (with an agent listener), its hub fed through PostgreSQL, its console.
type replica struct {
	env *cptest.Env
	hub *console.Hub
	srv *httptest.Server
}

func startReplica(t *testing.T, url, operatorToken string) *replica {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fan, err := console.NewPGFanout(ctx, url, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	hub := console.NewHub(fan)
	done := make(chan error, 1)
	go func() { done <- fan.Run(ctx, hub) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("fan-out: %v", err)
		}
		fan.Close()
	})
	<-fan.Listening()
	opts := []cptest.Option{cptest.WithStore(st), cptest.WithAgentService(), cptest.WithInnerInterceptor(hub.Interceptor())}
	if operatorToken != "" {
		opts = append(opts, cptest.WithOperatorToken(operatorToken))
	}
	env := cptest.Start(t, opts...)
	srv := httptest.NewTLSServer(console.New(console.Options{API: env.Server, Changes: hub}))
	t.Cleanup(srv.Close)
	return &replica{env: env, hub: hub, srv: srv}
}

// An agent reports to one replica; a browser streaming from the other sees
// the change, and another tenant's browser does not.
func TestChangesReachEveryReplicaThroughPostgreSQL(t *testing.T) {
	url := pgtest.Database(t)
	r1 := startReplica(t, url, "")
	r2 := startReplica(t, url, r1.env.OperatorToken)
	ctx := context.Background()
	a, b := r1.env.NewTenant(t, "alpha"), r1.env.NewTenant(t, "beta")
	acct := r1.env.NewCloudAccount(t, a.ID, "111111111111")
	ag := r1.env.EnrollAgent(t, a.ID, acct.Id)

	stream := func(r *replica, token string) *bufio.Reader {
		br := newBrowser(t, r.srv)
		br.signIn(token)
		// A bound, not a timing: a broken fan-out fails instead of hanging.
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(sctx, http.MethodGet, r.srv.URL+"/ui/api/events", nil)
		resp, err := br.c.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("events on %s: %v %v", r.srv.URL, resp, err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		rd := bufio.NewReader(resp.Body)
		if ev := nextEvent(t, rd); ev != "ready" {
			t.Fatalf("first event %q", ev)
		}
		return rd
	}
	onR2 := stream(r2, a.ViewerToken)
	otherTenant := stream(r2, b.ViewerToken)
	// Both replicas' hubs know the streams only once they subscribed,
	// which happened before "ready" was written.
	if _, err := ag.Client.ReportActions(ctx, &sirsiv1.ReportActionsRequest{BatchId: "b1", Actions: []*sirsiv1.Action{{
		Id: "act-1", ResourceId: "i-1", ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "stop",
		Status: sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED, StartTime: timestamppb.Now(),
	}}}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, onR2); ev != `change {"tenant_id":"`+a.ID+`","kind":"actions"}` {
		t.Fatalf("replica 2's stream got %q", ev)
	}
	// Tenant B's stream receives B's change and nothing of A's before it.
	r1.hub.Publish(ctx, console.Change{TenantID: b.ID, Kind: "costs"})
	if ev := nextEvent(t, otherTenant); ev != `change {"tenant_id":"`+b.ID+`","kind":"costs"}` {
		t.Fatalf("tenant B's stream got %q", ev)
	}
}
