package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// overviewDays is the cost window of the overview.
const overviewDays = 30

// overviewAnomalies is how many recent cost anomalies the overview lists.
const overviewAnomalies = 10

// Overview is the overview page's data: each part is the response of the
// ManagementService read it comes from, so the figures are the API's.
type Overview struct {
	TenantID string `json:"tenant_id"`
	// Start and End bound the cost window (YYYY-MM-DD, end exclusive).
	Start string `json:"start"`
	End   string `json:"end"`
	// Costs: GetCostSummary, daily, grouped by service, with the
	// month-end forecast.
	Costs json.RawMessage `json:"costs"`
	// Savings: GetSavingsSummary (accrued savings, run rate).
	Savings json.RawMessage `json:"savings"`
	// OpenRecommendations: ListRecommendations of open ones, only its total
	// monthly saving over all of them (the page lists none; the
	// recommendations view does).
	OpenRecommendations json.RawMessage `json:"open_recommendations"`
	// Anomalies: ListCostAnomalies, first page.
	Anomalies json.RawMessage `json:"anomalies"`
}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request) {
	c, id, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	ov, err := h.buildOverview(r.Context(), c, id.GetTenantId())
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ov)
}

// buildOverview gathers the overview of tenant with the caller's token.
func (h *Handler) buildOverview(ctx context.Context, c caller, tenant string) (*Overview, error) {
	today := h.now().UTC().Truncate(24 * time.Hour)
	ov := &Overview{TenantID: tenant, Start: today.AddDate(0, 0, -overviewDays+1).Format("2006-01-02"), End: today.AddDate(0, 0, 1).Format("2006-01-02")}
	parts := []struct {
		method string
		req    proto.Message
		into   *json.RawMessage
	}{
		{"GetCostSummary", &sirsiv1.GetCostSummaryRequest{TenantId: tenant, Start: ov.Start, End: ov.End,
			Granularity: sirsiv1.Granularity_GRANULARITY_DAILY, GroupBy: "service"}, &ov.Costs},
		{"GetSavingsSummary", &sirsiv1.GetSavingsSummaryRequest{TenantId: tenant}, &ov.Savings},
		{"ListRecommendations", &sirsiv1.ListRecommendationsRequest{TenantId: tenant,
			Status: sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN, PageSize: 1}, &ov.OpenRecommendations},
		{"ListCostAnomalies", &sirsiv1.ListCostAnomaliesRequest{TenantId: tenant, PageSize: overviewAnomalies}, &ov.Anomalies},
	}
	for _, p := range parts {
		resp, err := h.api.InvokeManagement(ctx, p.method, p.req, c.token, c.source)
		if err != nil {
			// The API's status, unwrapped: its message is the caller's.
			return nil, err
		}
		if recs, ok := resp.(*sirsiv1.ListRecommendationsResponse); ok {
			resp = &sirsiv1.ListRecommendationsResponse{TotalMonthlySavings: recs.TotalMonthlySavings}
		}
		b, err := encodeOptions.Marshal(resp)
		if err != nil {
			return nil, fmt.Errorf("overview: encoding %s: %w", p.method, err)
		}
		*p.into = b
	}
	return ov, nil
}
