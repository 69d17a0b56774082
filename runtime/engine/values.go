package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/tessera/tessera/runtime/exprfn"
	"github.com/tessera/tessera/runtime/exprguard"
)

// exprEnv declares the variables expressions may read: the trigger payload, earlier step
// outputs, the current foreach item, run facts and the clock.
type exprEnv struct {
	Trigger map[string]any `expr:"trigger"`
	Steps   map[string]any `expr:"steps"`
	Item    any            `expr:"item"`
	Index   int            `expr:"index"`
	Run     map[string]any `expr:"run"`
	Now     time.Time      `expr:"now"`
	budget  *exprguard.Budget
}

// ExprBudget hands the evaluation budget to exprguard's checks.
func (e exprEnv) ExprBudget() *exprguard.Budget { return e.budget }

func toExprEnv(env map[string]any) exprEnv {
	var e exprEnv
	e.Trigger, _ = env["trigger"].(map[string]any)
	e.Steps, _ = env["steps"].(map[string]any)
	e.Item = env["item"]
	e.Index, _ = env["index"].(int)
	e.Run, _ = env["run"].(map[string]any)
	e.Now, _ = env["now"].(time.Time)
	if e.Now.IsZero() {
		e.Now = time.Now()
	}
	e.budget, _ = env[exprguard.EnvKey].(*exprguard.Budget)
	if e.budget == nil {
		e.budget = exprguard.NewBudget(context.Background(), 0)
	}
	return e
}

// Program is a compiled expr-lang expression.
type Program struct {
	Source string
	prog   *vm.Program
}

// CompileExpr compiles an expression against the flow environment.
func CompileExpr(src string) (*Program, error) {
	p, err := expr.Compile(src, append(append(exprguard.Options(), exprfn.Options()...), expr.Env(exprEnv{}), expr.MaxNodes(5000))...)
	if err != nil {
		return nil, err
	}
	return &Program{Source: src, prog: p}, nil
}

// Eval runs the program.
func (p *Program) Eval(env map[string]any) (any, error) {
	out, err := expr.Run(p.prog, toExprEnv(env))
	if err != nil {
		if c := exprguard.Cause(err); c != nil {
			// retrying would burn the same budget again
			return nil, Permanent(fmt.Errorf("evaluating %q: %w", p.Source, c))
		}
		return nil, fmt.Errorf("evaluating %q: %w", p.Source, err)
	}
	return out, nil
}

// Bool runs the program and requires a boolean.
func (p *Program) Bool(env map[string]any) (bool, error) {
	v, err := p.Eval(env)
	if err != nil {
		return false, err
	}
	if v == nil {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("expression %q gave %T, not a boolean", p.Source, v)
	}
	return b, nil
}

// Value is a parameter value with templates compiled: constants, `{{ }}` strings, and objects
// and arrays of them.
type Value interface {
	Eval(env map[string]any) (any, error)
}

type constValue struct{ v any }

func (c constValue) Eval(map[string]any) (any, error) { return c.v, nil }

// exprValue is a string that is exactly `{{ expr }}`: it keeps the expression's type.
type exprValue struct{ p *Program }

func (e exprValue) Eval(env map[string]any) (any, error) { return e.p.Eval(env) }

type templateValue struct {
	parts []any // string literals and *Program
}

func (t templateValue) Eval(env map[string]any) (any, error) {
	var b strings.Builder
	for _, part := range t.parts {
		switch p := part.(type) {
		case string:
			b.WriteString(p)
		case *Program:
			v, err := p.Eval(env)
			if err != nil {
				return nil, err
			}
			b.WriteString(Stringify(v))
		}
	}
	return b.String(), nil
}

type mapValue map[string]Value

func (m mapValue) Eval(env map[string]any) (any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		x, err := v.Eval(env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = x
	}
	return out, nil
}

type listValue []Value

func (l listValue) Eval(env map[string]any) (any, error) {
	out := make([]any, len(l))
	for i, v := range l {
		x, err := v.Eval(env)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = x
	}
	return out, nil
}

// Stringify formats a value for a template: strings as is, integral numbers without decimals,
// times as RFC 3339, nil as "", and anything else as JSON.
func Stringify(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int, int64, int32, bool:
		return fmt.Sprint(x)
	case time.Time:
		return x.Format(time.RFC3339)
	case fmt.Stringer:
		return x.String()
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

// CompileTemplate compiles a string that may hold `{{ expr }}` parts.
func CompileTemplate(s string) (Value, error) {
	if !strings.Contains(s, "{{") {
		return constValue{s}, nil
	}
	trimmed := strings.TrimSpace(s)
	if strings.HasPrefix(trimmed, "{{") && strings.HasSuffix(trimmed, "}}") && strings.Count(trimmed, "{{") == 1 {
		p, err := CompileExpr(strings.TrimSpace(trimmed[2 : len(trimmed)-2]))
		if err != nil {
			return nil, err
		}
		return exprValue{p}, nil
	}
	var parts []any
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				parts = append(parts, rest)
			}
			break
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("unclosed {{ in template")
		}
		if i > 0 {
			parts = append(parts, rest[:i])
		}
		p, err := CompileExpr(strings.TrimSpace(rest[i+2 : i+j]))
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
		rest = rest[i+j+2:]
	}
	return templateValue{parts}, nil
}

// CompileValue compiles a decoded JSON value, templating every string inside it. Errors carry
// the JSON path below the value.
func CompileValue(v any) (Value, string, error) {
	switch x := v.(type) {
	case string:
		t, err := CompileTemplate(x)
		return t, "", err
	case map[string]any:
		m := mapValue{}
		for k, e := range x {
			cv, path, err := CompileValue(e)
			if err != nil {
				return nil, "." + k + path, err
			}
			m[k] = cv
		}
		return m, "", nil
	case []any:
		l := make(listValue, len(x))
		for i, e := range x {
			cv, path, err := CompileValue(e)
			if err != nil {
				return nil, fmt.Sprintf("[%d]%s", i, path), err
			}
			l[i] = cv
		}
		return l, "", nil
	default:
		return constValue{x}, "", nil
	}
}

// toJSONable converts values produced by expressions into plain JSON-compatible values.
func toJSONable(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}
