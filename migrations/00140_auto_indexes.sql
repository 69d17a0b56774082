-- +goose Up
-- Expression indexes that runtime/autoindex creates (CONCURRENTLY, in the background) for the
-- fields that saved views and published reports filter or sort by, and drops when unused.
-- name is the index name (ax_<hash of app+entity>_<hash of field+kind>), never user text.
CREATE TABLE auto_indexes (
    name        text PRIMARY KEY,
    app_id      uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    entity      text NOT NULL,
    field       text NOT NULL,
    status      text NOT NULL DEFAULT 'building', -- building, ready, failed, dropped
    error       text,
    scans       bigint NOT NULL DEFAULT 0,        -- pg_stat_user_indexes.idx_scan last seen
    created_at  timestamptz NOT NULL DEFAULT now(),
    used_at     timestamptz NOT NULL DEFAULT now(), -- last pass that saw its scan count grow
    wanted_at   timestamptz NOT NULL DEFAULT now()  -- last pass that found a view or report using it
);
CREATE INDEX auto_indexes_app_idx ON auto_indexes (app_id);

-- +goose Down
DROP TABLE auto_indexes;
