package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ErrNotTestRun: only test runs have a clock of their own that may be fast-forwarded.
// ErrRunNotFound: no run has that id.
var ErrRunNotFound = errors.New("run not found")

// ErrNotTestRun: only test runs can be fast-forwarded.
var ErrNotTestRun = errors.New("only a test run can be fast-forwarded")

// ErrNothingToFastForward: the run is not parked on a timer (it waits for a person or an
// event without a deadline, or it is not waiting at all).
var ErrNothingToFastForward = errors.New("the run is not waiting for a timer")

// FastForward moves a waiting test run's simulated clock to its next timer (a delay's end,
// a wait-for-event timeout, a task's reminder or due time, an approval's reminder or
// timeout) and wakes it, so the timer fires now instead of after the real wait. It answers
// how far the clock moved. Other runs and the engine clock are untouched.
func (e *Engine) FastForward(ctx context.Context, runID uuid.UUID) (time.Duration, error) {
	var moved time.Duration
	err := pgx.BeginFunc(ctx, e.Pool, func(tx pgx.Tx) error {
		var test bool
		var status string
		var offsetMS int64
		err := tx.QueryRow(ctx, `SELECT test, status, clock_offset_ms FROM flow_runs WHERE id = $1 FOR UPDATE`, runID).Scan(&test, &status, &offsetMS)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrRunNotFound
		}
		if err != nil {
			return fmt.Errorf("loading run %s: %w", runID, err)
		}
		if !test {
			return ErrNotTestRun
		}
		var wake *time.Time
		if status == StatusWaiting {
			if err := tx.QueryRow(ctx, `SELECT min(wake_at) FROM flow_steps WHERE run_id = $1 AND status = 'waiting'`, runID).Scan(&wake); err != nil {
				return fmt.Errorf("finding the run's next timer: %w", err)
			}
		}
		if wake == nil {
			return ErrNothingToFastForward
		}
		now := e.now().Add(time.Duration(offsetMS) * time.Millisecond)
		if d := wake.Sub(now); d > 0 {
			moved = d + time.Second // past the timer, not on it
		}
		if _, err := tx.Exec(ctx, `UPDATE flow_runs SET clock_offset_ms = clock_offset_ms + $2 WHERE id = $1`, runID, moved.Milliseconds()); err != nil {
			return fmt.Errorf("moving the run's clock: %w", err)
		}
		return e.Wake(ctx, tx, runID)
	})
	return moved, err
}

// WakeDue wakes every waiting run whose next timer is due on the engine clock and answers how
// many it woke. Timers normally wake runs through the queue's scheduled jobs at the real time;
// a server driven by a simulated clock (Options.Now in tests, see server/apitest.Clock) calls
// this after moving its clock, so a 2-hour SLA or a 3-day wait fires at once.
func (e *Engine) WakeDue(ctx context.Context) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, e.Pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM flow_runs WHERE status = 'waiting' AND wake_at IS NOT NULL
			AND wake_at <= $1::timestamptz - make_interval(secs => clock_offset_ms / 1000.0) ORDER BY wake_at`, e.now())
		if err != nil {
			return fmt.Errorf("finding due runs: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return fmt.Errorf("finding due runs: %w", err)
		}
		for _, id := range ids {
			if err := e.Wake(ctx, tx, id); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}
