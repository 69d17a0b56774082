package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/google/uuid"
	"github.com/robfig/cron/v3"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/calendar"
	"github.com/tessera/tessera/runtime/exprfn"
	"github.com/tessera/tessera/runtime/exprguard"
)

// Plan is a compiled flow: every node prepared, edges resolved by port.
type Plan struct {
	Flow    *spec.Flow
	Nodes   map[string]*PlanNode
	Roots   []string
	Trigger *TriggerPlan
	// fetches is set once a script of this plan asked for http.fetch: its runs are then worked
	// step by step, never in one transaction (inline.go), so a request is never sent by a
	// working that may be rolled back and worked again.
	fetches atomic.Bool
	// preworkAfter (Unix nanoseconds) is when a run of this plan may be worked before its
	// accept again, after one ran past PreworkWithin (prework.go).
	preworkAfter atomic.Int64
	// preworkMisses counts the workings before the accept in a row that did not succeed.
	preworkMisses atomic.Int32
}

// PlanNode is one prepared node.
type PlanNode struct {
	Spec   spec.Node
	Type   NodeType
	Runner Runner
	// Next maps an output port ("" for the single output) to the nodes it leads to.
	Next        map[string][]string
	MaxAttempts int
	Backoff     time.Duration
}

// TriggerPlan is the compiled trigger.
type TriggerPlan struct {
	Type      string
	Condition *vm.Program // record triggers: over record, old, changed
	condSrc   string
	Schedule  cron.Schedule
	Location  *time.Location
}

// Runner executes a prepared node.
type Runner interface {
	Exec(x *Exec) (Result, error)
}

// Resumer is implemented by nodes that park the run; Resume is called each time the run is
// woken while the node waits, with the state the node saved.
type Resumer interface {
	Resume(x *Exec, state json.RawMessage) (Result, error)
}

// Porter is implemented by nodes whose output ports depend on their params (switch).
type Porter interface {
	Ports() []string
}

// Result is a node's outcome: an output and the port to follow, or a wait.
type Result struct {
	Output any
	Port   string
	Wait   *Wait
}

// Wait parks the run: State is saved with the step; WakeAt (optional) schedules a wake-up.
// Watch names what record changes wake the run ("app:entity:record" or "app:entity:*").
type Wait struct {
	State  any
	WakeAt *time.Time
	Watch  string
}

// Params helps a node constructor decode and compile its params, collecting errors with the
// node's JSON path (nodes[3].params.expr).
type Params struct {
	Path string
	Raw  json.RawMessage
	Node spec.Node
	Flow *spec.Flow
	errs spec.Errors
}

// Decode strictly decodes the params into v (unknown keys are errors).
func (p *Params) Decode(v any) bool {
	raw := p.Raw
	if len(raw) == 0 || string(raw) == "null" {
		raw = []byte("{}")
	}
	if err := spec.DecodeInto(raw, v); err != nil {
		if fe, ok := err.(spec.Errors); ok {
			for _, e := range fe {
				field := strings.TrimPrefix(strings.TrimPrefix(e.Field, "$"), ".")
				if field != "" {
					field = "." + field
				}
				p.errs = append(p.errs, spec.FieldError{Field: p.Path + field, Code: e.Code, Message: e.Message})
			}
		} else {
			p.Errorf("", "invalid", "%v", err)
		}
		return false
	}
	return true
}

// Errorf records an error at params.key.
func (p *Params) Errorf(key, code, format string, args ...any) {
	field := p.Path
	if key != "" {
		field += "." + key
	}
	p.errs.Add(field, code, format, args...)
}

// Required records an error when s is empty.
func (p *Params) Required(key, s string) bool {
	if strings.TrimSpace(s) == "" {
		p.Errorf(key, "required", "%s is required", key)
		return false
	}
	return true
}

// Expr compiles an expression param (the string may be wrapped in {{ }}).
func (p *Params) Expr(key, src string) *Program {
	if !p.Required(key, src) {
		return nil
	}
	src = strings.TrimSpace(src)
	if strings.HasPrefix(src, "{{") && strings.HasSuffix(src, "}}") {
		src = strings.TrimSpace(src[2 : len(src)-2])
	}
	prog, err := CompileExpr(src)
	if err != nil {
		p.Errorf(key, "invalid_expr", "%v", err)
		return nil
	}
	return prog
}

// Value compiles a templated value param (any JSON; strings may hold {{ }}).
func (p *Params) Value(key string, raw any) Value {
	if rm, ok := raw.(json.RawMessage); ok {
		if len(rm) == 0 {
			return constValue{nil}
		}
		var v any
		if err := json.Unmarshal(rm, &v); err != nil {
			p.Errorf(key, "invalid", "%v", err)
			return nil
		}
		raw = v
	}
	v, path, err := CompileValue(raw)
	if err != nil {
		p.Errorf(key+path, "invalid_template", "%v", err)
		return nil
	}
	return v
}

// Duration parses a Go duration extended with days ("3d", "90m", "1d12h").
func (p *Params) Duration(key, s string) time.Duration {
	d, err := ParseDuration(s)
	if err != nil {
		p.Errorf(key, "invalid_duration", "%v", err)
	}
	return d
}

// Calendar checks a calendar name ("" or "calendar" mean wall clock; "business" counts working
// hours on the app's calendar).
func (p *Params) Calendar(key, s string) {
	if s != "" && s != "business" && s != "wall" {
		p.Errorf(key, "invalid", "calendar must be \"business\" or \"wall\"")
	}
}

// Errors returns the collected errors.
func (p *Params) Errors() spec.Errors { return p.errs }

// ParseDuration parses "90m", "2h", "3d", "1w", "1d12h".
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := strings.IndexAny(rest, "dw")
		if i < 0 {
			d, err := time.ParseDuration(rest)
			if err != nil {
				return 0, fmt.Errorf("duration %q: use forms like 90m, 2h, 3d", s)
			}
			total += d
			break
		}
		var n int
		if _, err := fmt.Sscanf(rest[:i], "%d", &n); err != nil || fmt.Sprint(n) != rest[:i] {
			d, err := time.ParseDuration(rest)
			if err != nil {
				return 0, fmt.Errorf("duration %q: use forms like 90m, 2h, 3d", s)
			}
			return total + d, nil
		}
		unit := 24 * time.Hour
		if rest[i] == 'w' {
			unit *= 7
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if total < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return total, nil
}

var triggerTypes = map[string]bool{"record.created": true, "record.updated": true, "record.deleted": true, "record.activity": true,
	"stage.changed": true, "form.submitted": true, "webhook": true, "cron": true, "manual": true, "poll": true}

// CronParser parses standard 5-field cron expressions, optional seconds and descriptors (@daily).
var CronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Compile prepares every node of flow; a broken flow is refused with errors pointing at the
// node (nodes[3].params.expr). The builder's publish step calls it before going live.
func Compile(flow *spec.Flow) (*Plan, spec.Errors) {
	var errs spec.Errors
	if flow == nil {
		errs.Add("$", "required", "flow is required")
		return nil, errs
	}
	plan := &Plan{Flow: flow, Nodes: map[string]*PlanNode{}}
	plan.Trigger = compileTrigger(&flow.Trigger, &errs)
	if flow.RunAs != "" && flow.RunAs != "service" && flow.RunAs != "trigger_user" {
		errs.Add("run_as", "invalid", "run_as must be service or trigger_user")
	}
	if flow.Calendar != "" && flow.Calendar != "business" && flow.Calendar != "wall" {
		errs.Add("calendar", "invalid", "calendar must be business or wall")
	}
	order := make([]string, 0, len(flow.Nodes))
	for i, n := range flow.Nodes {
		path := fmt.Sprintf("nodes[%d]", i)
		if n.ID == "" {
			errs.Add(path+".id", "required", "node id is required")
			continue
		}
		if strings.ContainsAny(n.ID, ". []") {
			errs.Add(path+".id", "invalid", "node id %q may not contain dots, spaces or brackets", n.ID)
		}
		if _, dup := plan.Nodes[n.ID]; dup {
			errs.Add(path+".id", "duplicate", "node id %q is used twice", n.ID)
			continue
		}
		nt, ok := lookup(n.Type)
		if !ok {
			errs.Add(path+".type", "unknown", "unknown node type %q", n.Type)
			continue
		}
		p := &Params{Path: path + ".params", Raw: n.Params, Node: n, Flow: flow}
		r, perrs := nt.New(p)
		errs = append(errs, perrs...)
		pn := &PlanNode{Spec: n, Type: nt, Runner: r, Next: map[string][]string{}, MaxAttempts: 1}
		if n.Retry != nil {
			if n.Retry.MaxAttempts < 0 || n.Retry.MaxAttempts > 100 {
				errs.Add(path+".retry.max_attempts", "out_of_range", "max_attempts must be 0 to 100")
			} else if n.Retry.MaxAttempts > 0 {
				pn.MaxAttempts = n.Retry.MaxAttempts
			}
			pn.Backoff = time.Second
			if n.Retry.Backoff != "" {
				d, err := ParseDuration(n.Retry.Backoff)
				if err != nil {
					errs.Add(path+".retry.backoff", "invalid_duration", "%v", err)
				}
				pn.Backoff = d
			}
		}
		plan.Nodes[n.ID] = pn
		order = append(order, n.ID)
	}
	incoming := map[string]int{}
	for i, e := range flow.Edges {
		path := fmt.Sprintf("edges[%d]", i)
		from, ok := plan.Nodes[e.From]
		if !ok {
			errs.Add(path+".from", "unknown", "edge starts at unknown node %q", e.From)
			continue
		}
		if _, ok := plan.Nodes[e.To]; !ok {
			errs.Add(path+".to", "unknown", "edge ends at unknown node %q", e.To)
			continue
		}
		ports := from.Type.Ports
		if pr, ok := from.Runner.(Porter); ok {
			ports = pr.Ports()
		}
		switch {
		case e.Port == "error":
		case len(ports) == 0 && e.Port != "":
			errs.Add(path+".port", "unknown", "node %q has a single output; remove port %q", e.From, e.Port)
			continue
		case len(ports) > 0 && !contains(ports, e.Port):
			errs.Add(path+".port", "unknown", "node %q has ports %s, not %q", e.From, strings.Join(ports, ", "), e.Port)
			continue
		}
		from.Next[e.Port] = append(from.Next[e.Port], e.To)
		incoming[e.To]++
	}
	for _, id := range order {
		if incoming[id] == 0 {
			plan.Roots = append(plan.Roots, id)
		}
	}
	if len(errs) == 0 && hasCycle(plan, order) {
		errs.Add("edges", "cycle", "edges form a cycle; use foreach for loops")
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return plan, nil
}

func compileTrigger(t *spec.Trigger, errs *spec.Errors) *TriggerPlan {
	tp := &TriggerPlan{Type: t.Type}
	if !triggerTypes[t.Type] {
		errs.Add("trigger.type", "unknown", "trigger type must be one of record.created, record.updated, record.deleted, stage.changed, record.activity, form.submitted, webhook, cron, manual, poll")
		return tp
	}
	switch t.Type {
	case "record.created", "record.updated", "record.deleted", "stage.changed", "record.activity":
		if t.Entity == "" {
			errs.Add("trigger.entity", "required", "entity is required for %s triggers", t.Type)
		}
	case "form.submitted":
		if t.Form == "" && t.Entity == "" {
			errs.Add("trigger.form", "required", "form is required for form.submitted triggers")
		}
	case "webhook":
		if t.Key == "" {
			errs.Add("trigger.key", "required", "key is required for webhook triggers")
		} else if strings.ContainsAny(t.Key, "/?# ") {
			errs.Add("trigger.key", "invalid", "webhook key may not contain / ? # or spaces")
		}
		if t.Mode != "" && t.Mode != "async" && t.Mode != "sync" {
			errs.Add("trigger.mode", "invalid", "mode must be async or sync")
		}
	case "cron":
		tz := t.Timezone
		if tz == "" {
			tz = calendar.DefaultTimezone
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			errs.Add("trigger.timezone", "invalid", "unknown time zone %q", tz)
		}
		tp.Location = loc
		if t.Schedule == "" {
			errs.Add("trigger.schedule", "required", "schedule is required for cron triggers")
		} else if s, err := CronParser.Parse(t.Schedule); err != nil {
			errs.Add("trigger.schedule", "invalid", "%v", err)
		} else {
			tp.Schedule = s
		}
		if t.Missed != "" && t.Missed != "skip" && t.Missed != "once" {
			errs.Add("trigger.missed", "invalid", "missed must be skip or once")
		}
	}
	if t.Condition != "" {
		p, err := expr.Compile(t.Condition, append(append(exprguard.Options(), exprfn.Options()...), expr.Env(map[string]any{"record": map[string]any{}, "old": map[string]any{},
			"changed": []string{}, "trigger": map[string]any{}, "activity": map[string]any{}, "now": time.Time{}}), expr.AsBool())...)
		if err != nil {
			errs.Add("trigger.condition", "invalid_expr", "%v", err)
		} else {
			tp.Condition = p
			tp.condSrc = t.Condition
		}
	}
	return tp
}

// Match evaluates the trigger condition over a record change (true when there is none).
func (tp *TriggerPlan) Match(env map[string]any) (bool, error) {
	if tp == nil || tp.Condition == nil {
		return true, nil
	}
	// a fresh budget per evaluation (the caller's map gets it under exprguard.EnvKey)
	out, err := exprguard.Run(context.Background(), tp.Condition, env, 0)
	if err != nil {
		return false, fmt.Errorf("trigger condition %q: %w", tp.condSrc, err)
	}
	b, _ := out.(bool)
	return b, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasCycle(plan *Plan, order []string) bool {
	const (
		white = 0
		grey  = 1
		black = 2
	)
	color := map[string]int{}
	var visit func(id string) bool
	visit = func(id string) bool {
		color[id] = grey
		for _, next := range plan.Nodes[id].Next {
			for _, n := range next {
				switch color[n] {
				case grey:
					return true
				case white:
					if visit(n) {
						return true
					}
				}
			}
		}
		color[id] = black
		return false
	}
	for _, id := range order {
		if color[id] == white && visit(id) {
			return true
		}
	}
	return false
}

// Assignee compiles an assignee param like Value and, when it is written literally (not a
// template), checks its form: a user id, role:<name>, manager:<user id> or email:<address>.
func (p *Params) Assignee(key string, raw json.RawMessage) Value {
	v := p.Value(key, raw)
	var s string
	if v == nil || json.Unmarshal(raw, &s) != nil || strings.Contains(s, "{{") {
		return v
	}
	s = strings.TrimSpace(s)
	ref, rest, hasRef := strings.Cut(s, ":")
	switch {
	case !hasRef:
		if _, err := uuid.Parse(s); err == nil || s == "starter" {
			return v
		}
	case (ref == "role" || ref == "email") && strings.TrimSpace(rest) != "":
		return v
	case ref == "manager":
		if _, err := uuid.Parse(strings.TrimSpace(rest)); err == nil || strings.Contains(rest, "{{") {
			return v
		}
	}
	p.Errorf(key, "invalid_assignee", "%q is not an assignee: write a user id, role:<name>, manager:<user id>, email:<address>, starter or a {{ }} template (不是有效的处理人：请填写用户 ID、role:角色、manager:用户 ID、email:邮箱、starter 或 {{ }} 模板)", s)
	return nil
}

// NameParam is a definition name param (a report or flow slug): written literally, or as a
// {{ }} template evaluated when the node runs.
type NameParam struct {
	lit  string
	tmpl Value
}

// Name compiles a name param; s containing "{{" is a template.
func (p *Params) Name(key, s string) NameParam {
	if !strings.Contains(s, "{{") {
		return NameParam{lit: s}
	}
	return NameParam{lit: s, tmpl: p.Value(key, s)}
}

// Eval answers the name for env: the literal, or the template's text (which must not be empty).
func (n NameParam) Eval(env map[string]any) (string, error) {
	if n.tmpl == nil {
		return n.lit, nil
	}
	v, err := n.tmpl.Eval(env)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(Stringify(v))
	if s == "" {
		return "", Permanent(fmt.Errorf("%s gave an empty name / 模板得到的名称为空", n.lit))
	}
	return s, nil
}
