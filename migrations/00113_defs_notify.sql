-- +goose Up
-- Every change of a definition (publish, draft, delete) or an app announces the app id on
-- tessera_defs: each replica's definition cache (runtime/defs) drops what it holds.
-- +goose StatementBegin
CREATE FUNCTION tessera_defs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('tessera_defs', OLD.app_id::text);
  ELSE
    PERFORM pg_notify('tessera_defs', NEW.app_id::text);
  END IF;
  RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION tessera_apps_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tessera_defs', OLD.id::text);
  RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER definitions_notify AFTER INSERT OR UPDATE OR DELETE ON definitions FOR EACH ROW EXECUTE FUNCTION tessera_defs_notify();
CREATE TRIGGER apps_notify AFTER UPDATE OR DELETE ON apps FOR EACH ROW EXECUTE FUNCTION tessera_apps_notify();

-- +goose Down
DROP TRIGGER apps_notify ON apps;
DROP TRIGGER definitions_notify ON definitions;
DROP FUNCTION tessera_apps_notify();
DROP FUNCTION tessera_defs_notify();
