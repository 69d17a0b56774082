package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/engine"
)

func workerMain() { crashWorkerMain() }

func TestCompileErrorsPointAtNode(t *testing.T) {
	cases := []struct {
		name, flow, field string
	}{
		{"bad expr", `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"set","params":{"values":{"x":1}}},{"id":"b","type":"condition","params":{"expr":"1 +"}}]}`, "nodes[1].params.expr"},
		{"unknown type", `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"nope"}]}`, "nodes[0].type"},
		{"script syntax error", `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"script","params":{"code":"return {a: ;"}}]}`, "nodes[0].params.code"},
		{"unknown param", `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"condition","params":{"exp":"true"}}]}`, "nodes[0].params.exp"},
		{"bad template", `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"set","params":{"values":{"x":{"y":"{{ 1 + }}"}}}}]}`, "nodes[0].params.values.x.y"},
		{"bad port", `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"condition","params":{"expr":"true"}},{"id":"b","type":"set","params":{"values":{}}}],"edges":[{"from":"a","to":"b","port":"maybe"}]}`, "edges[0].port"},
		{"cycle", `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"set","params":{"values":{}}},{"id":"b","type":"set","params":{"values":{}}}],"edges":[{"from":"a","to":"b"},{"from":"b","to":"a"}]}`, "edges"},
		{"cron schedule", `{"slug":"f","trigger":{"type":"cron","schedule":"every day"},"nodes":[]}`, "trigger.schedule"},
		{"webhook key", `{"slug":"f","trigger":{"type":"webhook"},"nodes":[]}`, "trigger.key"},
		{"duplicate id", `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"set","params":{"values":{}}},{"id":"a","type":"set","params":{"values":{}}}]}`, "nodes[1].id"},
		{"delay duration", `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"delay","params":{"duration":"soon"}}]}`, "nodes[0].params.duration"},
		{"wait_event entity template", `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"wait_event","params":{"entity":"{{ trigger.e }}","condition":"true","timeout":"1h"}}]}`, "nodes[0].params.entity"},
		{"task assignee", `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"task","params":{"title":"t","assignee":"bogus"}}]}`, "nodes[0].params.assignee"},
		{"task escalate_to", `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"task","params":{"title":"t","assignee":"role:x","due":"1h","escalate_to":"manager:nobody"}}]}`, "nodes[0].params.escalate_to"},
		{"approval level", `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"approval","params":{"title":"t","levels":[{"name":"x","assignees":["role:x","email:"]}]}}]}`, "nodes[0].params.levels[0].assignees[1]"},
		{"assign users", `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"assign","params":{"strategy":"round_robin","users":["team:x"]}}]}`, "nodes[0].params.users[0]"},
		{"foreach inner", `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"foreach","params":{"items":"{{ [1] }}","node":{"type":"condition","params":{"expr":")"}}}}]}`, "nodes[0].params.node.params.expr"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := spec.Decode(spec.KindFlow, []byte(tc.flow))
			if err != nil {
				t.Fatal(err)
			}
			_, errs := engine.Compile(v.(*spec.Flow))
			if len(errs) == 0 {
				t.Fatal("expected errors")
			}
			for _, e := range errs {
				if e.Field == tc.field {
					return
				}
			}
			t.Fatalf("no error at %s: %v", tc.field, errs)
		})
	}
}

func TestTemplates(t *testing.T) {
	env := map[string]any{"trigger": map[string]any{"body": map[string]any{"n": 3.0, "name": "张三", "tags": []any{"a"}}}, "steps": map[string]any{}}
	cases := []struct {
		in   string
		want any
	}{
		{"{{ trigger.body.n }}", 3.0},
		{" {{ trigger.body.n * 2 }} ", 6.0},
		{"n={{ trigger.body.n }}", "n=3"},
		{"{{ trigger.body.name }}-{{ trigger.body.n }}", "张三-3"},
		{"{{ trigger.body.tags }}", []any{"a"}},
		{"plain", "plain"},
	}
	for _, tc := range cases {
		v, err := engine.CompileTemplate(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Eval(env)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(tc.want)
		if string(a) != string(b) {
			t.Errorf("%q = %s, want %s", tc.in, a, b)
		}
	}
}

func TestCoreNodes(t *testing.T) {
	e := newEnv(t, true)
	e.publish(`{"slug":"core","trigger":{"type":"manual"},
	 "nodes":[
	  {"id":"calc","type":"set","params":{"values":{"amount":"{{ trigger.amount }}","label":"amount={{ trigger.amount }}","double":"{{ trigger.amount * 2 }}"}}},
	  {"id":"big","type":"condition","params":{"expr":"steps.calc.amount > 1000"}},
	  {"id":"tier","type":"switch","params":{"value":"trigger.tier","cases":[{"port":"gold","equals":"gold"},{"port":"huge","when":"trigger.amount > 100000"}]}},
	  {"id":"mk","type":"record.create","params":{"entity":"deal","values":{"name":"{{ trigger.name }}","amount":"{{ steps.calc.double }}"}}},
	  {"id":"small","type":"set","params":{"values":{"small":true}}},
	  {"id":"gold","type":"set","params":{"values":{"gold":true}}},
	  {"id":"other","type":"set","params":{"values":{"other":true}}},
	  {"id":"upd","type":"record.update","params":{"entity":"deal","id":"{{ steps.mk.id }}","values":{"stage":"won"}}},
	  {"id":"find","type":"record.find","params":{"entity":"deal","filter":{"stage":"won"},"limit":10}},
	  {"id":"each","type":"foreach","params":{"items":"{{ steps.find.items }}","node":{"type":"set","params":{"values":{"n":"{{ index }}","id":"{{ item.id }}"}}}}},
	  {"id":"del","type":"record.delete","params":{"entity":"deal","id":"{{ steps.mk }}"}}
	 ],
	 "edges":[{"from":"calc","to":"big"},{"from":"big","to":"mk","port":"true"},{"from":"big","to":"small","port":"false"},
	  {"from":"calc","to":"tier"},{"from":"tier","to":"gold","port":"gold"},{"from":"tier","to":"other","port":"default"},
	  {"from":"mk","to":"upd"},{"from":"upd","to":"find"},{"from":"find","to":"each"},{"from":"each","to":"del"}]}`)

	id := e.start("core", map[string]any{"amount": 5000, "name": "ACME", "tier": "gold"})
	r := e.wait(id, "succeeded", "failed")
	if r.Status != "succeeded" {
		t.Fatalf("run %s: %v; steps %s", r.Status, deref(r.Error), e.steps(id))
	}
	steps := e.steps(id)
	for _, want := range []string{`"node" : "calc", "status" : "succeeded", "output" : {"label": "amount=5000", "amount": 5000, "double": 10000}`,
		`"node" : "big", "status" : "succeeded", "output" : {"result": true}, "error" : null, "port" : "true"`,
		`"node" : "tier", "status" : "succeeded", "output" : {"port": "gold", "value": "gold"}, "error" : null, "port" : "gold"`,
		`"node" : "gold"`, `"node" : "upd"`, `"count": 1`} {
		if !strings.Contains(steps, want) {
			t.Errorf("steps lack %s:\n%s", want, steps)
		}
	}
	for _, no := range []string{`"node" : "small"`, `"node" : "other"`} {
		if strings.Contains(steps, no) {
			t.Errorf("steps contain %s", no)
		}
	}
	if n := e.count(`SELECT count(*) FROM records WHERE entity = 'deal' AND data->>'stage' = 'won' AND (data->>'amount')::numeric = 10000 AND deleted_at IS NOT NULL`); n != 1 {
		t.Fatalf("deal records created+updated+deleted = %d", n)
	}
	// the other branch
	id = e.start("core", map[string]any{"amount": 10, "name": "x", "tier": "silver"})
	if r := e.wait(id, "succeeded", "failed"); r.Status != "succeeded" {
		t.Fatalf("second run %s", r.Status)
	}
	steps = e.steps(id)
	if !strings.Contains(steps, `"node" : "small"`) || !strings.Contains(steps, `"node" : "other"`) || strings.Contains(steps, `"node" : "mk"`) {
		t.Fatalf("branching wrong: %s", steps)
	}
}

func TestRetryPolicyAndManualRetry(t *testing.T) {
	e := newEnv(t, true)
	// record.update of a missing record fails; retried 3 times with backoff, then the run fails
	e.publish(`{"slug":"flaky","trigger":{"type":"manual"},"nodes":[
	  {"id":"a","type":"set","params":{"values":{"ok":true}}},
	  {"id":"b","type":"record.update","retry":{"max_attempts":3,"backoff":"50ms"},"params":{"entity":"deal","id":"{{ trigger.id }}","values":{"x":1}}}],
	  "edges":[{"from":"a","to":"b"}]}`)
	id := e.start("flaky", map[string]any{"id": "00000000-0000-0000-0000-000000000001"})
	r := e.wait(id, "failed")
	if !strings.Contains(deref(r.Error), "node b") {
		t.Fatalf("error %q", deref(r.Error))
	}
	if n := e.count(`SELECT count(*) FROM flow_steps WHERE run_id = $1 AND node = 'b' AND status = 'failed'`, id); n != 3 {
		t.Fatalf("attempts of b = %d, want 3: %s", n, e.steps(id))
	}
	// create the record the step needs, then retry from the failed step: a is not re-run
	ctx := context.Background()
	if _, err := e.d.Pool.Exec(ctx, `INSERT INTO records (id, app_id, entity, data) VALUES ('00000000-0000-0000-0000-000000000001', $1, 'deal', '{}')`, e.app); err != nil {
		t.Fatal(err)
	}
	ok, err := e.eng.Retry(ctx, id)
	if err != nil || !ok {
		t.Fatalf("retry: %v %v", ok, err)
	}
	if r := e.wait(id, "succeeded", "failed"); r.Status != "succeeded" {
		t.Fatalf("after retry: %s %s", r.Status, e.steps(id))
	}
	if n := e.count(`SELECT count(*) FROM flow_steps WHERE run_id = $1 AND node = 'a'`, id); n != 1 {
		t.Fatalf("a ran %d times", n)
	}
	if n := e.count(`SELECT max(attempt) FROM flow_steps WHERE run_id = $1 AND node = 'b'`, id); n != 4 {
		t.Fatalf("b attempts %d", n)
	}
}

var _ = os.Getenv

func TestResponseNodeIsTheOutput(t *testing.T) {
	e := newEnv(t, true)
	e.publish(`{"slug":"resp","trigger":{"type":"manual"},"nodes":[
	  {"id":"response","type":"set","params":{"values":{"answer":42}}},
	  {"id":"after","type":"set","params":{"values":{"noise":true}}}],"edges":[{"from":"response","to":"after"}]}`)
	if r := e.wait(e.start("resp", nil), "succeeded"); r.Output["answer"] != 42.0 {
		t.Fatalf("output %v", r.Output)
	}
}

// TestSubflowRecursionStops: flows that call each other stop at engine.MaxSubflowDepth with a
// failed run whose error says why, in English and zh-CN, whether or not they wait.
func TestSubflowRecursionStops(t *testing.T) {
	for _, wait := range []string{"false", "true"} {
		t.Run("wait="+wait, func(t *testing.T) {
			e := newEnv(t, true)
			old := engine.MaxSubflowDepth
			engine.MaxSubflowDepth = 3
			t.Cleanup(func() { engine.MaxSubflowDepth = old })
			e.publish(`{"slug":"ping","trigger":{"type":"manual"},"nodes":[{"id":"s","type":"subflow","params":{"flow":"pong","wait":` + wait + `}}]}`)
			e.publish(`{"slug":"pong","trigger":{"type":"manual"},"nodes":[{"id":"s","type":"subflow","params":{"flow":"ping","wait":` + wait + `}}]}`)
			e.wait(e.start("ping", map[string]any{}), "succeeded", "failed")
			var deepest uuid.UUID
			deadline := time.Now().Add(time.Minute) // only against hanging
			for deepest == uuid.Nil {
				_ = e.d.Pool.QueryRow(context.Background(), `SELECT id FROM flow_runs WHERE (trigger->>'depth')::int = 3`).Scan(&deepest)
				if deepest == uuid.Nil {
					if time.Now().After(deadline) {
						t.Fatalf("no run at depth 3")
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			r := e.wait(deepest, "succeeded", "failed")
			if r.Status != "failed" || !strings.Contains(deref(r.Error), "nested too deep") || !strings.Contains(deref(r.Error), "子流程嵌套过深") {
				t.Fatalf("deepest run %s: %q", r.Status, deref(r.Error))
			}
			if n := e.count(`SELECT count(*) FROM flow_runs`); n != 4 {
				t.Fatalf("%d runs, want 4 (depths 0 to 3)", n)
			}
		})
	}
}

// TestSubflowNameTemplate: a sub-flow named by a template starts the flow it evaluates to; an
// empty name or an unpublished flow fails the node naming the evaluated name.
func TestSubflowNameTemplate(t *testing.T) {
	e := newEnv(t, true)
	e.publish(`{"slug":"child-a","trigger":{"type":"manual"},"nodes":[{"id":"s","type":"set","params":{"values":{"got":"{{ trigger.input.n }}"}}}]}`)
	e.publish(`{"slug":"parent","trigger":{"type":"manual"},"nodes":[{"id":"sub","type":"subflow","params":{"flow":"{{ trigger.which }}","input":{"n":7}}}]}`)
	for _, tc := range []struct {
		which, status, want string
	}{
		{"child-a", "succeeded", ""},
		{"", "failed", "empty name"},
		{"child-zz", "failed", "child-zz"},
	} {
		t.Run(tc.which, func(t *testing.T) {
			r := e.wait(e.start("parent", map[string]any{"which": tc.which}), "succeeded", "failed")
			if r.Status != tc.status || !strings.Contains(deref(r.Error), tc.want) {
				t.Fatalf("run %s %q: %s", r.Status, deref(r.Error), string(r.Raw))
			}
			if tc.status == "succeeded" && !strings.Contains(string(r.Raw), `"got": 7`) && !strings.Contains(string(r.Raw), `"got":7`) {
				t.Fatalf("sub-flow output %s", r.Raw)
			}
		})
	}
}

// TestRecordEntityTemplate: record nodes evaluate a {{ }} template in their entity.
func TestRecordEntityTemplate(t *testing.T) {
	e := newEnv(t, true)
	e.publish(`{"slug":"mk","trigger":{"type":"manual"},"nodes":[
	  {"id":"c","type":"record.create","params":{"entity":"{{ trigger.kind }}","values":{"name":"x"}}},
	  {"id":"f","type":"record.find","params":{"entity":"{{ trigger.kind }}","limit":5}}],
	  "edges":[{"from":"c","to":"f"}]}`)
	r := e.wait(e.start("mk", map[string]any{"kind": "lead"}), "succeeded", "failed")
	if r.Status != "succeeded" || fmt.Sprint(r.Output["count"]) != "1" {
		t.Fatalf("run %s %q: %s", r.Status, deref(r.Error), e.steps(uuid.Nil))
	}
	if n := e.count(`SELECT count(*) FROM records WHERE entity = 'lead'`); n != 1 {
		t.Fatalf("%d lead records, want 1", n)
	}
}
