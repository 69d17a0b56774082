-- +goose Up
-- Built-in roles (runtime/authz). Domain "*" rules apply in every app; users get them through
-- per-app grouping rules (g, <user id>, builder|member, <app id>).
INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4) VALUES
    ('p', 'admin',   'platform', '*',        '*',      'all'),
    ('p', 'builder', '*',        '*',        '*',      'all'),
    ('p', 'member',  '*',        'entity:*', 'read',   'own'),
    ('p', 'member',  '*',        'entity:*', 'create', 'own'),
    ('p', 'member',  '*',        'form:*',   'read',   'all'),
    ('p', 'member',  '*',        'app',      'read',   'all')
ON CONFLICT DO NOTHING;

-- The policy version: bumped in the same transaction as every policy, user or team change and
-- polled by every replica (a missed NOTIFY is caught within one poll interval).
INSERT INTO kv_settings (key, value) VALUES ('authz.policy_version', '1') ON CONFLICT DO NOTHING;

CREATE INDEX IF NOT EXISTS casbin_rule_dom_idx ON casbin_rule (ptype, v1, v0);
CREATE INDEX IF NOT EXISTS teams_parent_idx ON teams (parent_id);
CREATE INDEX IF NOT EXISTS teams_manager_idx ON teams (manager_id);
CREATE INDEX IF NOT EXISTS audit_log_action_idx ON audit_log (action, id DESC);
CREATE INDEX IF NOT EXISTS audit_log_actor_idx ON audit_log (actor, id DESC);

-- +goose Down
DROP INDEX IF EXISTS audit_log_actor_idx;
DROP INDEX IF EXISTS audit_log_action_idx;
DROP INDEX IF EXISTS teams_manager_idx;
DROP INDEX IF EXISTS teams_parent_idx;
DROP INDEX IF EXISTS casbin_rule_dom_idx;
DELETE FROM kv_settings WHERE key = 'authz.policy_version';
DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 IN ('*', 'platform') AND v0 IN ('admin', 'builder', 'member');
