-- +goose Up
-- tessera_lock_run takes a run's advisory transaction lock for its first working, or fails
-- with lock_not_available (55P03) when another working holds the lock or has worked the run
-- meanwhile (it is no longer queued or running, or has steps). An inline working sends BEGIN,
-- this call and its first statement in one round trip (#18, runtime/engine/runtx.go): a failed
-- call aborts the transaction, so the statements sent after it never run, where a false from
-- pg_try_advisory_xact_lock would let them run (and a COMMIT among them commit). The check
-- after the lock reads what committed before it (a volatile function's queries each take a
-- fresh snapshot).
-- +goose StatementBegin
CREATE FUNCTION tessera_lock_run(key bigint, run uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(key) THEN
        RAISE EXCEPTION 'run % is being worked by another working', run USING ERRCODE = 'lock_not_available';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM flow_runs WHERE id = run AND status IN ('queued', 'running'))
       OR EXISTS (SELECT 1 FROM flow_steps WHERE run_id = run) THEN
        RAISE EXCEPTION 'run % was worked by another working', run USING ERRCODE = 'lock_not_available';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION tessera_lock_run(bigint, uuid);
