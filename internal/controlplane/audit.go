package controlplane

import (
	"context"
	"strings"
	"time"
	"unicode"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

type auditEntry struct {
	principal *Principal
	tenant    string
	method    string
	req, resp any
	err       error
}

// auditTimeout bounds the append so a sick database cannot hold a request
// forever; the entry is written even when the caller has gone away.
const auditTimeout = 5 * time.Second

// audit appends one event.
func (s *Server) audit(ctx context.Context, e auditEntry) {
	s.appendAudit(ctx, s.auditEvent(ctx, e))
}

// auditRefused audits a call refused for its credentials, sampled per
// source (authsample.go).
func (s *Server) auditRefused(ctx context.Context, e auditEntry) {
	s.auditRefusal(ctx, sourceHost(ctx), s.auditEvent(ctx, e))
}

// auditEvent is e as the log stores it. It records ids, names and outcome
// codes only: never request bodies, so no secret (token, external id)
// reaches the log.
func (s *Server) auditEvent(ctx context.Context, e auditEntry) *sirsiv1.AuditEvent {
	outcome := "ok"
	detail := ""
	if e.err != nil {
		st := status.Convert(e.err)
		outcome = st.Code().String()
		if st.Code() != codes.Internal {
			detail = st.Message()
		}
	}
	if e.principal != nil && e.principal.OIDC != nil {
		detail = strings.TrimSuffix(oidcAuditDetail(e.principal.OIDC)+"; "+detail, "; ")
	}
	return &sirsiv1.AuditEvent{
		TenantId:      e.tenant,
		Time:          timestamppb.New(s.now()),
		RequestId:     requestID(ctx),
		Actor:         e.principal.Actor(),
		SourceAddress: sourceAddress(ctx),
		Action:        e.method,
		Target:        auditTarget(e.method, e.req, e.resp),
		Outcome:       outcome,
		Detail:        detail,
	}
}

// appendAudit writes ev as it is, bounded by auditTimeout.
func (s *Server) appendAudit(ctx context.Context, ev *sirsiv1.AuditEvent) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if _, err := s.st.AppendAudit(actx, ev); err != nil {
		s.log.Error("append audit event", "request_id", ev.RequestId, "action", ev.Action, "outcome", ev.Outcome, "error", err)
	}
}

// auditTarget names the object a call was about as kind/id: the id of the
// object returned, else the id (or name) in the request; just the kind when
// there is no request (a call refused before authorisation).
func auditTarget(method string, req, resp any) string {
	if m, ok := resp.(proto.Message); ok && m != nil && m.ProtoReflect().IsValid() {
		if kind, id := objectID(m.ProtoReflect()); id != "" {
			return kind + "/" + id
		}
	}
	kind := methodObject(method)
	m, ok := req.(proto.Message)
	if !ok || m == nil {
		return kind
	}
	r := m.ProtoReflect()
	if id := stringField(r, "id"); id != "" {
		return kind + "/" + id
	}
	if k, id := objectID(r); id != "" {
		return k + "/" + id
	}
	if name := stringField(r, "name"); name != "" {
		return kind + "/name=" + name
	}
	if k, name := nestedField(r, "name"); name != "" {
		return k + "/name=" + name
	}
	return kind
}

// objectID is the id of m's first message field (cloud_account,
// api_token...) and that field's name.
func objectID(m protoreflect.Message) (string, string) {
	return nestedField(m, "id")
}

func nestedField(m protoreflect.Message, field string) (string, string) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		if f.Kind() != protoreflect.MessageKind || f.IsList() || f.IsMap() || !m.Has(f) {
			continue
		}
		return string(f.Name()), stringField(m.Get(f).Message(), field)
	}
	return "", ""
}

func stringField(m protoreflect.Message, name string) string {
	f := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	if f == nil || f.Kind() != protoreflect.StringKind || f.IsList() {
		return ""
	}
	return m.Get(f).String()
}

// methodObject turns "/sirsi.v1.ManagementService/DeleteCloudAccount" into
// "cloud_account".
func methodObject(method string) string {
	name := method[strings.LastIndex(method, "/")+1:]
	for _, verb := range []string{"Create", "Get", "Update", "Delete", "List", "Revoke"} {
		if strings.HasPrefix(name, verb) {
			name = name[len(verb):]
			break
		}
	}
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ListAuditEvents lists a tenant's log, or for the operator with no
// tenant_id the operator-level log.
func (s *Server) ListAuditEvents(ctx context.Context, req *sirsiv1.ListAuditEventsRequest) (*sirsiv1.ListAuditEventsResponse, error) {
	if err := validateListAuditEvents(req); err != nil {
		return nil, err
	}
	f := store.AuditFilter{Actor: req.Actor, Action: req.Action, Outcome: req.Outcome, Target: req.Target}
	if req.StartTime != nil {
		f.Start = req.StartTime.AsTime()
	}
	if req.EndTime != nil {
		f.End = req.EndTime.AsTime()
	}
	page := store.Page{Size: int(req.PageSize), Token: req.PageToken}
	var (
		events []*sirsiv1.AuditEvent
		next   string
		err    error
	)
	if req.TenantId == "" {
		events, next, err = s.st.ListOperatorAuditEvents(ctx, f, page)
	} else {
		events, next, err = s.st.Tenant(req.TenantId).ListAuditEvents(ctx, f, page)
	}
	if err != nil {
		return nil, s.storeError(ctx, "list audit events", err)
	}
	return &sirsiv1.ListAuditEventsResponse{Events: events, NextPageToken: next}, nil
}
