package controlplane

import (
	"context"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
)

type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (f fakeStream) Context() context.Context { return f.ctx }

func TestStreamGuard(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	called := false
	handler := func(any, grpc.ServerStream) error { called = true; return nil }
	withToken := func(tok string) context.Context {
		return metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+tok))
	}
	mgmt := &grpc.StreamServerInfo{FullMethod: "/sirsi.v1.ManagementService/Watch"}
	if err := s.streamGuard(nil, fakeStream{ctx: context.Background()}, mgmt, handler); status.Code(err) != codes.Unauthenticated || called {
		t.Fatalf("anonymous stream = %v (handler called %v)", err, called)
	}
	if err := s.streamGuard(nil, fakeStream{ctx: withToken(s.InitialOperatorToken())}, mgmt, handler); status.Code(err) != codes.PermissionDenied || called {
		t.Fatalf("operator stream = %v (handler called %v)", err, called)
	}
	// Other services (the agent's, with its own mTLS auth) pass through.
	other := &grpc.StreamServerInfo{FullMethod: "/sirsi.v1.AgentService/Watch"}
	if err := s.streamGuard(nil, fakeStream{ctx: context.Background()}, other, handler); err != nil || !called {
		t.Fatalf("agent stream = %v (handler called %v)", err, called)
	}
}
