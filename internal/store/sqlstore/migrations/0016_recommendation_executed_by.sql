-- Issue 15: who carried out an executed recommendation: "agent" (its
-- action was reported) or "external" (an inventory sweep found the
-- resource at the proposed size without one: a Terraform apply). Every
-- recommendation executed so far was closed by an agent's action.
ALTER TABLE recommendations ADD COLUMN executed_by TEXT NOT NULL DEFAULT '';
UPDATE recommendations SET executed_by = 'agent' WHERE status = 4;
