-- An agent renewing its certificate keeps using the old one until the new
-- one is installed (and a reply lost in transit means it never was), so
-- the control plane accepts the previous serial until that certificate
-- expires. One previous certificate is enough: a renewal replaces it.
ALTER TABLE agents ADD COLUMN prev_cert_serial TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN prev_cert_expire_time BIGINT NOT NULL DEFAULT 0;
