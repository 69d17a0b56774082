package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/exprfn"
	"github.com/tessera/tessera/runtime/exprguard"
)

func init() {
	Register(NodeType{Name: "delay", Category: "timing", Label: spec.Label{"en": "Delay", "zh-CN": "延时"}, Waits: true,
		Params: paramsOf("delay"),
		New:    newDelay})
	Register(NodeType{Name: "wait_event", Category: "timing", Label: spec.Label{"en": "Wait for event", "zh-CN": "等待事件"}, Waits: true,
		Params: paramsOf("wait_event"),
		Ports:  []string{"event", "timeout"}, New: newWaitEvent})
	Register(NodeType{Name: "task", Category: "people", Label: spec.Label{"en": "Task", "zh-CN": "待办任务"}, Waits: true,
		Params: paramsOf("task"),
		New:    newTask})
	Register(NodeType{Name: "approval", Category: "people", Label: spec.Label{"en": "Approval", "zh-CN": "审批"}, Waits: true,
		Params: paramsOf("approval"),
		Ports:  []string{"approved", "rejected"}, New: newApproval})
	Register(NodeType{Name: "assign", Category: "people", Label: spec.Label{"en": "Assign", "zh-CN": "分配"},
		Params: paramsOf("assign"),
		New:    newAssign})
	Register(NodeType{Name: "subflow", Category: "logic", Label: spec.Label{"en": "Sub-flow", "zh-CN": "子流程"}, Waits: true,
		Params: paramsOf("subflow"),
		New:    newSubflow})
}

func timePtr(t time.Time) *time.Time { return &t }

func parseTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02 15:04", time.DateOnly} {
			if t, err := time.ParseInLocation(layout, x, shanghai()); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("%v is not a time (use RFC 3339)", v)
}

func shanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.UTC
	}
	return loc
}

// ---- delay

type delayNode struct {
	d        time.Duration
	until    Value
	calendar string
}

type untilState struct {
	Until time.Time `json:"until"`
}

func newDelay(p *Params) (Runner, spec.Errors) {
	var v struct {
		Duration string          `json:"duration"`
		Until    json.RawMessage `json:"until"`
		Calendar string          `json:"calendar"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	n := &delayNode{calendar: v.Calendar}
	p.Calendar("calendar", v.Calendar)
	switch {
	case v.Duration != "" && len(v.Until) > 0:
		p.Errorf("duration", "conflict", "give duration or until, not both")
	case v.Duration != "":
		n.d = p.Duration("duration", v.Duration)
	case len(v.Until) > 0:
		n.until = p.Value("until", v.Until)
	default:
		p.Errorf("duration", "required", "duration or until is required")
	}
	return n, p.Errors()
}

func (n *delayNode) Exec(x *Exec) (Result, error) {
	var until time.Time
	if n.until != nil {
		v, err := n.until.Eval(x.Env)
		if err != nil {
			return Result{}, err
		}
		if until, err = parseTime(v); err != nil {
			return Result{}, err
		}
	} else {
		var err error
		if until, err = x.Deadline(x.Now(), n.d, n.calendar); err != nil {
			return Result{}, err
		}
	}
	x.Input = map[string]any{"until": until.Format(time.RFC3339)}
	if !until.After(x.Now()) {
		return Result{Output: map[string]any{"until": until.Format(time.RFC3339)}}, nil
	}
	return Result{Wait: &Wait{State: untilState{until}, WakeAt: &until}}, nil
}

func (n *delayNode) Resume(x *Exec, state json.RawMessage) (Result, error) {
	var s untilState
	if err := json.Unmarshal(state, &s); err != nil {
		return Result{}, fmt.Errorf("delay state: %w", err)
	}
	if x.Now().Before(s.Until) {
		return Result{Wait: &Wait{State: s, WakeAt: &s.Until}}, nil
	}
	return Result{Output: map[string]any{"until": s.Until.Format(time.RFC3339)}}, nil
}

// ---- wait_event

type waitEventNode struct {
	entity   string
	record   Value
	cond     *vm.Program
	condSrc  string
	timeout  time.Duration
	calendar string
}

type waitEventState struct {
	Record   string    `json:"record_id"`
	Deadline time.Time `json:"deadline"`
}

var recordCondEnv = map[string]any{"record": map[string]any{}, "trigger": map[string]any{}, "steps": map[string]any{}, "now": time.Time{}}

func newWaitEvent(p *Params) (Runner, spec.Errors) {
	var v struct {
		Entity    string          `json:"entity"`
		Record    json.RawMessage `json:"record"`
		Condition string          `json:"condition"`
		Timeout   string          `json:"timeout"`
		Calendar  string          `json:"calendar"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	n := &waitEventNode{entity: v.Entity, condSrc: v.Condition, calendar: v.Calendar}
	p.Required("entity", v.Entity)
	if strings.Contains(v.Entity, "{{") {
		// the run waits for changes of this entity: it must be known when the flow is published
		p.Errorf("entity", "invalid", "write the entity of a wait_event literally, not as a template (请直接填写实体，不能使用模板)")
	}
	p.Calendar("calendar", v.Calendar)
	if p.Required("condition", v.Condition) {
		prog, err := expr.Compile(strings.Trim(strings.TrimSpace(v.Condition), "{}"), append(append(exprguard.Options(), exprfn.Options()...), expr.Env(recordCondEnv), expr.AsBool())...)
		if err != nil {
			p.Errorf("condition", "invalid_expr", "%v", err)
		}
		n.cond = prog
	}
	if p.Required("timeout", v.Timeout) {
		n.timeout = p.Duration("timeout", v.Timeout)
	}
	if len(v.Record) > 0 {
		n.record = p.Value("record", v.Record)
	} else {
		n.record, _ = CompileTemplate("{{ trigger.record.id }}")
	}
	return n, p.Errors()
}

func (n *waitEventNode) check(x *Exec, s waitEventState) (Result, bool, error) {
	id, err := uuid.Parse(s.Record)
	if err != nil {
		return Result{}, false, fmt.Errorf("record id %q: %w", s.Record, err)
	}
	rs := x.Engine.opts.Records
	if rs == nil {
		return Result{}, false, errors.New("records are not available")
	}
	rec, err := rs.Get(x.Ctx, RecordCall{AppID: x.AppID, Subject: x.Subject, Entity: n.entity, ID: id})
	if err != nil && !errors.Is(err, ErrRecordNotFound) {
		return Result{}, false, err
	}
	if rec != nil {
		data, _ := rec["data"].(map[string]any)
		vals := map[string]any{"id": s.Record}
		for k, v := range data {
			vals[k] = v
		}
		ok, err := exprguard.Run(x.Ctx, n.cond, map[string]any{"record": vals, "trigger": x.Env["trigger"], "steps": x.Env["steps"], "now": x.Now()}, 0)
		if err != nil {
			if c := exprguard.Cause(err); c != nil {
				return Result{}, false, Permanent(fmt.Errorf("condition %q: %w", n.condSrc, c))
			}
			return Result{}, false, fmt.Errorf("condition %q: %w", n.condSrc, err)
		}
		if b, _ := ok.(bool); b {
			return Result{Output: map[string]any{"event": true, "record": rec}, Port: "event"}, true, nil
		}
	}
	if !x.Now().Before(s.Deadline) {
		return Result{Output: map[string]any{"event": false, "timeout": true, "deadline": s.Deadline.Format(time.RFC3339)}, Port: "timeout"}, true, nil
	}
	return Result{Wait: &Wait{State: s, WakeAt: timePtr(s.Deadline), Watch: x.AppID.String() + ":" + n.entity + ":" + s.Record}}, false, nil
}

func (n *waitEventNode) Exec(x *Exec) (Result, error) {
	v, err := n.record.Eval(x.Env)
	if err != nil {
		return Result{}, err
	}
	if m, ok := v.(map[string]any); ok {
		v = m["id"]
	}
	deadline, err := x.Deadline(x.Now(), n.timeout, n.calendar)
	if err != nil {
		return Result{}, err
	}
	s := waitEventState{Record: Stringify(v), Deadline: deadline}
	x.Input = map[string]any{"entity": n.entity, "record_id": s.Record, "deadline": deadline.Format(time.RFC3339)}
	res, _, err := n.check(x, s)
	return res, err
}

func (n *waitEventNode) Resume(x *Exec, state json.RawMessage) (Result, error) {
	var s waitEventState
	if err := json.Unmarshal(state, &s); err != nil {
		return Result{}, fmt.Errorf("wait_event state: %w", err)
	}
	res, _, err := n.check(x, s)
	return res, err
}

// ---- task

type taskNode struct {
	title, assignee, record, description, escalateTo Value
	due, remind                                      time.Duration
	calendar                                         string
}

type taskState struct {
	TaskID    uuid.UUID  `json:"task_id"`
	Due       *time.Time `json:"due,omitempty"`
	RemindAt  *time.Time `json:"remind_at,omitempty"`
	Escalated bool       `json:"escalated,omitempty"`
}

// wake is the next time the task needs attention (reminder, escalation).
func (s taskState) wake(canEscalate bool) *time.Time {
	var w *time.Time
	if s.RemindAt != nil {
		w = s.RemindAt
	}
	if canEscalate && !s.Escalated && s.Due != nil && (w == nil || s.Due.Before(*w)) {
		w = s.Due
	}
	return w
}

func newTask(p *Params) (Runner, spec.Errors) {
	var v struct {
		Title       json.RawMessage `json:"title"`
		Assignee    json.RawMessage `json:"assignee"`
		Due         string          `json:"due"`
		Calendar    string          `json:"calendar"`
		Record      json.RawMessage `json:"record"`
		Description json.RawMessage `json:"description"`
		Remind      string          `json:"remind"`
		EscalateTo  json.RawMessage `json:"escalate_to"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	n := &taskNode{calendar: v.Calendar}
	if v.Remind != "" {
		n.remind = p.Duration("remind", v.Remind)
	}
	if len(v.EscalateTo) > 0 {
		if v.Due == "" {
			p.Errorf("escalate_to", "required", "escalate_to needs a due time")
		}
		n.escalateTo = p.Assignee("escalate_to", v.EscalateTo)
	}
	p.Calendar("calendar", v.Calendar)
	if len(v.Title) == 0 {
		p.Errorf("title", "required", "title is required")
	} else {
		n.title = p.Value("title", v.Title)
	}
	if len(v.Assignee) == 0 {
		p.Errorf("assignee", "required", "assignee is required")
	} else {
		n.assignee = p.Assignee("assignee", v.Assignee)
	}
	if len(v.Record) > 0 {
		n.record = p.Value("record", v.Record)
	}
	if len(v.Description) > 0 {
		n.description = p.Value("description", v.Description)
	}
	if v.Due != "" {
		n.due = p.Duration("due", v.Due)
	}
	return n, p.Errors()
}

// userID resolves an assignee value: a user id, {"user_id"} (an assign output) or a record.
func userID(v any) (uuid.UUID, error) {
	if m, ok := v.(map[string]any); ok {
		if u, ok := m["user_id"]; ok {
			v = u
		} else if u, ok := m["id"]; ok {
			v = u
		}
	}
	id, err := uuid.Parse(Stringify(v))
	if err != nil {
		return uuid.Nil, fmt.Errorf("assignee %q is not a user id", Stringify(v))
	}
	return id, nil
}

func optionalID(v Value, env map[string]any) (*uuid.UUID, error) {
	if v == nil {
		return nil, nil
	}
	out, err := v.Eval(env)
	if err != nil || out == nil || out == "" {
		return nil, err
	}
	if m, ok := out.(map[string]any); ok {
		out = m["id"]
	}
	id, err := uuid.Parse(Stringify(out))
	if err != nil {
		return nil, fmt.Errorf("%q is not an id", Stringify(out))
	}
	return &id, nil
}

// createTask inserts a task row once per key (a replay finds the earlier one).
func (x *Exec) createTask(key, kind, title string, assignee uuid.UUID, due *time.Time, record *uuid.UUID, data map[string]any) (uuid.UUID, error) {
	var id uuid.UUID
	err := x.Engine.Pool.QueryRow(x.Ctx, `SELECT (result->>'id')::uuid FROM flow_effects WHERE key = $1`, key).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, fmt.Errorf("looking up task: %w", err)
	}
	if data == nil {
		data = map[string]any{}
	}
	dj, _ := json.Marshal(data)
	err = pgx.BeginFunc(x.Ctx, x.Engine.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(x.Ctx, `INSERT INTO tasks (app_id, run_id, node, kind, title, assignee_id, record_id, due_at, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, x.AppID, x.RunID, x.NodeID, kind, title, assignee, record, due, dj).Scan(&id); err != nil {
			return fmt.Errorf("creating task: %w", err)
		}
		if err := x.notifyAssigned(tx, id, data); err != nil {
			return err
		}
		return RecordEffect(x.Ctx, tx, key, id)
	})
	return id, err
}

func (n *taskNode) Exec(x *Exec) (Result, error) {
	tv, err := n.title.Eval(x.Env)
	if err != nil {
		return Result{}, err
	}
	av, err := n.assignee.Eval(x.Env)
	if err != nil {
		return Result{}, err
	}
	assignee, err := x.person(av)
	if err != nil {
		return Result{}, err
	}
	rec, err := optionalID(n.record, x.Env)
	if err != nil {
		return Result{}, err
	}
	// The due time and the reminder count from the same instant, so a slow task insert never
	// pushes the reminder past the due time (the escalation would then come first).
	start := x.Now()
	var due *time.Time
	if n.due > 0 {
		d, err := x.Deadline(start, n.due, n.calendar)
		if err != nil {
			return Result{}, err
		}
		due = &d
	}
	data := map[string]any{}
	if n.description != nil {
		if d, err := n.description.Eval(x.Env); err == nil {
			data["description"] = d
		}
	}
	id, err := x.createTask(x.Key, "task", Stringify(tv), assignee, due, rec, data)
	if err != nil {
		return Result{}, err
	}
	x.Input = map[string]any{"title": Stringify(tv), "assignee": assignee.String(), "task_id": id.String()}
	st := taskState{TaskID: id, Due: due}
	if n.remind > 0 {
		r, err := x.Deadline(start, n.remind, n.calendar)
		if err != nil {
			return Result{}, err
		}
		st.RemindAt = &r
	}
	return Result{Wait: &Wait{State: st, WakeAt: st.wake(n.escalateTo != nil)}}, nil
}

type taskRow struct {
	ID          uuid.UUID
	Status      string
	Assignee    *uuid.UUID
	Outcome     *string
	Comment     *string
	CompletedBy *uuid.UUID
	CompletedAt *time.Time
}

func (x *Exec) loadTasks(ids []uuid.UUID) ([]taskRow, error) {
	rows, err := x.Engine.Pool.Query(x.Ctx, `SELECT id, status, assignee_id, outcome, comment, completed_by, completed_at FROM tasks WHERE id = ANY($1) ORDER BY created_at, id`, ids)
	if err != nil {
		return nil, fmt.Errorf("loading tasks: %w", err)
	}
	defer rows.Close()
	var out []taskRow
	for rows.Next() {
		var t taskRow
		if err := rows.Scan(&t.ID, &t.Status, &t.Assignee, &t.Outcome, &t.Comment, &t.CompletedBy, &t.CompletedAt); err != nil {
			return nil, fmt.Errorf("loading tasks: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (n *taskNode) Resume(x *Exec, state json.RawMessage) (Result, error) {
	var s taskState
	if err := json.Unmarshal(state, &s); err != nil {
		return Result{}, fmt.Errorf("task state: %w", err)
	}
	ts, err := x.loadTasks([]uuid.UUID{s.TaskID})
	if err != nil {
		return Result{}, err
	}
	if len(ts) == 0 {
		return Result{}, fmt.Errorf("task %s was deleted", s.TaskID)
	}
	t := ts[0]
	if t.Status == "open" {
		now := x.Now()
		if s.RemindAt != nil && !now.Before(*s.RemindAt) {
			if err := x.remindTasks([]uuid.UUID{t.ID}); err != nil {
				return Result{}, err
			}
			x.Engine.opts.Log.Info("task reminder", "run", x.RunID, "node", x.NodeID, "task", t.ID)
			s.RemindAt = nil
		}
		if n.escalateTo != nil && !s.Escalated && s.Due != nil && !now.Before(*s.Due) {
			v, err := n.escalateTo.Eval(x.Env)
			if err != nil {
				return Result{}, err
			}
			to, err := x.person(v)
			if err != nil {
				return Result{}, fmt.Errorf("escalate_to: %w", err)
			}
			if err := x.escalateTask(t.ID, to); err != nil {
				return Result{}, err
			}
			s.Escalated = true
		}
		return Result{Wait: &Wait{State: s, WakeAt: s.wake(n.escalateTo != nil)}}, nil
	}
	out := map[string]any{"task_id": t.ID.String(), "status": t.Status, "outcome": str(t.Outcome), "comment": str(t.Comment), "escalated": s.Escalated}
	if t.CompletedBy != nil {
		out["completed_by"] = t.CompletedBy.String()
	}
	return Result{Output: out}, nil
}
