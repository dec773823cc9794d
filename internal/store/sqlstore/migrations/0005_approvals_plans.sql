-- Issue 6: approvals, saved dry-run plans and the tenant-wide action cap.
-- The tenant limits are NULL when unset, since unset (the server's
-- default) and zero (no actions at all) mean different things.
ALTER TABLE tenants ADD COLUMN rate_limit_per_minute BIGINT;
ALTER TABLE tenants ADD COLUMN max_actions_per_hour BIGINT;

ALTER TABLE recommendations ADD COLUMN approved_by TEXT NOT NULL DEFAULT '';
ALTER TABLE recommendations ADD COLUMN approve_time BIGINT NOT NULL DEFAULT 0;

ALTER TABLE actions ADD COLUMN plan_id TEXT NOT NULL DEFAULT '';
CREATE INDEX actions_plan ON actions (tenant_id, plan_id);

-- A plan is saved whole and never changes afterwards (only its status and
-- approval do), so its actions are one JSON array.
CREATE TABLE action_plans (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  cloud_account_id TEXT NOT NULL,
  policy_id TEXT NOT NULL,
  status BIGINT NOT NULL,
  actions TEXT NOT NULL,
  estimated_monthly_savings DOUBLE PRECISION NOT NULL,
  create_time BIGINT NOT NULL,
  approved_by TEXT NOT NULL,
  approve_time BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX action_plans_set ON action_plans (tenant_id, cloud_account_id, policy_id, status);

-- One row per ReserveActions call; the cap sums granted over the trailing
-- hour of create_time.
CREATE TABLE action_reservations (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  cloud_account_id TEXT NOT NULL,
  policy_id TEXT NOT NULL,
  requested BIGINT NOT NULL,
  granted BIGINT NOT NULL,
  retry_time BIGINT NOT NULL,
  create_time BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX action_reservations_time ON action_reservations (tenant_id, create_time);
