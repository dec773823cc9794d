-- A tenant's cost-anomaly webhook: where deliveries go and the HMAC key
-- that signs them. Both empty means no webhook, which is what every tenant
-- created before this migration has.
ALTER TABLE tenants ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN webhook_secret TEXT NOT NULL DEFAULT '';
