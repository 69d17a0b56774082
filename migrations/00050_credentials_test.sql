-- +goose Up
-- Outcome of the latest "test connection" of a credential (shown next to it in the UI).
ALTER TABLE credentials
    ADD COLUMN last_test_ok    boolean,
    ADD COLUMN last_test_error text,
    ADD COLUMN last_test_at    timestamptz;

-- +goose Down
ALTER TABLE credentials
    DROP COLUMN last_test_ok,
    DROP COLUMN last_test_error,
    DROP COLUMN last_test_at;
