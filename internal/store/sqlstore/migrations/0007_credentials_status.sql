-- Issue 13: the agent checks before every sweep that its AWS credentials
-- belong to its cloud account. The verdict is kept in the status columns
-- (credentials_mismatch, assume_role_failed); the detail says why.
ALTER TABLE agents ADD COLUMN status_detail TEXT NOT NULL DEFAULT '';
ALTER TABLE cloud_accounts ADD COLUMN status_detail TEXT NOT NULL DEFAULT '';
