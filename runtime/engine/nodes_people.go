package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
)

// ---- approval

type approvalLevelSpec struct {
	Name      string            `json:"name"`
	Assignee  json.RawMessage   `json:"assignee,omitempty"`
	Assignees []json.RawMessage `json:"assignees,omitempty"`
	Mode      string            `json:"mode,omitempty"` // any (default) | all
}

type approvalLevel struct {
	name      string
	assignees []Value
	mode      string
}

type approvalRoute struct {
	name   string
	when   *Program
	levels []approvalLevel
}

type approvalNode struct {
	title, record, escalateTo Value
	levels                    []approvalLevel
	routes                    []approvalRoute
	timeout, remind           time.Duration
	calendar, onTimeout       string
}

func compileLevels(p *Params, key string, specs []approvalLevelSpec) []approvalLevel {
	var out []approvalLevel
	for i, l := range specs {
		k := fmt.Sprintf("%s[%d]", key, i)
		lv := approvalLevel{name: l.Name, mode: l.Mode}
		if lv.mode == "" {
			lv.mode = "any"
		}
		if lv.mode != "any" && lv.mode != "all" {
			p.Errorf(k+".mode", "invalid", "mode must be any or all")
		}
		if lv.name == "" {
			lv.name = fmt.Sprintf("level %d", i+1)
		}
		raws := l.Assignees
		if len(l.Assignee) > 0 {
			raws = append([]json.RawMessage{l.Assignee}, raws...)
		}
		if len(raws) == 0 {
			p.Errorf(k+".assignees", "required", "each level needs at least one assignee")
		}
		for j, r := range raws {
			lv.assignees = append(lv.assignees, p.Assignee(fmt.Sprintf("%s.assignees[%d]", k, j), r))
		}
		out = append(out, lv)
	}
	return out
}

func newApproval(p *Params) (Runner, spec.Errors) {
	var v struct {
		Title  json.RawMessage     `json:"title"`
		Record json.RawMessage     `json:"record"`
		Levels []approvalLevelSpec `json:"levels"`
		Routes []struct {
			Name   string              `json:"name"`
			When   string              `json:"when"`
			Levels []approvalLevelSpec `json:"levels"`
		} `json:"routes"`
		Assignee   json.RawMessage `json:"assignee"`
		Timeout    string          `json:"timeout"`
		Calendar   string          `json:"calendar"`
		OnTimeout  string          `json:"on_timeout"`
		EscalateTo json.RawMessage `json:"escalate_to"`
		Remind     string          `json:"remind"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	n := &approvalNode{calendar: v.Calendar, onTimeout: v.OnTimeout}
	p.Calendar("calendar", v.Calendar)
	if len(v.Title) == 0 {
		p.Errorf("title", "required", "title is required")
	} else {
		n.title = p.Value("title", v.Title)
	}
	if len(v.Record) > 0 {
		n.record = p.Value("record", v.Record)
	}
	if len(v.Assignee) > 0 { // single approval shorthand
		v.Levels = append([]approvalLevelSpec{{Name: "approver", Assignee: v.Assignee}}, v.Levels...)
	}
	n.levels = compileLevels(p, "levels", v.Levels)
	for i, r := range v.Routes {
		k := fmt.Sprintf("routes[%d]", i)
		rt := approvalRoute{name: r.Name, when: p.Expr(k+".when", r.When), levels: compileLevels(p, k+".levels", r.Levels)}
		if len(r.Levels) == 0 {
			p.Errorf(k+".levels", "required", "a route needs levels")
		}
		n.routes = append(n.routes, rt)
	}
	if len(n.levels) == 0 && len(v.Routes) == 0 {
		p.Errorf("levels", "required", "levels (or assignee, or routes) are required")
	}
	if v.Timeout != "" {
		n.timeout = p.Duration("timeout", v.Timeout)
	}
	if v.Remind != "" {
		n.remind = p.Duration("remind", v.Remind)
	}
	switch v.OnTimeout {
	case "", "reject", "approve":
	case "escalate":
		if len(v.EscalateTo) == 0 {
			p.Errorf("escalate_to", "required", "escalate_to is required when on_timeout is escalate")
		} else {
			n.escalateTo = p.Assignee("escalate_to", v.EscalateTo)
		}
	default:
		p.Errorf("on_timeout", "invalid", "on_timeout must be reject, approve or escalate")
	}
	return n, p.Errors()
}

type approvalStepState struct {
	Name      string      `json:"name"`
	Assignees []string    `json:"assignees"`
	Mode      string      `json:"mode"`
	Tasks     []uuid.UUID `json:"tasks,omitempty"`
	Outcome   string      `json:"outcome,omitempty"`
	DecidedBy []string    `json:"decided_by,omitempty"`
	Comments  []string    `json:"comments,omitempty"`
}

type approvalState struct {
	Title     string              `json:"title"`
	Record    *uuid.UUID          `json:"record_id,omitempty"`
	Route     string              `json:"route,omitempty"`
	Levels    []approvalStepState `json:"levels"`
	Current   int                 `json:"current"`
	Deadline  *time.Time          `json:"deadline,omitempty"`
	RemindAt  *time.Time          `json:"remind_at,omitempty"`
	Escalated bool                `json:"escalated,omitempty"`
}

func (n *approvalNode) Exec(x *Exec) (Result, error) {
	tv, err := n.title.Eval(x.Env)
	if err != nil {
		return Result{}, err
	}
	levels := n.levels
	route := -1
	for i, r := range n.routes {
		ok, err := r.when.Bool(x.Env)
		if err != nil {
			return Result{}, err
		}
		if ok {
			levels, route = r.levels, i
			break
		}
	}
	if len(levels) == 0 {
		return Result{}, errors.New("no approval route matched and no default levels are set")
	}
	s := approvalState{Title: Stringify(tv)}
	if route >= 0 {
		s.Route = n.routes[route].name
		if s.Route == "" {
			s.Route = fmt.Sprintf("route %d", route+1)
		}
	}
	if s.Record, err = optionalID(n.record, x.Env); err != nil {
		return Result{}, err
	}
	for _, l := range levels {
		st := approvalStepState{Name: l.name, Mode: l.mode}
		for _, a := range l.assignees {
			v, err := a.Eval(x.Env)
			if err != nil {
				return Result{}, err
			}
			list, ok := toJSONable(v).([]any)
			if !ok {
				list = []any{v}
			}
			for _, item := range list {
				ids, err := x.people(item)
				if err != nil {
					return Result{}, fmt.Errorf("level %s: %w", l.name, err)
				}
				for _, id := range ids[:len(ids)-1] {
					st.Assignees = append(st.Assignees, id.String())
				}
				id := ids[len(ids)-1]
				st.Assignees = append(st.Assignees, id.String())
			}
		}
		s.Levels = append(s.Levels, st)
	}
	names := make([]string, len(s.Levels))
	for i, l := range s.Levels {
		names[i] = l.Name
	}
	x.Input = map[string]any{"title": s.Title, "route": route, "levels": names}
	if err := n.openLevel(x, &s); err != nil {
		return Result{}, err
	}
	return n.wait(x, s), nil
}

func (n *approvalNode) openLevel(x *Exec, s *approvalState) error {
	l := &s.Levels[s.Current]
	l.Tasks = nil
	for i, a := range l.Assignees {
		uid, _ := uuid.Parse(a)
		key := fmt.Sprintf("%s:L%d:%d", x.Key, s.Current, i)
		if s.Escalated {
			key += ":esc"
		}
		var due *time.Time
		s.Deadline, s.RemindAt = nil, nil
		if n.timeout > 0 && !s.Escalated {
			d, err := x.Deadline(x.Now(), n.timeout, n.calendar)
			if err != nil {
				return err
			}
			s.Deadline, due = &d, &d
		}
		if n.remind > 0 && !s.Escalated {
			r, err := x.Deadline(x.Now(), n.remind, n.calendar)
			if err != nil {
				return err
			}
			s.RemindAt = &r
		}
		// level, its place among the levels and the route tell the approver where they stand
		data := map[string]any{"level": l.Name, "level_index": s.Current, "levels": len(s.Levels), "mode": l.Mode}
		if s.Route != "" {
			data["route"] = s.Route
		}
		if s.Escalated {
			data["escalated"] = true
		}
		id, err := x.createTask(key, "approval", s.Title, uid, due, s.Record, data)
		if err != nil {
			return err
		}
		l.Tasks = append(l.Tasks, id)
	}
	return nil
}

func (n *approvalNode) wait(x *Exec, s approvalState) Result {
	var wake *time.Time
	if s.RemindAt != nil {
		wake = s.RemindAt
	}
	if s.Deadline != nil && (wake == nil || s.Deadline.Before(*wake)) {
		wake = s.Deadline
	}
	return Result{Wait: &Wait{State: s, WakeAt: wake}}
}

func normOutcome(o string) string {
	switch o {
	case "approve", "approved", "yes", "同意", "通过":
		return "approved"
	case "reject", "rejected", "no", "驳回", "拒绝":
		return "rejected"
	}
	return o
}

func (n *approvalNode) output(s approvalState, outcome string) Result {
	hist := make([]any, 0, len(s.Levels))
	for _, l := range s.Levels {
		if l.Outcome == "" {
			continue
		}
		hist = append(hist, map[string]any{"name": l.Name, "outcome": l.Outcome, "decided_by": l.DecidedBy, "comments": l.Comments})
	}
	return Result{Output: map[string]any{"outcome": outcome, "levels": hist}, Port: outcome}
}

func (n *approvalNode) Resume(x *Exec, state json.RawMessage) (Result, error) {
	var s approvalState
	if err := json.Unmarshal(state, &s); err != nil {
		return Result{}, fmt.Errorf("approval state: %w", err)
	}
	for {
		l := &s.Levels[s.Current]
		tasks, err := x.loadTasks(l.Tasks)
		if err != nil {
			return Result{}, err
		}
		approved, rejected, open := 0, 0, 0
		l.DecidedBy, l.Comments = nil, nil
		for _, t := range tasks {
			switch {
			case t.Status == "open":
				open++
			case normOutcome(str(t.Outcome)) == "approved":
				approved++
			case normOutcome(str(t.Outcome)) == "rejected":
				rejected++
			}
			if t.Status == "done" && t.CompletedBy != nil {
				l.DecidedBy = append(l.DecidedBy, t.CompletedBy.String())
				if c := str(t.Comment); c != "" {
					l.Comments = append(l.Comments, c)
				}
			}
		}
		decision := ""
		switch {
		case rejected > 0:
			decision = "rejected"
		case l.Mode == "all" && approved == len(tasks) && len(tasks) > 0:
			decision = "approved"
		case l.Mode != "all" && approved > 0:
			decision = "approved"
		}
		if decision == "" && open == 0 && len(tasks) > 0 {
			decision = "rejected" // every task closed without an approval (cancelled)
		}
		if decision == "" {
			now := x.Now()
			if s.Deadline != nil && !now.Before(*s.Deadline) {
				switch n.onTimeout {
				case "approve":
					decision = "approved"
				case "escalate":
					v, err := n.escalateTo.Eval(x.Env)
					if err != nil {
						return Result{}, err
					}
					uid, err := x.person(v)
					if err != nil {
						return Result{}, err
					}
					x.cancelTasks(l.Tasks, "escalated")
					l.Assignees = []string{uid.String()}
					l.Mode = "any"
					s.Escalated = true
					if err := n.openLevel(x, &s); err != nil {
						return Result{}, err
					}
					return n.wait(x, s), nil
				default:
					decision = "rejected"
				}
				l.Outcome = decision
				l.DecidedBy = append(l.DecidedBy, "timeout")
			} else {
				if s.RemindAt != nil && !now.Before(*s.RemindAt) {
					if err := x.remindTasks(l.Tasks); err != nil {
						return Result{}, err
					}
					x.Engine.opts.Log.Info("approval reminder", "run", x.RunID, "node", x.NodeID, "level", l.Name)
					s.RemindAt = nil
				}
				return n.wait(x, s), nil
			}
		}
		l.Outcome = decision
		x.cancelTasks(l.Tasks, "")
		if decision == "rejected" || s.Current+1 >= len(s.Levels) {
			if err := n.notifyDecided(x, s, decision); err != nil {
				return Result{}, err
			}
			return n.output(s, decision), nil
		}
		s.Current++
		s.Escalated = false
		if err := n.openLevel(x, &s); err != nil {
			return Result{}, err
		}
		return n.wait(x, s), nil
	}
}

// cancelTasks closes the still open tasks among ids (decided elsewhere).
func (x *Exec) cancelTasks(ids []uuid.UUID, outcome string) {
	_, _ = x.Engine.Pool.Exec(x.Ctx, `UPDATE tasks SET status = 'cancelled', outcome = NULLIF($2, ''), completed_at = now() WHERE id = ANY($1) AND status = 'open'`, ids, outcome)
}

// ---- assign

type assignRule struct {
	when *Program
	user Value
	team Value
}

type assignNode struct {
	strategy string
	within   string // rules: how to pick inside a matched team (round_robin | least_loaded)
	users    []Value
	team     Value
	rules    []assignRule
	capacity int
	record   Value     // record to hand over to the chosen user (optional)
	entity   NameParam // its entity ("" = the trigger's)
}

func newAssign(p *Params) (Runner, spec.Errors) {
	var v struct {
		Strategy string            `json:"strategy"`
		Users    []json.RawMessage `json:"users"`
		Team     json.RawMessage   `json:"team"`
		Rules    []struct {
			When string          `json:"when"`
			User json.RawMessage `json:"user"`
			Team json.RawMessage `json:"team"`
		} `json:"rules"`
		Capacity int             `json:"capacity"`
		Within   string          `json:"within"`
		Record   json.RawMessage `json:"record"`
		Entity   string          `json:"entity"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	n := &assignNode{strategy: v.Strategy, capacity: v.Capacity, within: v.Within, entity: p.Name("entity", v.Entity)}
	if len(v.Record) > 0 {
		n.record = p.Value("record", v.Record)
	}
	if v.Within != "" && v.Within != "round_robin" && v.Within != "least_loaded" {
		p.Errorf("within", "invalid", "within must be round_robin or least_loaded")
	}
	switch v.Strategy {
	case "round_robin", "least_loaded":
		if len(v.Users) == 0 && len(v.Team) == 0 {
			p.Errorf("users", "required", "users or team is required")
		}
	case "rules":
		if len(v.Rules) == 0 {
			p.Errorf("rules", "required", "rules are required")
		}
	default:
		p.Errorf("strategy", "invalid", "strategy must be round_robin, least_loaded or rules")
	}
	for i, u := range v.Users {
		n.users = append(n.users, p.Assignee(fmt.Sprintf("users[%d]", i), u))
	}
	if len(v.Team) > 0 {
		n.team = p.Value("team", v.Team)
	}
	for i, r := range v.Rules {
		k := fmt.Sprintf("rules[%d]", i)
		ar := assignRule{when: p.Expr(k+".when", r.When)}
		if len(r.User) > 0 {
			ar.user = p.Assignee(k+".user", r.User)
		}
		if len(r.Team) > 0 {
			ar.team = p.Value(k+".team", r.Team)
		}
		if ar.user == nil && ar.team == nil {
			p.Errorf(k, "required", "a rule needs user or team")
		}
		n.rules = append(n.rules, ar)
	}
	if v.Capacity < 0 {
		p.Errorf("capacity", "out_of_range", "capacity must be positive")
	}
	return n, p.Errors()
}

// candidates resolves the user pool: the users list, else the team's active members.
func (n *assignNode) candidates(x *Exec, team Value) ([]uuid.UUID, error) {
	var out []uuid.UUID
	for _, u := range n.users {
		v, err := u.Eval(x.Env)
		if err != nil {
			return nil, err
		}
		ids, err := x.people(v)
		if err != nil {
			return nil, err
		}
		out = append(out, ids...)
	}
	if len(out) == 0 && team != nil {
		tid, err := optionalID(team, x.Env)
		if err != nil || tid == nil {
			return nil, fmt.Errorf("team: %v", err)
		}
		rows, err := x.Engine.Pool.Query(x.Ctx, `SELECT id FROM users WHERE team_id = $1 AND NOT disabled ORDER BY created_at, id`, *tid)
		if err != nil {
			return nil, fmt.Errorf("loading team members: %w", err)
		}
		if out, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
			return nil, fmt.Errorf("loading team members: %w", err)
		}
	}
	return out, nil
}

func (x *Exec) openTasks(users []uuid.UUID) (map[uuid.UUID]int, error) {
	rows, err := x.Engine.Pool.Query(x.Ctx, `SELECT assignee_id, count(*) FROM tasks WHERE status = 'open' AND assignee_id = ANY($1) GROUP BY assignee_id`, users)
	if err != nil {
		return nil, fmt.Errorf("counting open tasks: %w", err)
	}
	defer rows.Close()
	out := map[uuid.UUID]int{}
	for rows.Next() {
		var id uuid.UUID
		var c int
		if err := rows.Scan(&id, &c); err != nil {
			return nil, err
		}
		out[id] = c
	}
	return out, rows.Err()
}

func (n *assignNode) Exec(x *Exec) (Result, error) {
	// a replay returns the earlier choice (round-robin cursors move once per run and node)
	var prev json.RawMessage
	if err := x.Engine.Pool.QueryRow(x.Ctx, `SELECT result FROM flow_effects WHERE key = $1`, x.Key).Scan(&prev); err == nil {
		var out map[string]any
		_ = json.Unmarshal(prev, &out)
		// handing over again is harmless (same owner: nothing written) and finishes a hand-over
		// a crash interrupted after the choice was saved
		if err := n.handOver(x, out); err != nil {
			return Result{}, err
		}
		return Result{Output: out}, nil
	}
	out, err := n.choose(x)
	if err != nil {
		return Result{}, err
	}
	if uid, ok := out["user_id"].(string); ok {
		// the chosen person's address and name, for the notices that follow (e-mail, chat)
		var email, name string
		if x.Engine.Pool.QueryRow(x.Ctx, `SELECT email, name FROM users WHERE id::text = $1`, uid).Scan(&email, &name) == nil {
			out["email"], out["name"] = email, name
		}
	}
	b, _ := json.Marshal(out)
	if _, err := x.Engine.Pool.Exec(x.Ctx, `INSERT INTO flow_effects (key, run_id, result) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`, x.Key, x.RunID, b); err != nil {
		return Result{}, fmt.Errorf("saving assignment: %w", err)
	}
	if err := n.handOver(x, out); err != nil {
		return Result{}, err
	}
	x.Input = map[string]any{"strategy": n.strategy}
	return Result{Output: out}, nil
}

func (n *assignNode) choose(x *Exec) (map[string]any, error) {
	team := n.team
	if n.strategy == "rules" {
		for _, r := range n.rules {
			ok, err := r.when.Bool(x.Env)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			if r.user != nil {
				v, err := r.user.Eval(x.Env)
				if err != nil {
					return nil, err
				}
				id, err := x.person(v)
				if err != nil {
					return nil, err
				}
				out := map[string]any{"user_id": id.String(), "rule": r.when.Source}
				var manager *uuid.UUID
				_ = x.Engine.Pool.QueryRow(x.Ctx, `SELECT t.manager_id FROM users u JOIN teams t ON t.id = u.team_id WHERE u.id = $1`, id).Scan(&manager)
				if manager != nil {
					out["manager_id"] = manager.String()
				}
				return out, nil
			}
			team = r.team
			break
		}
		if team == nil {
			return nil, errors.New("no assignment rule matched")
		}
	}
	users, err := n.candidates(x, team)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, errors.New("no users to assign to")
	}
	load, err := x.openTasks(users)
	if err != nil {
		return nil, err
	}
	free := users[:0:0]
	for _, u := range users {
		if n.capacity == 0 || load[u] < n.capacity {
			free = append(free, u)
		}
	}
	if len(free) == 0 {
		return nil, fmt.Errorf("every candidate has %d or more open tasks (capacity)", n.capacity)
	}
	var pick uuid.UUID
	if n.strategy == "least_loaded" || (n.strategy == "rules" && n.within == "least_loaded") {
		pick = free[0]
		for _, u := range free[1:] {
			if load[u] < load[pick] {
				pick = u
			}
		}
	} else {
		var counter int64
		if err := x.Engine.Pool.QueryRow(x.Ctx, `INSERT INTO flow_assign_state (app_id, key, counter) VALUES ($1, $2, 1)
			ON CONFLICT (app_id, key) DO UPDATE SET counter = flow_assign_state.counter + 1 RETURNING counter`, x.AppID, x.Flow+":"+x.NodeID).Scan(&counter); err != nil {
			return nil, fmt.Errorf("advancing round robin: %w", err)
		}
		pick = free[int((counter-1)%int64(len(free)))]
	}
	out := map[string]any{"user_id": pick.String(), "open_tasks": load[pick]}
	var teamID, manager *uuid.UUID
	_ = x.Engine.Pool.QueryRow(x.Ctx, `SELECT u.team_id, t.manager_id FROM users u LEFT JOIN teams t ON t.id = u.team_id WHERE u.id = $1`, pick).Scan(&teamID, &manager)
	if teamID != nil {
		out["team_id"] = teamID.String()
	}
	if manager != nil {
		out["manager_id"] = manager.String() // the supervisor, for escalations
	}
	return out, nil
}

// ---- subflow

// MaxSubflowDepth is how deep sub-flows may nest: a sub-flow's trigger.depth is its parent's + 1
// (1 for a sub-flow of a top-level run). A subflow node that would start one deeper fails, which
// stops flows that call each other (A -> B -> A ...) instead of running forever.
var MaxSubflowDepth = 10

type subflowNode struct {
	flow  string
	name  NameParam // flow, maybe a template
	input Value
	wait  bool
}

type subflowState struct {
	RunID uuid.UUID `json:"run_id"`
}

func newSubflow(p *Params) (Runner, spec.Errors) {
	var v struct {
		Flow  string          `json:"flow"`
		Input json.RawMessage `json:"input"`
		Wait  *bool           `json:"wait"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	p.Required("flow", v.Flow)
	if p.Flow != nil && v.Flow == p.Flow.Slug {
		p.Errorf("flow", "invalid", "a flow cannot call itself")
	}
	n := &subflowNode{flow: v.Flow, name: p.Name("flow", v.Flow), wait: v.Wait == nil || *v.Wait}
	if len(v.Input) > 0 {
		n.input = p.Value("input", v.Input)
	}
	return n, p.Errors()
}

func (n *subflowNode) Exec(x *Exec) (Result, error) {
	flow, err := n.name.Eval(x.Env)
	if err != nil {
		return Result{}, err
	}
	var input any = map[string]any{}
	if n.input != nil {
		v, err := n.input.Eval(x.Env)
		if err != nil {
			return Result{}, err
		}
		input = toJSONable(v)
	}
	depth := 1
	if x.run != nil {
		if d, ok := x.run.Trigger["depth"].(float64); ok && d >= 1 {
			depth = int(d) + 1
		}
	}
	if depth > MaxSubflowDepth {
		return Result{}, Permanent(fmt.Errorf("sub-flows nested too deep: starting flow %s would be level %d (at most %d; do flows call each other?) / 子流程嵌套过深：启动流程 %s 将是第 %d 层（最多 %d 层；是否有流程互相调用？）",
			flow, depth, MaxSubflowDepth, flow, depth, MaxSubflowDepth))
	}
	req := StartRequest{AppID: x.AppID, Flow: flow, Trigger: map[string]any{"type": "subflow", "input": input, "body": input, "parent_run": x.RunID.String(), "depth": depth},
		IdempotencyKey: "sub:" + x.Key}
	if x.Subject.Intake {
		req.Trigger["intake"] = true
	}
	if x.run != nil && x.run.Trigger["chain"] != nil {
		// a sub-flow's record changes continue its parent's chain of record triggers
		req.Trigger["chain"] = x.run.Trigger["chain"]
	}
	if n.wait {
		req.ParentRun, req.ParentNode = &x.RunID, x.NodeID
	}
	id, _, err := x.Engine.Start(x.Ctx, nil, req)
	if err != nil {
		return Result{}, fmt.Errorf("starting sub-flow %s: %w", flow, err)
	}
	x.Input = map[string]any{"flow": flow, "input": input, "run_id": id.String()}
	if !n.wait {
		return Result{Output: map[string]any{"run_id": id.String()}}, nil
	}
	return Result{Wait: &Wait{State: subflowState{id}}}, nil
}

func (n *subflowNode) Resume(x *Exec, state json.RawMessage) (Result, error) {
	var s subflowState
	if err := json.Unmarshal(state, &s); err != nil {
		return Result{}, fmt.Errorf("subflow state: %w", err)
	}
	var status string
	var out json.RawMessage
	var msg *string
	var flow string
	if err := x.Engine.Pool.QueryRow(x.Ctx, `SELECT status, output, error, flow FROM flow_runs WHERE id = $1`, s.RunID).Scan(&status, &out, &msg, &flow); err != nil {
		return Result{}, fmt.Errorf("loading sub-flow run: %w", err)
	}
	switch status {
	case StatusSucceeded:
		var v any
		_ = json.Unmarshal(out, &v)
		return Result{Output: map[string]any{"run_id": s.RunID.String(), "output": v}}, nil
	case StatusFailed:
		return Result{}, fmt.Errorf("sub-flow %s failed: %s", flow, str(msg))
	}
	return Result{Wait: &Wait{State: s}}, nil
}
