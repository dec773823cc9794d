package controlplane_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/auth"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/postgres"
)

func TestPruneEnrollmentTokens(t *testing.T) {
	env := cptest.Start(t)
	tn := env.NewTenant(t, "prune")
	ctx := context.Background()
	acct, err := tn.Editor.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: newAccount("")})
	if err != nil {
		t.Fatal(err)
	}
	ts := env.Store.Tenant(tn.ID)
	mk := func(ttl time.Duration) *sirsiv1.EnrollmentToken {
		secret, err := auth.Generate(auth.KindEnrollment)
		if err != nil {
			t.Fatal(err)
		}
		e, err := ts.CreateEnrollmentToken(ctx, &sirsiv1.EnrollmentToken{CloudAccountId: acct.CloudAccount.Id, MaxUses: 1, Ttl: durationOf(ttl)}, auth.Hash(secret))
		if err != nil {
			t.Fatal(err)
		}
		if ttl == 720*time.Hour {
			return e
		}
		// Use the short-lived one up as well; either reason is enough.
		if _, err := env.Store.EnrollAgent(ctx, store.Enrollment{SecretHash: auth.Hash(secret), TokenID: e.Id, At: time.Now(), AgentID: "agent-of-" + e.Id, CertExpire: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		return e
	}
	short := mk(time.Minute)
	keep := mk(720 * time.Hour)

	// Nothing is old enough yet.
	if ran, err := env.Server.PruneNow(ctx); err != nil || !ran {
		t.Fatalf("prune = %v, %v", ran, err)
	}
	if _, err := ts.GetEnrollmentToken(ctx, short.Id); err != nil {
		t.Fatalf("young token pruned: %v", err)
	}
	env.Clock.Advance(8 * 24 * time.Hour)
	if ran, err := env.Server.PruneNow(ctx); err != nil || !ran {
		t.Fatalf("prune = %v, %v", ran, err)
	}
	_, err = tn.Viewer.GetEnrollmentToken(ctx, &sirsiv1.GetEnrollmentTokenRequest{Id: short.Id})
	wantCode(t, err, codes.NotFound)
	if _, err := ts.GetEnrollmentToken(ctx, keep.Id); err != nil {
		t.Fatalf("live token pruned: %v", err)
	}
}

func TestRunStopsWithContext(t *testing.T) {
	env := cptest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.Server.Run(ctx) }()
	// Run starts with a pass over the jobs; wait for it to be counted.
	for deadline := time.Now().Add(30 * time.Second); ; {
		if jobRuns(t, env, "ran") >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not run the jobs")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func jobRuns(t *testing.T, env *cptest.Env, outcome string) float64 {
	t.Helper()
	families, err := env.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != "sirsi_background_job_runs_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

// Two servers on one PostgreSQL database, as two replicas would run.
func TestReplicasShareOnePostgres(t *testing.T) {
	url := pgtest.Database(t)
	ctx := context.Background()
	open := func() store.Store {
		st, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st1, st2 := open(), open()

	// Both start at once on an empty database: exactly one operator token
	// wins and the other replica accepts it.
	var wg sync.WaitGroup
	servers := make([]*controlplane.Server, 2)
	errs := make([]error, 2)
	for i, st := range []store.Store{st1, st2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = controlplane.New(controlplane.Options{Store: st})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t1, t2 := servers[0].InitialOperatorToken(), servers[1].InitialOperatorToken()
	if (t1 == "") == (t2 == "") {
		t.Fatalf("initial tokens %q and %q: want exactly one", t1, t2)
	}
	tok := t1 + t2

	env1 := cptest.Start(t, cptest.WithStore(st1), cptest.WithOperatorToken(tok))
	env2 := cptest.Start(t, cptest.WithStore(st2), cptest.WithOperatorToken(tok))

	// A write on one is read on the other, tokens included.
	tn := env1.NewTenant(t, "shared")
	got, err := env2.Client.GetTenant(ctx, &sirsiv1.GetTenantRequest{Name: "shared"})
	if err != nil || got.Tenant.Id != tn.ID {
		t.Fatalf("replica 2 reads tenant = %v, %v", got, err)
	}
	editor2 := env2.Dial(t, tn.EditorToken)
	acct, err := editor2.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: newAccount("")})
	if err != nil {
		t.Fatal(err)
	}
	a1, err := tn.Viewer.GetCloudAccount(ctx, &sirsiv1.GetCloudAccountRequest{Id: acct.CloudAccount.Id})
	if err != nil || a1.CloudAccount.AccountId != "123456789012" {
		t.Fatalf("replica 1 reads account = %v, %v", a1, err)
	}
	// A token revoked on one replica is refused by the other at once.
	secret, tk := env2.NewAPIToken(t, tn.ID, sirsiv1.Role_ROLE_VIEWER, 0)
	if _, err := env1.Dial(t, secret).GetIdentity(ctx, &sirsiv1.GetIdentityRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.Admin.DeleteApiToken(ctx, &sirsiv1.DeleteApiTokenRequest{Id: tk.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = env2.Dial(t, secret).GetIdentity(ctx, &sirsiv1.GetIdentityRequest{})
	wantCode(t, err, codes.Unauthenticated)

	// The leader job: while replica 1 holds it, replica 2 skips it.
	started, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		_, err := env1.Server.RunJob(ctx, controlplane.PruneJobName, func(context.Context) error {
			close(started)
			<-release
			return nil
		})
		held <- err
	}()
	<-started
	if ran, err := env2.Server.PruneNow(ctx); err != nil || ran {
		t.Fatalf("replica 2 ran the job while replica 1 held it: ran=%v err=%v", ran, err)
	}
	if ran, err := env1.Server.PruneNow(ctx); err != nil || ran {
		t.Fatalf("replica 1 ran the job twice at once: ran=%v err=%v", ran, err)
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if ran, err := env2.Server.PruneNow(ctx); err != nil || !ran {
		t.Fatalf("replica 2 could not run the released job: ran=%v err=%v", ran, err)
	}
	if n := jobRuns(t, env2, "skipped"); n != 1 {
		t.Errorf("replica 2 skipped %v times, want 1", n)
	}
}
