package exprfn_test

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/records"
)

// conditionCases is the table the UI's condition builder writes (ui/src/lib/condition.test.ts
// checks it produces exactly these strings); here every string must compile and give "want"
// as a stage gate (root record) and as a flow condition (root trigger.record).
type conditionCases struct {
	Now    string         `json:"now"`
	Record map[string]any `json:"record"`
	Cases  []struct {
		Name     string         `json:"name"`
		Expr     string         `json:"expr"`
		Flow     string         `json:"flow"`
		Want     bool           `json:"want"`
		Old      map[string]any `json:"old"`
		GateOnly bool           `json:"gate_only"`
	} `json:"cases"`
}

func TestConditionBuilderExpressions(t *testing.T) {
	raw, err := os.ReadFile("../../ui/src/lib/testdata/conditions.json")
	if err != nil {
		t.Fatal(err)
	}
	var tc conditionCases
	if err := json.Unmarshal(raw, &tc); err != nil {
		t.Fatal(err)
	}
	now, err := time.Parse(time.RFC3339, tc.Now)
	if err != nil {
		t.Fatal(err)
	}
	if len(tc.Cases) < 30 {
		t.Fatalf("only %d cases", len(tc.Cases))
	}
	for _, c := range tc.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Expr == "" || c.Flow == "" {
				t.Fatal("the case has no expression (run the UI test with GOLDEN=1)")
			}
			old := c.Old
			if old == nil {
				old = map[string]any{}
			}
			prog, err := records.CompileGate(c.Expr)
			if err != nil {
				t.Fatalf("gate %s: %v", c.Expr, err)
			}
			got, err := records.RunGate(prog, tc.Record, old, now)
			if err != nil {
				t.Fatalf("gate %s: %v", c.Expr, err)
			}
			if got != c.Want {
				t.Errorf("gate %s = %v, want %v", c.Expr, got, c.Want)
			}
			if c.GateOnly {
				return
			}
			p, err := engine.CompileExpr(c.Flow)
			if err != nil {
				t.Fatalf("flow %s: %v", c.Flow, err)
			}
			fgot, err := p.Bool(map[string]any{"trigger": map[string]any{"record": tc.Record}, "steps": map[string]any{}, "now": now})
			if err != nil {
				t.Fatalf("flow %s: %v", c.Flow, err)
			}
			if fgot != c.Want {
				t.Errorf("flow %s = %v, want %v", c.Flow, fgot, c.Want)
			}
		})
	}
}
