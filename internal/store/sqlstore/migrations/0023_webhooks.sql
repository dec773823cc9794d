-- Issue 18: several webhook endpoints per tenant, each with its own URL,
-- secret (sealed by internal/store/sealed, like the tenant's was), event
-- filter and enabled flag. event_types is a JSON array of event types;
-- empty means every type.
CREATE TABLE webhooks (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  event_types TEXT NOT NULL,
  enabled BIGINT NOT NULL,
  description TEXT NOT NULL,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

-- The tenant's single webhook becomes the endpoint whose id is the
-- tenant's id: the tenant API's webhook_url (deprecated) maps onto it, and
-- its secret, sealed under the tenant's context, is copied as it is
-- (sealed.WebhookAAD gives this endpoint the tenant's context), so nothing
-- is opened or lost.
INSERT INTO webhooks (tenant_id, id, url, secret, event_types, enabled, description, create_time, update_time, version)
SELECT id, id, webhook_url, webhook_secret, '[]', 1, 'sirsi_tenant webhook_url', update_time, update_time, 1
FROM tenants WHERE webhook_url <> '';
ALTER TABLE tenants DROP COLUMN webhook_url;
ALTER TABLE tenants DROP COLUMN webhook_secret;

-- An outbox row is now one event's delivery to one endpoint: webhook_id
-- names the endpoint, and dedup_key starts with the endpoint id so each
-- endpoint gets each change once. Rows written before went to the
-- tenant's webhook, which is the endpoint migrated above.
ALTER TABLE event_outbox ADD COLUMN webhook_id TEXT NOT NULL DEFAULT '';
UPDATE event_outbox SET webhook_id = tenant_id, dedup_key = tenant_id || '/' || dedup_key;
