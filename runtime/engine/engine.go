// Package engine compiles published flows into plans (every node prepared at publish) and runs
// them durably: steps persisted as they finish, idempotent side effects, parked waits.
package engine

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/calendar"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/exprguard"
	"github.com/tessera/tessera/runtime/pgtext"
	"github.com/tessera/tessera/runtime/queue"
)

// Run statuses.
const (
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusWaiting   = "waiting"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// Options wire the engine's collaborators; nil ones make the nodes that need them fail with a
// clear error.
type Options struct {
	Records    RecordStore
	Scripts    ScriptRunner
	Connectors ConnectorCaller
	// Reports runs published reports for report nodes (the server wires runtime/report).
	Reports ReportRunner
	// HTTPClient serves scripts' http.fetch (the server gives runtime/netguard's client).
	HTTPClient *http.Client
	Log        *slog.Logger
	// Now is the clock (tests); time.Now by default.
	Now func() time.Time
	// AppConcurrency caps the runs of one app this process works at once (0: no cap; see
	// fairness.go).
	AppConcurrency int
	// InlineWorkers is how many runs this process may work inline at once, as it accepts them
	// (inline.go; 0: 10, negative: none).
	InlineWorkers int
	// PreworkWithin is how long a run started on its own may be worked before it is accepted,
	// in one transaction that also inserts it (prework.go; 0: DefaultPreworkWithin, negative:
	// never: every run is accepted first).
	PreworkWithin time.Duration
	// ShowRunningAfter is how long a run River fetched may be worked in one transaction before
	// a statement of its own marks it running for those who look (executeFirst; 0:
	// DefaultShowRunningAfter). A working that ends sooner costs no such statement.
	ShowRunningAfter time.Duration
	// Tracker signs the links of tracking_link nodes (nodes_tracking.go).
	Tracker Tracker
}

// Engine runs flows.
type Engine struct {
	Pool  *pgxpool.Pool
	Defs  *defs.Loader
	Queue *queue.Queue
	opts  Options
	plans sync.Map // planKey -> *Plan
	// sessions is a small pool apart from the shared one: a working run holds one of its
	// connections (advisory lock, step writes) for its whole working, so the shared pool's
	// connections stay free for the record writes the run makes meanwhile.
	sessions *pgxpool.Pool
	slots    appSlots
	// inline holds one token per run this process works inline (inline.go).
	inline     chan struct{}
	waiters    runWaiters
	stopListen context.CancelFunc
	backlog    backlog
}

type planKey struct {
	app     uuid.UUID
	flow    string
	version int
}

// New returns an engine; set Queue before running flows.
func New(pool *pgxpool.Pool, loader *defs.Loader, q *queue.Queue, o Options) *Engine {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	e := &Engine{Pool: pool, Defs: loader, Queue: q, opts: o}
	n := o.InlineWorkers
	if n == 0 {
		n = 10
	}
	if n > 0 {
		e.inline = make(chan struct{}, n)
	}
	cfg := pool.Config().Copy()
	cfg.MaxConns, cfg.MinConns = 32, 0
	cfg.MaxConnIdleTime = time.Minute
	if sp, err := pgxpool.NewWithConfig(context.Background(), cfg); err == nil {
		e.sessions = sp
	} else {
		e.sessions = pool
	}
	return e
}

// Close releases the engine's run sessions (call after the queue stopped).
func (e *Engine) Close() {
	if e.stopListen != nil {
		e.stopListen()
	}
	if e.backlog.stop != nil {
		e.backlog.stop()
	}
	if e.sessions != nil && e.sessions != e.Pool {
		e.sessions.Close()
	}
}

// SetRecords, SetScripts and SetConnectors wire collaborators after construction.
func (e *Engine) SetRecords(r RecordStore)        { e.opts.Records = r }
func (e *Engine) SetScripts(s ScriptRunner)       { e.opts.Scripts = s }
func (e *Engine) SetConnectors(c ConnectorCaller) { e.opts.Connectors = c }

// SetReports wires the report runner of report nodes.
func (e *Engine) SetReports(r ReportRunner) { e.opts.Reports = r }

// SetHTTPClient sets the client of scripts' http.fetch.
func (e *Engine) SetHTTPClient(c *http.Client) { e.opts.HTTPClient = c }

// Records returns the record store the engine uses.
func (e *Engine) Records() RecordStore { return e.opts.Records }

func (e *Engine) now() time.Time { return e.opts.Now() }

// PlanOf compiles flow as the given pinned version (cached), without reading the database.
func (e *Engine) PlanOf(appID uuid.UUID, slug string, version int, flow *spec.Flow) (*Plan, error) {
	key := planKey{appID, slug, version}
	if p, ok := e.plans.Load(key); ok {
		return p.(*Plan), nil
	}
	plan, errs := Compile(flow)
	if len(errs) > 0 {
		return nil, fmt.Errorf("compiling flow %s v%d: %w", slug, version, errs)
	}
	p, _ := e.plans.LoadOrStore(key, plan) // one plan per version: its fetches flag sticks
	return p.(*Plan), nil
}

// PlanFor loads and compiles a pinned flow version (cached).
func (e *Engine) PlanFor(ctx context.Context, appID uuid.UUID, flow string, version int) (*Plan, error) {
	key := planKey{appID, flow, version}
	if p, ok := e.plans.Load(key); ok {
		return p.(*Plan), nil
	}
	v, err := e.Defs.Version(ctx, appID, spec.KindFlow, flow, version)
	if err != nil {
		return nil, err
	}
	plan, errs := Compile(v.(*spec.Flow))
	if len(errs) > 0 {
		return nil, fmt.Errorf("compiling flow %s v%d: %w", flow, version, errs)
	}
	p, _ := e.plans.LoadOrStore(key, plan) // one plan per version: its fetches flag sticks
	return p.(*Plan), nil
}

// StartRequest describes a new run.
type StartRequest struct {
	AppID   uuid.UUID
	Flow    string
	Version int // 0: the published version
	Trigger map[string]any
	// IdempotencyKey dedupes starts per (app, flow); RequestHash detects reuse with another body.
	IdempotencyKey string
	RequestHash    string
	Actor          *uuid.UUID
	ParentRun      *uuid.UUID
	ParentNode     string
	// At schedules the first working (zero: now).
	At time.Time
	// Test marks a test run started from the builder on a sample (its clock can be
	// fast-forwarded).
	Test bool
	// ID is the new run's id (zero: generated by the database); a caller that Awaits the run
	// sets it to register before the run can finish.
	ID uuid.UUID
	// Wait says a caller waits for the outcome (a sync webhook): a River-worked run announces
	// its end on queue.DoneChannel.
	Wait bool
	// RunAs is the pinned Version's run_as (RunAsOf) when the caller holds its definition, so
	// starting reads no definition; empty: read with the version.
	RunAs string
}

// RunAsOf is whom a run of flow works as: "service" unless the flow says "trigger_user".
func RunAsOf(flow *spec.Flow) string {
	if flow.RunAs == "" {
		return "service"
	}
	return flow.RunAs
}

// ErrIdempotencyMismatch is returned when an idempotency key is reused with another request.
var ErrIdempotencyMismatch = errors.New("idempotency key was used with a different request")

// Start creates a run and enqueues it in tx (nil tx: its own transaction). It returns the run id
// and whether it was created (false: an earlier run with the same idempotency key).
func (e *Engine) Start(ctx context.Context, tx pgx.Tx, r StartRequest) (uuid.UUID, bool, error) {
	if r.At.IsZero() || !r.At.After(time.Now()) {
		return e.startNow(ctx, tx, r) // inline.go: one statement, worked at once when possible
	}
	if tx == nil {
		var id uuid.UUID
		var created bool
		err := pgx.BeginFunc(ctx, e.Pool, func(tx pgx.Tx) error {
			var err error
			id, created, err = e.Start(ctx, tx, r)
			return err
		})
		return id, created, err
	}
	// read the pinned version and its run_as through tx: a second connection while tx is held
	// could starve the pool under load
	var runAs *string
	var err error
	if r.Version == 0 {
		err = tx.QueryRow(ctx, `SELECT d.published_version, v.body->>'run_as' FROM definitions d
			JOIN definition_versions v ON v.definition_id = d.id AND v.version = d.published_version
			WHERE d.app_id = $1 AND d.kind = 'flows' AND d.slug = $2 AND d.published_version > 0`, r.AppID, r.Flow).Scan(&r.Version, &runAs)
	} else {
		err = tx.QueryRow(ctx, `SELECT v.body->>'run_as' FROM definitions d
			JOIN definition_versions v ON v.definition_id = d.id AND v.version = $3
			WHERE d.app_id = $1 AND d.kind = 'flows' AND d.slug = $2`, r.AppID, r.Flow, r.Version).Scan(&runAs)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, false, fmt.Errorf("flow %q is not published: %w", r.Flow, defs.ErrNotFound)
	}
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("loading flow %s: %w", r.Flow, err)
	}
	if runAs == nil || *runAs == "" {
		s := "service"
		runAs = &s
	}
	trig, err := json.Marshal(r.Trigger)
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("encoding trigger: %w", err)
	}
	var idem, hash *string
	if r.IdempotencyKey != "" {
		idem = &r.IdempotencyKey
	}
	if r.RequestHash != "" {
		hash = &r.RequestHash
	}
	var id uuid.UUID
	err = tx.QueryRow(ctx, `INSERT INTO flow_runs (app_id, flow, flow_version, status, trigger, idempotency_key, request_hash, actor, parent_run_id, parent_node, run_as, test)
		VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, NULLIF($9, ''), $10, $11)
		ON CONFLICT (app_id, flow, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id`,
		r.AppID, r.Flow, r.Version, trig, idem, hash, r.Actor, r.ParentRun, r.ParentNode, *runAs, r.Test).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		var prevHash *string
		if err := tx.QueryRow(ctx, `SELECT id, request_hash FROM flow_runs WHERE app_id = $1 AND flow = $2 AND idempotency_key = $3`,
			r.AppID, r.Flow, r.IdempotencyKey).Scan(&id, &prevHash); err != nil {
			return uuid.Nil, false, fmt.Errorf("loading run for idempotency key: %w", err)
		}
		if hash != nil && prevHash != nil && *hash != *prevHash {
			return id, false, ErrIdempotencyMismatch
		}
		return id, false, nil
	}
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("creating run of %s: %w", r.Flow, err)
	}
	if err := e.Queue.EnqueueTx(ctx, tx, id, r.At); err != nil {
		return uuid.Nil, false, err
	}
	return id, true, nil
}

// querier is a connection or pool.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Started is a run created by StartMany.
type Started struct {
	ID             uuid.UUID
	AppID          uuid.UUID
	Flow           string
	IdempotencyKey string
}

// StartMany creates many runs of pinned versions in tx with one statement and enqueues the
// ones created; requests whose idempotency key exists already are skipped (cron ticks).
func (e *Engine) StartMany(ctx context.Context, tx pgx.Tx, reqs []StartRequest) ([]Started, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	apps := make([]uuid.UUID, len(reqs))
	flows := make([]string, len(reqs))
	versions := make([]int32, len(reqs))
	trigs := make([]string, len(reqs))
	keys := make([]*string, len(reqs))
	for i, r := range reqs {
		if r.Version == 0 {
			return nil, fmt.Errorf("starting %s: StartMany needs pinned versions", r.Flow)
		}
		b, err := json.Marshal(r.Trigger)
		if err != nil {
			return nil, fmt.Errorf("encoding trigger: %w", err)
		}
		apps[i], flows[i], versions[i], trigs[i] = r.AppID, r.Flow, int32(r.Version), string(b)
		if r.IdempotencyKey != "" {
			k := r.IdempotencyKey
			keys[i] = &k
		}
	}
	rows, err := tx.Query(ctx, `INSERT INTO flow_runs (app_id, flow, flow_version, status, trigger, idempotency_key)
		SELECT a, f, v, 'queued', t, k FROM unnest($1::uuid[], $2::text[], $3::int[], $4::jsonb[], $5::text[]) AS x(a, f, v, t, k)
		ON CONFLICT (app_id, flow, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
		RETURNING id, app_id, flow, coalesce(idempotency_key, '')`, apps, flows, versions, trigs, keys)
	if err != nil {
		return nil, fmt.Errorf("creating runs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Started, error) {
		var s Started
		return s, r.Scan(&s.ID, &s.AppID, &s.Flow, &s.IdempotencyKey)
	})
	if err != nil {
		return nil, fmt.Errorf("creating runs: %w", err)
	}
	ids := make([]uuid.UUID, len(out))
	for i, s := range out {
		ids[i] = s.ID
	}
	if err := e.Queue.EnqueueManyTx(ctx, tx, ids); err != nil {
		return nil, err
	}
	return out, nil
}

// runRow is a flow_runs row.
type runRow struct {
	ID         uuid.UUID
	AppID      uuid.UUID
	Flow       string
	Version    int
	Status     string
	Trigger    map[string]any
	Actor      *uuid.UUID
	ParentRun  *uuid.UUID
	ParentNode *string
	RunAs      string
	// ClockOffset is a test run's simulated time ahead of the engine clock (FastForward).
	ClockOffset time.Duration
}

// stepRow is the latest flow_steps row of a node.
type stepRow struct {
	ID      int64
	Node    string
	Status  string
	Output  json.RawMessage
	Port    *string
	Attempt int
	State   json.RawMessage
	WakeAt  *time.Time
}

func lockKey(id uuid.UUID) int64 {
	return int64(binary.BigEndian.Uint64(id[:8]) ^ 0x7465737365726121)
}

// Execute works a run until it finishes, fails or parks. It holds a session advisory lock on
// the run (released by Postgres if the process dies) and answers queue.ErrBusy when another
// worker holds it. A first working whose plan allows it is worked in one transaction
// (executeFirst), any other step by step.
func (e *Engine) Execute(ctx context.Context, runID uuid.UUID) error {
	conn, err := e.sessions.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquiring connection: %w", err)
	}
	defer conn.Release()
	// lock the run and read it in one round trip
	var got, found bool
	first := firstRun{runRow: runRow{ID: runID}}
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_try_advisory_lock($1)`, lockKey(runID)).QueryRow(func(row pgx.Row) error { return row.Scan(&got) })
	b.Queue(firstRunSQL, runID).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			found = true
			if err := first.scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		conn.Conn().Close(context.Background()) // closing the session drops a lock it may hold
		return fmt.Errorf("locking and loading run %s: %w", runID, err)
	}
	if !got {
		return queue.ErrBusy
	}
	lock := &sessionLock{key: lockKey(runID)}
	defer func() {
		if lock.released {
			return // with the one-transaction working's commit
		}
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lock.key); err != nil {
			conn.Conn().Close(context.Background()) // closing the session drops the lock
		}
	}()
	if !found {
		return fmt.Errorf("loading run %s: %w", runID, pgx.ErrNoRows)
	}
	release, ok, err := e.takeAppSlotOf(ctx, first.AppID, queuedRun)
	if err != nil {
		return err
	}
	if !ok {
		return queue.ErrBusy // the app has AppConcurrency runs working here: the slot goes to another app
	}
	if release != nil {
		defer release()
	}
	if done, err := e.executeFirst(ctx, conn, &first, lock); done {
		return err
	}
	// Step rows are written on this session without waiting for the WAL flush: a step lost
	// to a database crash is re-run, and its side effects are guarded by idempotency keys
	// (flow_effects commits synchronously with the effect). Run completion stays synchronous.
	if _, err := conn.Exec(ctx, `SET synchronous_commit = off`); err != nil {
		return fmt.Errorf("preparing run session: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `RESET synchronous_commit`); err != nil {
			conn.Conn().Close(context.Background())
		}
	}()
	return e.failOnDataException(ctx, runID, e.execute(ctx, &first.runRow, conn)) // read under the lock held since
}

// runColumns are the flow_runs columns a runRow holds (scanRun).
const runColumns = `app_id, flow, flow_version, status, trigger, actor, parent_run_id, parent_node, run_as, clock_offset_ms`

// scanRun scans runColumns, then extra, from row into r.
func scanRun(row pgx.Row, r *runRow, extra ...any) error {
	var trig []byte
	var offsetMS int64
	dest := append([]any{&r.AppID, &r.Flow, &r.Version, &r.Status, &trig, &r.Actor, &r.ParentRun, &r.ParentNode, &r.RunAs, &offsetMS}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	r.ClockOffset = time.Duration(offsetMS) * time.Millisecond
	if err := json.Unmarshal(trig, &r.Trigger); err != nil {
		return fmt.Errorf("decoding trigger of run %s: %w", r.ID, err)
	}
	return nil
}

func (e *Engine) loadRun(ctx context.Context, q querier, id uuid.UUID) (*runRow, error) {
	r := &runRow{ID: id}
	if err := scanRun(q.QueryRow(ctx, `SELECT `+runColumns+` FROM flow_runs WHERE id = $1`, id), r); err != nil {
		return nil, fmt.Errorf("loading run %s: %w", id, err)
	}
	return r, nil
}

func (e *Engine) loadSteps(ctx context.Context, q querier, id uuid.UUID) (map[string]*stepRow, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT ON (node) id, node, status, output, port, attempt, state, wake_at
		FROM flow_steps WHERE run_id = $1 ORDER BY node, id DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("loading steps: %w", err)
	}
	defer rows.Close()
	out := map[string]*stepRow{}
	for rows.Next() {
		s := &stepRow{}
		if err := rows.Scan(&s.ID, &s.Node, &s.Status, &s.Output, &s.Port, &s.Attempt, &s.State, &s.WakeAt); err != nil {
			return nil, fmt.Errorf("loading steps: %w", err)
		}
		out[s.Node] = s
	}
	return out, rows.Err()
}

// Exec is what a node sees while it runs: the run, the environment for expressions and
// helpers for side effects.
type Exec struct {
	Ctx     context.Context
	Engine  *Engine
	RunID   uuid.UUID
	AppID   uuid.UUID
	Flow    string
	NodeID  string
	Attempt int
	StepID  int64
	// Env holds trigger, steps, run, now (and item/index inside foreach).
	Env map[string]any
	// Input is what the node resolved from its params (shown in the run history).
	Input   any
	Subject access.Subject
	// Key is the idempotency key of the node's side effects (run id + node id [+ index]).
	Key        string
	plan       *Plan
	run        *runRow
	hostWrites int
}

// Now is the run's clock: the engine clock, plus the simulated time a test run was
// fast-forwarded by.
func (x *Exec) Now() time.Time {
	if x.run != nil && x.run.ClockOffset > 0 {
		return x.Engine.now().Add(x.run.ClockOffset)
	}
	return x.Engine.now()
}

// Calendar returns the app's business calendar.
func (x *Exec) Calendar() (*calendar.Calendar, error) {
	app, err := x.Engine.Defs.AppByID(x.Ctx, x.AppID)
	if err != nil {
		return nil, err
	}
	return calendar.FromAppSettings(app.Settings)
}

// Deadline adds d to from, counting working hours when cal is "business" (or the flow's
// calendar is and cal is empty).
func (x *Exec) Deadline(from time.Time, d time.Duration, cal string) (time.Time, error) {
	if cal == "" && x.plan != nil {
		cal = x.plan.Flow.Calendar
	}
	if cal != "business" {
		return from.Add(d), nil
	}
	c, err := x.Calendar()
	if err != nil {
		return time.Time{}, err
	}
	return c.AddWorkingDuration(from, d), nil
}

func (e *Engine) subject(ctx context.Context, r *runRow) access.Subject {
	intake := IntakeRun(r.Trigger)
	if r.RunAs != "trigger_user" || r.Actor == nil {
		return access.Subject{System: true, Intake: intake}
	}
	sub := access.Subject{UserID: *r.Actor, Intake: intake}
	_ = e.Pool.QueryRow(ctx, `SELECT team_id, is_admin FROM users WHERE id = $1`, *r.Actor).Scan(&sub.TeamID, &sub.IsAdmin)
	return sub
}

// IntakeRun reports whether a run with this trigger payload works for an anonymous caller: a
// webhook call, or a record change made for one (trigger.intake, set by runtime/trigger, and
// passed on to sub-flows). Its record creates can only add (access.Subject.Intake).
func IntakeRun(trigger map[string]any) bool {
	return trigger["type"] == "webhook" || trigger["intake"] == true
}

// execute works run (read under its lock) step by step, from its saved steps.
func (e *Engine) execute(ctx context.Context, run *runRow, q querier) error {
	runID := run.ID
	if run.Status == StatusSucceeded || run.Status == StatusFailed {
		return nil
	}
	plan, err := e.PlanFor(ctx, run.AppID, run.Flow, run.Version)
	if err != nil {
		if errors.Is(err, defs.ErrNotFound) || isSpecErrors(err) {
			return e.finish(ctx, run, StatusFailed, nil, err.Error())
		}
		return err
	}
	steps, err := e.loadSteps(ctx, q, runID)
	if err != nil {
		return err
	}
	ready, _ := queue.ReadyAt(ctx)
	var readyArg *time.Time
	if !ready.IsZero() {
		readyArg = &ready
	}
	if _, err := q.Exec(ctx, `UPDATE flow_runs SET status = 'running', started_at = coalesce(started_at, now()), wake_at = NULL,
		queued_at = coalesce($2, queued_at), queued_ms = queued_ms + greatest(0, coalesce(floor(extract(epoch FROM now() - $2) * 1000)::bigint, 0))
		WHERE id = $1`, runID, readyArg); err != nil {
		return fmt.Errorf("marking run running: %w", err)
	}
	return e.runPlan(ctx, q, run, plan, steps, nil)
}

// runPlan works the nodes of run's plan from its persisted steps until it finishes, fails or
// parks. With b (an inline working, q its transaction) new steps are collected and written by
// the statement that finishes or parks the run.
func (e *Engine) runPlan(ctx context.Context, q querier, run *runRow, plan *Plan, steps map[string]*stepRow, b *batch) error {
	runID := run.ID
	outputs := map[string]any{}
	env := map[string]any{
		"trigger": run.Trigger,
		"steps":   outputs,
		"run":     map[string]any{"id": runID.String(), "flow": run.Flow, "version": run.Version, "app_id": run.AppID.String()},
	}
	sub := e.subject(ctx, run)
	todo := append([]string(nil), plan.Roots...)
	visited := map[string]bool{}
	var wakes []time.Time
	waiting := false
	var last any
	for len(todo) > 0 {
		id := todo[0]
		todo = todo[1:]
		if visited[id] {
			continue
		}
		visited[id] = true
		pn := plan.Nodes[id]
		env["now"] = e.now().Add(run.ClockOffset)
		// all the expressions of one step share one budget, bound to the job's context
		env[exprguard.EnvKey] = exprguard.NewBudget(ctx, exprguard.DefaultTimeout)
		x := &Exec{Ctx: ctx, Engine: e, RunID: runID, AppID: run.AppID, Flow: run.Flow, NodeID: id, Env: env,
			Subject: sub, Key: runID.String() + ":" + id, plan: plan, run: run}
		row := steps[id]
		var res Result
		var failErr error
		started := time.Now()
		switch {
		case row != nil && row.Status == "succeeded":
			var out any
			if len(row.Output) > 0 {
				_ = json.Unmarshal(row.Output, &out)
			}
			res = Result{Output: out}
			if row.Port != nil {
				res.Port = *row.Port
			}
		case row != nil && row.Status == "waiting":
			x.Attempt, x.StepID = row.Attempt, row.ID
			rs, ok := pn.Runner.(Resumer)
			if !ok {
				failErr = fmt.Errorf("node %s cannot resume", id)
				break
			}
			res, failErr = safeCall(func() (Result, error) { return rs.Resume(x, row.State) })
			if failErr == nil {
				failErr = unstorable(x, res)
			}
			if failErr == nil {
				if err := e.saveResult(ctx, q, row.ID, res); err != nil {
					return err
				}
			}
		case row != nil && row.Status == "failed" && !retryFlag(row.State):
			// a final failure; the run failed earlier and was not retried
			failErr = errors.New("failed earlier")
		case row != nil && row.Status == "failed" && row.WakeAt != nil && row.WakeAt.After(e.now()):
			wakes = append(wakes, *row.WakeAt)
			waiting = true
			continue
		default:
			x.Attempt = 1
			if row != nil {
				x.Attempt = row.Attempt + 1
			}
			res, failErr = safeCall(func() (Result, error) { return pn.Runner.Exec(x) })
			if ctx.Err() != nil {
				return ctx.Err() // the worker is stopping: the job is retried, the step re-run
			}
			if b != nil && plan.fetches.Load() {
				// a script asked for http.fetch (refused here, whether or not the script caught
				// the error): the run is worked step by step, where the request is sent once
				return fmt.Errorf("%w: a script of the flow fetches over HTTP", queue.ErrHandOff)
			}
			if failErr == nil {
				failErr = unstorable(x, res)
			}
			outcome := "ok"
			if failErr != nil {
				outcome = "error"
			} else if res.Wait != nil {
				outcome = "wait"
			}
			metricSteps.WithLabelValues(pn.Spec.Type, outcome).Observe(time.Since(started).Seconds())
			if failErr == nil {
				if err := e.saveStep(ctx, q, x, res, started, b); err != nil {
					return err
				}
			}
		}
		if failErr != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var pgErr *pgconn.PgError
			if b != nil && errors.As(failErr, &pgErr) {
				// the inline working's transaction is aborted: River works the run again from
				// its start, step by step (its failure recorded, retried, routed as usual)
				return fmt.Errorf("%w: %w", queue.ErrHandOff, failErr)
			}
			if row != nil && row.Status == "failed" && !retryFlag(row.State) {
				return e.finishRun(ctx, q, run, StatusFailed, nil, fmt.Sprintf("node %s failed", id), b)
			}
			retryAt, final := e.decideRetry(pn, x.Attempt)
			var perm *PermanentError
			if errors.As(failErr, &perm) {
				final = true
			}
			if err := e.failStep(ctx, q, x, failErr, final, retryAt, started, b); err != nil {
				return err
			}
			if !final {
				wakes = append(wakes, retryAt)
				waiting = true
				continue
			}
			if next := pn.Next["error"]; len(next) > 0 {
				outputs[id] = map[string]any{"error": failErr.Error()}
				todo = append(todo, next...)
				continue
			}
			return e.finishRun(ctx, q, run, StatusFailed, nil, runErrorText(id, failErr), b)
		}
		if res.Wait != nil {
			waiting = true
			if res.Wait.WakeAt != nil {
				wakes = append(wakes, *res.Wait.WakeAt)
			}
			continue
		}
		outputs[id] = res.Output
		if _, ok := plan.Nodes["response"]; !ok || id == "response" {
			last = res.Output // the run's output: the "response" node's, else the last step's
		}
		todo = append(todo, pn.Next[res.Port]...)
	}
	if waiting {
		var wake *time.Time
		for i := range wakes {
			if wake == nil || wakes[i].Before(*wake) {
				wake = &wakes[i]
			}
		}
		if b != nil && b.unaccepted != nil {
			return errNotAccepted // a run that parks is accepted first (prework.go)
		}
		if b != nil {
			// one statement: the steps, the parked run, the job done
			// (sent with the commit, see workOnce)
			b.last("parking run", stepsCTE+`UPDATE flow_runs SET status = 'waiting', wake_at = $16, `+firstTiming+` WHERE id = $1`, append(b.args(runID), wake)...)
			b.result = &RunResult{Status: StatusWaiting}
			if wake != nil {
				return e.Queue.EnqueueTx(ctx, q.(pgx.Tx), runID, *wake)
			}
			return nil
		}
		if _, err := q.Exec(ctx, `UPDATE flow_runs SET status = 'waiting', wake_at = $2 WHERE id = $1`, runID, wake); err != nil {
			return fmt.Errorf("parking run: %w", err)
		}
		if wake != nil {
			return e.Queue.Enqueue(ctx, runID, *wake)
		}
		return nil
	}
	return e.finishRun(ctx, q, run, StatusSucceeded, last, "", b)
}

func isSpecErrors(err error) bool {
	var se spec.Errors
	return errors.As(err, &se)
}

func retryFlag(state json.RawMessage) bool {
	var s struct {
		Retry bool `json:"retry"`
	}
	_ = json.Unmarshal(state, &s)
	return s.Retry
}

func (e *Engine) decideRetry(pn *PlanNode, attempt int) (time.Time, bool) {
	if attempt >= pn.MaxAttempts {
		return time.Time{}, true
	}
	backoff := pn.Backoff
	for i := 1; i < attempt && backoff < 24*time.Hour; i++ {
		backoff *= 2
	}
	return e.now().Add(backoff), false
}

// safeCall turns a node panic into a step error.
func safeCall(f func() (Result, error)) (res Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("node panicked: %v", r)
		}
	}()
	return f()
}

func marshalNullable(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

func (e *Engine) saveStep(ctx context.Context, q querier, x *Exec, res Result, started time.Time, b *batch) error {
	input, err := marshalNullable(x.Input)
	if err != nil {
		input = nil
	}
	if res.Wait != nil {
		state, err := json.Marshal(res.Wait.State)
		if err != nil {
			return fmt.Errorf("encoding wait state of %s: %w", x.NodeID, err)
		}
		state = withWatch(state, res.Wait.Watch)
		if b != nil {
			if err := b.held.keep(ctx, q, x.Key); err != nil {
				return err
			}
			b.add(pendingStep{node: x.NodeID, status: StatusWaiting, attempt: x.Attempt, input: strp(input), state: strp(state), wake: res.Wait.WakeAt, started: started})
			return nil
		}
		if _, err := q.Exec(ctx, `INSERT INTO flow_steps (run_id, node, status, attempt, input, state, wake_at, started_at) VALUES ($1, $2, 'waiting', $3, $4, $5, $6, $7)`,
			x.RunID, x.NodeID, x.Attempt, input, state, res.Wait.WakeAt, started); err != nil {
			return fmt.Errorf("parking step %s: %w", x.NodeID, err)
		}
		return nil
	}
	out, err := marshalNullable(res.Output)
	if err != nil {
		return fmt.Errorf("encoding output of %s: %w", x.NodeID, err)
	}
	if b != nil {
		var port *string
		if res.Port != "" {
			p := res.Port
			port = &p
		}
		b.held.take(x.Key) // dropped: the step commits with its writes
		b.add(pendingStep{node: x.NodeID, status: StatusSucceeded, attempt: x.Attempt, input: strp(input), output: strp(out), port: port,
			started: started, finished: time.Now()})
		return nil
	}
	if _, err := q.Exec(ctx, `INSERT INTO flow_steps (run_id, node, status, attempt, input, output, port, started_at, finished_at) VALUES ($1, $2, 'succeeded', $3, $4, $5, NULLIF($6, ''), $7, clock_timestamp())`,
		x.RunID, x.NodeID, x.Attempt, input, out, res.Port, started); err != nil {
		return fmt.Errorf("saving step %s: %w", x.NodeID, err)
	}
	return nil
}

// withWatch adds {"watch": w} to a JSON object state.
func withWatch(state []byte, w string) []byte {
	if w == "" {
		return state
	}
	var m map[string]any
	if json.Unmarshal(state, &m) != nil || m == nil {
		m = map[string]any{"value": json.RawMessage(state)}
	}
	m["watch"] = w
	b, _ := json.Marshal(m)
	return b
}

// saveResult stores the outcome of a resumed step (still waiting, or finished).
func (e *Engine) saveResult(ctx context.Context, q querier, stepID int64, res Result) error {
	if res.Wait != nil {
		state, err := json.Marshal(res.Wait.State)
		if err != nil {
			return fmt.Errorf("encoding wait state: %w", err)
		}
		state = withWatch(state, res.Wait.Watch)
		_, err = q.Exec(ctx, `UPDATE flow_steps SET state = $2, wake_at = $3 WHERE id = $1`, stepID, state, res.Wait.WakeAt)
		return err
	}
	out, err := marshalNullable(res.Output)
	if err != nil {
		return fmt.Errorf("encoding output: %w", err)
	}
	_, err = q.Exec(ctx, `UPDATE flow_steps SET status = 'succeeded', output = $2, port = NULLIF($3, ''), wake_at = NULL, finished_at = clock_timestamp() WHERE id = $1`, stepID, out, res.Port)
	return err
}

func (e *Engine) failStep(ctx context.Context, q querier, x *Exec, failErr error, final bool, retryAt, started time.Time, b *batch) error {
	in, _ := marshalNullable(x.Input)
	in = pgtext.CleanJSON(in) // a failure is recorded whatever the input held
	var state []byte
	var wake *time.Time
	if !final {
		state = []byte(`{"retry":true}`)
		wake = &retryAt
	}
	msg := stepErrorText(failErr)
	if len(msg) > 4000 {
		msg = msg[:4000]
	}
	msg = pgtext.Clean(strings.ToValidUTF8(msg, ""))
	if b != nil && x.StepID == 0 {
		if err := b.held.keep(ctx, q, x.Key); err != nil {
			return err
		}
		b.add(pendingStep{node: x.NodeID, status: StatusFailed, attempt: x.Attempt, input: strp(in), errText: &msg, state: strp(state), wake: wake,
			started: started, finished: time.Now()})
		return nil
	}
	var err error
	if x.StepID != 0 { // a resumed (waiting) step
		_, err = q.Exec(ctx, `UPDATE flow_steps SET status = 'failed', input = coalesce($2, input), error = $3, state = $4, wake_at = $5, finished_at = clock_timestamp() WHERE id = $1`,
			x.StepID, in, msg, state, wake)
	} else {
		_, err = q.Exec(ctx, `INSERT INTO flow_steps (run_id, node, status, attempt, input, error, state, wake_at, started_at, finished_at) VALUES ($1, $2, 'failed', $3, $4, $5, $6, $7, $8, clock_timestamp())`,
			x.RunID, x.NodeID, x.Attempt, in, msg, state, wake, started)
	}
	if err != nil {
		return fmt.Errorf("recording step failure: %w", err)
	}
	return nil
}

func (e *Engine) finish(ctx context.Context, run *runRow, status string, output any, msg string) error {
	out, err := marshalNullable(output)
	if err != nil {
		out, _ = json.Marshal(fmt.Sprint(output))
	}
	var errText *string
	if msg != "" {
		msg = pgtext.Clean(msg)
		errText = &msg
	}
	metricRuns.WithLabelValues(status).Inc()
	awaited := queue.Awaited(ctx)
	err = pgx.BeginFunc(ctx, e.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `WITH u AS (UPDATE flow_runs SET status = $2, output = $3, error = $4, finished_at = clock_timestamp(), wake_at = NULL WHERE id = $1 RETURNING id)
			SELECT CASE WHEN $5 THEN pg_notify('`+queue.DoneChannel+`', $1::text) END FROM u`,
			run.ID, status, out, errText, awaited); err != nil {
			return fmt.Errorf("finishing run: %w", err)
		}
		if status == StatusFailed {
			if err := notifyRunFailed(ctx, tx, run, msg); err != nil {
				return err
			}
		}
		if run.ParentRun != nil {
			return e.Queue.EnqueueTx(ctx, tx, *run.ParentRun, time.Time{})
		}
		return nil
	})
	if err == nil {
		if ready, ok := queue.ReadyAt(ctx); ok {
			metricRunLatency.WithLabelValues("queue").Observe(time.Since(ready).Seconds())
		}
		e.backlog.finished()
		e.waiters.signal(run.ID, &RunResult{Status: status, Output: out, Error: msg})
	}
	return err
}

// finishRun finishes run: in its own transaction, or (an inline working, b set) in q, the
// working's transaction, with the batched steps and the job's deletion in one statement.
func (e *Engine) finishRun(ctx context.Context, q querier, run *runRow, status string, output any, msg string, b *batch) error {
	if b == nil {
		return e.finish(ctx, run, status, output, msg)
	}
	out, err := marshalNullable(output)
	if err != nil {
		out, _ = json.Marshal(fmt.Sprint(output))
	}
	var errText *string
	if msg != "" {
		msg = pgtext.Clean(msg)
		errText = &msg
	}
	if b.unaccepted != nil {
		// a working before the run's accept (prework.go) commits only a run that succeeded
		if status != StatusSucceeded {
			return errNotAccepted
		}
		b.last("finishing run", stepsInsert+insertFinishedRunSQL, b.unaccepted.args(b, out)...)
		b.result = &RunResult{Status: status, Output: out}
		return nil
	}
	// the steps and the run's end go with the commit (workOnce); what follows is written in
	// the same transaction before them
	b.last("finishing run", stepsCTE+`UPDATE flow_runs SET status = $16, output = $17, error = $18, finished_at = clock_timestamp(), wake_at = NULL, `+firstTiming+` WHERE id = $1`,
		append(b.args(run.ID), status, out, errText)...)
	tx := q.(pgx.Tx)
	if status == StatusFailed {
		if err := notifyRunFailed(ctx, tx, run, msg); err != nil {
			return err
		}
	}
	if run.ParentRun != nil {
		if err := e.Queue.EnqueueTx(ctx, tx, *run.ParentRun, time.Time{}); err != nil {
			return err
		}
	}
	b.result = &RunResult{Status: status, Output: out, Error: msg}
	return nil
}

// Retry restarts a failed run from its failed step(s). It answers false when the run is not
// failed.
func (e *Engine) Retry(ctx context.Context, runID uuid.UUID) (bool, error) {
	var ok bool
	err := pgx.BeginFunc(ctx, e.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE flow_runs SET status = 'queued', error = NULL, finished_at = NULL WHERE id = $1 AND status = 'failed'`, runID)
		if err != nil {
			return fmt.Errorf("retrying run: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		ok = true
		if _, err := tx.Exec(ctx, `UPDATE flow_steps s SET state = '{"retry":true}', wake_at = NULL
			WHERE s.run_id = $1 AND s.status = 'failed' AND s.id = (SELECT max(id) FROM flow_steps WHERE run_id = $1 AND node = s.node)`, runID); err != nil {
			return fmt.Errorf("retrying steps: %w", err)
		}
		return e.Queue.EnqueueTx(ctx, tx, runID, time.Time{})
	})
	return ok, err
}

// Wake enqueues a run now (tasks completed, events arrived).
func (e *Engine) Wake(ctx context.Context, tx pgx.Tx, runID uuid.UUID) error {
	if tx == nil {
		return e.Queue.Enqueue(ctx, runID, time.Time{})
	}
	return e.Queue.EnqueueTx(ctx, tx, runID, time.Time{})
}
