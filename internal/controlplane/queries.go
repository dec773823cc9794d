package controlplane

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// ListResources serves pages from the page cache (pagecache.go) when the
// tenant's inventory has not changed since the page was read: one store
// read of the inventory version instead of the page's query, and no
// encoding. Authentication, authorisation and rate limits ran before this
// handler, as for every call. Every page, cached or not, is returned
// pre-encoded with its next_page_token already signed (pagetoken.go), so
// a hit hands out exactly the bytes a miss did and the token interceptor,
// seeing no token field set, leaves the answer alone.
func (s *Server) ListResources(ctx context.Context, req *sirsiv1.ListResourcesRequest) (*sirsiv1.ListResourcesResponse, error) {
	if err := validateListResources(req); err != nil {
		return nil, err
	}
	ts := s.st.Tenant(req.TenantId)
	var key pageKey
	if s.pages != nil {
		version, err := ts.InventoryVersion(ctx)
		if err != nil {
			return nil, s.storeError(ctx, "list resources", err)
		}
		if key, err = listResourcesKey(req, version); err != nil {
			return nil, status.Errorf(codes.Internal, "list resources: %v", err)
		}
		if wire, ok := s.pages.get(key); ok {
			return preEncoded(wire), nil
		}
	}
	f := store.ResourceFilter{CloudAccountID: req.CloudAccountId, Type: req.Type, Region: req.Region, Tags: req.Tags, ResourceID: req.ResourceId, Query: req.Query}
	list, next, err := ts.ListResources(ctx, f, store.Page{Size: int(req.PageSize), Token: req.PageToken})
	if err != nil {
		return nil, s.storeError(ctx, "list resources", err)
	}
	if next != "" {
		if next, err = s.signPageToken(sirsiv1.ManagementService_ListResources_FullMethodName, req.ProtoReflect(), next); err != nil {
			return nil, status.Errorf(codes.Internal, "list resources: sign the next page token: %v", err)
		}
	}
	wire, err := proto.Marshal(&sirsiv1.ListResourcesResponse{Resources: list, NextPageToken: next})
	if err != nil {
		return nil, status.Errorf(codes.Internal, "list resources: encode the page: %v", err)
	}
	if s.pages != nil {
		s.pages.put(key, wire)
	}
	return preEncoded(wire), nil
}

func (s *Server) ListUtilization(ctx context.Context, req *sirsiv1.ListUtilizationRequest) (*sirsiv1.ListUtilizationResponse, error) {
	if err := validateListUtilization(req); err != nil {
		return nil, err
	}
	f := store.UtilizationFilter{ResourceID: req.ResourceId, ResourceIDs: req.ResourceIds, Metric: req.Metric}
	list, next, err := s.st.Tenant(req.TenantId).ListUtilization(ctx, f, store.Page{Size: int(req.PageSize), Token: req.PageToken})
	if err != nil {
		return nil, s.storeError(ctx, "list utilization", err)
	}
	return &sirsiv1.ListUtilizationResponse{Summaries: list, NextPageToken: next}, nil
}

func (s *Server) ListCostAnomalies(ctx context.Context, req *sirsiv1.ListCostAnomaliesRequest) (*sirsiv1.ListCostAnomaliesResponse, error) {
	if err := validList(req.TenantId, req.PageSize); err != nil {
		return nil, err
	}
	list, next, err := s.st.Tenant(req.TenantId).ListCostAnomalies(ctx, store.Page{Size: int(req.PageSize), Token: req.PageToken})
	if err != nil {
		return nil, s.storeError(ctx, "list cost anomalies", err)
	}
	return &sirsiv1.ListCostAnomaliesResponse{Anomalies: list, NextPageToken: next}, nil
}

// ListWebhookEvents shows the tenant's outbox: what is pending, what was
// delivered, and what was dead-lettered and why.
func (s *Server) ListWebhookEvents(ctx context.Context, req *sirsiv1.ListWebhookEventsRequest) (*sirsiv1.ListWebhookEventsResponse, error) {
	if err := validList(req.TenantId, req.PageSize); err != nil {
		return nil, err
	}
	if _, ok := sirsiv1.WebhookEventState_name[int32(req.State)]; !ok {
		return nil, invalidField("state", fmt.Sprintf("%d is not a webhook event state", req.State))
	}
	list, next, err := s.st.Tenant(req.TenantId).ListWebhookEvents(ctx, req.State, store.Page{Size: int(req.PageSize), Token: req.PageToken})
	if err != nil {
		return nil, s.storeError(ctx, "list webhook events", err)
	}
	return &sirsiv1.ListWebhookEventsResponse{Events: list, NextPageToken: next}, nil
}

func (s *Server) ListRecommendations(ctx context.Context, req *sirsiv1.ListRecommendationsRequest) (*sirsiv1.ListRecommendationsResponse, error) {
	if err := validateListRecommendations(req); err != nil {
		return nil, err
	}
	f := store.RecommendationFilter{PolicyID: req.PolicyId, ResourceType: req.ResourceType, ResourceID: req.ResourceId,
		MinMonthlySavingsMicros: req.GetMinMonthlySavings().GetMicros(), Status: req.Status}
	list, next, total, err := s.st.Tenant(req.TenantId).ListRecommendations(ctx, f, store.Page{Size: int(req.PageSize), Token: req.PageToken})
	if err != nil {
		return nil, s.storeError(ctx, "list recommendations", err)
	}
	return &sirsiv1.ListRecommendationsResponse{Recommendations: list, NextPageToken: next, TotalMonthlySavings: total}, nil
}

func (s *Server) ListActions(ctx context.Context, req *sirsiv1.ListActionsRequest) (*sirsiv1.ListActionsResponse, error) {
	if err := validateListActions(req); err != nil {
		return nil, err
	}
	f := store.ActionFilter{PolicyID: req.PolicyId, ResourceID: req.ResourceId, Status: req.Status}
	list, next, err := s.st.Tenant(req.TenantId).ListActions(ctx, f, store.Page{Size: int(req.PageSize), Token: req.PageToken})
	if err != nil {
		return nil, s.storeError(ctx, "list actions", err)
	}
	return &sirsiv1.ListActionsResponse{Actions: list, NextPageToken: next}, nil
}

// GetSavingsSummary reports the savings ledger as of the server's clock.
func (s *Server) GetSavingsSummary(ctx context.Context, req *sirsiv1.GetSavingsSummaryRequest) (*sirsiv1.GetSavingsSummaryResponse, error) {
	if err := validateGetSavingsSummary(req); err != nil {
		return nil, err
	}
	sum, err := s.st.Tenant(req.TenantId).SavingsSummary(ctx, s.now())
	if err != nil {
		return nil, s.storeError(ctx, "summarise savings", err)
	}
	return sum, nil
}
