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
