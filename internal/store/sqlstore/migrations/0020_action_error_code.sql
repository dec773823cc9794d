-- Issue 13: an action keeps AWS's error code (AccessDenied,
-- UnauthorizedOperation, DBInstanceNotFound, ...) where ListActions and
-- sirsi_actions read it; until now only the account's denial count saw it.
ALTER TABLE actions ADD COLUMN error_code TEXT NOT NULL DEFAULT '';
