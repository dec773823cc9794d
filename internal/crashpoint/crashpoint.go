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
)

// AgentPoints are the agent's points in sweep order.
var AgentPoints = []string{AgentAfterCollect, AgentAfterSpoolAppend, AgentAfterSend, AgentAfterSnapshotSave, AgentAfterAck}

// ServerPoints are the server's ingest points in order.
var ServerPoints = []string{ServerIngestReceived, ServerAfterUpserts, ServerBeforeCommit, ServerAfterCommit}
