-- +goose Up
-- Stage paths: each record of an entity with stages carries the stages it went through, in
-- order (stage_path), and when it entered each of them (stage_in, same length). The records
-- service appends to both in the same statement that changes the stage, so they always agree
-- with the stage events in record_events. Funnel, dwell, stagnation, penetration and cycle
-- reports read them from the record row instead of aggregating the history (one scan of the
-- records instead of a join with millions of events).
ALTER TABLE records
    ADD COLUMN stage_path text[],
    ADD COLUMN stage_in   timestamptz[];

-- Which field the stage paths of an entity follow; publishing an entity whose stage field
-- changed rebuilds them.
CREATE TABLE stage_tracking (
    app_id     uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    entity     text NOT NULL,
    field      text NOT NULL,
    built_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, entity)
);

-- tessera_build_stage_paths rebuilds the stage paths of one entity's records from their stage
-- events (kind 'stage', changes->field = [old, new]): the path starts with the first event's
-- old stage (entered at creation) unless the first event is the creation's own [null, stage];
-- a record without stage events has the one-stage path of its current stage. It answers the
-- number of records written.
-- +goose StatementBegin
CREATE FUNCTION tessera_build_stage_paths(p_app uuid, p_entity text, p_field text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n1 bigint;
    n2 bigint;
BEGIN
    UPDATE records SET stage_path = NULL, stage_in = NULL
     WHERE app_id = p_app AND entity = p_entity AND stage_path IS NOT NULL;
    UPDATE records r
       SET stage_path = CASE WHEN p.first_old IS NULL THEN p.news ELSE p.first_old || p.news END,
           stage_in   = CASE WHEN p.first_old IS NULL THEN p.ats ELSE r.created_at || p.ats END
      FROM (SELECT e.record_id,
                   array_agg(e.changes->p_field->>1 ORDER BY e.at, e.id) AS news,
                   array_agg(e.at ORDER BY e.at, e.id) AS ats,
                   (array_agg(e.changes->p_field->>0 ORDER BY e.at, e.id))[1] AS first_old
              FROM record_events e
             WHERE e.app_id = p_app AND e.entity = p_entity AND e.kind = 'stage' AND e.changes ? p_field
             GROUP BY e.record_id) p
     WHERE r.id = p.record_id AND r.app_id = p_app AND r.entity = p_entity;
    GET DIAGNOSTICS n1 = ROW_COUNT;
    UPDATE records r
       SET stage_path = ARRAY[r.data->>p_field], stage_in = ARRAY[r.created_at]
     WHERE r.app_id = p_app AND r.entity = p_entity AND r.data ? p_field
       AND NOT EXISTS (SELECT 1 FROM record_events e
                        WHERE e.record_id = r.id AND e.app_id = p_app AND e.entity = p_entity
                          AND e.kind = 'stage' AND e.changes ? p_field);
    GET DIAGNOSTICS n2 = ROW_COUNT;
    INSERT INTO stage_tracking (app_id, entity, field) VALUES (p_app, p_entity, p_field)
        ON CONFLICT (app_id, entity) DO UPDATE SET field = EXCLUDED.field, built_at = now();
    RETURN n1 + n2;
END
$$;
-- +goose StatementEnd

-- tessera_stay_stats(float8) answers {average, median} of its values as an aggregate that runs
-- in parallel workers: each worker collects its values, the leader joins the arrays and works
-- out both per group with one sort. Dwell reports use it over millions of stays, where the
-- ordered-set percentile_cont would funnel every row through one sort in the leader.
-- +goose StatementBegin
CREATE FUNCTION tessera_stay_stats_final(a float8[]) RETURNS float8[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY[avg(v), percentile_cont(0.5) WITHIN GROUP (ORDER BY v)] FROM unnest(a) v
$$;
-- +goose StatementEnd
CREATE AGGREGATE tessera_stay_stats(float8) (
    SFUNC = array_append, STYPE = float8[], INITCOND = '{}',
    COMBINEFUNC = array_cat, FINALFUNC = tessera_stay_stats_final, PARALLEL = SAFE
);

-- Build the paths of every published entity with stages.
SELECT tessera_build_stage_paths(d.app_id, d.slug, v.body->'stages'->>'field')
  FROM definitions d
  JOIN definition_versions v ON v.definition_id = d.id AND v.version = d.published_version
 WHERE d.kind = 'entities' AND d.published_version > 0 AND coalesce(v.body->'stages'->>'field', '') <> '';

-- +goose Down
DROP AGGREGATE tessera_stay_stats(float8);
DROP FUNCTION tessera_stay_stats_final(float8[]);
DROP FUNCTION tessera_build_stage_paths(uuid, text, text);
DROP TABLE stage_tracking;
ALTER TABLE records
    DROP COLUMN stage_path,
    DROP COLUMN stage_in;
