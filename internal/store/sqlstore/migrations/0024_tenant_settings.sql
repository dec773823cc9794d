-- Issues 18 and 19: per-tenant settings. The tenant's aggregate request
-- budget and live-token cap override the server's; the retention days
-- override the server's retention defaults (NULL: the default; 0: keep for
-- ever).
ALTER TABLE tenants ADD COLUMN tenant_rate_limit_per_minute BIGINT;
ALTER TABLE tenants ADD COLUMN max_api_tokens BIGINT;
ALTER TABLE tenants ADD COLUMN utilization_retention_days BIGINT;
ALTER TABLE tenants ADD COLUMN action_retention_days BIGINT;
ALTER TABLE tenants ADD COLUMN anomaly_retention_days BIGINT;
ALTER TABLE tenants ADD COLUMN audit_retention_days BIGINT;
-- The savings summary counts executed actions of all time by outcome;
-- retention removes old finished actions, and adds what it removed here in
-- the same transaction, so the counts stay what they were.
CREATE TABLE pruned_action_counts (
  tenant_id TEXT PRIMARY KEY,
  taken BIGINT NOT NULL,
  succeeded BIGINT NOT NULL,
  rolled_back BIGINT NOT NULL,
  failed BIGINT NOT NULL
);
-- The pruner finds what is older than a tenant's cutoff from an index.
CREATE INDEX utilization_window_end ON utilization (tenant_id, window_end);
CREATE INDEX actions_end ON actions (tenant_id, end_time);
CREATE INDEX cost_anomalies_detect ON cost_anomalies (tenant_id, detect_time);
