package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/runtime/queue"
)

// Waiting for a run's outcome without polling: Await registers a channel keyed by the run id,
// which the process that finishes the run signals — in-process with the outcome (inline
// workings, River workers of this process), or through LISTEN queue.DoneChannel when another
// process finished it (the waiter then reads the run once).

type runWaiters struct {
	mu sync.Mutex
	m  map[uuid.UUID][]chan *RunResult

	listenOnce sync.Once
	ready      chan struct{} // closed once the LISTEN connection listened (or gave up once)
}

// signal hands res (nil: read the run) to every waiter of id.
func (w *runWaiters) signal(id uuid.UUID, res *RunResult) {
	w.mu.Lock()
	chs := w.m[id]
	delete(w.m, id)
	w.mu.Unlock()
	for _, ch := range chs {
		ch <- res // buffered (1), one signal per registration
	}
}

func (w *runWaiters) add(id uuid.UUID) chan *RunResult {
	ch := make(chan *RunResult, 1)
	w.mu.Lock()
	if w.m == nil {
		w.m = map[uuid.UUID][]chan *RunResult{}
	}
	w.m[id] = append(w.m[id], ch)
	w.mu.Unlock()
	return ch
}

func (w *runWaiters) remove(id uuid.UUID, ch chan *RunResult) {
	w.mu.Lock()
	defer w.mu.Unlock()
	chs := w.m[id]
	for i, c := range chs {
		if c == ch {
			chs = append(chs[:i], chs[i+1:]...)
			break
		}
	}
	if len(chs) == 0 {
		delete(w.m, id)
	} else {
		w.m[id] = chs
	}
}

// Await registers interest in run id's outcome; the channel receives it once (nil: the run
// finished elsewhere, read it). Call cancel when done waiting. Register before the run can
// finish (StartRequest.ID lets a caller know the id before the insert).
func (e *Engine) Await(id uuid.UUID) (<-chan *RunResult, func()) {
	ch := e.waiters.add(id)
	e.listenDone()
	return ch, func() { e.waiters.remove(id, ch) }
}

// listenDone starts, once, the connection that LISTENs on queue.DoneChannel, and waits (at
// most a few seconds) until it listens, so a run announced after Await is not missed.
func (e *Engine) listenDone() {
	e.waiters.listenOnce.Do(func() {
		e.waiters.ready = make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		e.stopListen = cancel
		go e.listenLoop(ctx)
	})
	select {
	case <-e.waiters.ready:
	case <-time.After(5 * time.Second):
	}
}

func (e *Engine) listenLoop(ctx context.Context) {
	var readyOnce sync.Once
	markReady := func() { readyOnce.Do(func() { close(e.waiters.ready) }) }
	defer markReady()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := e.listenOnce(ctx, markReady)
		if ctx.Err() != nil {
			return
		}
		markReady() // waiters fall back to their slow re-check meanwhile
		e.opts.Log.Warn("run outcome listener dropped; waiters re-check", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (e *Engine) listenOnce(ctx context.Context, ready func()) error {
	conn, err := pgx.ConnectConfig(ctx, e.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+queue.DoneChannel+" /* tessera:background */"); err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	ready()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if id, err := uuid.Parse(n.Payload); err == nil {
			e.waiters.signal(id, nil)
		}
	}
}

// WaitRun waits for an awaited run (ch from Await) to finish or timeout to pass, and answers
// its status, output and error (the current status after a timeout). It reads the run only
// when the outcome did not come with the signal, and re-checks every few seconds in case a
// notification was lost (a dropped listener).
func (e *Engine) WaitRun(ctx context.Context, id uuid.UUID, ch <-chan *RunResult, timeout time.Duration) (RunResult, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	recheck := time.NewTicker(2 * time.Second)
	defer recheck.Stop()
	for {
		select {
		case res := <-ch:
			if res != nil {
				return *res, nil
			}
			return e.ReadOutcome(ctx, id)
		case <-recheck.C:
			r, err := e.ReadOutcome(ctx, id)
			if err != nil || r.Status == StatusSucceeded || r.Status == StatusFailed {
				return r, err
			}
		case <-deadline.C:
			return e.ReadOutcome(ctx, id)
		case <-ctx.Done():
			return RunResult{}, ctx.Err()
		}
	}
}

// ReadOutcome reads a run's status, output and error.
func (e *Engine) ReadOutcome(ctx context.Context, id uuid.UUID) (RunResult, error) {
	var r RunResult
	var out []byte
	var msg *string
	if err := e.Pool.QueryRow(ctx, `SELECT status, output, error FROM flow_runs WHERE id = $1`, id).Scan(&r.Status, &out, &msg); err != nil {
		return r, fmt.Errorf("reading run: %w", err)
	}
	r.Output = json.RawMessage(out)
	if msg != nil {
		r.Error = *msg
	}
	return r, nil
}
