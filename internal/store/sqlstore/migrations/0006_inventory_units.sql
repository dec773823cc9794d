-- Issue 14: anti-entropy. Each sweep states every collection unit's
-- membership; a resource whose unit failed keeps its last state with stale
-- set, and last_seen_time (the column, not the record) is the last sweep
-- that named it.
ALTER TABLE resources ADD COLUMN stale BIGINT NOT NULL DEFAULT 0;

-- One row per collection unit (a resource type in a region of an account):
-- the newest sweep that reported on it, how many ids its parts named so
-- far, and the error when that sweep could not collect it. A part of an
-- older sweep than sweep_time arrives out of order and is ignored.
CREATE TABLE inventory_units (
  tenant_id TEXT NOT NULL,
  cloud_account_id TEXT NOT NULL,
  region TEXT NOT NULL,
  type TEXT NOT NULL,
  sweep_time BIGINT NOT NULL,
  named BIGINT NOT NULL,
  error TEXT NOT NULL,
  PRIMARY KEY (tenant_id, cloud_account_id, region, type),
  FOREIGN KEY (tenant_id, cloud_account_id) REFERENCES cloud_accounts (tenant_id, id)
);
