-- +goose Up
-- One-time upload tokens of public forms: an anonymous visitor uploads a file to an attachment
-- field of a public form and gets a token (only its hash is kept); the submission that names
-- the token attaches the file, once. The visitor never learns the file id and cannot read it.
CREATE TABLE form_uploads (
    token_hash  text PRIMARY KEY,
    form_id     uuid NOT NULL REFERENCES definitions(id) ON DELETE CASCADE,
    field       text NOT NULL,
    file_id     uuid NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    used_at     timestamptz,
    submission_id uuid -- the submission (receipt) that attached the file
);
CREATE INDEX form_uploads_unused ON form_uploads (created_at) WHERE used_at IS NULL;

-- +goose Down
DROP TABLE form_uploads;
