-- Issue 12: realised savings are a ledger, not a month per action. Each
-- executed action that changes a resource's hourly cost opens an entry
-- (keyed by the action's id, so a re-reported action opens nothing twice);
-- it accrues (rate_before - rate_after) per hour from opened_at until
-- closed_at (NULL while open). Money is micro-units of US dollars per hour,
-- NULL when unknown; times are Unix nanoseconds like every other table.
CREATE TABLE savings_ledger (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  cloud_account_id TEXT NOT NULL,
  policy_id TEXT NOT NULL,
  region TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  action TEXT NOT NULL,
  to_size TEXT NOT NULL,
  rate_before_micros BIGINT,
  rate_after_micros BIGINT,
  -- agent, recommendation or unknown (internal/ledger).
  rate_source TEXT NOT NULL,
  opened_at BIGINT NOT NULL,
  closed_at BIGINT,
  -- What the entry accrued from opened_at to closed_at, set when it
  -- closes (and when reconciliation changes its rate), so that a summary
  -- adds closed entries up without recomputing them; NULL while open or
  -- when the rate is unknown.
  accrued_micros BIGINT,
  close_reason TEXT NOT NULL DEFAULT '',
  -- estimate or cost_explorer; the reconciled hourly saving replaces the
  -- estimate in accrual when Cost Explorer verified it.
  verified_by TEXT NOT NULL DEFAULT 'estimate',
  reconciled_hourly_savings_micros BIGINT,
  reconcile_time BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, cloud_account_id) REFERENCES cloud_accounts (tenant_id, id)
);
-- The next action on a resource finds its entries.
CREATE INDEX savings_ledger_resource ON savings_ledger (tenant_id, cloud_account_id, resource_id, opened_at);
-- The summary: closed and open entries summed per group from an index
-- alone, in group order (no sort of every entry); entries closed within a
-- period.
CREATE INDEX savings_ledger_closed ON savings_ledger (tenant_id, action, policy_id, cloud_account_id, verified_by, accrued_micros, opened_at) WHERE closed_at IS NOT NULL;
CREATE INDEX savings_ledger_open ON savings_ledger (tenant_id, action, policy_id, cloud_account_id, verified_by,
  opened_at, rate_before_micros, rate_after_micros, reconciled_hourly_savings_micros) WHERE closed_at IS NULL;
CREATE INDEX savings_ledger_close_time ON savings_ledger (tenant_id, closed_at);
