package controlplane_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
)

// rawCodec sends the bytes it is given as the request, so a test can send
// what no protobuf library would.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

// TestMalformedRequestsAreInvalidArgument: bytes that are not a valid
// message are the caller's mistake, not the server's.
func TestMalformedRequestsAreInvalidArgument(t *testing.T) {
	env := cptest.Start(t)
	conn := env.DialConn(t, env.OperatorToken)
	for name, body := range map[string][]byte{
		"invalid UTF-8 in a string": {0x0a, 0x02, 0xff, 0xfe},
		"truncated field":           {0x0a, 0x05, 'a'},
		"bad wire type":             {0x0f},
	} {
		var out []byte
		err := conn.Invoke(context.Background(), sirsiv1.ManagementService_GetTenant_FullMethodName, body, &out, grpc.ForceCodecV2(rawCodec{}))
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	// A well-formed request still works after the refusals.
	var out []byte
	if err := conn.Invoke(context.Background(), sirsiv1.ManagementService_ListTenants_FullMethodName, []byte{}, &out, grpc.ForceCodecV2(rawCodec{})); err != nil {
		t.Fatalf("valid request: %v", err)
	}
}
