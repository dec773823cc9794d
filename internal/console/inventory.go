package console

import (
	"encoding/json"
	"fmt"
	"net/http"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// inventoryPage is the inventory view's page: a page of ListResources,
// asked with the browser's request as it came (so its filters, free-text
// search and paging are the API's own), and ListUtilization's summaries of
// exactly the resources of that page.
type inventoryPage struct {
	Resources     []json.RawMessage `json:"resources"`
	NextPageToken string            `json:"next_page_token,omitempty"`
	// Utilization: every summary of the page's resource ids; the browser
	// matches them to resources by account, region and id (an id is
	// unique only within an account and region).
	Utilization []json.RawMessage `json:"utilization"`
}

func (h *Handler) inventory(w http.ResponseWriter, r *http.Request) {
	c, ok := callerOf(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "not signed in")
		return
	}
	req := &sirsiv1.ListResourcesRequest{}
	if !decodeQuery(w, r, req) {
		return
	}
	page, err := h.buildInventory(r, c, req)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (h *Handler) buildInventory(r *http.Request, c caller, req *sirsiv1.ListResourcesRequest) (*inventoryPage, error) {
	resp, err := h.api.InvokeManagement(r.Context(), "ListResources", req, c.token, c.source)
	if err != nil {
		return nil, err
	}
	list := resp.(*sirsiv1.ListResourcesResponse)
	page := &inventoryPage{Resources: []json.RawMessage{}, NextPageToken: list.NextPageToken, Utilization: []json.RawMessage{}}
	var ids []string
	seen := map[string]bool{}
	for _, res := range list.Resources {
		b, err := encodeOptions.Marshal(res)
		if err != nil {
			return nil, fmt.Errorf("inventory: encoding a resource: %w", err)
		}
		page.Resources = append(page.Resources, b)
		if !seen[res.ResourceId] {
			seen[res.ResourceId] = true
			ids = append(ids, res.ResourceId)
		}
	}
	// A page holds at most MaxPageSize resources, so their ids fit one
	// ListUtilization filter; their summaries may take several pages.
	for token := ""; len(ids) > 0; {
		resp, err := h.api.InvokeManagement(r.Context(), "ListUtilization", &sirsiv1.ListUtilizationRequest{
			TenantId: req.TenantId, ResourceIds: ids, PageSize: validation.MaxPageSize, PageToken: token}, c.token, c.source)
		if err != nil {
			return nil, err
		}
		util := resp.(*sirsiv1.ListUtilizationResponse)
		for _, u := range util.Summaries {
			b, err := encodeOptions.Marshal(u)
			if err != nil {
				return nil, fmt.Errorf("inventory: encoding a utilization summary: %w", err)
			}
			page.Utilization = append(page.Utilization, b)
		}
		if token = util.NextPageToken; token == "" {
			break
		}
	}
	return page, nil
}
