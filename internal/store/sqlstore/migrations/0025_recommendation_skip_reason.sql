-- Issue 13: why the agent leaves a recommendation alone although its
-- policy's mode acts (an Auto Scaling group member, an excluded resource,
-- a refused live check...): the API's SkipReason number (0: not skipped,
-- or unknown) and the reason in words. Every report sets both, so a
-- reason that no longer applies is cleared. Recommendations made before
-- this migration have no known reason.
ALTER TABLE recommendations ADD COLUMN skip_reason INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recommendations ADD COLUMN skip_detail TEXT NOT NULL DEFAULT '';
