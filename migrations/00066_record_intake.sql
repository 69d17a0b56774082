-- +goose Up
-- Intake submissions: every record create made for an anonymous caller (a public form, a
-- webhook, a run one of them started) gets a submission id, which is all the caller is told.
-- A miss creates the record (status 'created'); a dedupe hit never touches the existing record:
-- the submitted values wait here (status 'pending') for someone who may update the record to
-- accept them (applied through the normal write path, with the accepting user as actor) or
-- dismiss them. Authenticated writers who may not read or update the matched record leave a
-- pending submission the same way.
CREATE TABLE record_intake (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id      uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    entity      text NOT NULL,
    record_id   uuid NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    status      text NOT NULL CHECK (status IN ('created', 'pending', 'accepted', 'dismissed')),
    source      text NOT NULL DEFAULT '',   -- api, form:<slug>, flow, import
    actor       uuid,                       -- the authenticated writer, null for anonymous intake
    keys        text[] NOT NULL DEFAULT '{}', -- the dedupe key that matched
    "values"    jsonb NOT NULL DEFAULT '{}',  -- the submitted values, normalised
    created_at  timestamptz NOT NULL DEFAULT now(),
    decided_at  timestamptz,
    decided_by  uuid REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX record_intake_pending_idx ON record_intake (record_id, created_at) WHERE status = 'pending';

-- +goose Down
DROP TABLE record_intake;
