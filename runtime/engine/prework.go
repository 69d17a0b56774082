package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/runtime/pgtx"
)

// Working a run before it is accepted (#18): a run started on its own (a webhook's) whose plan
// may be worked in one transaction (inlinePlanOK) is worked by the accepting process first,
// and the transaction that commits its record writes also inserts the run, finished, with its
// steps. Nothing else can see the run before that commit, so it needs no lock, no job and no
// second write of its row: a webhook run costs `begin` with its first write, then its steps and
// its row sent with the `commit`.
//
// Only a run that succeeds within PreworkWithin is committed this way. Any other outcome (a
// failed node, a retry or wait to park, a database error, the deadline) rolls the working back
// and the run is accepted and worked as before (startNow): its failure is recorded and routed
// as usual. Nothing was written, and the nodes of such a plan do nothing outside the
// transaction (a script's http.fetch is refused in it), so working it again repeats nothing
// outside the database. A plan whose working ran past the deadline, or whose last three such
// workings did not succeed, is accepted first for a minute (Plan.preworkAfter), so a slow or
// failing flow is not worked twice per run. The caller learns the run's id once it committed:
// a 202 means the run exists, as before. When the connection fails with the commit in flight
// (errCommit), the run is accepted under the same id: the accept finds the run if the commit
// happened (waiting for it if it is under way) and works it otherwise.

// DefaultPreworkWithin is how long a run may be worked before its accept (Options.PreworkWithin).
const DefaultPreworkWithin = 250 * time.Millisecond

// preworkPause is how long a plan whose working ran past the deadline, or whose last
// preworkMissesToPause workings did not succeed, is accepted first.
const preworkPause = time.Minute

// preworkMissesToPause is how many workings before the accept in a row may end otherwise than
// succeeded (each is worked again) before the plan's runs are accepted first for preworkPause.
const preworkMissesToPause = 3

// errNotAccepted ends a working before the run's accept whose outcome is not a success: it is
// rolled back and the run accepted first.
var errNotAccepted = errors.New("the run is accepted first")

// unacceptedRun is what a working before its accept inserts the run with.
type unacceptedRun struct {
	r    StartRequest
	trig []byte
	at   time.Time // the start request's time: the run's creation and queue time
}

// insertFinishedRunSQL follows stepsInsert: the run, succeeded, inserted after its steps in one
// statement (the steps' foreign key is checked at the statement's end).
const insertFinishedRunSQL = `
INSERT INTO flow_runs (id, app_id, flow, flow_version, status, trigger, actor, run_as, created_at, queued_at, started_at, finished_at, output)
VALUES ($1, $13, $14, $15, 'succeeded', $16, $17, $18, $19, $19, $20, $21, $22)`

// args are insertFinishedRunSQL's arguments, after the steps' (b.stepArgs).
func (u *unacceptedRun) args(b *batch, output []byte) []any {
	return append(b.stepArgs(u.r.ID), u.r.AppID, u.r.Flow, u.r.Version, u.trig, u.r.Actor, u.r.RunAs, u.at, b.started, time.Now(), output)
}

// preworkable reports whether run r of plan may be worked before its accept: started on its
// own (no idempotency key, parent or test), of a pinned version, not paused.
func (e *Engine) preworkable(r StartRequest, plan *Plan) bool {
	return e.opts.PreworkWithin >= 0 && plan != nil && r.Version > 0 && r.IdempotencyKey == "" &&
		r.ParentRun == nil && r.ParentNode == "" && !r.Test && time.Now().UnixNano() >= plan.preworkAfter.Load()
}

// prework works run r (its ID set) of plan before its accept and commits it with the run's row;
// the caller holds an inline slot and the app's slot. An error that is not errCommit left
// nothing written: the caller accepts the run.
func (e *Engine) prework(ctx context.Context, r StartRequest, trig []byte, plan *Plan) (*RunResult, error) {
	within := e.opts.PreworkWithin
	if within == 0 {
		within = DefaultPreworkWithin
	}
	at := time.Now()
	conn, err := e.sessions.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquiring connection: %w", err)
	}
	defer conn.Release()
	// the deadline is the working's, from here: a wait for a connection or a caller's own
	// deadline does not pause the plan
	wctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	res, err := e.preworkOn(wctx, conn, r, trig, plan, at)
	switch {
	case err == nil:
		plan.preworkMisses.Store(0)
		metricRunLatency.WithLabelValues("inline").Observe(time.Since(at).Seconds())
		return res, nil
	case errors.Is(err, errCommit):
	case errors.Is(wctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		plan.preworkAfter.Store(time.Now().Add(preworkPause).UnixNano())
	case errors.Is(err, errNotAccepted) && plan.preworkMisses.Add(1) >= preworkMissesToPause:
		// a flow whose runs keep failing would be worked twice per run
		plan.preworkMisses.Store(0)
		plan.preworkAfter.Store(time.Now().Add(preworkPause).UnixNano())
	}
	return nil, err
}

// preworkOn is prework's working on conn, within ctx's deadline.
func (e *Engine) preworkOn(ctx context.Context, conn *pgxpool.Conn, r StartRequest, trig []byte, plan *Plan, at time.Time) (*RunResult, error) {
	r.RunAs = RunAsOf(plan.Flow)
	run := &runRow{ID: r.ID, AppID: r.AppID, Flow: r.Flow, Version: r.Version, Status: StatusRunning, Trigger: r.Trigger, RunAs: r.RunAs}
	if r.Actor != nil {
		a := *r.Actor
		run.Actor = &a
	}
	tx := &pgtx.Lazy{Send: conn.SendBatch} // nobody else sees the run: no lock
	b := &batch{started: at, unaccepted: &unacceptedRun{r: r, trig: trig, at: at}}
	defer endTx(ctx, tx, b)
	return e.workOnce(ctx, tx, run, plan, b)
}
