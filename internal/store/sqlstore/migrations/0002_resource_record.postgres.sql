-- The complete resource as one deterministic protobuf message, written at
-- upsert (all but first_seen_time, which an upsert keeps from the first
-- report and which stays a column): a list page decodes one blob per row
-- instead of sixteen columns and two JSON maps. Rows written before this
-- migration are filled in by the migration's backfill.
ALTER TABLE resources ADD COLUMN record BYTEA;
-- Tag filters were a text-to-jsonb cast and a lookup per row; as JSONB
-- with a GIN index a filter is one containment test (tags @> '{...}') that
-- the index can answer.
ALTER TABLE resources ALTER COLUMN tags TYPE JSONB USING tags::jsonb;
CREATE INDEX resources_tags ON resources USING GIN (tags jsonb_path_ops);
