-- Issue 14: each sweep's last failure (time and error) as the agent
-- reports it in its heartbeat, beside last_sweep_times, so sirsi_agents
-- shows per sweep when it last succeeded and when and why it last failed.
ALTER TABLE agents ADD COLUMN last_sweep_failures TEXT NOT NULL DEFAULT '{}';
