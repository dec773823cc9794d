-- Issue 12: the savings summary over 100k ledger entries in well under
-- 100 ms. What closed entries accrued to date, the entries whose rate is
-- unknown and the entries per verification are kept added up per group by
-- triggers (every write to the ledger, whichever code path or tenant
-- deletion makes it, keeps them exact), so that the summary reads a few
-- hundred group rows instead of every entry. Entries open or closed within
-- the periods are still read one by one: what each accrues depends on its
-- own hours (see sqlstore/ledger.go). The SQLite file does the same.
CREATE TABLE savings_ledger_totals (
  tenant_id TEXT NOT NULL,
  action TEXT NOT NULL,
  policy_id TEXT NOT NULL,
  cloud_account_id TEXT NOT NULL,
  verified_by TEXT NOT NULL,
  verify_note TEXT NOT NULL,
  close_reason TEXT NOT NULL,
  -- Entries of the group, open or closed; a group with none is deleted.
  entries BIGINT NOT NULL,
  -- Sum of accrued_micros over the group's closed entries.
  closed_accrued_micros BIGINT NOT NULL,
  -- Closed entries whose accrual is unknown (NULL).
  closed_unknown BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, action, policy_id, cloud_account_id, verified_by, verify_note, close_reason)
);
INSERT INTO savings_ledger_totals
SELECT tenant_id, action, policy_id, cloud_account_id, verified_by, verify_note, close_reason, COUNT(*),
  SUM(CASE WHEN closed_at IS NULL THEN 0 ELSE COALESCE(accrued_micros, 0) END),
  SUM(CASE WHEN closed_at IS NOT NULL AND accrued_micros IS NULL THEN 1 ELSE 0 END)
FROM savings_ledger GROUP BY tenant_id, action, policy_id, cloud_account_id, verified_by, verify_note, close_reason;
CREATE OR REPLACE FUNCTION savings_ledger_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE savings_ledger_totals SET entries = entries - 1,
      closed_accrued_micros = closed_accrued_micros - CASE WHEN OLD.closed_at IS NULL THEN 0 ELSE COALESCE(OLD.accrued_micros, 0) END,
      closed_unknown = closed_unknown - CASE WHEN OLD.closed_at IS NOT NULL AND OLD.accrued_micros IS NULL THEN 1 ELSE 0 END
    WHERE tenant_id = OLD.tenant_id AND action = OLD.action AND policy_id = OLD.policy_id AND cloud_account_id = OLD.cloud_account_id
      AND verified_by = OLD.verified_by AND verify_note = OLD.verify_note AND close_reason = OLD.close_reason;
    DELETE FROM savings_ledger_totals WHERE tenant_id = OLD.tenant_id AND action = OLD.action AND policy_id = OLD.policy_id AND cloud_account_id = OLD.cloud_account_id
      AND verified_by = OLD.verified_by AND verify_note = OLD.verify_note AND close_reason = OLD.close_reason AND entries = 0;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    INSERT INTO savings_ledger_totals VALUES (NEW.tenant_id, NEW.action, NEW.policy_id, NEW.cloud_account_id, NEW.verified_by, NEW.verify_note, NEW.close_reason, 1,
      CASE WHEN NEW.closed_at IS NULL THEN 0 ELSE COALESCE(NEW.accrued_micros, 0) END,
      CASE WHEN NEW.closed_at IS NOT NULL AND NEW.accrued_micros IS NULL THEN 1 ELSE 0 END)
    ON CONFLICT (tenant_id, action, policy_id, cloud_account_id, verified_by, verify_note, close_reason) DO UPDATE SET
      entries = savings_ledger_totals.entries + EXCLUDED.entries,
      closed_accrued_micros = savings_ledger_totals.closed_accrued_micros + EXCLUDED.closed_accrued_micros,
      closed_unknown = savings_ledger_totals.closed_unknown + EXCLUDED.closed_unknown;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER savings_ledger_totals_write AFTER INSERT OR DELETE ON savings_ledger FOR EACH ROW EXECUTE FUNCTION savings_ledger_totals_apply();
-- An update moves the entry out of its old group and into its new one,
-- only when something the totals hold changed.
CREATE TRIGGER savings_ledger_totals_update AFTER UPDATE ON savings_ledger FOR EACH ROW
WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.action IS DISTINCT FROM NEW.action OR OLD.policy_id IS DISTINCT FROM NEW.policy_id
  OR OLD.cloud_account_id IS DISTINCT FROM NEW.cloud_account_id OR OLD.verified_by IS DISTINCT FROM NEW.verified_by
  OR OLD.verify_note IS DISTINCT FROM NEW.verify_note OR OLD.close_reason IS DISTINCT FROM NEW.close_reason
  OR (OLD.closed_at IS NULL) <> (NEW.closed_at IS NULL) OR OLD.accrued_micros IS DISTINCT FROM NEW.accrued_micros)
EXECUTE FUNCTION savings_ledger_totals_apply();
-- The summary no longer scans every closed entry or every entry's
-- verification: those indexes go. The first closed entry (where "to
-- date" starts, unless an open one is older) is the first of an index in
-- opening order; partial, so that reads of open entries never choose it.
DROP INDEX savings_ledger_closed;
DROP INDEX savings_ledger_verification;
CREATE INDEX savings_ledger_closed_opened ON savings_ledger (tenant_id, opened_at) WHERE closed_at IS NOT NULL;
-- Open entries are read from their index alone (SQLite reads a row for
-- any column the index lacks, closed_at included).
DROP INDEX savings_ledger_open;
CREATE INDEX savings_ledger_open ON savings_ledger (tenant_id, action, policy_id, cloud_account_id, verified_by,
  opened_at, rate_before_micros, rate_after_micros, reconciled_hourly_savings_micros, closed_at) WHERE closed_at IS NULL;
