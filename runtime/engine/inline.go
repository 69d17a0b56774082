package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/queue"
)

// Inline working: a run started on its own (Start without a caller's transaction) in a process
// that works runs is worked at once by the accepting process when it has a free inline slot,
// instead of waiting for a River worker to fetch it. Its job is inserted claimed by this
// process (runtime/queue/inline.go), so River does not fetch it and the liveness reaper hands
// it to another worker if this process dies.
//
// The working runs in one transaction: an advisory transaction lock on the run, the nodes'
// record writes (straight in that transaction, see RunTx), then one statement persisting
// every step, finishing (or parking) the run and deleting its job, then the commit. A crash
// before the commit loses the working as a whole — records, effects and steps — and the run is
// worked again from its start by River: effects stay exactly-once. Only plans made of nodes
// that do nothing outside the database transaction are worked inline (inlineTypes; a script's
// http.fetch is refused there and the run worked step by step, see Exec.fetch); the others
// take the River path. A run River fetches for its first working is worked the same way when
// its plan allows it (executeFirst), after one statement marks it running.
//
// A finished run is announced in-process to whoever Awaits it (the sync webhook), and on
// queue.DoneChannel for waiters in other processes when River worked an awaited run.

// inlineTypes are the node types an inline working may run: their writes go through the run's
// transaction (RunTx) or they write nothing.
var inlineTypes = map[string]bool{
	"condition": true, "switch": true, "set": true, "transform": true, "script": true,
	"record.create": true, "record.update": true, "record.find": true, "record.delete": true,
}

type runTxKey struct{}

// RunTx is the transaction of the inline working ctx belongs to (nil outside one): record
// stores write in it (the server's straight, SQLRecords with a savepoint) so the writes commit
// with the run's steps.
func RunTx(ctx context.Context) pgx.Tx {
	tx, _ := ctx.Value(runTxKey{}).(pgx.Tx)
	return tx
}

type freshKey struct{}

// fresh reports a run's first working, inline: no effect of it can exist yet.
func fresh(ctx context.Context) bool {
	v, _ := ctx.Value(freshKey{}).(bool)
	return v
}

// RunResult is a finished (or parked) run's outcome as announced to its waiters.
type RunResult struct {
	Status string
	Output json.RawMessage
	Error  string
}

// recordWrites and recordReads are the node types that write records in, and may read records
// outside, the run's transaction (scripts read through the host API).
var (
	recordWrites = map[string]bool{"record.create": true, "record.update": true, "record.delete": true}
	recordReads  = map[string]bool{"record.find": true, "script": true}
)

// inlinePlanOK reports whether every node of plan may run in an inline working, no node that
// may read records follows a record write (its read would not see the uncommitted write), and
// no script of the plan asked for http.fetch.
func inlinePlanOK(plan *Plan) bool {
	if plan.fetches.Load() {
		return false // a script fetches over HTTP
	}
	for _, pn := range plan.Nodes {
		if !inlineTypes[pn.Spec.Type] {
			return false
		}
	}
	for id, pn := range plan.Nodes {
		if !recordWrites[pn.Spec.Type] {
			continue
		}
		seen := map[string]bool{id: true}
		todo := []string{id}
		for len(todo) > 0 {
			n := plan.Nodes[todo[0]]
			todo = todo[1:]
			for _, next := range n.Next {
				for _, m := range next {
					if seen[m] {
						continue
					}
					seen[m] = true
					if recordReads[plan.Nodes[m].Spec.Type] {
						return false
					}
					todo = append(todo, m)
				}
			}
		}
	}
	return true
}

// takeInline reserves an inline slot; false when the process works none or all are taken.
func (e *Engine) takeInline() bool {
	if e.Queue == nil || !e.Queue.Working() || e.inline == nil {
		return false
	}
	select {
	case e.inline <- struct{}{}:
		return true
	default:
		return false
	}
}

func (e *Engine) releaseInline() { <-e.inline }

// acceptSQL inserts a run of the published (or pinned, $3 > 0) version with its job, in one
// statement; no row when the flow is not published or the idempotency key exists. A pinned
// version with its run_as given ($15) reads no definition (its body's run_as is not extracted
// on every accept): the caller vouches for the flow (a webhook's cached definition, dropped on
// every definition change); a run of a flow deleted meanwhile fails when worked.
var acceptSQL = `WITH f AS (
	SELECT $3::int AS version, $15::text AS run_as WHERE $3 > 0 AND $15 <> ''
	UNION ALL
	SELECT d.published_version AS version, coalesce(nullif(v.body->>'run_as', ''), 'service') AS run_as
	FROM definitions d JOIN definition_versions v ON v.definition_id = d.id AND v.version = CASE WHEN $3 > 0 THEN $3 ELSE d.published_version END
	WHERE ($3 = 0 OR $15 = '') AND d.app_id = $1 AND d.kind = 'flows' AND d.slug = $2 AND ($3 > 0 OR d.published_version > 0)
), r AS (
	INSERT INTO flow_runs (id, app_id, flow, flow_version, status, trigger, idempotency_key, request_hash, actor, parent_run_id, parent_node, run_as, test, started_at, queued_at)
	SELECT coalesce($14::uuid, gen_random_uuid()), $1, $2, CASE WHEN $3 > 0 THEN $3 ELSE f.version END,
		CASE WHEN $12 = 'running' THEN 'running' ELSE 'queued' END, $4, $5, $6, $7, $8, NULLIF($9, ''), f.run_as, $10,
		CASE WHEN $12 = 'running' THEN now() END, CASE WHEN $12 = 'running' THEN now() END FROM f
	ON CONFLICT (app_id, flow, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
	RETURNING id, flow_version, run_as
), j AS (` + queue.JobInsert("r.id", "r", "$11::boolean", "$12::text", "$13") + `)
SELECT r.id, r.flow_version, r.run_as, j.id, CASE WHEN $12 = 'running' THEN true ELSE ` + queue.InsertNotify + ` IS NOT NULL END FROM r, j`

// accept inserts the run and its job (claimed by this process when inline) in one statement.
func (e *Engine) accept(ctx context.Context, q querier, r StartRequest, trig []byte, inline bool) (id uuid.UUID, version int, runAs string, jobID int64, err error) {
	var idem, hash *string
	if r.IdempotencyKey != "" {
		idem = &r.IdempotencyKey
	}
	if r.RequestHash != "" {
		hash = &r.RequestHash
	}
	state, by := "available", ""
	if inline {
		state, by = "running", e.Queue.WorkerID()
	}
	var pre *uuid.UUID
	if r.ID != uuid.Nil {
		pre = &r.ID
	}
	var ok bool
	err = q.QueryRow(ctx, acceptSQL, r.AppID, r.Flow, r.Version, trig, idem, hash, r.Actor, r.ParentRun, r.ParentNode, r.Test,
		r.Wait, state, by, pre, r.RunAs).Scan(&id, &version, &runAs, &jobID, &ok)
	return id, version, runAs, jobID, err
}

// startNow is Start for an immediate run: one statement, worked inline when possible.
func (e *Engine) startNow(ctx context.Context, tx pgx.Tx, r StartRequest) (uuid.UUID, bool, error) {
	trig, err := json.Marshal(r.Trigger)
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("encoding trigger: %w", err)
	}
	inline := tx == nil && !r.Test && e.takeInline()
	var plan *Plan
	if inline && r.Version > 0 {
		// a pinned version's plan is known before the insert: only inline-safe plans
		var err error
		if plan, err = e.PlanFor(ctx, r.AppID, r.Flow, r.Version); err != nil || !inlinePlanOK(plan) {
			e.releaseInline()
			inline, plan = false, nil
		}
	}
	// the app's slot is taken before the insert: a run of an app at its cap goes to River
	// unclaimed, instead of being claimed here and handed over late
	var slot func()
	if inline {
		release, ok, err := e.takeAppSlotOf(ctx, r.AppID, inlineRun)
		if err != nil || !ok {
			e.releaseInline()
			inline = false
		}
		slot = release
	}
	drop := func() {
		if inline {
			if slot != nil {
				slot()
			}
			e.releaseInline()
		}
	}
	committed := false // a working before the accept may have committed the run
	if inline && e.preworkable(r, plan) {
		// worked before it is accepted, and inserted with its end (prework.go)
		if r.ID == uuid.Nil {
			r.ID = uuid.New()
		}
		res, err := e.prework(ctx, r, trig, plan)
		if err == nil {
			drop()
			e.waiters.signal(r.ID, res)
			return r.ID, true, nil
		}
		// (after errCommit the working may have committed: the accept below, under the same
		// id, then finds the run, waiting for that commit if it is still under way)
		committed = errors.Is(err, errCommit)
		if !errors.Is(err, errNotAccepted) {
			e.opts.Log.Debug("working a run before its accept failed; accepting it first", "run", r.ID, "error", err)
		}
	}
	var q querier = e.Pool
	if tx != nil {
		q = tx
	}
	id, version, runAs, jobID, err := e.accept(ctx, q, r, trig, inline)
	if errors.Is(err, pgx.ErrNoRows) {
		drop()
		return e.startConflict(ctx, q, r)
	}
	var pgErr *pgconn.PgError
	if committed && errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "flow_runs_pkey" {
		drop()
		e.waiters.signal(r.ID, nil) // it did commit: its waiters read it
		return r.ID, true, nil
	}
	if err != nil {
		drop()
		return uuid.Nil, false, fmt.Errorf("creating run of %s: %w", r.Flow, err)
	}
	if inline {
		var actor *uuid.UUID
		if r.Actor != nil {
			a := *r.Actor
			actor = &a
		}
		run := &runRow{ID: id, AppID: r.AppID, Flow: r.Flow, Version: version, Status: StatusRunning, Trigger: r.Trigger,
			Actor: actor, ParentRun: r.ParentRun, RunAs: runAs}
		if r.ParentNode != "" {
			pn := r.ParentNode
			run.ParentNode = &pn
		}
		go e.workInline(run, jobID, r.Wait, drop)
	}
	return id, true, nil
}

// startConflict explains an accept that inserted nothing: an earlier run with the same
// idempotency key, or an unpublished flow.
func (e *Engine) startConflict(ctx context.Context, q querier, r StartRequest) (uuid.UUID, bool, error) {
	if r.IdempotencyKey != "" {
		var id uuid.UUID
		var prevHash *string
		err := q.QueryRow(ctx, `SELECT id, request_hash FROM flow_runs WHERE app_id = $1 AND flow = $2 AND idempotency_key = $3`,
			r.AppID, r.Flow, r.IdempotencyKey).Scan(&id, &prevHash)
		if err == nil {
			if r.RequestHash != "" && prevHash != nil && r.RequestHash != *prevHash {
				return id, false, ErrIdempotencyMismatch
			}
			return id, false, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return uuid.Nil, false, fmt.Errorf("loading run for idempotency key: %w", err)
		}
	}
	return uuid.Nil, false, fmt.Errorf("flow %q is not published: %w", r.Flow, defs.ErrNotFound)
}

// workInline works a run accepted by this process (its job claimed by this process); done
// releases its inline and app slots.
func (e *Engine) workInline(run *runRow, jobID int64, wait bool, done func()) {
	defer done()
	timeout := e.Queue.JobTimeout()
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if wait {
		ctx = queue.WithAwaited(ctx)
	}
	accepted := time.Now()
	res, err := e.executeInline(ctx, run, jobID)
	if err == nil {
		metricRunLatency.WithLabelValues("inline").Observe(time.Since(accepted).Seconds())
	}
	if err != nil {
		if rerr := queue.Release(ctx, e.Pool, jobID, err); rerr != nil {
			e.opts.Log.Warn("inline run: handing the job to the queue", "run", run.ID, "error", rerr)
		}
		if !errors.Is(err, queue.ErrBusy) && !errors.Is(err, queue.ErrHandOff) {
			e.opts.Log.Warn("inline run: the queue retries it", "run", run.ID, "error", err)
		}
		return
	}
	if res != nil {
		e.waiters.signal(run.ID, res)
	}
}

// executeInline works run in one transaction (see the top of this file). It answers the
// outcome once committed; an error leaves nothing written.
func (e *Engine) executeInline(ctx context.Context, run *runRow, jobID int64) (*RunResult, error) {
	plan, err := e.PlanFor(ctx, run.AppID, run.Flow, run.Version)
	if err != nil {
		return nil, err
	}
	if !inlinePlanOK(plan) {
		return nil, queue.ErrHandOff // River works it (nodes outside the transaction)
	}
	conn, err := e.sessions.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquiring connection: %w", err)
	}
	defer conn.Release()
	// the transaction begins, and takes the run's lock, with the working's first statement
	tx := runTx(conn, run.ID)
	b := &batch{jobID: jobID, started: time.Now()}
	defer endTx(ctx, tx, b)
	return e.workOnce(ctx, tx, run, plan, b)
}

// errCommit marks a working whose commit may have happened (the connection was lost): the queue
// retries it later, and the retry sees which.
var errCommit = errors.New("committing run")

// workOnce works the first working of run in tx, as one transaction (see the top of this
// file), and commits it. It answers the outcome once committed; an error leaves nothing
// written (the caller rolls tx back).
func (e *Engine) workOnce(ctx context.Context, tx pgx.Tx, run *runRow, plan *Plan, b *batch) (*RunResult, error) {
	wctx := context.WithValue(context.WithValue(context.WithValue(ctx, runTxKey{}, tx), freshKey{}, true), heldKey{}, &b.held)
	err := e.runPlan(wctx, tx, run, plan, map[string]*stepRow{}, b)
	if busy(tx) {
		return nil, queue.ErrBusy // another working holds the run: nothing ran past the lock
	}
	if err != nil {
		return nil, err
	}
	finished := b.result != nil && b.result.Status != StatusWaiting
	// the last statements and the commit in one round trip
	last := &pgx.Batch{}
	steps := []string{}
	if rows := b.held.take(""); len(rows) > 0 { // none left in practice: each step takes or keeps its own
		last.Queue(heldEffectsSQL, heldArgs(rows)...)
		steps = append(steps, "recording effects")
	}
	if b.final != nil {
		last.Queue(b.final.sql, b.final.args...)
		steps = append(steps, b.final.step)
	}
	if finished && b.notify {
		last.Queue(`SELECT pg_notify($1, $2)`, queue.DoneChannel, run.ID.String())
		steps = append(steps, "announcing the run's end")
	}
	last.Queue("commit")
	if b.unlock != nil {
		last.Queue(`SELECT pg_advisory_unlock($1)`, b.unlock.key) // after the commit: the lock is free once the run is
	}
	sendCtx := ctx
	if b.unaccepted != nil {
		// a working before its accept has a deadline for its work, not for its commit: the
		// caller must know whether the run exists (prework.go)
		sendCtx = context.WithoutCancel(ctx)
	}
	br := tx.SendBatch(sendCtx, last)
	for _, step := range steps {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			if busy(tx) {
				return nil, queue.ErrBusy
			}
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) {
				// the connection failed with the commit already sent: it may have happened
				return nil, fmt.Errorf("%w: %s: %v", errCommit, step, err)
			}
			return nil, fmt.Errorf("%s: %w", step, err) // nothing committed: the caller rolls back
		}
	}
	tag, err := br.Exec()
	var unlockErr error
	unlocked := false
	if err == nil && b.unlock != nil {
		_, unlockErr = br.Exec()
		unlocked = unlockErr == nil
	}
	if cerr := br.Close(); err == nil && unlockErr == nil {
		err = cerr // (an unlock that failed after the commit is the caller's to retry)
	}
	if err != nil && busy(tx) {
		return nil, queue.ErrBusy
	}
	if err == nil && tag.String() == "ROLLBACK" {
		err = pgx.ErrTxCommitRollback
	}
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) || errors.Is(err, pgx.ErrTxCommitRollback) {
			// the database refused the commit: nothing was written, the run is worked step by
			// step at once
			return nil, fmt.Errorf("%w: committing run: %v", queue.ErrHandOff, err)
		}
		return nil, fmt.Errorf("%w: %v", errCommit, err) // not wrapped: no data exception cancels the job
	}
	b.committed = true
	if unlocked {
		b.unlock.released = true
	}
	if finished {
		metricRuns.WithLabelValues(b.result.Status).Inc()
		e.backlog.finished()
	}
	return b.result, nil
}

// batch collects the steps of an inline working; they are written by the statement that
// finishes or parks the run, which also deletes the job.
type batch struct {
	jobID int64 // the job deleted with the run's end (0: none, River completes it)
	steps []pendingStep
	// started is when the working began and ready when its job became ready (nil for a run
	// accepted running): a run's first timing (started_at, queued_ms) is written with its end.
	started time.Time
	ready   *time.Time
	// notify announces the run's end on queue.DoneChannel (a River-worked run a caller awaits).
	notify bool
	result *RunResult
	// held are the working's effects not written (yet), see heldEffects.
	held heldEffects
	// final is the statement persisting the steps and the run's end (or park), sent with the
	// commit in one round trip; committed is set once that commit succeeded (the transaction
	// is over although pgx's Tx does not know it: endTx).
	final     *finalStatement
	committed bool
	// unlock is the run's session lock, released by a statement sent after the commit (nil:
	// the caller holds none, or releases it itself).
	unlock *sessionLock
	// unaccepted is the run a working before its accept inserts with its end (nil: the run's
	// row exists; see prework.go).
	unaccepted *unacceptedRun
}

// sessionLock is a run's session advisory lock (Execute); released is set once a working's
// last batch released it.
type sessionLock struct {
	key      int64
	released bool
}

// finalStatement is a working's last statement, and the step it is part of (for its error).
type finalStatement struct {
	step string
	sql  string
	args []any
}

// last sets the working's final statement (see batch.final).
func (b *batch) last(step, sql string, args ...any) {
	b.final = &finalStatement{step: step, sql: sql, args: args}
}

// endTx rolls a working's transaction back unless b committed it (its commit went with its
// final statement, outside pgx's Tx, so a Rollback would cost a round trip for nothing).
func endTx(ctx context.Context, tx pgx.Tx, b *batch) {
	if !b.committed {
		_ = tx.Rollback(context.WithoutCancel(ctx))
	}
}

type pendingStep struct {
	node, status      string
	attempt           int
	input, output     *string
	port, errText     *string
	state             *string
	wake              *time.Time
	started, finished time.Time
}

func strp(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

func (b *batch) add(p pendingStep) { b.steps = append(b.steps, p) }

// stepsCTE is the WITH part writing the batched steps and deleting the job; args start at $2
// ($1 is the run id).
const stepsCTE = stepsInsert + `,
j AS (DELETE FROM river_job WHERE id = $13) `

// stepsInsert is the WITH part writing the batched steps (stepArgs: $1 is the run id, $2 to $12
// the steps' columns).
const stepsInsert = `WITH s AS (INSERT INTO flow_steps (run_id, node, status, attempt, input, output, port, error, state, wake_at, started_at, finished_at)
	SELECT $1, x.node, x.status, x.attempt, x.input::jsonb, x.output::jsonb, x.port, x.error, x.state::jsonb, x.wake_at, x.started_at, x.finished_at
	FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[])
		AS x(node, status, attempt, input, output, port, error, state, wake_at, started_at, finished_at))`

// firstTiming is the SET part writing a run's first timing from stepsCTE's $14 (started) and
// $15 (ready): kept when the run was accepted running.
const firstTiming = `started_at = coalesce(started_at, $14), queued_at = coalesce($15, queued_at),
	queued_ms = queued_ms + greatest(0, coalesce(floor(extract(epoch FROM $14::timestamptz - $15::timestamptz) * 1000)::bigint, 0))`

// args are stepsCTE's and firstTiming's arguments ($1 to $15).
func (b *batch) args(runID uuid.UUID) []any {
	return append(b.stepArgs(runID), b.jobID, b.started, b.ready)
}

// stepArgs are stepsInsert's arguments ($1 to $12).
func (b *batch) stepArgs(runID uuid.UUID) []any {
	n := len(b.steps)
	nodes, statuses := make([]string, n), make([]string, n)
	attempts := make([]int32, n)
	inputs, outputs, ports, errs, states := make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
	wakes := make([]*time.Time, n)
	started, finished := make([]time.Time, n), make([]*time.Time, n)
	for i, s := range b.steps {
		nodes[i], statuses[i], attempts[i] = s.node, s.status, int32(s.attempt)
		inputs[i], outputs[i], ports[i], errs[i], states[i], wakes[i] = s.input, s.output, s.port, s.errText, s.state, s.wake
		started[i] = s.started
		if s.status != "waiting" {
			f := s.finished
			finished[i] = &f
		}
	}
	// room for what every caller appends (the run's end or its row: up to 22 arguments in all),
	// so building a working's last statement allocates its argument list once
	args := make([]any, 0, 22)
	return append(args, runID, nodes, statuses, attempts, inputs, outputs, ports, errs, states, wakes, started, finished)
}

// firstRunSQL reads a run for Execute, with whether it is a test run and has any step.
const firstRunSQL = `SELECT ` + runColumns + `, test, EXISTS (SELECT 1 FROM flow_steps WHERE run_id = $1) FROM flow_runs WHERE id = $1`

// firstRun is a run as Execute reads it (firstRunSQL).
type firstRun struct {
	runRow
	test, stepped bool
}

func (f *firstRun) scan(row pgx.Row) error { return scanRun(row, &f.runRow, &f.test, &f.stepped) }

// DefaultShowRunningAfter is Options.ShowRunningAfter's default.
const DefaultShowRunningAfter = 100 * time.Millisecond

// markFirstSQL marks a run running while executeFirst works it, for run lists and those who
// watch it. It commits on its own, from another connection, and only while the run is still
// queued: the working's end, committed first or waited for (the row's lock), wins.
const markFirstSQL = `UPDATE flow_runs SET status = 'running', started_at = coalesce(started_at, $2), wake_at = NULL
	WHERE id = $1 AND status = 'queued' AND NOT EXISTS (SELECT 1 FROM flow_steps WHERE run_id = $1)`

// executeFirst works a run River fetched the way an inline working does, in one transaction,
// when this is its first working (queued, no step yet, not a test run: no effect of it can
// exist) and its plan allows it (inlinePlanOK). Execute holds the run's session lock and its
// app's slot. done is false when the run is to be worked step by step instead: not such a run,
// or the one-transaction working failed (its writes are rolled back and the step-by-step
// working records the failure as usual).
func (e *Engine) executeFirst(ctx context.Context, conn *pgxpool.Conn, first *firstRun, lock *sessionLock) (done bool, err error) {
	if first.Status != StatusQueued || first.stepped || first.test {
		return false, nil
	}
	run := &first.runRow
	plan, err := e.PlanFor(ctx, run.AppID, run.Flow, run.Version)
	if err != nil || !inlinePlanOK(plan) {
		return false, nil // step by step (which reports a plan's error)
	}
	// The working is one transaction, whose end writes the run's status, start and queue time.
	// The claim is its first statement (runTx: tessera_lock_run fails unless the run is still
	// queued or running and has no step), under the session lock Execute holds. The run shows
	// as running only when the working lasts (ShowRunningAfter): a quick one costs no statement
	// and no commit of its own for that. The transaction begins with the working's first
	// statement; the run's lock it takes is this session's already (advisory locks are
	// reentrant within a session).
	run.Status = StatusRunning
	after := e.opts.ShowRunningAfter
	if after <= 0 {
		after = DefaultShowRunningAfter
	}
	tx := runTx(conn, run.ID)
	wb := &batch{started: time.Now(), notify: queue.Awaited(ctx), unlock: lock}
	started := wb.started
	show := time.AfterFunc(after, func() {
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := e.Pool.Exec(mctx, markFirstSQL, run.ID, started); err != nil {
			e.opts.Log.Warn("marking a run running (it shows as queued until it ends)", "run", run.ID, "error", err)
		}
	})
	defer show.Stop()
	defer endTx(ctx, tx, wb)
	if ready, ok := queue.ReadyAt(ctx); ok {
		wb.ready = &ready
	}
	res, err := e.workOnce(ctx, tx, run, plan, wb)
	if err != nil {
		// the errors returned from here on do not wrap the working's error: a data exception
		// in it must not have the job cancelled with the run left running
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		if errors.Is(err, errCommit) {
			return true, err // it may have committed: the queue retries, and the retry sees which
		}
		// a node's database error aborted the transaction, the database refused the commit, the
		// run's data cannot be stored, or a script fetches over HTTP: work it step by step,
		// which records and routes a failure
		e.opts.Log.Debug("first working in one transaction failed; working the run step by step", "run", run.ID, "error", err)
		if lock.released {
			return true, err // (not reached: the lock is released only with a commit that succeeded)
		}
		if rerr := tx.Rollback(context.WithoutCancel(ctx)); rerr != nil && !errors.Is(rerr, pgx.ErrTxClosed) {
			return true, fmt.Errorf("run %s: rolling back: %w (after %v)", run.ID, rerr, err)
		}
		return false, nil
	}
	if res != nil {
		if res.Status != StatusWaiting && wb.ready != nil {
			metricRunLatency.WithLabelValues("queue").Observe(time.Since(*wb.ready).Seconds())
		}
		e.waiters.signal(run.ID, res)
	}
	return true, nil
}
