-- +goose Up
CREATE TABLE teams (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    parent_id   uuid REFERENCES teams(id),
    manager_id  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email          text NOT NULL,
    name           text NOT NULL DEFAULT '',
    password_hash  text NOT NULL DEFAULT '',
    is_admin       boolean NOT NULL DEFAULT false,
    disabled       boolean NOT NULL DEFAULT false,
    team_id        uuid REFERENCES teams(id),
    locale         text NOT NULL DEFAULT 'zh-CN',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
ALTER TABLE teams ADD CONSTRAINT teams_manager_fk FOREIGN KEY (manager_id) REFERENCES users(id);

CREATE TABLE sessions (
    id            text PRIMARY KEY,            -- sha256 of the cookie value
    user_id       uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE api_tokens (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          text NOT NULL DEFAULT '',
    token_hash    text NOT NULL UNIQUE,        -- sha256 of the token
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    expires_at    timestamptz
);

CREATE TABLE apps (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE,
    name        text NOT NULL,
    settings    jsonb NOT NULL DEFAULT '{}',
    created_by  uuid REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE definitions (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id             uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    kind               text NOT NULL,          -- entity, form, flow, report, dashboard
    slug               text NOT NULL,
    draft              jsonb NOT NULL,
    published_version  int NOT NULL DEFAULT 0,
    public_id          text UNIQUE,            -- public forms only
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    updated_by         uuid REFERENCES users(id),
    UNIQUE (app_id, kind, slug)
);

CREATE TABLE definition_versions (
    definition_id  uuid NOT NULL REFERENCES definitions(id) ON DELETE CASCADE,
    version        int NOT NULL,
    body           jsonb NOT NULL,
    published_at   timestamptz NOT NULL DEFAULT now(),
    published_by   uuid REFERENCES users(id),
    PRIMARY KEY (definition_id, version)
);

CREATE TABLE records (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id      uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    entity      text NOT NULL,
    data        jsonb NOT NULL DEFAULT '{}',
    owner_id    uuid,
    team_id     uuid,
    version     int NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE INDEX records_list_idx ON records (app_id, entity, created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX records_owner_idx ON records (app_id, entity, owner_id) WHERE deleted_at IS NULL;
CREATE INDEX records_team_idx ON records (app_id, entity, team_id) WHERE deleted_at IS NULL;

CREATE TABLE record_events (
    id         bigserial PRIMARY KEY,
    record_id  uuid NOT NULL,
    app_id     uuid NOT NULL,
    entity     text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      uuid,
    kind       text NOT NULL,                  -- created, updated, deleted, stage, merged
    changes    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX record_events_record_idx ON record_events (record_id, at);
CREATE INDEX record_events_entity_idx ON record_events (app_id, entity, kind, at);

CREATE TABLE files (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL,
    type         text NOT NULL,
    size         bigint NOT NULL,
    sha256       text NOT NULL,
    path         text NOT NULL,
    app_id       uuid,
    record_id    uuid,
    uploaded_by  uuid,
    uploaded_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE credentials (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id      uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    name        text NOT NULL,
    connector   text NOT NULL,
    ciphertext  bytea NOT NULL,                -- AES-GCM nonce || sealed JSON
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (app_id, name)
);

CREATE TABLE flow_runs (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id          uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    flow            text NOT NULL,
    flow_version    int NOT NULL,
    status          text NOT NULL DEFAULT 'queued',  -- queued, running, waiting, succeeded, failed
    trigger         jsonb NOT NULL DEFAULT '{}',
    output          jsonb,
    error           text,
    idempotency_key text,
    actor           uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    wake_at         timestamptz
);
CREATE INDEX flow_runs_flow_idx ON flow_runs (app_id, flow, created_at DESC);
CREATE UNIQUE INDEX flow_runs_idem_key ON flow_runs (app_id, flow, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE flow_steps (
    id           bigserial PRIMARY KEY,
    run_id       uuid NOT NULL REFERENCES flow_runs(id) ON DELETE CASCADE,
    node         text NOT NULL,
    status       text NOT NULL,               -- running, succeeded, failed, waiting
    input        jsonb,
    output       jsonb,
    error        text,
    attempt      int NOT NULL DEFAULT 1,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
CREATE INDEX flow_steps_run_idx ON flow_steps (run_id, id);

CREATE TABLE tasks (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id       uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    run_id       uuid REFERENCES flow_runs(id) ON DELETE SET NULL,
    node         text,
    kind         text NOT NULL DEFAULT 'task',  -- task, approval
    title        text NOT NULL,
    assignee_id  uuid,
    record_id    uuid,
    status       text NOT NULL DEFAULT 'open',  -- open, done, cancelled
    due_at       timestamptz,
    outcome      text,
    comment      text,
    completed_by uuid,
    completed_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_assignee_idx ON tasks (assignee_id, status);

CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     uuid,
    action    text NOT NULL,
    target    text NOT NULL DEFAULT '',
    before    jsonb,
    after     jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);

CREATE TABLE casbin_rule (
    id     bigserial PRIMARY KEY,
    ptype  text NOT NULL DEFAULT '',
    v0     text NOT NULL DEFAULT '',
    v1     text NOT NULL DEFAULT '',
    v2     text NOT NULL DEFAULT '',
    v3     text NOT NULL DEFAULT '',
    v4     text NOT NULL DEFAULT '',
    v5     text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX casbin_rule_key ON casbin_rule (ptype, v0, v1, v2, v3, v4, v5);

CREATE TABLE kv_settings (
    key    text PRIMARY KEY,
    value  jsonb NOT NULL
);

-- +goose Down
DROP TABLE kv_settings, casbin_rule, audit_log, tasks, flow_steps, flow_runs, credentials, files,
    record_events, records, definition_versions, definitions, apps, api_tokens, sessions;
ALTER TABLE teams DROP CONSTRAINT teams_manager_fk;
DROP TABLE users, teams;
