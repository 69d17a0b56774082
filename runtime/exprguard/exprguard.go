// Package exprguard bounds the evaluation of expr-lang expressions (templates, conditions,
// stage gates, formulas) in time, operations and string size.
//
// expr's own memory budget counts array elements, not bytes or work: a reduce that concatenates
// strings (reduce over 1..120000 appending ten characters each time) stays inside it and runs
// for minutes.
// Compile with Options: it patches the body of every loop builtin (map, filter, reduce, all,
// any, count, sum, sortBy, groupBy, ...) to call a budget check first, and replaces string
// concatenation, repeat and join by versions that refuse results over MaxString. Run with a
// Budget (in the environment under EnvKey, or through Run): the check counts operations and
// looks at the deadline and the context, so an evaluation stops within a few milliseconds of
// its deadline and burns no CPU afterwards.
package exprguard

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
	"github.com/expr-lang/expr/vm/runtime"
)

// Defaults of a Budget.
const (
	// DefaultTimeout is the wall-clock budget of one evaluation (or, for flow steps, of all the
	// expressions of one step).
	DefaultTimeout = 2 * time.Second
	// DefaultOps is the number of loop iterations an evaluation may run.
	DefaultOps = 5_000_000
	// MaxString caps a string built by +, repeat or join (bytes).
	MaxString = 4 << 20
)

// EnvKey is the key of the *Budget in a map environment.
const EnvKey = "$budget"

// ErrBudget is wrapped by every error of an evaluation stopped by its budget.
var ErrBudget = errors.New("expression exceeded its evaluation budget (表达式超出计算预算)")

// Budget is the allowance of one or several evaluations. It is safe for concurrent use.
type Budget struct {
	ctx      context.Context
	deadline time.Time
	timeout  time.Duration
	left     atomic.Int64
	ops      int64
}

// NewBudget allows timeout of wall-clock time (DefaultTimeout when <= 0) and DefaultOps loop
// iterations, ending earlier when ctx ends.
func NewBudget(ctx context.Context, timeout time.Duration) *Budget {
	if ctx == nil {
		ctx = context.Background()
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	b := &Budget{ctx: ctx, deadline: time.Now().Add(timeout), timeout: timeout, ops: DefaultOps}
	if d, ok := ctx.Deadline(); ok && d.Before(b.deadline) {
		b.deadline = d
	}
	b.left.Store(DefaultOps)
	return b
}

// Carrier is implemented by struct environments that carry a budget.
type Carrier interface{ ExprBudget() *Budget }

func budgetOf(env any) *Budget {
	switch e := env.(type) {
	case map[string]any:
		b, _ := e[EnvKey].(*Budget)
		return b
	case Carrier:
		return e.ExprBudget()
	}
	return nil
}

// tick spends one operation; every 128 it checks the clock and the context.
func (b *Budget) tick() error {
	if b == nil {
		return nil
	}
	n := b.left.Add(-1)
	if n < 0 {
		return fmt.Errorf("%w: more than %d loop iterations (循环次数超过 %d)", ErrBudget, b.ops, b.ops)
	}
	if n%128 == 0 {
		return b.check()
	}
	return nil
}

func (b *Budget) check() error {
	if b == nil {
		return nil
	}
	if err := b.ctx.Err(); err != nil {
		return fmt.Errorf("%w: %v (已取消)", ErrBudget, err)
	}
	if time.Now().After(b.deadline) {
		return fmt.Errorf("%w: ran longer than %s (运行超过 %s)", ErrBudget, b.timeout, b.timeout)
	}
	return nil
}

const (
	tickFn = "__budget_tick"
	addFn  = "__budget_add"
)

func sizeErr() error {
	return fmt.Errorf("%w: a string longer than %d bytes (字符串超过 %d 字节)", ErrBudget, MaxString, MaxString)
}

// Options are the compile options that make a program budget-aware. Add them to expr.Compile.
func Options() []expr.Option {
	return []expr.Option{
		expr.Function(tickFn, func(params ...any) (any, error) {
			return true, budgetOf(params[0]).tick()
		}, new(func(any) bool)),
		expr.Function(addFn, func(params ...any) (any, error) {
			if err := budgetOf(params[0]).check(); err != nil {
				return nil, err
			}
			a, b := params[1], params[2]
			if x, ok := a.(string); ok {
				if y, ok := b.(string); ok {
					if len(x)+len(y) > MaxString {
						return nil, sizeErr()
					}
					return x + y, nil
				}
			}
			return runtime.Add(a, b), nil
		}, new(func(any, string, string) string), new(func(any, any, any) any)),
		expr.Function("repeat", func(params ...any) (any, error) {
			s, _ := params[0].(string)
			n := runtime.ToInt(params[1])
			if n < 0 {
				return nil, fmt.Errorf("invalid argument for repeat (expected positive integer, got %d)", n)
			}
			if n > 0 && len(s) > MaxString/n {
				return nil, sizeErr()
			}
			return strings.Repeat(s, n), nil
		}, new(func(string, int) string)),
		expr.Function("join", func(params ...any) (any, error) {
			glue := ""
			if len(params) == 2 {
				glue, _ = params[1].(string)
			}
			var parts []string
			switch a := params[0].(type) {
			case []string:
				parts = a
			case []any:
				parts = make([]string, 0, len(a))
				for _, v := range a {
					s, ok := v.(string)
					if !ok {
						return nil, fmt.Errorf("invalid argument for join (element of type %T)", v)
					}
					parts = append(parts, s)
				}
			default:
				return nil, fmt.Errorf("invalid argument for join (type %s)", reflect.TypeOf(params[0]))
			}
			total := 0
			for _, s := range parts {
				total += len(s) + len(glue)
				if total > MaxString {
					return nil, sizeErr()
				}
			}
			return strings.Join(parts, glue), nil
		}, new(func([]any, string) string), new(func([]any) string), new(func([]string, string) string), new(func([]string) string)),
		expr.Patch(patcher{}),
	}
}

// patcher makes every loop body tick and every string-capable + go through addFn.
type patcher struct{}

func envNode() ast.Node { return &ast.IdentifierNode{Value: "$env"} }

func (patcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.PredicateNode:
		if seq, ok := n.Node.(*ast.SequenceNode); ok && len(seq.Nodes) == 2 {
			if c, ok := seq.Nodes[0].(*ast.CallNode); ok {
				if id, ok := c.Callee.(*ast.IdentifierNode); ok && id.Value == tickFn {
					return // already patched
				}
			}
		}
		n.Node = &ast.SequenceNode{Nodes: []ast.Node{
			&ast.CallNode{Callee: &ast.IdentifierNode{Value: tickFn}, Arguments: []ast.Node{envNode()}},
			n.Node,
		}}
	case *ast.BinaryNode:
		if n.Operator != "+" || !maybeString(n.Left) || !maybeString(n.Right) {
			return
		}
		ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: addFn}, Arguments: []ast.Node{envNode(), n.Left, n.Right}})
	}
}

// maybeString reports whether a node may evaluate to a string (a string, or a type unknown at
// compile time); numbers, times and durations keep the VM's own +.
func maybeString(n ast.Node) bool {
	t := n.Type()
	if t == nil {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Interface:
		return true
	}
	return false
}

// Run evaluates prog over a map environment under a fresh budget of timeout (DefaultTimeout
// when <= 0) bound to ctx. The environment map gets the budget under EnvKey.
func Run(ctx context.Context, prog *vm.Program, env map[string]any, timeout time.Duration) (any, error) {
	if env == nil {
		env = map[string]any{}
	}
	if _, ok := env[EnvKey].(*Budget); !ok {
		env[EnvKey] = NewBudget(ctx, timeout)
	}
	return expr.Run(prog, env)
}

// Cause is the budget error inside err (without expr's multi-line source excerpt), or nil
// when err is not a budget error.
func Cause(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if errors.Is(e, ErrBudget) && !strings.Contains(e.Error(), "\n") {
			return e
		}
	}
	if errors.Is(err, ErrBudget) {
		return ErrBudget
	}
	return nil
}
