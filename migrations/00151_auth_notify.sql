-- +goose Up
-- A change that can end or alter a signed-in identity (a session or API token deleted, a
-- token's expiry or owner changed, a user changed or deleted) is announced on tessera_auth:
-- each replica's cache of resolved tokens (server/auth) drops what it holds.
-- +goose StatementBegin
CREATE FUNCTION tessera_auth_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tessera_auth', TG_TABLE_NAME);
  RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER sessions_auth_notify AFTER UPDATE OR DELETE ON sessions FOR EACH STATEMENT EXECUTE FUNCTION tessera_auth_notify();
CREATE TRIGGER api_tokens_auth_notify AFTER DELETE OR UPDATE OF token_hash, user_id, expires_at ON api_tokens FOR EACH STATEMENT EXECUTE FUNCTION tessera_auth_notify();
CREATE TRIGGER users_auth_notify AFTER UPDATE OR DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION tessera_auth_notify();

-- +goose Down
DROP TRIGGER users_auth_notify ON users;
DROP TRIGGER api_tokens_auth_notify ON api_tokens;
DROP TRIGGER sessions_auth_notify ON sessions;
DROP FUNCTION tessera_auth_notify();
