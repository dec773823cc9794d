package console

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
)

// readMethods are the ManagementService reads the console's views use,
// each with a constructor of its request. The request comes as protojson
// in the query parameter q.
var readMethods = map[string]func() proto.Message{
	"GetTenant":           func() proto.Message { return &sirsiv1.GetTenantRequest{} },
	"ListCloudAccounts":   func() proto.Message { return &sirsiv1.ListCloudAccountsRequest{} },
	"ListAgents":          func() proto.Message { return &sirsiv1.ListAgentsRequest{} },
	"ListResources":       func() proto.Message { return &sirsiv1.ListResourcesRequest{} },
	"ListUtilization":     func() proto.Message { return &sirsiv1.ListUtilizationRequest{} },
	"GetCostSummary":      func() proto.Message { return &sirsiv1.GetCostSummaryRequest{} },
	"ListCostAnomalies":   func() proto.Message { return &sirsiv1.ListCostAnomaliesRequest{} },
	"ListRecommendations": func() proto.Message { return &sirsiv1.ListRecommendationsRequest{} },
	"GetRecommendation":   func() proto.Message { return &sirsiv1.GetRecommendationRequest{} },
	"ListActionPlans":     func() proto.Message { return &sirsiv1.ListActionPlansRequest{} },
	"ListActions":         func() proto.Message { return &sirsiv1.ListActionsRequest{} },
	"GetSavingsSummary":   func() proto.Message { return &sirsiv1.GetSavingsSummaryRequest{} },
	"ListAuditEvents":     func() proto.Message { return &sirsiv1.ListAuditEventsRequest{} },
}

// mutateMethods are the mutations the console offers (uiMutations), with
// their requests, sent as a protojson body.
var mutateMethods = map[string]func() proto.Message{
	"ApproveRecommendation": func() proto.Message { return &sirsiv1.ApproveRecommendationRequest{} },
	"DismissRecommendation": func() proto.Message { return &sirsiv1.DismissRecommendationRequest{} },
}

func mayCall(role sirsiv1.Role, method string) bool { return controlplane.RoleMayCall(role, method) }

var (
	decodeOptions = protojson.UnmarshalOptions{}
	encodeOptions = protojson.MarshalOptions{EmitUnpopulated: false, UseProtoNames: true}
)

// endpoint resolves the method named in the path from table and the
// signed-in caller, answering 404 or 401 itself.
func endpoint(w http.ResponseWriter, r *http.Request, table map[string]func() proto.Message) (string, proto.Message, caller, bool) {
	method := r.PathValue("method")
	newReq, ok := table[method]
	if !ok {
		writeError(w, http.StatusNotFound, "the console has no endpoint "+method)
		return "", nil, caller{}, false
	}
	c, ok := callerOf(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "not signed in")
		return "", nil, caller{}, false
	}
	return method, newReq(), c, true
}

func (h *Handler) read(w http.ResponseWriter, r *http.Request) {
	method, req, c, ok := endpoint(w, r, readMethods)
	if !ok {
		return
	}
	if !decodeQuery(w, r, req) {
		return
	}
	h.call(w, r, c, method, req)
}

// decodeQuery reads a read's request from the protojson in the query
// parameter q (absent: the empty request), answering 400 itself.
func decodeQuery(w http.ResponseWriter, r *http.Request, req proto.Message) bool {
	if q := r.URL.Query().Get("q"); q != "" {
		if err := decodeOptions.Unmarshal([]byte(q), req); err != nil {
			writeError(w, http.StatusBadRequest, "query parameter q is not a "+string(req.ProtoReflect().Descriptor().Name())+": "+err.Error())
			return false
		}
	}
	return true
}

func (h *Handler) mutate(w http.ResponseWriter, r *http.Request) {
	method, req, c, ok := endpoint(w, r, mutateMethods)
	if !ok {
		return
	}
	if err := checkMutation(r, c); err != nil {
		writeError(w, http.StatusForbidden, err.Error())
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "the request body is larger than the console accepts")
			return
		}
		writeError(w, http.StatusBadRequest, "reading the request body: "+err.Error())
		return
	}
	if err := decodeOptions.Unmarshal(body, req); err != nil {
		writeError(w, http.StatusBadRequest, "the body is not a "+string(req.ProtoReflect().Descriptor().Name())+": "+err.Error())
		return
	}
	if h.call(w, r, c, method, req) && h.changes != nil {
		// The approval itself is news to every browser of the tenant.
		if tenant := tenantOf(req); tenant != "" {
			h.changes.Publish(r.Context(), Change{TenantID: tenant, Kind: changeKinds[method]})
		}
	}
}

// call invokes method and writes its response; it reports success.
func (h *Handler) call(w http.ResponseWriter, r *http.Request, c caller, method string, req proto.Message) bool {
	resp, err := h.api.InvokeManagement(r.Context(), method, req, c.token, c.source)
	if err != nil {
		h.fail(w, err)
		return false
	}
	b, err := encodeOptions.Marshal(resp)
	if err != nil {
		h.log.Error("encoding a response", "method", method, "error", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
	return true
}

func tenantOf(m proto.Message) string {
	f := m.ProtoReflect().Descriptor().Fields().ByName("tenant_id")
	if f == nil {
		return ""
	}
	return m.ProtoReflect().Get(f).String()
}

// fail answers an API error with the HTTP status of its gRPC code and the
// API's own message, which is written for callers (an internal error's
// detail stays in the server log). An unauthenticated session is ended.
func (h *Handler) fail(w http.ResponseWriter, err error) {
	code, msg := httpStatus(err)
	if code == http.StatusUnauthorized {
		clearSession(w)
	}
	writeError(w, code, msg)
}

func httpStatus(err error) (int, string) {
	st, ok := status.FromError(err)
	if !ok {
		return http.StatusInternalServerError, "internal error"
	}
	switch st.Code() {
	case codes.InvalidArgument, codes.OutOfRange, codes.FailedPrecondition:
		return http.StatusBadRequest, st.Message()
	case codes.Unauthenticated:
		return http.StatusUnauthorized, st.Message()
	case codes.PermissionDenied:
		return http.StatusForbidden, st.Message()
	case codes.NotFound:
		return http.StatusNotFound, st.Message()
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict, st.Message()
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests, st.Message()
	case codes.Unavailable, codes.DeadlineExceeded:
		return http.StatusServiceUnavailable, st.Message()
	default:
		return http.StatusInternalServerError, "internal error"
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
