-- Issue 18: the durable outbox of webhook events. A row is written in the
-- transaction that makes the change it reports (an anomaly first seen, an
-- action's new status), so an event exists exactly when its change does;
-- the control plane's delivery workers on every replica claim due rows,
-- POST them as CloudEvents and record the outcome. dedup_key makes each
-- change one event however often an agent reports it.
CREATE TABLE event_outbox (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  dedup_key TEXT NOT NULL,
  type TEXT NOT NULL,
  subject TEXT NOT NULL,
  data TEXT NOT NULL,
  create_time BIGINT NOT NULL,
  -- sirsi.v1.WebhookEventState: 1 pending, 2 delivered, 3 dead.
  state INTEGER NOT NULL DEFAULT 1,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_time BIGINT NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  finish_time BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, dedup_key)
);
CREATE INDEX event_outbox_due ON event_outbox (state, next_attempt_time);
