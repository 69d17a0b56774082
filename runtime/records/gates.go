package records

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/exprfn"
	"github.com/tessera/tessera/runtime/exprguard"
)

// Gate and formula expressions are expr-lang programs over this environment:
//
//	record  map   values after the change (plus id, owner_id, team_id)
//	old     map   values before the change (empty on create)
//	now     time  the time of the write
//
// Besides expr's built-ins (any, all, filter, len, date(), duration(), contains, matches, ...)
// these helpers are available:
//
//	hoursBetween(a, b)  absolute hours between two times (time values or ISO strings);
//	                    +Inf when either is missing, so "<= 72" is false
//	daysBetween(a, b)   the same in days
//	toTime(s)           parses an ISO date or date-time (nil when empty or invalid)
//	isEmpty(v)          true for nil, "", [] and {}
//	before(a, b)        a is earlier than b (times or ISO strings); false when either is missing
//	after(a, b)         a is later than b; false when either is missing
//	countRecords(entity, filter)
//	                    live records of entity (same app) matching the filter, e.g.
//	                    countRecords("legal_review", {"deal": record.id, "result": "approved"}) > 0
//	                    (gates only; evaluated inside the write transaction)
//
// Example gate: any(record.files, {.name contains "报价单" && .type == "application/pdf" &&
// hoursBetween(.uploaded_at, record.last_customer_message_at) <= 72})

// maxExprLength bounds the source of one expression.
const maxExprLength = 4000

func exprOptions(env map[string]any) []expr.Option {
	return append(append(exprguard.Options(), expr.Env(env), expr.AllowUndefinedVariables()), exprfn.Options()...)
}

// exprTimeout bounds one gate or formula evaluation on a record write.
const exprTimeout = time.Second

// CountFunc counts the live records of an entity of the same app matching a filter (the
// record-list filter language); gates call it as countRecords(entity, filter).
type CountFunc func(entity string, filter map[string]any) (int, error)

func gateEnv() map[string]any {
	return map[string]any{"record": map[string]any{}, "old": map[string]any{}, "now": time.Time{},
		"countRecords": CountFunc(func(string, map[string]any) (int, error) { return 0, nil })}
}

// CompileGate compiles a stage gate expression (it must yield a boolean). The builder's
// validation can call it to reject a broken gate before publishing.
func CompileGate(src string) (*vm.Program, error) {
	if len(src) > maxExprLength {
		return nil, fmt.Errorf("the expression is longer than %d characters", maxExprLength)
	}
	return expr.Compile(src, append(exprOptions(gateEnv()), expr.AsBool())...)
}

// CompileFormula compiles a formula field expression over record.
func CompileFormula(src string) (*vm.Program, error) {
	if len(src) > maxExprLength {
		return nil, fmt.Errorf("the expression is longer than %d characters", maxExprLength)
	}
	return expr.Compile(src, exprOptions(gateEnv())...)
}

// CompileLineFormula compiles a formula sub-field of a lines field: an expression over the row
// (`line`) and the record (`record`), e.g. line.quantity * line.unit_price * (1 - line.discount / 100).
func CompileLineFormula(src string) (*vm.Program, error) {
	if len(src) > maxExprLength {
		return nil, fmt.Errorf("the expression is longer than %d characters", maxExprLength)
	}
	env := gateEnv()
	env["line"] = map[string]any{}
	return expr.Compile(src, exprOptions(env)...)
}

// programs caches compiled gate and formula programs per entity version.
type programs struct {
	mu    sync.Mutex
	cache map[progKey]*compiled
}

type progKey struct {
	app     uuid.UUID
	entity  string
	version int
}

type compiled struct {
	gates    []*vm.Program // per transition (nil when no require)
	gateErrs []error
	formulas map[string]*vm.Program
}

func (p *programs) get(app uuid.UUID, ent *spec.Entity, version int) *compiled {
	key := progKey{app, ent.Slug, version}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cache == nil || len(p.cache) > 5000 {
		p.cache = map[progKey]*compiled{}
	}
	if c, ok := p.cache[key]; ok {
		return c
	}
	c := &compiled{formulas: map[string]*vm.Program{}}
	if ent.Stages != nil {
		for _, t := range ent.Stages.Transitions {
			var prog *vm.Program
			var err error
			if strings.TrimSpace(t.Require) != "" {
				prog, err = CompileGate(t.Require)
			}
			c.gates = append(c.gates, prog)
			c.gateErrs = append(c.gateErrs, err)
		}
	}
	for _, f := range ent.Fields {
		if f.Type == spec.TypeFormula && f.Formula != "" {
			if prog, err := CompileFormula(f.Formula); err == nil {
				c.formulas[f.Key] = prog
			}
		}
		for _, sf := range f.Fields {
			if f.Type == spec.TypeLines && sf.Type == spec.TypeFormula && sf.Formula != "" {
				if prog, err := CompileLineFormula(sf.Formula); err == nil {
					c.formulas[f.Key+"."+sf.Key] = prog
				}
			}
		}
	}
	p.cache[key] = c
	return c
}

// checkGates evaluates the transitions that apply to moving the stage from `from` to `to`
// ("" from = the record is being created, which checks every gate into `to`).
func checkGates(ent *spec.Entity, c *compiled, from, to string, record, old map[string]any, now time.Time, count CountFunc) error {
	st := ent.Stages
	if st == nil || st.Field == "" || from == to || to == "" {
		return nil
	}
	gateErr := func(msg string) error {
		return spec.Errors{{Field: st.Field, Code: "stage_gate", Message: msg}}
	}
	// A forward move to a non-terminal stage passes through the stages between: the gates of
	// every hop apply, so skipping a gated stage is no way around its gate. Moves into terminal
	// stages (won, lost) and backward moves check only their own transition.
	hops := [][2]string{{from, to}}
	if !slices.Contains(st.Terminal, to) {
		start := from
		if start == "" && len(st.Order) > 0 {
			start = st.Order[0]
		}
		i, j := slices.Index(st.Order, start), slices.Index(st.Order, to)
		for k := i; i >= 0 && j > i && k < j; k++ {
			if hop := [2]string{st.Order[k], st.Order[k+1]}; hop != [2]string{from, to} {
				hops = append(hops, hop)
			}
		}
	}
	applies := func(t spec.Transition) (bool, bool) {
		for n, h := range hops {
			if (t.To == h[1] || t.To == "*" && n == 0) && (t.From == h[0] || t.From == "*" || h[0] == "") {
				return true, n == 0
			}
		}
		return false, false
	}
	matched := false
	for i, t := range st.Transitions {
		ok, direct := applies(t)
		if !ok {
			continue
		}
		if direct {
			matched = true
		}
		msg := t.Message
		if msg == "" {
			msg = fmt.Sprintf("moving from %q to %q is not allowed yet (不满足阶段推进条件)", from, to)
		}
		if t.Allow != nil && !*t.Allow {
			return gateErr(msg)
		}
		if i >= len(c.gates) || c.gates[i] == nil {
			if i < len(c.gateErrs) && c.gateErrs[i] != nil {
				return gateErr(msg)
			}
			continue
		}
		out, err := exprguard.Run(context.Background(), c.gates[i], map[string]any{"record": record, "old": old, "now": now, "countRecords": count}, exprTimeout)
		if errors.Is(err, exprguard.ErrBudget) {
			return gateErr(fmt.Sprintf("the stage gate from %q to %q could not be evaluated: %s (阶段条件无法计算)", from, to, exprguard.Cause(err)))
		}
		if err != nil {
			return gateErr(msg)
		}
		if ok, _ := out.(bool); !ok {
			return gateErr(msg)
		}
	}
	if st.Strict && !matched && from != "" {
		return gateErr(fmt.Sprintf("moving from %q to %q is not allowed (不允许的阶段变更)", from, to))
	}
	return nil
}

// computeFormulas sets every formula field of data from its program (nil on error).
func computeFormulas(ent *spec.Entity, c *compiled, data, old map[string]any, now time.Time) {
	computeLineFormulas(ent, c, data, old, now)
	for _, f := range ent.Fields {
		if f.Type != spec.TypeFormula {
			continue
		}
		setOrDelete(data, f.Key, runFormula(c.formulas[f.Key], map[string]any{"record": data, "old": old, "now": now}))
	}
}

// runFormula evaluates a compiled formula in env; nil for a missing program, an error, NaN or
// infinity. Integers become float64 and times RFC 3339 text, as stored values are.
func runFormula(prog *vm.Program, env map[string]any) any {
	if prog == nil {
		return nil
	}
	out, err := exprguard.Run(context.Background(), prog, env, exprTimeout)
	if err != nil {
		return nil
	}
	switch x := out.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	}
	return out
}

// RunGate evaluates a compiled gate over record and old at now (countRecords answers 0).
func RunGate(prog *vm.Program, record, old map[string]any, now time.Time) (bool, error) {
	out, err := exprguard.Run(context.Background(), prog, map[string]any{"record": record, "old": old, "now": now,
		"countRecords": CountFunc(func(string, map[string]any) (int, error) { return 0, nil })}, exprTimeout)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}
