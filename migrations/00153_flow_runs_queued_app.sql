-- +goose NO TRANSACTION
-- +goose Up
-- The per-app cap on working runs yields to idle capacity (runtime/engine/fairness.go): an app
-- at its cap may take another worker when no other app's run is queued. This index answers
-- "is another app's run queued?" with two short range scans, however long one app's backlog.
CREATE INDEX CONCURRENTLY IF NOT EXISTS flow_runs_queued_app_idx ON flow_runs (app_id) WHERE status = 'queued';

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS flow_runs_queued_app_idx;
