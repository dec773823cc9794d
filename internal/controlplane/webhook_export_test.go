package controlplane

import "time"

// SetWebhookTiming shortens the wait before the first retry and the idle
// workers' poll; call it before Run.
func (s *Server) SetWebhookTiming(backoff, poll time.Duration) {
	s.hooks.backoff, s.hooks.poll = backoff, poll
}

const WebhookMaxAttempts = webhookMaxAttempts
