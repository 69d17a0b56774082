-- In-app notifications: a task or approval was assigned, reminded, escalated or delegated, or an
-- approval was decided. The UI renders kind + params in the reader's language; title is the
-- task's (user-written) title. dedupe_key makes a retried step notify exactly once.
-- +goose Up
CREATE TABLE notifications (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        text NOT NULL,  -- task_assigned, task_reminder, task_escalated, task_delegated, approval_decided
    title       text NOT NULL DEFAULT '',
    params      jsonb NOT NULL DEFAULT '{}',
    -- link targets (any may be null)
    app_id      uuid REFERENCES apps(id) ON DELETE CASCADE,
    task_id     uuid REFERENCES tasks(id) ON DELETE CASCADE,
    run_id      uuid REFERENCES flow_runs(id) ON DELETE SET NULL,
    record_id   uuid,
    dedupe_key  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz
);
CREATE UNIQUE INDEX notifications_dedupe_key ON notifications (dedupe_key) WHERE dedupe_key IS NOT NULL;
-- a user's list, newest first, and the unread badge
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id, created_at DESC, id DESC) WHERE read_at IS NULL;

-- +goose Down
DROP TABLE notifications;
