// Package crashpoint names the step boundaries where crash tests kill
// agentd. In a binary built with the crashtest build tag, Hit kills the
// process (SIGKILL: no deferred cleanup, no flush) when SIRSI_CRASH_AT names
// the point; release builds do not carry the tag and Hit compiles to
// nothing.
package crashpoint

// EnvVar selects the point: "name" kills at its first hit, "name#n" at its
// n-th.
const EnvVar = "SIRSI_CRASH_AT"

// The points of an agent's discovery sweep, in order, and of the server's
// inventory ingest: the batch validated and nothing written yet, the
// upserts written inside the transaction, every deletion and unit applied
// but not committed, committed but not yet acknowledged.
const (
	AgentAfterCollect      = "agent.after_collect"
	AgentAfterSpoolAppend  = "agent.after_spool_append"
	AgentAfterSend         = "agent.after_send"
	AgentAfterSnapshotSave = "agent.after_snapshot_save"
	AgentAfterAck          = "agent.after_ack"
	ServerIngestReceived   = "server.ingest_received"
	ServerAfterUpserts     = "server.ingest_after_upserts"
	ServerBeforeCommit     = "server.ingest_before_commit"
	ServerAfterCommit      = "server.ingest_after_commit"
	// ServerActionsAfterCommit is after a batch of action reports is
	// stored and before it is audited and acknowledged: the report a
	// replica killed here took must be neither lost, nor listed or audited
	// twice when the agent sends it again to another replica.
	ServerActionsAfterCommit = "server.actions_after_commit"
	// The steps of an enrollment: the agent's key saved before the token
	// is presented, the server's enrollment committed and not answered,
	// the answer received and nothing saved, certificate and CA bundle
	// saved without identity.json, identity.json saved.
	AgentEnrollAfterKeySave      = "agent.enroll_after_key_save"
	ServerEnrollAfterCommit      = "server.enroll_after_commit"
	AgentEnrollAfterAnswer       = "agent.enroll_after_answer"
	AgentEnrollAfterCertSave     = "agent.enroll_after_cert_save"
	AgentEnrollAfterIdentitySave = "agent.enroll_after_identity_save"
)

// The steps of a webhook delivery: events claimed (leased) and not yet
// sent; the receiver's 2xx answer in and the outcome not yet recorded.
// A kill at either must leave every event delivered after the restart,
// under its one id (a kill after the answer sends that event again with
// the same id, the idempotency key receivers drop repeats by).
const (
	ServerWebhookAfterClaim = "server.webhook_after_claim"
	ServerWebhookAfterSend  = "server.webhook_after_send"
)

// WebhookPoints are the points of a delivery in order.
var WebhookPoints = []string{ServerWebhookAfterClaim, ServerWebhookAfterSend}

// EnrollPoints are the points of an enrollment in order.
var EnrollPoints = []string{AgentEnrollAfterKeySave, ServerEnrollAfterCommit, AgentEnrollAfterAnswer, AgentEnrollAfterCertSave, AgentEnrollAfterIdentitySave}

// AgentPoints are the agent's points in sweep order.
var AgentPoints = []string{AgentAfterCollect, AgentAfterSpoolAppend, AgentAfterSend, AgentAfterSnapshotSave, AgentAfterAck}

// ServerPoints are the server's ingest points in order.
var ServerPoints = []string{ServerIngestReceived, ServerAfterUpserts, ServerBeforeCommit, ServerAfterCommit}
