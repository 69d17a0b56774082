package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/runtime/pgtext"
)

// Inline working. A process that works runs may work a run it accepts itself, at once, instead
// of waiting for River to fetch it: the run's job is inserted already claimed by this process
// (state running, attempt 1, attempted_by this process's worker ID), so no River producer
// fetches it, and the liveness reaper (liveness.go) makes it available to the other workers if
// this process dies. The working deletes the job when it commits; when it cannot finish (the
// run is busy, an error), Release hands the job to River, which retries it like any other.

// claimedJobColumns are the river_job columns JobInsert sets.
const claimedJobColumns = `args, kind, max_attempts, queue, priority, state, attempt, attempted_at, attempted_by, scheduled_at, tags, metadata`

// JobInsert returns the INSERT of one job for the run whose id is the SQL expression runExpr
// selected from src; waitParam, stateParam and byParam are the placeholders of the wait flag
// (boolean), the state (text: running or available) and the claiming worker ID (text).
func JobInsert(runExpr, src, waitParam, stateParam, byParam string) string {
	return `INSERT INTO river_job (` + claimedJobColumns + `)
	SELECT jsonb_strip_nulls(jsonb_build_object('run_id', ` + runExpr + `, 'wait', CASE WHEN ` + waitParam + ` THEN true END)), '` + RunArgs{}.Kind() + `', 25, '` + QueueName + `', 1,
		` + stateParam + `::river_job_state, CASE WHEN ` + stateParam + ` = 'running' THEN 1 ELSE 0 END,
		CASE WHEN ` + stateParam + ` = 'running' THEN now() END, CASE WHEN ` + stateParam + ` = 'running' THEN ARRAY[` + byParam + `::text] END,
		now(), '{}'::varchar(255)[], '{}'::jsonb FROM ` + src + ` RETURNING id`
}

// InsertNotify is the SQL expression waking River's producers for a job inserted available
// (one notification per insert: River's own limiter skips inserts within FetchCooldown of
// the previous one, and a job committed after that fetch waited for the next poll).
const InsertNotify = `pg_notify(concat(current_schema(), '.river_insert'), '{"queue": "` + QueueName + `"}')`

// ErrHandOff releases an inline job to River at once (the run is not one to work inline).
var ErrHandOff = errors.New("run handed to the queue")

// Release hands an inline-worked job that did not commit its working to River: snoozed when
// the run was busy, cancelled on a data exception, otherwise retried after a short delay.
func Release(ctx context.Context, pool *pgxpool.Pool, jobID int64, cause error) error {
	ctx = context.WithoutCancel(ctx)
	if errors.Is(cause, ErrHandOff) {
		_, err := pool.Exec(ctx, `WITH j AS (UPDATE river_job SET state = 'available', scheduled_at = now(), attempt = 0, attempted_at = NULL, attempted_by = NULL
			WHERE id = $1 AND state = 'running' RETURNING id)
			SELECT `+InsertNotify+` FROM j`, jobID)
		if err != nil {
			return fmt.Errorf("queue: handing job %d over: %w", jobID, err)
		}
		return nil
	}
	state, delay := "scheduled", time.Second
	switch {
	case errors.Is(cause, ErrBusy):
		delay = 500 * time.Millisecond
	case pgtext.IsDataException(cause):
		state = "cancelled"
	}
	msg := ""
	if cause != nil {
		msg = pgtext.Clean(cause.Error())
	}
	// River's scheduler makes a scheduled job available when due (and wakes a producer).
	_, err := pool.Exec(ctx, `UPDATE river_job SET state = $2::river_job_state, scheduled_at = now() + $3 * interval '1 millisecond',
		finalized_at = CASE WHEN $2 = 'cancelled' THEN now() END,
		errors = CASE WHEN $4 = '' THEN errors ELSE array_append(coalesce(errors, '{}'), jsonb_build_object('at', now(), 'attempt', attempt, 'error', $4::text, 'trace', '')) END
		WHERE id = $1 AND state = 'running'`, jobID, state, delay.Milliseconds(), msg)
	if err != nil {
		return fmt.Errorf("queue: releasing job %d: %w", jobID, err)
	}
	return nil
}
