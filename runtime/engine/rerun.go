package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/exprguard"
	"github.com/tessera/tessera/runtime/pgtext"
)

// ErrNodeNotInFlow: the flow (the draft a node re-run uses) has no node with that id.
var ErrNodeNotInFlow = errors.New("the flow has no such node")

// ErrNodeNotRun: the node has no step in the run, so there is no recorded input to re-run it on.
var ErrNodeNotRun = errors.New("the node did not run in this run")

// ErrNodeWaits: nodes that park the run (approval, task, delay, wait for event, sub-flow) are
// tested by a test run from the start, not re-run on their own.
var ErrNodeWaits = errors.New("the node waits for people or time")

// RerunRequest asks to work one node again on the input it had in an earlier run.
type RerunRequest struct {
	AppID uuid.UUID
	// Flow is the definition whose node configuration is used (the designer's draft); its
	// slug must be the run's flow.
	Flow *spec.Flow
	Node string
	// Run is the earlier run whose recorded trigger and step outputs are the node's input.
	Run   uuid.UUID
	Actor *uuid.UUID
}

// Rerun is the outcome of a node re-run: a new test run with one step.
type Rerun struct {
	RunID  uuid.UUID `json:"run_id"`
	Node   string    `json:"node"`
	Status string    `json:"status"` // succeeded or failed
	Input  any       `json:"input"`
	Output any       `json:"output"`
	Port   string    `json:"port,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// RerunNode works one node of r.Flow again, as a new test run (test = true, rerun_of the
// earlier run) with a single step, on what the node saw in the earlier run: its trigger and
// the outputs of the steps that succeeded there. The node's configuration is r.Flow's (the
// draft), so an analyst changes a node and re-runs it without a whole test run. Side effects
// happen as in a test run (a record write is a write); nodes that wait are refused
// (ErrNodeWaits); a node whose draft configuration is invalid answers its spec.Errors with
// the node's nodes[i].params paths.
func (e *Engine) RerunNode(ctx context.Context, r RerunRequest) (*Rerun, error) {
	src, err := e.loadRun(ctx, e.Pool, r.Run)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && (src.AppID != r.AppID || r.Flow == nil || src.Flow != r.Flow.Slug)) {
		return nil, ErrRunNotFound
	}
	if err != nil {
		return nil, err
	}
	idx := -1
	for i, n := range r.Flow.Nodes {
		if n.ID == r.Node {
			idx = i
		}
	}
	if idx < 0 {
		return nil, ErrNodeNotInFlow
	}
	steps, err := e.loadSteps(ctx, e.Pool, src.ID)
	if err != nil {
		return nil, err
	}
	if steps[r.Node] == nil {
		return nil, ErrNodeNotRun
	}
	sn := r.Flow.Nodes[idx]
	nt, ok := lookup(sn.Type)
	if !ok {
		return nil, spec.Errors{{Field: fmt.Sprintf("nodes[%d].type", idx), Code: "unknown", Message: fmt.Sprintf("unknown node type %q", sn.Type)}}
	}
	if nt.Waits {
		return nil, ErrNodeWaits
	}
	p := &Params{Path: fmt.Sprintf("nodes[%d].params", idx), Raw: sn.Params, Node: sn, Flow: r.Flow}
	runner, errs := nt.New(p)
	if len(errs) > 0 {
		return nil, errs
	}
	pn := &PlanNode{Spec: sn, Type: nt, Runner: runner, Next: map[string][]string{}, MaxAttempts: 1}

	// the node's input: the earlier run's trigger and the outputs of its succeeded steps
	outputs := map[string]any{}
	for id, s := range steps {
		if id == r.Node || s.Status != StatusSucceeded || len(s.Output) == 0 {
			continue
		}
		var out any
		if json.Unmarshal(s.Output, &out) == nil {
			outputs[id] = out
		}
	}
	trig := map[string]any{}
	for k, v := range src.Trigger {
		trig[k] = v
	}
	trig["test"] = true
	runAs := r.Flow.RunAs
	if runAs == "" {
		runAs = "service"
	}
	trigJSON, err := json.Marshal(trig)
	if err != nil {
		return nil, fmt.Errorf("encoding trigger: %w", err)
	}
	run := &runRow{AppID: src.AppID, Flow: src.Flow, Version: src.Version, Status: StatusRunning, Trigger: trig, Actor: r.Actor, RunAs: runAs}
	if err := e.Pool.QueryRow(ctx, `INSERT INTO flow_runs (app_id, flow, flow_version, status, trigger, actor, run_as, test, rerun_of, rerun_node, started_at)
		VALUES ($1, $2, $3, 'running', $4, $5, $6, true, $7, $8, now()) RETURNING id`,
		run.AppID, run.Flow, run.Version, trigJSON, r.Actor, runAs, src.ID, r.Node).Scan(&run.ID); err != nil {
		return nil, fmt.Errorf("creating the node's test run: %w", err)
	}
	env := map[string]any{
		"trigger": trig,
		"steps":   outputs,
		"run":     map[string]any{"id": run.ID.String(), "flow": run.Flow, "version": run.Version, "app_id": run.AppID.String()},
		"now":     e.now(),
	}
	env[exprguard.EnvKey] = exprguard.NewBudget(ctx, exprguard.DefaultTimeout)
	x := &Exec{Ctx: ctx, Engine: e, RunID: run.ID, AppID: run.AppID, Flow: run.Flow, NodeID: r.Node, Env: env, Attempt: 1,
		Subject: e.subject(ctx, run), Key: run.ID.String() + ":" + r.Node,
		plan: &Plan{Flow: r.Flow, Nodes: map[string]*PlanNode{r.Node: pn}}, run: run}
	started := time.Now()
	res, failErr := safeCall(func() (Result, error) { return runner.Exec(x) })
	if failErr == nil {
		failErr = unstorable(x, res)
	}
	if failErr == nil && res.Wait != nil {
		failErr = ErrNodeWaits
	}
	bg := context.WithoutCancel(ctx)
	out := &Rerun{RunID: run.ID, Node: r.Node}
	if in, err := marshalNullable(x.Input); err == nil && in != nil {
		out.Input = json.RawMessage(pgtext.CleanJSON(in))
	}
	if failErr != nil {
		if err := e.failStep(bg, e.Pool, x, failErr, true, time.Time{}, started, nil); err != nil {
			return nil, err
		}
		out.Status, out.Error = StatusFailed, stepErrorText(failErr)
		msg := pgtext.Clean(runErrorText(r.Node, failErr))
		if _, err := e.Pool.Exec(bg, `UPDATE flow_runs SET status = 'failed', error = $2, finished_at = clock_timestamp() WHERE id = $1`, run.ID, msg); err != nil {
			return nil, fmt.Errorf("finishing the node's test run: %w", err)
		}
		return out, nil
	}
	if err := e.saveStep(bg, e.Pool, x, res, started, nil); err != nil {
		return nil, err
	}
	body, err := marshalNullable(res.Output)
	if err != nil {
		return nil, fmt.Errorf("encoding output of %s: %w", r.Node, err)
	}
	if _, err := e.Pool.Exec(bg, `UPDATE flow_runs SET status = 'succeeded', output = $2, finished_at = clock_timestamp() WHERE id = $1`, run.ID, body); err != nil {
		return nil, fmt.Errorf("finishing the node's test run: %w", err)
	}
	out.Status, out.Port = StatusSucceeded, res.Port
	if body != nil {
		out.Output = json.RawMessage(body)
	}
	return out, nil
}
