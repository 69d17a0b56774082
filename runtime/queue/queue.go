// Package queue runs flow runs durably on River (PostgreSQL): enqueue in the caller's
// transaction, work with snooze and retry, and resume jobs of crashed workers within seconds
// (liveness.go).
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/tessera/tessera/runtime/pgtext"
)

// QueueName is the River queue flow runs are worked on.
const QueueName = "flows"

// ErrBusy is returned by a handler when another worker holds the run; the job is snoozed.
var ErrBusy = errors.New("run is busy")

// RunArgs is the job of working one flow run. At is the wake-up time for scheduled jobs (unix
// ms), part of the unique key so one wake-up per run and instant is queued.
type RunArgs struct {
	RunID uuid.UUID `json:"run_id"`
	At    int64     `json:"at,omitempty"`
	// Wait is set when a caller waits for the run's outcome (a sync webhook): its finishing
	// announces the run on DoneChannel so a waiter in another process answers at once.
	Wait bool `json:"wait,omitempty"`
}

// DoneChannel is the LISTEN/NOTIFY channel on which finished awaited runs are announced (the
// payload is the run id).
const DoneChannel = "tessera_run_done"

type waitKey struct{}

// Awaited reports whether a caller waits for the outcome of the run being worked (RunArgs.Wait).
func Awaited(ctx context.Context) bool {
	v, _ := ctx.Value(waitKey{}).(bool)
	return v
}

// WithAwaited marks ctx as working an awaited run.
func WithAwaited(ctx context.Context) context.Context { return context.WithValue(ctx, waitKey{}, true) }

// Kind is the persistent job kind (survives renames).
func (RunArgs) Kind() string { return "tessera.flow.run" }

// Handler works a run; ErrBusy snoozes the job, a PostgreSQL data exception (SQLSTATE class 22)
// cancels it, other errors are retried by River.
type Handler func(ctx context.Context, runID uuid.UUID) error

// Options configure a Queue.
type Options struct {
	// Work starts workers (role all or worker); without it the queue only inserts jobs.
	Work bool
	// Workers is the number of runs worked at once (default 10). Each working run holds one
	// pooled connection (its advisory lock and step writes) and borrows others for record
	// writes, so keep it well below the pool size.
	Workers int
	Handler Handler
	// JobTimeout bounds one working of a run (default 2 min); RescueAfter makes jobs of a
	// crashed worker available again (default 3 min; must exceed JobTimeout).
	JobTimeout  time.Duration
	RescueAfter time.Duration
	// PollInterval is how often workers look for jobs besides LISTEN/NOTIFY (default 1s).
	PollInterval time.Duration
	// LivenessInterval is how often a working process rescues the jobs of dead workers
	// (default 1s; see liveness.go).
	LivenessInterval time.Duration
	Log              *slog.Logger
	ID               string
}

// Queue inserts and works flow-run jobs.
type Queue struct {
	client  *river.Client[pgx.Tx]
	work    bool
	live    *liveness
	workers int
	timeout time.Duration
}

// Working reports whether this process works runs (and so may work a run it accepts at once,
// see engine's inline working).
func (q *Queue) Working() bool { return q != nil && q.work }

// Workers is the number of runs River works at once in this process.
func (q *Queue) Workers() int { return q.workers }

// JobTimeout bounds one working of a run.
func (q *Queue) JobTimeout() time.Duration { return q.timeout }

type worker struct {
	river.WorkerDefaults[RunArgs]
	h       Handler
	timeout time.Duration
}

func (w *worker) Timeout(*river.Job[RunArgs]) time.Duration { return w.timeout }

func (w *worker) Work(ctx context.Context, job *river.Job[RunArgs]) error {
	ctx, cancel := workContext(ctx, job, w.timeout) // queued.go: time queued counts
	defer cancel()
	if job.Args.Wait {
		ctx = WithAwaited(ctx)
	}
	err := w.h(ctx, job.Args.RunID)
	if errors.Is(err, ErrBusy) {
		return river.JobSnooze(500 * time.Millisecond)
	}
	if pgtext.IsDataException(err) {
		// SQLSTATE class 22 (22P05 a NUL in text, 22021 bad UTF-8...): the same data fails the
		// same way again, and a retry would repeat the run's side effects first.
		return river.JobCancel(err)
	}
	return err
}

// New builds a queue on pool.
func New(pool *pgxpool.Pool, o Options) (*Queue, error) {
	if o.Workers <= 0 {
		o.Workers = 10
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = 2 * time.Minute
	}
	if o.RescueAfter <= o.JobTimeout {
		o.RescueAfter = o.JobTimeout + time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	cfg := &river.Config{
		// River reports its routine work (producer job counts every few seconds) at info level;
		// only its warnings and errors belong in the server's log.
		Logger:               slog.New(minLevel{o.Log.Handler(), slog.LevelWarn}).With("component", "river"),
		JobTimeout:           o.JobTimeout,
		RescueStuckJobsAfter: o.RescueAfter,
		MaxAttempts:          25,
		ID:                   o.ID,
	}
	// River fetches at most Workers jobs per fetch and waits FetchCooldown (default 100 ms)
	// between fetches, which caps throughput at ~10 x Workers runs/s; fetch more eagerly.
	cfg.FetchCooldown = 10 * time.Millisecond
	if o.PollInterval > 0 {
		cfg.FetchPollInterval = o.PollInterval
		if o.PollInterval < 20*time.Millisecond {
			cfg.FetchCooldown = o.PollInterval / 2
		}
	}
	var live *liveness
	if o.Work {
		live = newLiveness(pool, o.ID, o.LivenessInterval, o.Log)
		cfg.ID = live.id
		if o.Handler == nil {
			return nil, errors.New("queue: a handler is required to work jobs")
		}
		workers := river.NewWorkers()
		if err := river.AddWorkerSafely(workers, &worker{h: o.Handler, timeout: o.JobTimeout}); err != nil {
			return nil, fmt.Errorf("queue: adding worker: %w", err)
		}
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{QueueName: {MaxWorkers: o.Workers}}
	}
	c, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("queue: creating River client: %w", err)
	}
	return &Queue{client: c, work: o.Work, live: live, workers: o.Workers, timeout: o.JobTimeout}, nil
}

// Start starts the workers (no-op for an insert-only queue).
func (q *Queue) Start(ctx context.Context) error {
	if !q.work {
		return nil
	}
	if err := q.live.start(ctx); err != nil {
		return err
	}
	if err := q.client.Start(ctx); err != nil {
		q.live.stop()
		return fmt.Errorf("queue: starting: %w", err)
	}
	return nil
}

// Stop waits for running jobs up to ctx's deadline, then cancels them.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.work {
		return nil
	}
	defer q.live.stop()
	if err := q.client.Stop(ctx); err != nil {
		if err2 := q.client.StopAndCancel(context.Background()); err2 != nil {
			return fmt.Errorf("queue: stopping: %w", err2)
		}
	}
	return nil
}

func opts(at time.Time) (RunArgs, *river.InsertOpts) {
	o := &river.InsertOpts{Queue: QueueName}
	var a RunArgs
	if !at.IsZero() && at.After(time.Now()) {
		o.ScheduledAt = at
		a.At = at.UnixMilli()
		o.UniqueOpts = river.UniqueOpts{ByArgs: true}
	}
	return a, o
}

// EnqueueTx inserts a job for run in tx (committed with the caller's write); a zero at means
// now.
func (q *Queue) EnqueueTx(ctx context.Context, tx pgx.Tx, runID uuid.UUID, at time.Time) error {
	a, o := opts(at)
	a.RunID = runID
	if _, err := q.client.InsertTx(ctx, tx, a, o); err != nil {
		return fmt.Errorf("queue: enqueueing run %s: %w", runID, err)
	}
	return nil
}

// Enqueue inserts a job for run in its own transaction.
func (q *Queue) Enqueue(ctx context.Context, runID uuid.UUID, at time.Time) error {
	a, o := opts(at)
	a.RunID = runID
	if _, err := q.client.Insert(ctx, a, o); err != nil {
		return fmt.Errorf("queue: enqueueing run %s: %w", runID, err)
	}
	return nil
}

// EnqueueManyTx inserts immediate jobs for runs in tx.
func (q *Queue) EnqueueManyTx(ctx context.Context, tx pgx.Tx, runIDs []uuid.UUID) error {
	if len(runIDs) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(runIDs))
	for i, id := range runIDs {
		params[i] = river.InsertManyParams{Args: RunArgs{RunID: id}, InsertOpts: &river.InsertOpts{Queue: QueueName}}
	}
	if _, err := q.client.InsertManyFastTx(ctx, tx, params); err != nil {
		return fmt.Errorf("queue: enqueueing %d runs: %w", len(runIDs), err)
	}
	return nil
}

// Client exposes the River client (metrics, tests).
func (q *Queue) Client() *river.Client[pgx.Tx] { return q.client }

var _ rivertype.JobArgs = RunArgs{}

// minLevel drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(a), h.min}
}

func (h minLevel) WithGroup(n string) slog.Handler { return minLevel{h.Handler.WithGroup(n), h.min} }
