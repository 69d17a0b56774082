-- +goose NO TRANSACTION
-- +goose Up
-- The default list order is "created_at DESC, id DESC" (the id tie-breaker follows the last
-- key), so a page cursor is one row comparison (created_at, id) < ($1, $2): an index bound,
-- and any page costs the same at any depth. Built concurrently so a large install keeps
-- accepting writes while it migrates.
CREATE INDEX CONCURRENTLY IF NOT EXISTS records_keyset_idx ON records (app_id, entity, created_at DESC, id DESC) WHERE deleted_at IS NULL;
DROP INDEX CONCURRENTLY IF EXISTS records_list_idx;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS records_list_idx ON records (app_id, entity, created_at DESC, id) WHERE deleted_at IS NULL;
DROP INDEX CONCURRENTLY IF EXISTS records_keyset_idx;
