package controlplane

import (
	"context"
	"net"
	"net/url"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// The webhook endpoint calls (sirsi_webhook). The endpoint whose id is
// the tenant's id is the tenant's own, the one the deprecated
// Tenant.webhook_url maps onto: it is read here, but only UpdateTenant
// changes it, so that a sirsi_tenant setting webhook_url and a
// sirsi_webhook never fight over one endpoint.

func (s *Server) CreateWebhook(ctx context.Context, req *sirsiv1.CreateWebhookRequest) (*sirsiv1.CreateWebhookResponse, error) {
	var e validation.Errors
	s.validWebhook(&e, "webhook", req.Webhook, false)
	if err := errOrInvalid(&e); err != nil {
		return nil, err
	}
	w, err := s.st.Tenant(req.Webhook.TenantId).CreateWebhook(ctx, req.Webhook)
	if err != nil {
		return nil, s.storeError(ctx, "create webhook", err)
	}
	return &sirsiv1.CreateWebhookResponse{Webhook: publicWebhook(w)}, nil
}

func (s *Server) GetWebhook(ctx context.Context, req *sirsiv1.GetWebhookRequest) (*sirsiv1.GetWebhookResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	w, err := s.st.Tenant(req.TenantId).GetWebhook(ctx, req.Id)
	if err != nil {
		return nil, s.storeError(ctx, "get webhook", err)
	}
	return &sirsiv1.GetWebhookResponse{Webhook: publicWebhook(w)}, nil
}

func (s *Server) UpdateWebhook(ctx context.Context, req *sirsiv1.UpdateWebhookRequest) (*sirsiv1.UpdateWebhookResponse, error) {
	var e validation.Errors
	s.validWebhook(&e, "webhook", req.Webhook, true)
	if err := errOrInvalid(&e); err != nil {
		return nil, err
	}
	if err := refuseTenantHook(req.Webhook.TenantId, req.Webhook.Id); err != nil {
		return nil, err
	}
	w, err := s.st.Tenant(req.Webhook.TenantId).UpdateWebhook(ctx, req.Webhook)
	if err != nil {
		return nil, s.storeError(ctx, "update webhook", err)
	}
	return &sirsiv1.UpdateWebhookResponse{Webhook: publicWebhook(w)}, nil
}

func (s *Server) DeleteWebhook(ctx context.Context, req *sirsiv1.DeleteWebhookRequest) (*sirsiv1.DeleteWebhookResponse, error) {
	if err := validDelete(req.TenantId, req.Id, req.Version); err != nil {
		return nil, err
	}
	if err := refuseTenantHook(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	if err := s.st.Tenant(req.TenantId).DeleteWebhook(ctx, req.Id, req.Version); err != nil {
		return nil, s.storeError(ctx, "delete webhook", err)
	}
	return &sirsiv1.DeleteWebhookResponse{}, nil
}

func (s *Server) ListWebhooks(ctx context.Context, req *sirsiv1.ListWebhooksRequest) (*sirsiv1.ListWebhooksResponse, error) {
	if err := validList(req.TenantId, req.PageSize); err != nil {
		return nil, err
	}
	list, next, err := s.st.Tenant(req.TenantId).ListWebhooks(ctx, store.Page{Size: int(req.PageSize), Token: req.PageToken})
	if err != nil {
		return nil, s.storeError(ctx, "list webhooks", err)
	}
	for _, w := range list {
		publicWebhook(w)
	}
	return &sirsiv1.ListWebhooksResponse{Webhooks: list, NextPageToken: next}, nil
}

// refuseTenantHook refuses changing the tenant's own endpoint through the
// webhook calls.
func refuseTenantHook(tenantID, id string) error {
	if id != tenantID {
		return nil
	}
	return status.Error(codes.FailedPrecondition, "webhook "+id+" is the tenant's webhook_url (deprecated): change it with UpdateTenant (sirsi_tenant), "+
		"or clear webhook_url there and create a webhook (sirsi_webhook) instead")
}

// publicWebhook makes a stored endpoint fit for a response: the secret is
// input only and never leaves the control plane.
func publicWebhook(w *sirsiv1.Webhook) *sirsiv1.Webhook {
	w.SecretSet = w.Secret != ""
	w.Secret = ""
	return w
}

// maxWebhookEventTypes bounds an event filter: every type at most once.
var maxWebhookEventTypes = len(validation.WebhookEventTypes())

// validWebhook: a secret is required on create; on update an empty one
// keeps the stored key. secret_set is output only and ignored, so an
// endpoint read back can be sent unchanged.
func (s *Server) validWebhook(e *validation.Errors, path string, w *sirsiv1.Webhook, update bool) {
	if w == nil {
		e.Add(path, "is required")
		return
	}
	e.Check(path+".tenant_id", validation.ID(w.TenantId))
	if update {
		e.Check(path+".id", validation.ID(w.Id))
		e.Check(path+".version", validVersion(w.Version))
	} else if w.Id != "" {
		e.Add(path+".id", "is assigned by the server")
	}
	s.validWebhookURL(e, path+".url", w.Url)
	if len(w.EventTypes) > maxWebhookEventTypes {
		e.Add(path+".event_types", "lists more types than there are")
	}
	for _, t := range w.EventTypes {
		e.Check(path+".event_types", validation.WebhookEventType(t))
	}
	e.Check(path+".description", validation.Description(w.Description))
	switch {
	case w.Secret != "":
		e.Check(path+".secret", validation.WebhookSecret(w.Secret))
	case !update:
		e.Add(path+".secret", "is required: it signs every delivery")
	}
}

// validWebhookURL checks an endpoint's address by validation's rule and,
// where the URL names the address itself (an IP literal or localhost),
// by the rule deliveries are held to after DNS (checkWebhookAddress), so
// an endpoint no delivery could reach is refused when it is written.
func (s *Server) validWebhookURL(e *validation.Errors, field, raw string) {
	if err := validation.WebhookURL(raw); err != nil {
		e.Check(field, err)
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		e.Check(field, err)
		return
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	e.Check(field, checkWebhookAddress(net.JoinHostPort(host, "443"), s.hooks.allowLoopback))
}

// validTenantWebhookAddress holds the tenant's own endpoint (its
// deprecated webhook_url, whose form validTenant checks) to the address
// rule every endpoint is held to.
func (s *Server) validTenantWebhookAddress(e *validation.Errors, t *sirsiv1.Tenant) {
	if t == nil || t.WebhookUrl == "" || validation.WebhookURL(t.WebhookUrl) != nil {
		return
	}
	s.validWebhookURL(e, "tenant.webhook_url", t.WebhookUrl)
}
