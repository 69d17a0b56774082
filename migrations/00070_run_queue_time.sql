-- +goose Up
-- Time a run spent waiting for a worker: queued_at is when its latest working became ready
-- (created, woken, retried), queued_ms the total wait over all its workings.
ALTER TABLE flow_runs ADD COLUMN queued_at timestamptz;
ALTER TABLE flow_runs ADD COLUMN queued_ms bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE flow_runs DROP COLUMN queued_at, DROP COLUMN queued_ms;
