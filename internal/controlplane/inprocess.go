package controlplane

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// InvokeManagement calls the ManagementService method named method (e.g.
// "ListRecommendations") in process, through the same interceptor chain a
// gRPC call meets: the bearer token is authenticated, the call authorised
// and tenant-scoped, rate limited and audited exactly as on the wire, with
// source as the caller's address for lockouts and the audit log. The web
// console uses it so that no access rule exists twice.
func (s *Server) InvokeManagement(ctx context.Context, method string, req proto.Message, token string, source net.Addr) (proto.Message, error) {
	desc, ok := managementMethods[method]
	if !ok {
		return nil, status.Errorf(codes.Unimplemented, "ManagementService has no method %q", method)
	}
	ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("authorization", "Bearer "+token))
	ctx = peer.NewContext(ctx, &peer.Peer{Addr: source})
	dec := func(v any) error {
		m, ok := v.(proto.Message)
		if !ok || m.ProtoReflect().Descriptor() != req.ProtoReflect().Descriptor() {
			return status.Errorf(codes.InvalidArgument, "%s does not take a %s", method, req.ProtoReflect().Descriptor().FullName())
		}
		proto.Merge(m, req)
		return nil
	}
	resp, err := desc.Handler(s, ctx, dec, chainUnary(s.UnaryInterceptors()))
	if err != nil {
		return nil, err
	}
	m, ok := resp.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%s returned a %T, not a protobuf message", method, resp)
	}
	return decodePreEncoded(m)
}

// IsManagementMutation reports whether method changes state (and is
// therefore audited whatever its outcome).
func IsManagementMutation(method string) bool {
	return rules[managementPrefix+method].mutation
}

// RoleMayCall reports whether a tenant token of role may call method at
// all, so a user interface can hide what the server would refuse.
func RoleMayCall(role sirsiv1.Role, method string) bool {
	r, ok := rules[managementPrefix+method]
	return ok && r.role != sirsiv1.Role_ROLE_UNSPECIFIED && roleRank(role) >= roleRank(r.role)
}

// managementMethods are ManagementService's unary methods by short name.
var managementMethods = func() map[string]grpc.MethodDesc {
	m := map[string]grpc.MethodDesc{}
	for _, d := range sirsiv1.ManagementService_ServiceDesc.Methods {
		m[d.MethodName] = d
	}
	return m
}()

// chainUnary composes interceptors outermost first, as grpc.Server's
// ChainUnaryInterceptor does.
func chainUnary(ics []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		next := h
		for i := len(ics) - 1; i >= 0; i-- {
			ic, inner := ics[i], next
			next = func(ctx context.Context, req any) (any, error) { return ic(ctx, req, info, inner) }
		}
		return next(ctx, req)
	}
}
