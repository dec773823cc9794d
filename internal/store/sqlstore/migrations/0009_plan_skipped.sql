-- Issue 13: a plan lists what it leaves alone on purpose (instances never
-- stopped, recommendations a live check refused), each with its reason, as
-- a JSON array of encoded sirsi.v1.PlanSkip like the actions column.
ALTER TABLE action_plans ADD COLUMN skipped TEXT NOT NULL DEFAULT '[]';
