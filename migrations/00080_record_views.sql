-- +goose Up
-- Saved list views of an entity's records: the columns (in order), filter, sort and grouping
-- a user chose. A personal view (shared = false) is seen by its owner only; a shared view by
-- everyone who can read the entity, and is written by app builders and admins.
CREATE TABLE record_views (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id      uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    entity      text NOT NULL,
    owner_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        text NOT NULL,
    shared      boolean NOT NULL DEFAULT false,
    config      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX record_views_entity_idx ON record_views (app_id, entity, owner_id);

-- +goose Down
DROP TABLE record_views;
