-- Issues 18 and 19: signed checkpoints of the audit chain, and what
-- pruning keeps of the entries it removes.
--
-- A checkpoint is the chain head (sequence, hash) at one moment signed
-- with the server's Ed25519 key (store.AuditCheckpoint). Periodic ones
-- have the id "periodic-<sequence>", so replicas checkpointing the same
-- head write one row. A prune's checkpoint also signs which entries it
-- removed: scope (the tenant id), cutoff (entries older were removed), pruned (their
-- count) and digest (SHA-256 over their links).
CREATE TABLE audit_checkpoints (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  sequence BIGINT NOT NULL,
  hash TEXT NOT NULL,
  time BIGINT NOT NULL,
  scope TEXT NOT NULL,
  cutoff BIGINT NOT NULL,
  pruned BIGINT NOT NULL,
  digest TEXT NOT NULL,
  key_id TEXT NOT NULL,
  signature TEXT NOT NULL
);
CREATE INDEX audit_checkpoints_sequence ON audit_checkpoints (sequence);

-- A pruned entry's place in the chain: its content is gone, its
-- sequence and hashes stay so the entries after it still link and verify.
-- checkpoint_id is the prune that removed it, whose signed digest covers
-- these rows.
CREATE TABLE audit_pruned (
  sequence BIGINT PRIMARY KEY,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  checkpoint_id TEXT NOT NULL
);
CREATE INDEX audit_pruned_checkpoint ON audit_pruned (checkpoint_id, sequence);
