-- +goose Up
-- Comments on a record. mentions are the users the author @-mentioned; each was notified and
-- could read the record when the comment was written.
CREATE TABLE record_comments (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id     uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    entity     text NOT NULL,
    record_id  uuid NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    author     uuid REFERENCES users(id) ON DELETE SET NULL,
    body       text NOT NULL,
    mentions   uuid[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX record_comments_record_idx ON record_comments (record_id, created_at);

-- +goose Down
DROP TABLE record_comments;
