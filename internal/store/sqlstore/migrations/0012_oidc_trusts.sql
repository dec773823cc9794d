-- Issue 22: OIDC trusts. A tenant's admins name an issuer, an audience,
-- bound claims and a role; tokens that issuer signs then call
-- ManagementService in the tenant without a stored secret. The issuer
-- index serves the one cross-tenant read: which trusts name the issuer of
-- a token being verified. bound_claims is a JSON object of claim name to
-- pattern; max_token_age is nanoseconds.
CREATE TABLE oidc_trusts (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  issuer TEXT NOT NULL,
  audience TEXT NOT NULL,
  bound_claims TEXT NOT NULL,
  role BIGINT NOT NULL,
  subject_claim TEXT NOT NULL,
  max_token_age BIGINT NOT NULL,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name)
);
CREATE INDEX oidc_trusts_issuer ON oidc_trusts (issuer);
