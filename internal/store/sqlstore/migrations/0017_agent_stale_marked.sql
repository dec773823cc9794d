-- Issue 18: agent.stale and agent.connected webhook events. stale_marked
-- is the last-seen time of an agent the control plane found silent for
-- longer than agent_stale_after (0: not marked). Marking it and writing
-- the agent.stale event happen in one transaction, and so do the next
-- heartbeat's clearing it and the agent.connected event, so each silence
-- makes one event of each kind on any number of replicas.
ALTER TABLE agents ADD COLUMN stale_marked BIGINT NOT NULL DEFAULT 0;
