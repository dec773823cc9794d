package client

import (
	"context"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

func exhaustedFor(d time.Duration) func() error {
	return func() error {
		st, err := status.New(codes.ResourceExhausted, "rate limit exceeded").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
		if err != nil {
			panic(err)
		}
		return st.Err()
	}
}

func TestRetryStopsAfterMaxAttempts(t *testing.T) {
	srv := &identityServer{failures: 1 << 30, failWith: exhaustedFor(time.Millisecond)}
	addr := serve(t, srv)
	c := newClient(t, Config{Endpoint: "http://" + addr, Token: "t", RetryTimeout: time.Minute})
	_, err := c.Management.GetIdentity(context.Background(), &sirsiv1.GetIdentityRequest{})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("error = %v, want ResourceExhausted once the attempts are spent", err)
	}
	if got := srv.calls.Load(); got != MaxAttempts {
		t.Errorf("server saw %d calls, want %d", got, MaxAttempts)
	}
}

func TestRetryGivesUpWhenServerDelayPassesTimeout(t *testing.T) {
	// A locked-out source is told to come back in minutes: waiting past
	// the retry timeout would only fail later.
	srv := &identityServer{failures: 1 << 30, failWith: exhaustedFor(15 * time.Minute)}
	addr := serve(t, srv)
	c := newClient(t, Config{Endpoint: "http://" + addr, Token: "t", RetryTimeout: time.Minute})
	_, err := c.Management.GetIdentity(context.Background(), &sirsiv1.GetIdentityRequest{})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("error = %v, want ResourceExhausted", err)
	}
	if got := srv.calls.Load(); got != 1 {
		t.Errorf("server saw %d calls, want 1", got)
	}
}

func TestRetryUnavailableOnlyForReads(t *testing.T) {
	for method, want := range map[string]int{
		sirsiv1.ManagementService_CreateTenant_FullMethodName:       1,
		sirsiv1.ManagementService_UpdateCloudAccount_FullMethodName: 1,
		sirsiv1.ManagementService_GetTenant_FullMethodName:          3,
		sirsiv1.ManagementService_ListTenants_FullMethodName:        3,
	} {
		calls := 0
		invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
			calls++
			if calls < 3 {
				return status.Error(codes.Unavailable, "connection reset")
			}
			return nil
		}
		icpt := retryInterceptor(time.Minute, func() backoff.BackOff { return &backoff.ZeroBackOff{} })
		_ = icpt(context.Background(), method, nil, nil, nil, invoker)
		if calls != want {
			t.Errorf("%s: %d calls after Unavailable, want %d", method, calls, want)
		}
	}
}

func TestRetryExhaustedForEveryMethod(t *testing.T) {
	calls := 0
	invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
		calls++
		if calls < 3 {
			return exhaustedFor(time.Millisecond)()
		}
		return nil
	}
	icpt := retryInterceptor(time.Minute, newBackoff)
	if err := icpt(context.Background(), sirsiv1.ManagementService_CreateTenant_FullMethodName, nil, nil, nil, invoker); err != nil {
		t.Fatalf("CreateTenant after two refusals: %v", err)
	}
	if calls != 3 {
		t.Errorf("%d calls, want 3: a rate-limited call was never run, so even a create is retried", calls)
	}
}
