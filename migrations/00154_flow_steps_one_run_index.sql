-- +goose NO TRANSACTION
-- +goose Up
-- flow_steps had two indexes led by run_id: (run_id, id) and (run_id, node, id DESC). The second
-- answers every look-up of a run's steps (a run has a handful: ordering them by id is a sort of
-- a few rows), so the first only cost two index entries per run of two steps (#18).
DROP INDEX CONCURRENTLY IF EXISTS flow_steps_run_idx;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS flow_steps_run_idx ON flow_steps (run_id, id);
