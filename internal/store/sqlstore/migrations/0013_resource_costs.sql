-- Issue 12 item 2: the savings ledger reconciled with the bill. Agents
-- report what Cost Explorer billed each resource per day
-- (GetCostAndUsageWithResources, EC2 instances, the last 14 days); the
-- store keeps them per cloud account, resource and day (amount NULL when
-- Cost Explorer's figure could not be read: unknown, not 0), and verifies
-- each ledger entry of the resource from them.
CREATE TABLE resource_costs (
  tenant_id TEXT NOT NULL,
  cloud_account_id TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  day TEXT NOT NULL,
  amount_micros BIGINT,
  currency TEXT NOT NULL,
  PRIMARY KEY (tenant_id, cloud_account_id, resource_type, resource_id, day),
  FOREIGN KEY (tenant_id, cloud_account_id) REFERENCES cloud_accounts (tenant_id, id)
);
-- Why an entry is still an estimate ('' while no resource-level cost has
-- been reported for its resource); empty once Cost Explorer verified it.
ALTER TABLE savings_ledger ADD COLUMN verify_note TEXT NOT NULL DEFAULT '';
-- The summary counts entries by verification from an index alone.
CREATE INDEX savings_ledger_verification ON savings_ledger (tenant_id, close_reason, verified_by, verify_note);
