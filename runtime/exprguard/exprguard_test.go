package exprguard_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/expr-lang/expr"

	"github.com/tessera/tessera/runtime/exprguard"
)

// TestBudgetStopsBombs: expressions that stay inside expr's own memory budget but run for
// minutes or build huge strings fail with ErrBudget well within their deadline; ordinary
// expressions give the same results as without the guard.
func TestBudgetStopsBombs(t *testing.T) {
	env := map[string]any{"record": map[string]any{"name": "Ann", "n": 3, "tags": []any{"a", "b"}}}
	cases := []struct {
		name, src string
		want      any // nil: must fail with ErrBudget
	}{
		{"reduce concat bomb", `len(reduce(1..120000, #acc + 'xxxxxxxxxx', ''))`, nil},
		{"nested loops", `let xs = 1..3000; count(xs, all(xs, # > 0))`, nil},
		{"let doubling", `let a = repeat('x', 1000000); let b = a + a; let c = b + b; let d = c + c; len(d + d)`, nil},
		{"repeat of a long string", `len(repeat(repeat('x', 1000000), 1000000))`, nil},
		{"join of many long strings", `len(join(map(1..100000, repeat('y', 1000))))`, nil},
		{"string concat", `record.name + '!' + string(record.n)`, "Ann!3"},
		{"number add", `record.n + 2`, 5},
		{"float add", `1.5 + 2`, 3.5},
		{"map filter", `map(filter(1..10, # % 2 == 0), # * 2)`, []any{4, 8, 12, 16, 20}},
		{"reduce", `reduce(1..100, #acc + #, 0)`, 5050},
		{"join", `join(record.tags, ',')`, "a,b"},
		{"repeat", `repeat('ab', 3)`, "ababab"},
		{"date add", `(date('2024-01-01') + duration('24h')).Day()`, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prog, err := expr.Compile(c.src, append(exprguard.Options(), expr.Env(map[string]any{"record": map[string]any{}}), expr.AllowUndefinedVariables())...)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			e := map[string]any{}
			for k, v := range env {
				e[k] = v
			}
			start := time.Now()
			out, err := exprguard.Run(context.Background(), prog, e, time.Second)
			took := time.Since(start)
			if c.want == nil {
				if !errors.Is(err, exprguard.ErrBudget) {
					t.Fatalf("got %v, %v; want ErrBudget", out, err)
				}
				if took > 5*time.Second {
					t.Fatalf("stopped after %s, want about 1s", took)
				}
				t.Logf("stopped after %s: %v", took, err)
				return
			}
			if err != nil {
				t.Fatalf("eval: %v", err)
			}
			if !equal(out, c.want) {
				t.Fatalf("got %#v, want %#v", out, c.want)
			}
		})
	}
}

// TestBudgetFollowsContext: a cancelled context stops an evaluation at once.
func TestBudgetFollowsContext(t *testing.T) {
	prog, err := expr.Compile(`let xs = 1..2000; count(xs, all(xs, # > 0))`, exprguard.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := exprguard.Run(ctx, prog, nil, time.Hour); !errors.Is(err, exprguard.ErrBudget) {
		t.Fatalf("got %v, want ErrBudget", err)
	}
}

func equal(a, b any) bool {
	as, ok1 := a.([]any)
	bs, ok2 := b.([]any)
	if ok1 && ok2 {
		if len(as) != len(bs) {
			return false
		}
		for i := range as {
			if as[i] != bs[i] {
				return false
			}
		}
		return true
	}
	return a == b
}
