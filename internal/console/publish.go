package console

import (
	"context"
	"path"

	"google.golang.org/grpc"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
)

// changeKinds names what each successful RPC changes, for the browsers
// watching that kind of data. Reads and calls that change nothing a view
// shows are absent.
var changeKinds = map[string]string{
	"Heartbeat":                    "agents",
	"ReportInventory":              "resources",
	"ReportUtilization":            "resources",
	"ReportCosts":                  "costs",
	"ReportRecommendations":        "recommendations",
	"ReportActions":                "actions",
	"ReportActionPlan":             "actions",
	"ApproveRecommendation":        "recommendations",
	"RevokeRecommendationApproval": "recommendations",
	"DismissRecommendation":        "recommendations",
	"ApproveActionPlan":            "actions",
	"RevokeAgent":                  "agents",
}

// Interceptor publishes a change after every successful call in
// changeKinds. It goes innermost in the gRPC chain, where the control
// plane has set the authenticated principal, whose tenant the change is.
func (h *Hub) Interceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		kind, watched := changeKinds[path.Base(info.FullMethod)]
		if err != nil || !watched {
			return resp, err
		}
		if p := controlplane.PrincipalFrom(ctx); p != nil && p.TenantID != "" {
			// The request's context ends with the call; the notice must not.
			h.Publish(context.WithoutCancel(ctx), Change{TenantID: p.TenantID, Kind: kind})
		}
		return resp, err
	}
}
