package controlplane

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
)

// A request that is not valid protobuf (truncated, a wrong wire type,
// invalid UTF-8 in a string field) is the caller's mistake, but gRPC
// answers every codec error with Internal. The server's codec therefore
// records the error against the message instead of returning it, and the
// first interceptor answers InvalidArgument before anything reads the
// half-decoded message.

// decodeCodec is the proto codec that defers unmarshalling errors to
// unaryDecodeCheck (and streams' RecvMsg).
type decodeCodec struct {
	encoding.CodecV2
	failed *sync.Map // message pointer -> its unmarshalling error
}

func (c decodeCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if err := c.CodecV2.Unmarshal(data, v); err != nil {
		c.failed.Store(v, err)
	}
	return nil
}

func (s *Server) codec() decodeCodec {
	return decodeCodec{CodecV2: encoding.GetCodecV2(proto.Name), failed: &s.decodeErrors}
}

// decodeError takes the unmarshalling error recorded for msg, if any, as
// InvalidArgument.
func (s *Server) decodeError(msg any) error {
	v, failed := s.decodeErrors.LoadAndDelete(msg)
	if !failed {
		return nil
	}
	return status.Errorf(codes.InvalidArgument, "the request is not a valid protobuf message: %v", v)
}

func (s *Server) unaryDecodeCheck(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := s.decodeError(req); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (s *Server) streamDecodeCheck(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return h(srv, &decodeCheckedStream{ServerStream: ss, s: s})
}

type decodeCheckedStream struct {
	grpc.ServerStream
	s *Server
}

func (d *decodeCheckedStream) RecvMsg(m any) error {
	if err := d.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return d.s.decodeError(m)
}
