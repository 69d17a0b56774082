package engine_test

import (
	"strings"
	"testing"
	"time"
)

// TestExpressionBombFailsWithinBudget: an expression that passes expr's own memory budget but
// would run for minutes (string concatenation in a reduce) fails its step permanently within
// the step's expression budget, with a bilingual error, and is not retried.
func TestExpressionBombFailsWithinBudget(t *testing.T) {
	e := newEnv(t, true)
	const bomb = `len(reduce(1..120000, #acc + 'xxxxxxxxxx', ''))`
	cases := []struct{ name, node string }{
		{"template", `{"id":"a","type":"set","params":{"values":{"n":"{{ ` + bomb + ` }}"}}}`},
		{"condition", `{"id":"a","type":"condition","params":{"expr":"` + bomb + ` > 0"}}`},
		{"nested loops", `{"id":"a","type":"set","params":{"values":{"n":"{{ let xs = 1..3000; count(xs, all(xs, # > 0)) }}"}}}`},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			slug := "bomb" + string(rune('a'+i))
			e.publish(`{"slug":"` + slug + `","trigger":{"type":"manual"},"nodes":[` + c.node + `]}`)
			start := time.Now()
			id := e.start(slug, map[string]any{})
			r := e.wait(id, "failed", "succeeded")
			took := time.Since(start)
			t.Logf("failed after %s: %s", took, deref(r.Error))
			if r.Status != "failed" {
				t.Fatalf("run %s, want failed", r.Status)
			}
			if took > 20*time.Second {
				t.Fatalf("the run failed after %s, want within the 2s expression budget", took)
			}
			steps := e.steps(id)
			if !strings.Contains(steps, "evaluation budget") || !strings.Contains(steps, "表达式超出计算预算") {
				t.Fatalf("step error does not name the budget: %s", steps)
			}
			if n := e.count(`SELECT count(*) FROM flow_steps WHERE run_id = $1 AND attempt > 1`, id); n != 0 {
				t.Fatalf("the step was retried: %s", steps)
			}
		})
	}
}
