package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

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
// outside the database. A plan whose working ran past the deadline is accepted first for a
// minute (Plan.preworkAfter), so a slow flow is not worked twice per run. The caller learns
// the run's id once it committed: a 202 means the run exists, as before.

// DefaultPreworkWithin is how long a run may be worked before its accept (Options.PreworkWithin).
const DefaultPreworkWithin = 250 * time.Millisecond

// preworkPause is how long a plan whose working ran past the deadline is accepted first.
const preworkPause = time.Minute

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
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	res, err := e.preworkIn(ctx, r, trig, plan, at)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, errCommit) {
		plan.preworkAfter.Store(time.Now().Add(preworkPause).UnixNano())
	}
	if err != nil {
		return nil, err
	}
	metricRunLatency.WithLabelValues("inline").Observe(time.Since(at).Seconds())
	return res, nil
}

// preworkIn is prework's working, within ctx's deadline.
func (e *Engine) preworkIn(ctx context.Context, r StartRequest, trig []byte, plan *Plan, at time.Time) (*RunResult, error) {
	r.RunAs = RunAsOf(plan.Flow)
	run := &runRow{ID: r.ID, AppID: r.AppID, Flow: r.Flow, Version: r.Version, Status: StatusRunning, Trigger: r.Trigger, RunAs: r.RunAs}
	if r.Actor != nil {
		a := *r.Actor
		run.Actor = &a
	}
	conn, err := e.sessions.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquiring connection: %w", err)
	}
	defer conn.Release()
	tx := &pgtx.Lazy{Send: conn.SendBatch} // nobody else sees the run: no lock
	b := &batch{started: at, unaccepted: &unacceptedRun{r: r, trig: trig, at: at}}
	defer endTx(ctx, tx, b)
	return e.workOnce(ctx, tx, run, plan, b)
}
