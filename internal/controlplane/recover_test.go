package controlplane

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
)

func TestPanicBecomesInternal(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), requestIDKey{}, "rid-1")
	info := &grpc.UnaryServerInfo{FullMethod: "/sirsi.v1.ManagementService/GetIdentity"}
	resp, err := s.unaryRecover(ctx, nil, info, func(context.Context, any) (any, error) { panic("boom") })
	if resp != nil || status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "rid-1") || strings.Contains(err.Error(), "boom") {
		t.Fatalf("recover = %v, %v", resp, err)
	}
}

func TestStoreErrorMapping(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "e.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), requestIDKey{}, "rid-2")
	for _, tc := range []struct {
		err  error
		want codes.Code
	}{
		{fmt.Errorf("get x: %w", store.ErrNotFound), codes.NotFound},
		{fmt.Errorf("create x: %w", store.ErrAlreadyExists), codes.AlreadyExists},
		{fmt.Errorf("update x: %w", store.ErrVersionMismatch), codes.Aborted},
		{fmt.Errorf("delete x: %w", store.ErrFailedPrecondition), codes.FailedPrecondition},
		{fmt.Errorf("list x: %w", store.ErrInvalidPageToken), codes.InvalidArgument},
		{fmt.Errorf("apply x: %w", store.ErrInvalidArgument), codes.InvalidArgument},
		{context.Canceled, codes.Canceled},
	} {
		if got := status.Code(s.storeError(ctx, "doing", tc.err)); got != tc.want {
			t.Errorf("%v -> %s, want %s", tc.err, got, tc.want)
		}
	}
	err = s.storeError(ctx, "list things", errString("pq: relation \"secret_table\" does not exist"))
	if status.Code(err) != codes.Internal || strings.Contains(err.Error(), "secret_table") || !strings.Contains(err.Error(), "rid-2") {
		t.Fatalf("storeError = %v", err)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
