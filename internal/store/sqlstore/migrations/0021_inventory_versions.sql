-- Issue 21: each tenant's inventory version, changed in the transaction of
-- every change to the tenant's resources. ListResources pages are cached
-- under it, so a replica reading it sees a new version as soon as the
-- change has committed, wherever it committed. No row: the tenant's
-- inventory never changed since this migration (version 0).
CREATE TABLE inventory_versions (
  tenant_id TEXT PRIMARY KEY,
  version BIGINT NOT NULL
);
