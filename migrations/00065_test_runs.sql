-- +goose Up
-- Test runs (started from the flow builder on a sample) carry test = true, and their own
-- simulated clock: clock_offset_ms is added to the engine's clock for that run only, so the
-- builder can fast-forward a test run's waits (delay, wait-for-event timeout, task due,
-- approval timeout) instead of sleeping.
ALTER TABLE flow_runs ADD COLUMN test boolean NOT NULL DEFAULT false;
ALTER TABLE flow_runs ADD COLUMN clock_offset_ms bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE flow_runs DROP COLUMN test, DROP COLUMN clock_offset_ms;
