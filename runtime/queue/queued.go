package queue

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// Time queued counts against a run's deadline. A working of a run may last JobTimeout from the
// moment its job became ready (inserted, woken, or rescheduled after an error), not from the
// moment a worker fetched it; a job that waited long still gets MinWork to make progress (a
// cancelled working is retried and resumes after its last persisted step).

type readyKey struct{}

// ReadyAt is when the job being worked became ready to run; false outside a queue worker.
func ReadyAt(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(readyKey{}).(time.Time)
	return t, ok
}

// readyAt is when job became ready: its wake-up time, its retry time after an error, else its
// insertion (snoozes keep counting from there).
func readyAt(job *river.Job[RunArgs]) time.Time {
	switch {
	case len(job.Errors) > 0:
		return job.ScheduledAt
	case job.Args.At > 0:
		return time.UnixMilli(job.Args.At)
	}
	return job.CreatedAt
}

// workContext carries the ready time and the deadline of one working.
func workContext(ctx context.Context, job *river.Job[RunArgs], timeout time.Duration) (context.Context, context.CancelFunc) {
	ready := readyAt(job)
	ctx = context.WithValue(ctx, readyKey{}, ready)
	deadline := ready.Add(timeout)
	if floor := time.Now().Add(minWork(timeout)); deadline.Before(floor) {
		deadline = floor
	}
	return context.WithDeadline(ctx, deadline)
}

// minWork is the least time a working gets however long its job waited.
func minWork(timeout time.Duration) time.Duration { return timeout / 4 }
