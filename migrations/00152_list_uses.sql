-- +goose Up
-- How often people filter or sort an entity's list by a field without saving a view (a column
-- header clicked, a quick filter): runtime/autoindex wants an index for a field lists use
-- often, as it does for the fields of saved views and reports.
CREATE TABLE list_uses (
    app_id    uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    entity    text NOT NULL,
    field     text NOT NULL,
    uses      bigint NOT NULL,
    last_used timestamptz NOT NULL,
    PRIMARY KEY (app_id, entity, field)
);

-- +goose Down
DROP TABLE list_uses;
