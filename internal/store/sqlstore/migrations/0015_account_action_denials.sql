-- Issue 13: AWS refusing the agent's actions with an authorization error
-- (AccessDenied, UnauthorizedOperation) shows on the cloud account as
-- actions_denied once it has happened this many times in a row; an action
-- that succeeds (or is rolled back) resets the count and the status.
ALTER TABLE cloud_accounts ADD COLUMN action_denials INTEGER NOT NULL DEFAULT 0;
