-- +goose Up
-- Typed accessors over records.data used by record filters, sorts, reports and the expression
-- indexes created at publish. They never raise on a badly typed value (they answer NULL), so a
-- field whose type changed between versions cannot make a list query fail.
CREATE FUNCTION tessera_num(v jsonb) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN jsonb_typeof(v) = 'number' THEN (v #>> '{}')::numeric END $$;

CREATE FUNCTION tessera_date(v jsonb) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN jsonb_typeof(v) = 'string' AND (v #>> '{}') ~ '^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])'
        THEN make_date(substr(v #>> '{}', 1, 4)::int, substr(v #>> '{}', 6, 2)::int, 1)
             + (substr(v #>> '{}', 9, 2)::int - 1) END $$;

CREATE FUNCTION tessera_ts(v jsonb) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN jsonb_typeof(v) = 'string'
        AND (v #>> '{}') ~ '^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)$'
        THEN (v #>> '{}')::timestamptz END $$;

-- Per-entity counters for autonumber fields.
CREATE TABLE record_counters (
    app_id  uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    entity  text NOT NULL,
    field   text NOT NULL,
    value   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, entity, field)
);

-- +goose Down
DROP TABLE record_counters;
DROP FUNCTION tessera_ts(jsonb);
DROP FUNCTION tessera_date(jsonb);
DROP FUNCTION tessera_num(jsonb);
