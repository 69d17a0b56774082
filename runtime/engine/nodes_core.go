package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/events"
	"github.com/tessera/tessera/runtime/script"
)

// ScriptRunner runs a JavaScript action in the sandbox (runtime/script's Pool, adapted by the
// server). host answers records.* and http.fetch calls.
type ScriptRunner interface {
	RunScript(ctx context.Context, code string, input any, host func(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error)) (output json.RawMessage, logs []string, err error)
}

// ConnectorCall is one connector operation a flow asks for.
type ConnectorCall struct {
	AppID      uuid.UUID
	Connector  string
	Operation  string
	Credential string
	Input      map[string]any
	// IdempotencyKey is run id + node id; connectors pass it on where the remote API takes one.
	IdempotencyKey string
	// Subject is the flow's identity: host capabilities that read records for the connector
	// (the AI connector's summaries) apply its row scope and field rules.
	Subject access.Subject
	// Optional asks the caller to skip the call (output {"skipped": true}) when the named
	// credential does not exist, instead of failing the step.
	Optional bool
}

// ConnectorCaller runs connector operations (plugins/sdk) with the app's credentials and the
// SSRF-guarded HTTP client. Retryable tells the engine whether an error is worth a retry.
type ConnectorCaller interface {
	CallConnector(ctx context.Context, c ConnectorCall) (any, error)
}

// ports shared by the catalog.
var boolPorts = []string{"true", "false"}

func init() {
	Register(NodeType{Name: "condition", Category: "logic", Label: spec.Label{"en": "Condition", "zh-CN": "条件"},
		Params: paramsOf("condition"),
		Ports:  boolPorts, New: newCondition})
	Register(NodeType{Name: "switch", Category: "logic", Label: spec.Label{"en": "Switch", "zh-CN": "分支"},
		Params:       paramsOf("switch"),
		DynamicPorts: true, New: newSwitch})
	Register(NodeType{Name: "set", Category: "data", Label: spec.Label{"en": "Set values", "zh-CN": "设置数据"},
		Params: paramsOf("set"), New: newSet})
	// transform is the older name of set, kept for definitions that use it
	Register(NodeType{Name: "transform", Category: "data", Label: spec.Label{"en": "Transform data", "zh-CN": "转换数据"},
		Params: paramsOf("set"), New: newSet})
	Register(NodeType{Name: "script", Category: "data", Label: spec.Label{"en": "JavaScript", "zh-CN": "脚本"},
		Params: paramsOf("script"),
		New:    newScript})
	Register(NodeType{Name: "record.create", Category: "records", Label: spec.Label{"en": "Create record", "zh-CN": "新建记录"},
		Params: paramsOf("record.create"),
		New:    newRecordNode("create")})
	Register(NodeType{Name: "record.update", Category: "records", Label: spec.Label{"en": "Update record", "zh-CN": "更新记录"},
		Params: paramsOf("record.update"),
		New:    newRecordNode("update")})
	Register(NodeType{Name: "record.find", Category: "records", Label: spec.Label{"en": "Find records", "zh-CN": "查找记录"},
		Params: paramsOf("record.find"),
		New:    newRecordNode("find")})
	Register(NodeType{Name: "record.delete", Category: "records", Label: spec.Label{"en": "Delete record", "zh-CN": "删除记录"},
		Params: paramsOf("record.delete"),
		New:    newRecordNode("delete")})
	Register(NodeType{Name: "foreach", Category: "logic", Label: spec.Label{"en": "For each", "zh-CN": "循环"},
		Params: paramsOf("foreach"),
		New:    newForeach})
	Register(NodeType{Name: "connector", Category: "integrations", Label: spec.Label{"en": "Connector", "zh-CN": "连接器"},
		Params: paramsOf("connector"),
		New:    newConnector})
}

// ---- condition

type conditionNode struct{ p *Program }

func newCondition(p *Params) (Runner, spec.Errors) {
	var v struct {
		Expr string `json:"expr"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	return &conditionNode{p.Expr("expr", v.Expr)}, p.Errors()
}

func (n *conditionNode) Exec(x *Exec) (Result, error) {
	ok, err := n.p.Bool(x.Env)
	if err != nil {
		return Result{}, err
	}
	x.Input = map[string]any{"expr": n.p.Source}
	return Result{Output: map[string]any{"result": ok}, Port: fmt.Sprint(ok)}, nil
}

// ---- switch

type switchCase struct {
	Port   string          `json:"port"`
	When   string          `json:"when,omitempty"`
	Equals json.RawMessage `json:"equals,omitempty"`
}

type switchNode struct {
	value *Program
	cases []struct {
		port   string
		when   *Program
		equals any
	}
	def   string
	ports []string
}

func newSwitch(p *Params) (Runner, spec.Errors) {
	var v struct {
		Value   string       `json:"value"`
		Cases   []switchCase `json:"cases"`
		Default string       `json:"default"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	n := &switchNode{def: v.Default}
	if n.def == "" {
		n.def = "default"
	}
	if v.Value != "" {
		n.value = p.Expr("value", v.Value)
	}
	if len(v.Cases) == 0 {
		p.Errorf("cases", "required", "at least one case is required")
	}
	seen := map[string]bool{}
	for i, c := range v.Cases {
		key := fmt.Sprintf("cases[%d]", i)
		if c.Port == "" {
			p.Errorf(key+".port", "required", "port is required")
		}
		if seen[c.Port] {
			p.Errorf(key+".port", "duplicate", "port %q is used twice", c.Port)
		}
		seen[c.Port] = true
		cs := struct {
			port   string
			when   *Program
			equals any
		}{port: c.Port}
		switch {
		case c.When != "":
			cs.when = p.Expr(key+".when", c.When)
		case len(c.Equals) > 0:
			if v.Value == "" {
				p.Errorf(key+".equals", "required", "equals needs a switch value expression")
			}
			_ = json.Unmarshal(c.Equals, &cs.equals)
		default:
			p.Errorf(key, "required", "a case needs when or equals")
		}
		n.cases = append(n.cases, cs)
		n.ports = append(n.ports, c.Port)
	}
	if !seen[n.def] {
		n.ports = append(n.ports, n.def)
	}
	return n, p.Errors()
}

func (n *switchNode) Ports() []string { return n.ports }

func (n *switchNode) Exec(x *Exec) (Result, error) {
	var val any
	if n.value != nil {
		v, err := n.value.Eval(x.Env)
		if err != nil {
			return Result{}, err
		}
		val = toJSONable(v)
	}
	for _, c := range n.cases {
		if c.when != nil {
			ok, err := c.when.Bool(x.Env)
			if err != nil {
				return Result{}, err
			}
			if ok {
				return Result{Output: map[string]any{"port": c.port, "value": val}, Port: c.port}, nil
			}
			continue
		}
		a, _ := json.Marshal(val)
		b, _ := json.Marshal(c.equals)
		if string(a) == string(b) {
			return Result{Output: map[string]any{"port": c.port, "value": val}, Port: c.port}, nil
		}
	}
	return Result{Output: map[string]any{"port": n.def, "value": val}, Port: n.def}, nil
}

// ---- set / transform

type setNode struct{ values Value }

func newSet(p *Params) (Runner, spec.Errors) {
	var v struct {
		Values json.RawMessage `json:"values"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	if len(v.Values) == 0 {
		p.Errorf("values", "required", "values is required")
		return nil, p.Errors()
	}
	return &setNode{p.Value("values", v.Values)}, p.Errors()
}

func (n *setNode) Exec(x *Exec) (Result, error) {
	out, err := n.values.Eval(x.Env)
	if err != nil {
		return Result{}, err
	}
	return Result{Output: toJSONable(out)}, nil
}

// ---- script

type scriptNode struct{ code string }

func newScript(p *Params) (Runner, spec.Errors) {
	var v struct {
		Code string `json:"code"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	p.Required("code", v.Code)
	if len(v.Code) > 256<<10 {
		p.Errorf("code", "too_long", "code is larger than 256 KiB")
	} else if v.Code != "" {
		// A syntax error is refused at publish with its line and column (parsing only; the code
		// itself runs only in the sandbox workers).
		if err := script.Check(v.Code); err != nil {
			p.Errorf("code", "syntax_error", "%v", err)
		}
	}
	return &scriptNode{v.Code}, p.Errors()
}

func (n *scriptNode) Exec(x *Exec) (Result, error) {
	sr := x.Engine.opts.Scripts
	if sr == nil {
		return Result{}, errors.New("the JavaScript sandbox is not available on this server")
	}
	input := map[string]any{"trigger": x.Env["trigger"], "steps": x.Env["steps"]}
	if it, ok := x.Env["item"]; ok {
		input["item"], input["index"] = it, x.Env["index"]
	}
	out, logs, err := sr.RunScript(withApp(x.Ctx, x.AppID), n.code, input, x.hostCall)
	if len(logs) > 0 {
		// kept with a failed step too: what the script logged before failing explains it
		x.Input = map[string]any{"logs": logs}
	}
	if err != nil {
		return Result{}, err
	}
	var v any
	if len(out) > 0 {
		if err := json.Unmarshal(out, &v); err != nil {
			return Result{}, fmt.Errorf("decoding script output: %w", err)
		}
	}
	return Result{Output: v}, nil
}

// hostCall answers a script's host API call with the flow's identity.
func (x *Exec) hostCall(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error) {
	if method == "http.fetch" {
		return x.fetch(ctx, args)
	}
	var a struct {
		Entity string         `json:"entity"`
		ID     string         `json:"id"`
		Values map[string]any `json:"values"`
		Filter map[string]any `json:"filter"`
		Limit  int            `json:"limit"`
	}
	if err := json.Unmarshal(args, &a); err != nil {
		return nil, fmt.Errorf("%s: bad arguments: %w", method, err)
	}
	rs := x.Engine.opts.Records
	if rs == nil {
		return nil, errors.New("records are not available")
	}
	call := RecordCall{AppID: x.AppID, Subject: x.Subject, Entity: a.Entity, Values: a.Values, Filter: a.Filter, Limit: a.Limit}
	if a.ID != "" {
		id, err := uuid.Parse(a.ID)
		if err != nil {
			return nil, fmt.Errorf("%s: id %q is not a record id", method, a.ID)
		}
		call.ID = id
	}
	var out any
	var err error
	switch method {
	case "records.find":
		out, err = rs.Find(ctx, call)
	case "records.get":
		out, err = rs.Get(ctx, call)
	case "records.create", "records.update":
		x.hostWrites++
		key := fmt.Sprintf("%s:js%d", x.Key, x.hostWrites)
		out, err = x.Engine.effect(ctx, key, call, func(ctx context.Context) (map[string]any, error) {
			if method == "records.create" {
				return rs.Create(ctx, call)
			}
			return rs.Update(ctx, call)
		})
	default:
		return nil, fmt.Errorf("%s is not available to flow scripts", method)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// effect runs a record write once per key: a replay returns the record written before.
func (e *Engine) effect(ctx context.Context, key string, call RecordCall, write func(ctx context.Context) (map[string]any, error)) (map[string]any, error) {
	replay := func(id uuid.UUID, sub *uuid.UUID) (map[string]any, error) {
		if sub != nil {
			// an intake write answered a receipt: so does its replay
			return events.Receipt{SubmissionID: *sub, Status: events.Received}.Map(), nil
		}
		call.ID = id
		return e.opts.Records.Get(ctx, call)
	}
	id, sub, done, err := e.lookupEffect(ctx, key)
	if err != nil {
		return nil, err
	}
	if done {
		return replay(id, sub)
	}
	out, err := write(WithEffectKey(ctx, key))
	if err != nil && isUniqueViolation(err) {
		// a concurrent or earlier attempt wrote under the same key
		if id, sub, done, err2 := e.lookupEffect(ctx, key); err2 == nil && done {
			return replay(id, sub)
		}
	}
	return out, err
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "SQLSTATE 23505") && strings.Contains(err.Error(), "flow_effects")
}

// ---- record.*

type recordNode struct {
	op     string
	entity string
	name   NameParam // entity, maybe a template
	id     Value
	values Value
	filter Value
	limit  int
}

func newRecordNode(op string) func(p *Params) (Runner, spec.Errors) {
	return func(p *Params) (Runner, spec.Errors) {
		n := &recordNode{op: op}
		switch op {
		case "create":
			var v struct {
				Entity string          `json:"entity"`
				Values json.RawMessage `json:"values"`
			}
			if !p.Decode(&v) {
				return nil, p.Errors()
			}
			n.entity = v.Entity
			if len(v.Values) == 0 {
				p.Errorf("values", "required", "values is required")
			} else {
				n.values = p.Value("values", v.Values)
			}
		case "update":
			var v struct {
				Entity string          `json:"entity"`
				ID     json.RawMessage `json:"id"`
				Values json.RawMessage `json:"values"`
			}
			if !p.Decode(&v) {
				return nil, p.Errors()
			}
			n.entity = v.Entity
			if len(v.ID) == 0 {
				p.Errorf("id", "required", "id is required")
			} else {
				n.id = p.Value("id", v.ID)
			}
			if len(v.Values) == 0 {
				p.Errorf("values", "required", "values is required")
			} else {
				n.values = p.Value("values", v.Values)
			}
		case "delete":
			var v struct {
				Entity string          `json:"entity"`
				ID     json.RawMessage `json:"id"`
			}
			if !p.Decode(&v) {
				return nil, p.Errors()
			}
			n.entity = v.Entity
			if len(v.ID) == 0 {
				p.Errorf("id", "required", "id is required")
			} else {
				n.id = p.Value("id", v.ID)
			}
		case "find":
			var v struct {
				Entity string          `json:"entity"`
				Filter json.RawMessage `json:"filter"`
				Limit  int             `json:"limit"`
			}
			if !p.Decode(&v) {
				return nil, p.Errors()
			}
			n.entity, n.limit = v.Entity, v.Limit
			if len(v.Filter) > 0 {
				n.filter = p.Value("filter", v.Filter)
			}
			if v.Limit < 0 || v.Limit > 1000 {
				p.Errorf("limit", "out_of_range", "limit must be 0 to 1000")
			}
		}
		p.Required("entity", n.entity)
		n.name = p.Name("entity", n.entity)
		return n, p.Errors()
	}
}

func evalMap(v Value, env map[string]any, what string) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	out, err := v.Eval(env)
	if err != nil {
		return nil, err
	}
	out = toJSONable(out)
	if out == nil {
		return nil, nil
	}
	m, ok := out.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s must be an object, got %T", what, out)
	}
	return m, nil
}

func evalID(v Value, env map[string]any) (uuid.UUID, error) {
	out, err := v.Eval(env)
	if err != nil {
		return uuid.Nil, err
	}
	if m, ok := out.(map[string]any); ok { // a whole record
		out = m["id"]
	}
	s := Stringify(out)
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, fmt.Errorf("id %q is not a record id", s)
	}
	return id, nil
}

func (n *recordNode) Exec(x *Exec) (Result, error) {
	rs := x.Engine.opts.Records
	if rs == nil {
		return Result{}, errors.New("records are not available")
	}
	entity, err := n.name.Eval(x.Env)
	if err != nil {
		return Result{}, err
	}
	call := RecordCall{AppID: x.AppID, Subject: x.Subject, Entity: entity, Limit: n.limit}
	if call.Values, err = evalMap(n.values, x.Env, "values"); err != nil {
		return Result{}, err
	}
	if call.Filter, err = evalMap(n.filter, x.Env, "filter"); err != nil {
		return Result{}, err
	}
	if n.id != nil {
		if call.ID, err = evalID(n.id, x.Env); err != nil {
			return Result{}, err
		}
	}
	in := map[string]any{"entity": entity}
	if call.Values != nil {
		in["values"] = call.Values
	}
	if call.ID != uuid.Nil {
		in["id"] = call.ID.String()
	}
	if call.Filter != nil {
		in["filter"] = call.Filter
	}
	x.Input = in
	switch n.op {
	case "create":
		rec, err := x.Engine.effect(x.Ctx, x.Key, call, func(ctx context.Context) (map[string]any, error) { return rs.Create(ctx, call) })
		return Result{Output: rec}, err
	case "update":
		rec, err := x.Engine.effect(x.Ctx, x.Key, call, func(ctx context.Context) (map[string]any, error) { return rs.Update(ctx, call) })
		return Result{Output: rec}, err
	case "delete":
		if err := rs.Delete(x.Ctx, call); err != nil {
			return Result{}, err
		}
		return Result{Output: map[string]any{"id": call.ID.String(), "deleted": true}}, nil
	default:
		recs, err := rs.Find(x.Ctx, call)
		if err != nil {
			return Result{}, err
		}
		items := make([]any, len(recs))
		for i, r := range recs {
			items[i] = r
		}
		var first any
		if len(items) > 0 {
			first = items[0]
		}
		return Result{Output: map[string]any{"items": items, "count": len(items), "first": first}}, nil
	}
}

// ---- foreach

type foreachNode struct {
	items Value
	inner Runner
	typ   string
	max   int
}

func newForeach(p *Params) (Runner, spec.Errors) {
	var v struct {
		Items json.RawMessage `json:"items"`
		Node  *struct {
			Type   string          `json:"type"`
			Params json.RawMessage `json:"params"`
		} `json:"node"`
		Max int `json:"max"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	n := &foreachNode{max: v.Max}
	if n.max <= 0 {
		n.max = 1000
	}
	if len(v.Items) == 0 {
		p.Errorf("items", "required", "items is required")
	} else {
		n.items = p.Value("items", v.Items)
	}
	if v.Node == nil {
		p.Errorf("node", "required", "node is required")
		return n, p.Errors()
	}
	nt, ok := lookup(v.Node.Type)
	switch {
	case !ok:
		p.Errorf("node.type", "unknown", "unknown node type %q", v.Node.Type)
	case nt.Waits || nt.Name == "foreach":
		p.Errorf("node.type", "invalid", "%s cannot run inside foreach", v.Node.Type)
	default:
		sub := &Params{Path: p.Path + ".node.params", Raw: v.Node.Params, Node: p.Node, Flow: p.Flow}
		r, errs := nt.New(sub)
		p.errs = append(p.errs, errs...)
		n.inner, n.typ = r, nt.Name
	}
	return n, p.Errors()
}

func (n *foreachNode) Exec(x *Exec) (Result, error) {
	raw, err := n.items.Eval(x.Env)
	if err != nil {
		return Result{}, err
	}
	raw = toJSONable(raw)
	if m, ok := raw.(map[string]any); ok && m["items"] != nil { // a record.find output
		raw = m["items"]
	}
	list, ok := raw.([]any)
	if raw != nil && !ok {
		return Result{}, fmt.Errorf("items must be a list, got %T", raw)
	}
	if len(list) > n.max {
		return Result{}, fmt.Errorf("%d items exceed the maximum of %d", len(list), n.max)
	}
	x.Input = map[string]any{"count": len(list)}
	results := make([]any, len(list))
	for i, item := range list {
		env := make(map[string]any, len(x.Env)+2)
		for k, v := range x.Env {
			env[k] = v
		}
		env["item"], env["index"] = item, i
		sub := *x
		sub.Env = env
		sub.Key = fmt.Sprintf("%s[%d]", x.Key, i)
		sub.hostWrites = 0
		res, err := n.inner.Exec(&sub)
		if err != nil {
			return Result{}, fmt.Errorf("item %d: %w", i, err)
		}
		results[i] = res.Output
	}
	return Result{Output: map[string]any{"items": results, "count": len(results)}}, nil
}

// ---- connector

type connectorNode struct {
	connector, operation, credential string
	input                            Value
	optional                         bool
}

func newConnector(p *Params) (Runner, spec.Errors) {
	var v struct {
		Connector  string          `json:"connector"`
		Operation  string          `json:"operation"`
		Credential string          `json:"credential"`
		Input      json.RawMessage `json:"input"`
		Optional   bool            `json:"optional"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	p.Required("connector", v.Connector)
	p.Required("operation", v.Operation)
	n := &connectorNode{connector: v.Connector, operation: v.Operation, credential: v.Credential, optional: v.Optional}
	if len(v.Input) > 0 {
		n.input = p.Value("input", v.Input)
	}
	if check, _ := connectorCheck.Load().(func(string, string) error); len(p.Errors()) == 0 && check != nil {
		if err := check(v.Connector, v.Operation); err != nil {
			p.Errorf("operation", "unknown", "%v", err)
		}
	}
	return n, p.Errors()
}

var connectorCheck atomic.Value

// SetConnectorCheck installs the check of connector/operation names run at compile (the server
// sets it from the connector registry).
func SetConnectorCheck(f func(connector, operation string) error) { connectorCheck.Store(f) }

func (n *connectorNode) Exec(x *Exec) (Result, error) {
	cc := x.Engine.opts.Connectors
	if cc == nil {
		return Result{}, errors.New("connectors are not available on this server")
	}
	input, err := evalMap(n.input, x.Env, "input")
	if err != nil {
		return Result{}, err
	}
	x.Input = map[string]any{"connector": n.connector, "operation": n.operation, "input": input}
	out, err := cc.CallConnector(x.Ctx, ConnectorCall{AppID: x.AppID, Connector: n.connector, Operation: n.operation,
		Credential: n.credential, Input: input, IdempotencyKey: x.Key, Subject: x.Subject, Optional: n.optional})
	if err != nil {
		return Result{}, err
	}
	return Result{Output: toJSONable(out)}, nil
}
