-- Times are Unix nanoseconds (0 = unset), hashes lower-case hex, maps and
-- nested messages JSON: the same schema runs on SQLite and PostgreSQL.

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  tier BIGINT NOT NULL,
  labels TEXT NOT NULL,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  version BIGINT NOT NULL
);

CREATE TABLE cloud_accounts (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  id TEXT NOT NULL,
  cloud BIGINT NOT NULL,
  account_id TEXT NOT NULL,
  regions TEXT NOT NULL,
  role_arn TEXT NOT NULL,
  external_id TEXT NOT NULL,
  display_name TEXT NOT NULL,
  status BIGINT NOT NULL,
  last_seen_time BIGINT NOT NULL,
  agent_version TEXT NOT NULL,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, account_id)
);

CREATE TABLE policies (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  mode BIGINT NOT NULL,
  spec TEXT NOT NULL,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name)
);

CREATE TABLE enrollment_tokens (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  cloud_account_id TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  ttl BIGINT NOT NULL,
  max_uses BIGINT NOT NULL,
  uses BIGINT NOT NULL,
  expire_time BIGINT NOT NULL,
  create_time BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, cloud_account_id) REFERENCES cloud_accounts (tenant_id, id)
);

CREATE TABLE api_tokens (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  id TEXT NOT NULL,
  role BIGINT NOT NULL,
  description TEXT NOT NULL,
  ttl BIGINT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  expire_time BIGINT NOT NULL,
  create_time BIGINT NOT NULL,
  last_used_time BIGINT NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE agents (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  cloud_account_id TEXT NOT NULL,
  version TEXT NOT NULL,
  hostname TEXT NOT NULL,
  status BIGINT NOT NULL,
  enroll_time BIGINT NOT NULL,
  last_seen_time BIGINT NOT NULL,
  cert_serial TEXT NOT NULL,
  cert_expire_time BIGINT NOT NULL,
  uptime BIGINT NOT NULL,
  last_sweep_times TEXT NOT NULL,
  last_error TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, cloud_account_id) REFERENCES cloud_accounts (tenant_id, id)
);
CREATE INDEX agents_account ON agents (tenant_id, cloud_account_id, id);

CREATE TABLE resources (
  tenant_id TEXT NOT NULL,
  cloud_account_id TEXT NOT NULL,
  region TEXT NOT NULL,
  type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  arn TEXT NOT NULL,
  name TEXT NOT NULL,
  size TEXT NOT NULL,
  state TEXT NOT NULL,
  tags TEXT NOT NULL,
  monthly_cost DOUBLE PRECISION NOT NULL,
  attributes TEXT NOT NULL,
  launch_time BIGINT NOT NULL,
  first_seen_time BIGINT NOT NULL,
  last_seen_time BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, cloud_account_id, region, type, resource_id),
  FOREIGN KEY (tenant_id, cloud_account_id) REFERENCES cloud_accounts (tenant_id, id)
);
-- Serve the type and region filters in the list's key order.
CREATE INDEX resources_type ON resources (tenant_id, type, cloud_account_id, region, resource_id);
CREATE INDEX resources_region ON resources (tenant_id, region, cloud_account_id, type, resource_id);

CREATE TABLE utilization (
  tenant_id TEXT NOT NULL,
  cloud_account_id TEXT NOT NULL,
  region TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  metric TEXT NOT NULL,
  statistic TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  window_start BIGINT NOT NULL,
  window_end BIGINT NOT NULL,
  coverage DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (tenant_id, cloud_account_id, region, resource_id, metric, statistic),
  FOREIGN KEY (tenant_id, cloud_account_id) REFERENCES cloud_accounts (tenant_id, id)
);
CREATE INDEX utilization_resource ON utilization (tenant_id, resource_id);

CREATE TABLE cost_records (
  tenant_id TEXT NOT NULL,
  cloud_account_id TEXT NOT NULL,
  day TEXT NOT NULL,
  account_id TEXT NOT NULL,
  service TEXT NOT NULL,
  region TEXT NOT NULL,
  tags TEXT NOT NULL,
  amount DOUBLE PRECISION NOT NULL,
  currency TEXT NOT NULL,
  PRIMARY KEY (tenant_id, cloud_account_id, day, account_id, service, region, tags),
  FOREIGN KEY (tenant_id, cloud_account_id) REFERENCES cloud_accounts (tenant_id, id)
);
CREATE INDEX cost_records_day ON cost_records (tenant_id, day);

CREATE TABLE cost_anomalies (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  cloud_account_id TEXT NOT NULL,
  day TEXT NOT NULL,
  service TEXT NOT NULL,
  expected_amount DOUBLE PRECISION NOT NULL,
  actual_amount DOUBLE PRECISION NOT NULL,
  score DOUBLE PRECISION NOT NULL,
  detect_time BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, cloud_account_id, day, service),
  FOREIGN KEY (tenant_id, cloud_account_id) REFERENCES cloud_accounts (tenant_id, id)
);

CREATE TABLE recommendations (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  policy_id TEXT NOT NULL,
  cloud_account_id TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  region TEXT NOT NULL,
  action TEXT NOT NULL,
  current_size TEXT NOT NULL,
  proposed_size TEXT NOT NULL,
  current_monthly_cost DOUBLE PRECISION NOT NULL,
  proposed_monthly_cost DOUBLE PRECISION NOT NULL,
  estimated_monthly_savings DOUBLE PRECISION NOT NULL,
  confidence DOUBLE PRECISION NOT NULL,
  reason TEXT NOT NULL,
  status BIGINT NOT NULL,
  evidence TEXT NOT NULL,
  create_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, cloud_account_id) REFERENCES cloud_accounts (tenant_id, id),
  FOREIGN KEY (tenant_id, policy_id) REFERENCES policies (tenant_id, id)
);
CREATE INDEX recommendations_status ON recommendations (tenant_id, status, id);
CREATE INDEX recommendations_set ON recommendations (tenant_id, cloud_account_id, policy_id, status);

CREATE TABLE actions (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  cloud_account_id TEXT NOT NULL,
  policy_id TEXT NOT NULL,
  recommendation_id TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  region TEXT NOT NULL,
  action TEXT NOT NULL,
  from_size TEXT NOT NULL,
  to_size TEXT NOT NULL,
  status BIGINT NOT NULL,
  dry_run BIGINT NOT NULL,
  realized_monthly_savings DOUBLE PRECISION NOT NULL,
  error TEXT NOT NULL,
  steps TEXT NOT NULL,
  start_time BIGINT NOT NULL,
  end_time BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, cloud_account_id) REFERENCES cloud_accounts (tenant_id, id)
);
CREATE INDEX actions_start ON actions (tenant_id, start_time);

CREATE TABLE applied_batches (
  tenant_id TEXT NOT NULL,
  batch_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  result TEXT NOT NULL,
  apply_time BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, batch_id)
);

-- Append-only: no statement in the store updates or deletes these rows.
CREATE TABLE audit_events (
  sequence BIGINT PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  time BIGINT NOT NULL,
  request_id TEXT NOT NULL,
  actor TEXT NOT NULL,
  source_address TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_events_tenant ON audit_events (tenant_id, sequence);
