package validation

import (
	"fmt"
	"slices"
	"strings"
)

// Webhook event types: the CloudEvents "type" of each event the control
// plane delivers, and the names a sirsi_webhook's event_types filter
// accepts. docs/webhooks.md describes when each fires and its data.
const (
	EventRecommendationOpened = "recommendation.opened"
	EventRecommendationClosed = "recommendation.closed"
	EventPlanPendingApproval  = "plan.pending_approval"
	EventActionStarted        = "action.started"
	EventActionSucceeded      = "action.succeeded"
	EventActionRolledBack     = "action.rolled_back"
	EventActionFailed         = "action.failed"
	EventAgentConnected       = "agent.connected"
	EventAgentStale           = "agent.stale"
	EventCostAnomaly          = "cost.anomaly"
	EventSavingsVerified      = "savings.verified"
)

// WebhookEventTypes lists every event type, in the order the docs give.
func WebhookEventTypes() []string {
	return []string{
		EventRecommendationOpened, EventRecommendationClosed, EventPlanPendingApproval,
		EventActionStarted, EventActionSucceeded, EventActionRolledBack, EventActionFailed,
		EventAgentConnected, EventAgentStale, EventCostAnomaly, EventSavingsVerified,
	}
}

// WebhookEventType checks one entry of an event-type filter.
func WebhookEventType(s string) error {
	if !slices.Contains(WebhookEventTypes(), s) {
		return fmt.Errorf("%q is not an event type (one of %s)", s, strings.Join(WebhookEventTypes(), ", "))
	}
	return nil
}
