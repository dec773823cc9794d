package controlplane

import (
	"context"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// DeliverAnomalies queues anomalies for the tenant's webhook, as the
// agent's cost report does.
func (s *Server) DeliverAnomalies(ctx context.Context, tenantID string, anomalies []*sirsiv1.CostAnomaly) {
	s.deliverAnomalies(ctx, tenantID, anomalies)
}

// SetWebhookBackoff shortens the wait before the first retry; call it
// before Run.
func (s *Server) SetWebhookBackoff(d time.Duration) { s.hooks.backoff = d }

// SetWebhookQueueSize replaces the delivery queue; call it before Run and
// before anything is queued.
func (s *Server) SetWebhookQueueSize(n int) { s.hooks.queue = make(chan webhookJob, n) }

const WebhookMaxAttempts = webhookMaxAttempts
