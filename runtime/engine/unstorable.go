package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/pgtext"
)

// unstorable answers a permanent step error when the step's result or its input (a script's logs
// are its input) holds text PostgreSQL cannot store (a NUL character: a script returning or
// logging "\0", encoding.base64Decode('AAAA'), a remote API answering one). Storing would fail,
// and a retry would repeat the step's side effect only to fail again; the data is not altered
// silently either.
func unstorable(x *Exec, res Result) error {
	if err := pgtext.CheckValue("output", res.Output); err != nil {
		return Permanent(err)
	}
	if res.Wait != nil {
		if err := pgtext.CheckValue("state", res.Wait.State); err != nil {
			return Permanent(err)
		}
	}
	if err := pgtext.CheckValue("input", x.Input); err != nil {
		return Permanent(err)
	}
	return nil
}

// ErrDataException marks a run failed on a PostgreSQL data exception (SQLSTATE class 22): the
// queue does not retry it.
var ErrDataException = errors.New("data exception")

// failOnDataException fails the run when working it hit a PostgreSQL data exception that no
// step check caught: the same data fails the same way on every retry, so the run is failed now
// with the database's message instead of staying "running" while the queue retries it.
func (e *Engine) failOnDataException(ctx context.Context, runID uuid.UUID, err error) error {
	if err == nil || !pgtext.IsDataException(err) {
		return err
	}
	run, lerr := e.loadRun(ctx, e.Pool, runID)
	if lerr != nil {
		return fmt.Errorf("%w: %w", ErrDataException, err)
	}
	msg := fmt.Sprintf("the run's data cannot be stored / 运行数据无法保存: %v", err)
	if ferr := e.finish(ctx, run, StatusFailed, nil, msg); ferr != nil {
		return fmt.Errorf("%w: %w", ErrDataException, err)
	}
	return nil
}
