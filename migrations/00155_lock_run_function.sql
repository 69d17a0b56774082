-- +goose Up
-- tessera_lock_run takes a run's advisory transaction lock, or fails with lock_not_available
-- (55P03) when another working holds it. An inline working sends BEGIN, this call and its first
-- statement in one round trip (#18, runtime/engine/runtx.go): a failed call aborts the
-- transaction, so the statements sent after it never run, where a false from
-- pg_try_advisory_xact_lock would let them run (and a COMMIT among them commit).
-- +goose StatementBegin
CREATE FUNCTION tessera_lock_run(key bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(key) THEN
        RAISE EXCEPTION 'run lock % is held by another working', key USING ERRCODE = 'lock_not_available';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION tessera_lock_run(bigint);
