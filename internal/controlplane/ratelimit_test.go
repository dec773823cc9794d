package controlplane_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/auth"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

func withLimits(edit func(*controlplane.Options)) cptest.Option {
	return cptest.WithServerOptions(edit)
}

// metricValue is a counter's value by name and one label (name "" for an
// unlabelled counter).
func metricValue(t *testing.T, env *cptest.Env, name, label, value string) float64 {
	t.Helper()
	mfs, err := env.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" {
				return m.GetCounter().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// wantExhausted checks err is ResourceExhausted with a positive RetryInfo
// delay of at most max, and returns the delay.
func wantExhausted(t *testing.T, err error, limit time.Duration) time.Duration {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("code %s (%v), want ResourceExhausted", st.Code(), err)
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			delay := ri.GetRetryDelay().AsDuration()
			if delay <= 0 || delay > limit {
				t.Fatalf("retry delay %s, want in (0, %s]", delay, limit)
			}
			return delay
		}
	}
	t.Fatalf("no RetryInfo detail in %v", err)
	return 0
}

func wantLimitCode(t *testing.T, err error, want codes.Code, what string) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("%s: code %s (%v), want %s", what, got, err, want)
	}
}

func getTenant(c sirsiv1.ManagementServiceClient, id string) error {
	_, err := c.GetTenant(context.Background(), &sirsiv1.GetTenantRequest{Id: id})
	return err
}

func TestRateLimitPerToken(t *testing.T) {
	env := cptest.Start(t, withLimits(func(o *controlplane.Options) { o.RateLimits.ManagementPerMinute = 3 }))
	env.Clock.Set(time.Now())
	tn := env.NewTenant(t, "acme")
	for i := range 3 {
		if err := getTenant(tn.Viewer, tn.ID); err != nil {
			t.Fatalf("call %d within the budget: %v", i+1, err)
		}
	}
	delay := wantExhausted(t, getTenant(tn.Viewer, tn.ID), 20*time.Second+10*time.Millisecond)
	if delay < 19*time.Second {
		t.Fatalf("retry delay %s, want about 20s (one call of 3/minute)", delay)
	}
	// The budget is the token's, not the tenant's.
	if err := getTenant(tn.Editor, tn.ID); err != nil {
		t.Fatalf("another token of the tenant: %v", err)
	}
	if got := metricValue(t, env, "sirsi_ratelimited_total", "kind", "token"); got != 1 {
		t.Fatalf("sirsi_ratelimited_total{kind=token} = %v, want 1", got)
	}
	env.Clock.Advance(delay)
	if err := getTenant(tn.Viewer, tn.ID); err != nil {
		t.Fatalf("after the retry delay: %v", err)
	}
	wantExhausted(t, getTenant(tn.Viewer, tn.ID), 21*time.Second)
}

// limitStore reports every tenant with the rate limit it holds, as the
// store will once the column persists.
type limitStore struct {
	store.Store
	limit atomic.Int32
	reads atomic.Int32
}

func (s *limitStore) GetTenant(ctx context.Context, id string) (*sirsiv1.Tenant, error) {
	s.reads.Add(1)
	t, err := s.Store.GetTenant(ctx, id)
	if err == nil && t.Name != "" {
		v := s.limit.Load()
		t.RateLimitPerMinute = &v
	}
	return t, err
}

func TestRateLimitTenantOverride(t *testing.T) {
	base, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sirsi.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := &limitStore{Store: base}
	st.limit.Store(2)
	env := cptest.Start(t, cptest.WithStore(st))
	env.Clock.Set(time.Now())
	tn := env.NewTenant(t, "acme")
	for range 2 {
		if err := getTenant(tn.Viewer, tn.ID); err != nil {
			t.Fatal(err)
		}
	}
	wantExhausted(t, getTenant(tn.Viewer, tn.ID), 31*time.Second)
	readsBefore := st.reads.Load()

	// A raised limit applies once the cached one is older than 30s; the
	// bucket refills meanwhile at the old rate.
	st.limit.Store(1000)
	env.Clock.Advance(31 * time.Second)
	for i := range 50 {
		if err := getTenant(tn.Viewer, tn.ID); err != nil {
			t.Fatalf("call %d under the raised limit: %v", i+1, err)
		}
	}
	// 50 handler reads of the tenant and one of its limit: the limit is
	// cached, not read per call.
	if got := st.reads.Load() - readsBefore; got > 51 {
		t.Fatalf("%d tenant reads for 50 calls, want at most 51", got)
	}
}

func TestRateLimitOperator(t *testing.T) {
	env := cptest.Start(t, withLimits(func(o *controlplane.Options) { o.RateLimits.OperatorPerMinute = 2 }))
	env.Clock.Set(time.Now())
	// Start made no call, so the operator's whole budget is left.
	for range 2 {
		if _, err := env.Client.ListTenants(context.Background(), &sirsiv1.ListTenantsRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := env.Client.ListTenants(context.Background(), &sirsiv1.ListTenantsRequest{})
	wantExhausted(t, err, 31*time.Second)
	if got := metricValue(t, env, "sirsi_ratelimited_total", "kind", "operator"); got != 1 {
		t.Fatalf("sirsi_ratelimited_total{kind=operator} = %v, want 1", got)
	}
}

func TestRateLimitUnauthenticatedSource(t *testing.T) {
	env := cptest.Start(t, withLimits(func(o *controlplane.Options) {
		o.RateLimits.UnauthenticatedPerMinute = 2
		o.Lockout.BlockAfter = 100
		o.Lockout.DelayAfter = 100
	}))
	env.Clock.Set(time.Now())
	anon := env.Dial(t, "")
	for range 2 {
		wantLimitCode(t, getTenant(anon, "x"), codes.Unauthenticated, "no token, within the budget")
	}
	wantExhausted(t, getTenant(anon, "x"), 31*time.Second)
	if got := metricValue(t, env, "sirsi_auth_failures_total", "reason", "missing"); got != 3 {
		t.Fatalf("sirsi_auth_failures_total{reason=missing} = %v, want 3", got)
	}
	// Valid credentials from the same address have their own budget.
	if _, err := env.Client.ListTenants(context.Background(), &sirsiv1.ListTenantsRequest{}); err != nil {
		t.Fatalf("operator from the same source: %v", err)
	}
}

func TestRateLimitAgentBudget(t *testing.T) {
	env := cptest.Start(t, cptest.WithAgentService(), withLimits(func(o *controlplane.Options) { o.RateLimits.AgentPerMinute = 2 }))
	env.Clock.Set(time.Now())
	tn := env.NewTenant(t, "acme")
	acct := env.NewCloudAccount(t, tn.ID, "111111111111")
	a := env.EnrollAgent(t, tn.ID, acct.Id)
	b := env.EnrollAgent(t, tn.ID, acct.Id)
	for range 2 {
		if _, err := a.Client.Heartbeat(context.Background(), &sirsiv1.HeartbeatRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := a.Client.Heartbeat(context.Background(), &sirsiv1.HeartbeatRequest{})
	wantExhausted(t, err, 31*time.Second)
	if _, err := b.Client.Heartbeat(context.Background(), &sirsiv1.HeartbeatRequest{}); err != nil {
		t.Fatalf("another agent: %v", err)
	}
	if got := metricValue(t, env, "sirsi_ratelimited_total", "kind", "agent"); got != 1 {
		t.Fatalf("sirsi_ratelimited_total{kind=agent} = %v, want 1", got)
	}
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLockoutBlocksSourceAfterRepeatedBadTokens(t *testing.T) {
	var logs syncBuffer
	env := cptest.Start(t,
		cptest.WithLogger(hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})),
		withLimits(func(o *controlplane.Options) {
			o.Lockout = controlplane.LockoutPolicy{Window: 5 * time.Minute, DelayAfter: 2, Delay: time.Millisecond, BlockAfter: 4, BlockFor: 15 * time.Minute}
		}))
	env.Clock.Set(time.Now())
	bad, err := auth.Generate(auth.KindAPIToken)
	if err != nil {
		t.Fatal(err)
	}
	guesser := env.Dial(t, bad)

	// Failures older than the window do not count.
	for range 3 {
		wantLimitCode(t, getTenant(guesser, "x"), codes.Unauthenticated, "bad token")
	}
	env.Clock.Advance(6 * time.Minute)
	for range 3 {
		wantLimitCode(t, getTenant(guesser, "x"), codes.Unauthenticated, "bad token in a new window")
	}
	if _, err := env.Client.ListTenants(context.Background(), &sirsiv1.ListTenantsRequest{}); err != nil {
		t.Fatalf("valid token before the block: %v", err)
	}
	wantLimitCode(t, getTenant(guesser, "x"), codes.Unauthenticated, "fourth bad token")

	// Blocked: even the operator's valid token from this address.
	_, err = env.Client.ListTenants(context.Background(), &sirsiv1.ListTenantsRequest{})
	if d := wantExhausted(t, err, 15*time.Minute); d < 14*time.Minute {
		t.Fatalf("retry delay %s, want the 15m block", d)
	}
	wantExhausted(t, getTenant(guesser, "x"), 15*time.Minute)
	if got := metricValue(t, env, "sirsi_auth_lockouts_total", "", ""); got != 1 {
		t.Fatalf("sirsi_auth_lockouts_total = %v, want 1", got)
	}
	if got := metricValue(t, env, "sirsi_auth_failures_total", "reason", "invalid"); got != 7 {
		t.Fatalf("sirsi_auth_failures_total{reason=invalid} = %v, want 7", got)
	}
	if got := metricValue(t, env, "sirsi_ratelimited_total", "kind", "lockout"); got != 2 {
		t.Fatalf("sirsi_ratelimited_total{kind=lockout} = %v, want 2", got)
	}
	if n := strings.Count(logs.String(), "blocking a source"); n != 1 {
		t.Fatalf("block logged %d times, want once:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), bad) {
		t.Fatal("the log holds the guessed token")
	}

	env.Clock.Advance(15 * time.Minute)
	resp, err := env.Client.ListAuditEvents(context.Background(), &sirsiv1.ListAuditEventsRequest{Action: controlplane.AuditLockout, PageSize: 100})
	if err != nil {
		t.Fatalf("after the block: %v", err)
	}
	if len(resp.Events) != 1 {
		t.Fatalf("%d %s audit events, want 1: %v", len(resp.Events), controlplane.AuditLockout, resp.Events)
	}
	ev := resp.Events[0]
	if ev.SourceAddress != "127.0.0.1" || ev.Target != "source/127.0.0.1" || ev.Outcome != codes.ResourceExhausted.String() || ev.Actor != "anonymous" {
		t.Fatalf("audit event %v", ev)
	}
	if strings.Contains(ev.String(), bad) {
		t.Fatal("the audit event holds the guessed token")
	}
}

func TestLockoutCountsEnrollmentTokens(t *testing.T) {
	env := cptest.Start(t, cptest.WithAgentService(), withLimits(func(o *controlplane.Options) {
		o.Lockout = controlplane.LockoutPolicy{DelayAfter: 1, Delay: time.Millisecond, BlockAfter: 2}
	}))
	env.Clock.Set(time.Now())
	_, csr := cptest.NewCSR(t)
	anon := env.DialAgent(t, nil)
	for range 2 {
		tok, err := auth.Generate(auth.KindEnrollment)
		if err != nil {
			t.Fatal(err)
		}
		_, err = anon.Enroll(context.Background(), &sirsiv1.EnrollRequest{EnrollmentToken: tok, CsrPem: csr, Hostname: "h", Version: "1"})
		wantLimitCode(t, err, codes.Unauthenticated, "unknown enrollment token")
	}
	_, err := anon.Enroll(context.Background(), &sirsiv1.EnrollRequest{EnrollmentToken: "sxe_whatever", CsrPem: csr, Hostname: "h", Version: "1"})
	wantExhausted(t, err, controlplane.DefaultLockoutBlockFor)
	if got := metricValue(t, env, "sirsi_auth_failures_total", "reason", "enroll_invalid"); got != 2 {
		t.Fatalf("sirsi_auth_failures_total{reason=enroll_invalid} = %v, want 2", got)
	}
}

func TestRateLimitEnrollPerSource(t *testing.T) {
	env := cptest.Start(t, cptest.WithAgentService(), withLimits(func(o *controlplane.Options) { o.RateLimits.UnauthenticatedPerMinute = 1 }))
	env.Clock.Set(time.Now())
	_, csr := cptest.NewCSR(t)
	anon := env.DialAgent(t, nil)
	_, err := anon.Enroll(context.Background(), &sirsiv1.EnrollRequest{EnrollmentToken: "not a token", CsrPem: csr})
	wantLimitCode(t, err, codes.InvalidArgument, "malformed enrollment token")
	_, err = anon.Enroll(context.Background(), &sirsiv1.EnrollRequest{EnrollmentToken: "not a token", CsrPem: csr})
	wantExhausted(t, err, 61*time.Second)
}

func TestLimitPageSizeAndTagCount(t *testing.T) {
	env := cptest.Start(t)
	tn := env.NewTenant(t, "acme")
	ctx := context.Background()
	tags := map[string]string{}
	for i := range validation.MaxTags + 1 {
		tags["k"+strings.Repeat("x", i)] = "v"
	}
	for name, tc := range map[string]struct {
		call  func() error
		field string
	}{
		"page size": {func() error {
			_, err := tn.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{TenantId: tn.ID, PageSize: validation.MaxPageSize + 1})
			return err
		}, "page_size"},
		"tag count": {func() error {
			_, err := tn.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{TenantId: tn.ID, Tags: tags})
			return err
		}, "tags"},
		"tag length": {func() error {
			_, err := tn.Viewer.ListResources(ctx, &sirsiv1.ListResourcesRequest{TenantId: tn.ID, Tags: map[string]string{strings.Repeat("k", 1000): "v"}})
			return err
		}, "tags"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.call()
			wantLimitCode(t, err, codes.InvalidArgument, name)
			var fields []string
			for _, d := range status.Convert(err).Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, v := range br.FieldViolations {
						fields = append(fields, v.Field)
					}
				}
			}
			if len(fields) != 1 || !strings.HasPrefix(fields[0], tc.field) {
				t.Fatalf("violations %v, want one naming %s", fields, tc.field)
			}
		})
	}
}

// TestLockoutHoldsUnderConcurrency: 50 guesses sent at once from one
// address are cut at the documented limit (DefaultLockoutBlockAfter
// evaluated, the rest refused), not all evaluated before the first
// failure is counted.
func TestLockoutHoldsUnderConcurrency(t *testing.T) {
	const guesses = 50
	env := cptest.Start(t, withLimits(func(o *controlplane.Options) {
		o.Lockout = controlplane.LockoutPolicy{BlockAfter: controlplane.DefaultLockoutBlockAfter, Delay: time.Millisecond}
	}))
	env.Clock.Set(time.Now())
	clients := make([]sirsiv1.ManagementServiceClient, guesses)
	for i := range clients {
		bad, err := auth.Generate(auth.KindAPIToken)
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = env.Dial(t, bad)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	var evaluated, refused atomic.Int32
	for _, c := range clients {
		wg.Go(func() {
			<-start
			switch err := getTenant(c, "x"); status.Code(err) {
			case codes.Unauthenticated:
				evaluated.Add(1)
			case codes.ResourceExhausted:
				refused.Add(1)
			default:
				t.Errorf("guess: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if evaluated.Load() != controlplane.DefaultLockoutBlockAfter || refused.Load() != guesses-controlplane.DefaultLockoutBlockAfter {
		t.Fatalf("%d guesses evaluated and %d refused, want %d and %d", evaluated.Load(), refused.Load(), controlplane.DefaultLockoutBlockAfter, guesses-controlplane.DefaultLockoutBlockAfter)
	}
	if got := metricValue(t, env, "sirsi_auth_failures_total", "reason", "invalid"); got != controlplane.DefaultLockoutBlockAfter {
		t.Fatalf("sirsi_auth_failures_total{reason=invalid} = %v, want %d", got, controlplane.DefaultLockoutBlockAfter)
	}
	if _, err := env.Client.ListTenants(context.Background(), &sirsiv1.ListTenantsRequest{}); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("valid token after the block: %v, want ResourceExhausted", err)
	}
}

// TestLockoutAdmitsConcurrentGoodTokens: attempts being checked count
// toward the block, but good tokens sent at once from one address (a team
// behind one NAT address) wait for the checks in flight instead of being
// refused, and cost no attempt.
func TestLockoutAdmitsConcurrentGoodTokens(t *testing.T) {
	const calls = 100
	env := cptest.Start(t, withLimits(func(o *controlplane.Options) {
		// A long Delay: a good token is admitted only by another check
		// settling, never by a timer running out.
		o.Lockout = controlplane.LockoutPolicy{BlockAfter: 2, DelayAfter: 1, Delay: time.Hour}
	}))
	env.Clock.Set(time.Now())
	start := make(chan struct{})
	var wg sync.WaitGroup
	var answered atomic.Int32
	for range calls {
		wg.Go(func() {
			<-start
			if _, err := env.Client.ListTenants(context.Background(), &sirsiv1.ListTenantsRequest{}); err != nil {
				t.Errorf("good token: %v", err)
				return
			}
			answered.Add(1)
		})
	}
	close(start)
	wg.Wait()
	if answered.Load() != calls {
		t.Fatalf("%d of %d calls with a good token answered", answered.Load(), calls)
	}
	if got := metricValue(t, env, "sirsi_ratelimited_total", "kind", "lockout"); got != 0 {
		t.Fatalf("sirsi_ratelimited_total{kind=lockout} = %v, want 0", got)
	}
}

// TestTenantBudgetSpansItsTokens: minting more tokens buys no more calls.
func TestTenantBudgetSpansItsTokens(t *testing.T) {
	const perToken, perTenant = 5, 8
	env := cptest.Start(t, withLimits(func(o *controlplane.Options) {
		o.RateLimits.ManagementPerMinute = perToken
		o.RateLimits.TenantPerMinute = perTenant
	}))
	env.Clock.Set(time.Now())
	tn := env.NewTenant(t, "acme")
	ok, refused := 0, 0
	for _, c := range []sirsiv1.ManagementServiceClient{tn.Admin, tn.Editor, tn.Viewer} {
		for range perToken {
			switch err := getTenant(c, tn.ID); status.Code(err) {
			case codes.OK:
				ok++
			case codes.ResourceExhausted:
				refused++
				if !strings.Contains(err.Error(), "tenant") {
					t.Fatalf("refusal does not name the tenant budget: %v", err)
				}
			default:
				t.Fatal(err)
			}
		}
	}
	if ok != perTenant || refused != 3*perToken-perTenant {
		t.Fatalf("%d calls answered and %d refused, want %d and %d", ok, refused, perTenant, 3*perToken-perTenant)
	}
	if got := metricValue(t, env, "sirsi_ratelimited_total", "kind", "tenant"); got != float64(refused) {
		t.Fatalf("sirsi_ratelimited_total{kind=tenant} = %v, want %d", got, refused)
	}
	// Another tenant's budget is its own.
	other := env.NewTenant(t, "bravo")
	if err := getTenant(other.Viewer, other.ID); err != nil {
		t.Fatalf("another tenant: %v", err)
	}
}

// TestAPITokenCapHoldsUnderConcurrency: a tenant cannot hold more live
// tokens than the cap, however many it asks for at once; expired tokens
// do not count.
func TestAPITokenCapHoldsUnderConcurrency(t *testing.T) {
	const maxTokens = 5
	env := cptest.Start(t, withLimits(func(o *controlplane.Options) { o.MaxAPITokensPerTenant = maxTokens }))
	env.Clock.Set(time.Now())
	tn := env.NewTenant(t, "acme") // three tokens
	_, short := env.NewAPIToken(t, tn.ID, sirsiv1.Role_ROLE_VIEWER, time.Hour)
	create := func() error {
		_, err := tn.Admin.CreateApiToken(context.Background(), &sirsiv1.CreateApiTokenRequest{TenantId: tn.ID, Role: sirsiv1.Role_ROLE_VIEWER})
		return err
	}
	var wg sync.WaitGroup
	var created, capped atomic.Int32
	for range 10 {
		wg.Go(func() {
			switch err := create(); status.Code(err) {
			case codes.OK:
				created.Add(1)
			case codes.FailedPrecondition:
				capped.Add(1)
			default:
				t.Errorf("create: %v", err)
			}
		})
	}
	wg.Wait()
	if created.Load() != 1 || capped.Load() != 9 {
		t.Fatalf("%d created and %d refused with four live tokens and a cap of %d, want 1 and 9", created.Load(), capped.Load(), maxTokens)
	}
	// An expired token is not live: the one-hour token frees a place.
	env.Clock.Advance(2 * time.Hour)
	if err := create(); err != nil {
		t.Fatalf("after a token expired: %v", err)
	}
	wantLimitCode(t, create(), codes.FailedPrecondition, "at the cap again")
	if _, err := tn.Admin.DeleteApiToken(context.Background(), &sirsiv1.DeleteApiTokenRequest{TenantId: tn.ID, Id: short.Id}); err != nil {
		t.Fatal(err)
	}
	wantLimitCode(t, create(), codes.FailedPrecondition, "deleting an expired token frees nothing")
}
