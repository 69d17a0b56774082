package records_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/builder/spec"
)

// TestGateAndFormulaBombsAreBounded: a stage gate or formula that would run for minutes stops
// at its evaluation budget; the gate refuses the move with a message naming the budget and the
// formula is left empty, and the write answers within seconds.
func TestGateAndFormulaBombsAreBounded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const bomb = `len(reduce(1..120000, #acc + 'xxxxxxxxxx', ''))`
	e.publish(spec.KindEntity, "deal", `{"slug":"deal","fields":[{"key":"stage","type":"select","options":["open","won"]},
		{"key":"size","type":"formula","formula":"`+bomb+`"}],
		"stages":{"field":"stage","order":["open","won"],"transitions":[{"from":"*","to":"won","require":"`+bomb+` > 0","message":"no"}]}}`)
	start := time.Now()
	d, err := e.store.Create(ctx, e.app, "deal", map[string]any{"stage": "open"}, e.w())
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("create took %s", took)
	}
	if _, ok := d.Data["size"]; ok {
		t.Fatalf("a formula over budget has a value: %v", d.Data["size"])
	}
	start = time.Now()
	_, err = e.store.Update(ctx, e.app, "deal", d.ID, map[string]any{"stage": "won"}, nil, e.w())
	took := time.Since(start)
	t.Logf("gate refused after %s: %v", took, err)
	fieldErr(t, err, "stage", "stage_gate")
	var errs spec.Errors
	errors.As(err, &errs)
	if !strings.Contains(errs[0].Message, "evaluation budget") || !strings.Contains(errs[0].Message, "阶段条件无法计算") {
		t.Fatalf("gate message %q", errs[0].Message)
	}
	if took > 10*time.Second {
		t.Fatalf("update took %s", took)
	}
}
