-- +goose Up
-- flow_poll_state is the cursor and health of each published flow with a poll trigger
-- (runtime/trigger.Poller). A replica claims a due row with a lease, calls the connector's
-- Poll, then starts the runs and stores the new state in one transaction.
CREATE TABLE flow_poll_state (
    app_id          uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    flow            text NOT NULL,
    flow_version    int NOT NULL,
    connector       text NOT NULL,
    trigger_id      text NOT NULL,
    -- config_hash covers connector, trigger, credential and params: a change resets the state
    config_hash     text NOT NULL,
    interval_secs   int NOT NULL,
    state           bytea,
    next_poll_at    timestamptz NOT NULL,
    lease_owner     uuid,
    lease_until     timestamptz,
    last_polled_at  timestamptz,
    last_success_at timestamptz,
    last_error      text,
    last_error_at   timestamptz,
    failures        int NOT NULL DEFAULT 0,
    last_items      int NOT NULL DEFAULT 0,
    items_total     bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, flow)
);
CREATE INDEX flow_poll_state_due_idx ON flow_poll_state (next_poll_at);

-- +goose Down
DROP TABLE flow_poll_state;
