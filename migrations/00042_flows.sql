-- Flow runtime state: step ports and wait state, run parents and request hashes, side-effect
-- idempotency keys, cron bookkeeping, assignment counters and task extras.
-- +goose Up
ALTER TABLE flow_steps ADD COLUMN port text;
ALTER TABLE flow_steps ADD COLUMN state jsonb;
ALTER TABLE flow_steps ADD COLUMN wake_at timestamptz;
CREATE INDEX flow_steps_run_node_idx ON flow_steps (run_id, node, id DESC);
-- waiting steps that watch record changes (wait_event): state->>'watch' = 'app:entity:record|*'
CREATE INDEX flow_steps_watch_idx ON flow_steps ((state->>'watch')) WHERE status = 'waiting';

ALTER TABLE flow_runs ADD COLUMN request_hash text;
ALTER TABLE flow_runs ADD COLUMN parent_run_id uuid REFERENCES flow_runs(id) ON DELETE SET NULL;
ALTER TABLE flow_runs ADD COLUMN parent_node text;
ALTER TABLE flow_runs ADD COLUMN run_as text NOT NULL DEFAULT 'service';
CREATE INDEX flow_runs_status_idx ON flow_runs (status, wake_at) WHERE status IN ('queued', 'running', 'waiting');

-- flow_effects remembers side effects by idempotency key (run id + node id [+ item index]);
-- it is written in the same transaction as the effect, so a replay finds it and skips the write.
CREATE TABLE flow_effects (
    key         text PRIMARY KEY,
    run_id      uuid,
    result      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- flow_cron_state is the last tick fired per cron flow (missed-fire policy after downtime).
CREATE TABLE flow_cron_state (
    app_id     uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    flow       text NOT NULL,
    last_tick  timestamptz NOT NULL,
    PRIMARY KEY (app_id, flow)
);

-- flow_assign_state holds round-robin cursors of assign nodes.
CREATE TABLE flow_assign_state (
    app_id   uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    key      text NOT NULL,
    counter  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, key)
);

ALTER TABLE tasks ADD COLUMN data jsonb NOT NULL DEFAULT '{}';
ALTER TABLE tasks ADD COLUMN delegated_from uuid;
ALTER TABLE tasks ADD COLUMN remind_at timestamptz;
ALTER TABLE tasks ADD COLUMN reminded_at timestamptz;
CREATE INDEX tasks_run_idx ON tasks (run_id, node);

-- +goose Down
DROP INDEX tasks_run_idx;
ALTER TABLE tasks DROP COLUMN data, DROP COLUMN delegated_from, DROP COLUMN remind_at, DROP COLUMN reminded_at;
DROP TABLE flow_assign_state, flow_cron_state, flow_effects;
DROP INDEX flow_runs_status_idx;
ALTER TABLE flow_runs DROP COLUMN request_hash, DROP COLUMN parent_run_id, DROP COLUMN parent_node, DROP COLUMN run_as;
DROP INDEX flow_steps_watch_idx;
DROP INDEX flow_steps_run_node_idx;
ALTER TABLE flow_steps DROP COLUMN port, DROP COLUMN state, DROP COLUMN wake_at;
