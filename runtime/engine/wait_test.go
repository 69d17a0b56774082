package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/events"
	"github.com/tessera/tessera/runtime/trigger"
)

func (e *env) user(name string) uuid.UUID {
	e.t.Helper()
	var id uuid.UUID
	if err := e.d.Pool.QueryRow(context.Background(), `INSERT INTO users (email, name) VALUES ($1, $1) RETURNING id`, name+"@example.com").Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// openTask waits until the run has exactly one open task and returns it with its assignee.
func (e *env) openTask(run uuid.UUID) (uuid.UUID, uuid.UUID) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rows, _ := e.d.Pool.Query(context.Background(), `SELECT id, assignee_id FROM tasks WHERE run_id = $1 AND status = 'open'`, run)
		type tk struct{ id, who uuid.UUID }
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tk, error) {
			var t tk
			return t, r.Scan(&t.id, &t.who)
		})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(list) == 1 {
			return list[0].id, list[0].who
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("run %s has %d open tasks; steps %s", run, len(list), e.steps(run))
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func (e *env) complete(task, by uuid.UUID, outcome string) {
	e.t.Helper()
	ctx := context.Background()
	var run uuid.UUID
	if err := e.d.Pool.QueryRow(ctx, `UPDATE tasks SET status = 'done', outcome = $2, completed_by = $3, completed_at = now() WHERE id = $1 RETURNING run_id`, task, outcome, by).Scan(&run); err != nil {
		e.t.Fatal(err)
	}
	if err := e.eng.Wake(ctx, nil, run); err != nil {
		e.t.Fatal(err)
	}
}

func TestApprovalChainRoutesByAmount(t *testing.T) {
	e := newEnv(t, true)
	director, legal, finance, manager := e.user("director"), e.user("legal"), e.user("finance"), e.user("manager")
	e.publish(fmt.Sprintf(`{"slug":"deal-approval","trigger":{"type":"manual"},"nodes":[
	  {"id":"approve","type":"approval","params":{"title":"Deal {{ trigger.record.name }}",
	    "routes":[{"when":"trigger.record.amount > 500000","levels":[{"name":"director","assignee":%q},{"name":"legal","assignee":%q},{"name":"finance","assignee":%q}]}],
	    "levels":[{"name":"manager","assignee":%q}]}},
	  {"id":"yes","type":"set","params":{"values":{"ok":true}}},
	  {"id":"no","type":"set","params":{"values":{"ok":false}}}],
	  "edges":[{"from":"approve","to":"yes","port":"approved"},{"from":"approve","to":"no","port":"rejected"}]}`, director, legal, finance, manager))

	cases := []struct {
		name    string
		amount  int
		chain   []uuid.UUID
		answers []string
		port    string
	}{
		{"big deal goes director, legal, finance in order", 600000, []uuid.UUID{director, legal, finance}, []string{"approve", "approve", "approve"}, "approved"},
		{"legal rejects", 900000, []uuid.UUID{director, legal}, []string{"approve", "reject"}, "rejected"},
		{"small deal goes to the manager", 1000, []uuid.UUID{manager}, []string{"approve"}, "approved"},
		{"exactly 500000 is small", 500000, []uuid.UUID{manager}, []string{"rejected"}, "rejected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := e.start("deal-approval", map[string]any{"record": map[string]any{"name": "ACME", "amount": tc.amount}})
			for i, want := range tc.chain {
				task, who := e.openTask(run)
				if who != want {
					t.Fatalf("level %d went to %s, want %s", i, who, want)
				}
				e.complete(task, who, tc.answers[i])
			}
			r := e.wait(run, "succeeded", "failed")
			if r.Status != "succeeded" {
				t.Fatalf("run %s: %s", r.Status, e.steps(run))
			}
			steps := e.steps(run)
			if !strings.Contains(steps, `"port" : "`+tc.port+`"`) {
				t.Fatalf("approval port is not %s: %s", tc.port, steps)
			}
			if ok := r.Output["ok"]; ok != (tc.port == "approved") {
				t.Fatalf("output %v", r.Output)
			}
		})
	}
}

func TestApprovalParallelAllAndEscalation(t *testing.T) {
	e := newEnv(t, true)
	a, b, boss := e.user("a"), e.user("b"), e.user("boss")
	e.publish(fmt.Sprintf(`{"slug":"par","trigger":{"type":"manual"},"nodes":[
	  {"id":"ap","type":"approval","params":{"title":"t","levels":[{"name":"board","assignees":[%q,%q],"mode":"all"}]}}]}`, a, b))
	run := e.start("par", nil)
	deadline := time.Now().Add(10 * time.Second)
	for e.count(`SELECT count(*) FROM tasks WHERE run_id = $1 AND status = 'open'`, run) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("two parallel tasks expected")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var ta uuid.UUID
	_ = e.d.Pool.QueryRow(context.Background(), `SELECT id FROM tasks WHERE run_id = $1 AND assignee_id = $2`, run, a).Scan(&ta)
	e.complete(ta, a, "approve")
	task, who := e.openTask(run) // b's is still open: mode all waits
	if who != b {
		t.Fatalf("open task of %s", who)
	}
	e.complete(task, who, "approve")
	if r := e.wait(run, "succeeded", "failed"); r.Status != "succeeded" || !strings.Contains(e.steps(run), `"port" : "approved"`) {
		t.Fatalf("all-approval: %s", e.steps(run))
	}

	// a timeout escalates to the boss
	e.publish(fmt.Sprintf(`{"slug":"esc","trigger":{"type":"manual"},"nodes":[
	  {"id":"ap","type":"approval","params":{"title":"t","assignee":%q,"timeout":"300ms","on_timeout":"escalate","escalate_to":%q}}]}`, a, boss))
	run = e.start("esc", nil)
	task, who = e.openTask(run)
	if who != a {
		t.Fatalf("first approver %s", who)
	}
	time.Sleep(500 * time.Millisecond)
	deadline = time.Now().Add(10 * time.Second)
	for {
		task2, who2 := e.openTask(run)
		if who2 == boss {
			e.complete(task2, boss, "approve")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not escalated; task %s", task)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := e.wait(run, "succeeded", "failed"); r.Status != "succeeded" {
		t.Fatalf("escalated run: %s", e.steps(run))
	}
}

func TestDelayTaskAssignSubflow(t *testing.T) {
	e := newEnv(t, true)
	u1, u2 := e.user("u1"), e.user("u2")
	e.publish(`{"slug":"child","trigger":{"type":"manual"},"nodes":[{"id":"dbl","type":"set","params":{"values":{"v":"{{ trigger.input.n * 2 }}"}}}]}`)
	e.publish(fmt.Sprintf(`{"slug":"parent","trigger":{"type":"manual"},"nodes":[
	  {"id":"pause","type":"delay","params":{"duration":"300ms"}},
	  {"id":"who","type":"assign","params":{"strategy":"round_robin","users":[%q,%q]}},
	  {"id":"todo","type":"task","params":{"title":"Call {{ trigger.name }}","assignee":"{{ steps.who.user_id }}","due":"2h","calendar":"business"}},
	  {"id":"sub","type":"subflow","params":{"flow":"child","input":{"n":"{{ trigger.n }}"}}}],
	  "edges":[{"from":"pause","to":"who"},{"from":"who","to":"todo"},{"from":"todo","to":"sub"}]}`, u1, u2))
	var assignees []uuid.UUID
	for i := range 3 {
		start := time.Now()
		run := e.start("parent", map[string]any{"name": "王五", "n": i + 1})
		task, who := e.openTask(run)
		if time.Since(start) < 300*time.Millisecond {
			t.Fatalf("delay did not wait")
		}
		assignees = append(assignees, who)
		var due *time.Time
		_ = e.d.Pool.QueryRow(context.Background(), `SELECT due_at FROM tasks WHERE id = $1`, task).Scan(&due)
		if due == nil {
			t.Fatal("task has no due time")
		}
		e.complete(task, who, "done")
		r := e.wait(run, "succeeded", "failed")
		if r.Status != "succeeded" {
			t.Fatalf("run: %s", e.steps(run))
		}
		if out, _ := r.Output["output"].(map[string]any); fmt.Sprint(out["v"]) != fmt.Sprint(2*(i+1)) {
			t.Fatalf("subflow output %v", r.Output)
		}
	}
	if assignees[0] != u1 || assignees[1] != u2 || assignees[2] != u1 {
		t.Fatalf("round robin order %v, want u1 u2 u1", assignees)
	}
}

func TestWaitEventSLA(t *testing.T) {
	e := newEnv(t, true)
	trig := trigger.New(e.eng, nil)
	e.store.Hooks = []events.Hook{trig.Hook}
	e.publish(`{"slug":"sla","trigger":{"type":"manual"},"nodes":[
	  {"id":"w","type":"wait_event","params":{"entity":"lead","record":"{{ trigger.id }}","condition":"record.contacted == true","timeout":"1500ms"}},
	  {"id":"ok","type":"set","params":{"values":{"in_time":true}}},
	  {"id":"escalate","type":"set","params":{"values":{"in_time":false}}}],
	  "edges":[{"from":"w","to":"ok","port":"event"},{"from":"w","to":"escalate","port":"timeout"}]}`)
	ctx := context.Background()
	mk := func() string {
		rec, err := e.store.Create(ctx, engine.RecordCall{AppID: e.app, Entity: "lead", Values: map[string]any{"name": "x"}})
		if err != nil {
			t.Fatal(err)
		}
		return rec["id"].(string)
	}
	// contacted in time: the record update wakes the run
	id1 := mk()
	run1 := e.start("sla", map[string]any{"id": id1})
	e.wait(run1, "waiting")
	if _, err := e.store.Update(ctx, engine.RecordCall{AppID: e.app, Entity: "lead", ID: uuid.MustParse(id1), Values: map[string]any{"contacted": true}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if r := e.wait(run1, "succeeded", "failed"); r.Output["in_time"] != true {
		t.Fatalf("in time: %v %s", r.Output, e.steps(run1))
	}
	if time.Since(start) > time.Second {
		t.Fatalf("the update did not wake the run promptly")
	}
	// not contacted: the timeout port
	run2 := e.start("sla", map[string]any{"id": mk()})
	if r := e.wait(run2, "succeeded", "failed"); r.Output["in_time"] != false {
		t.Fatalf("timeout: %v %s", r.Output, e.steps(run2))
	}
}

func TestRolledBackWriteEnqueuesNothing(t *testing.T) {
	e := newEnv(t, true)
	trig := trigger.New(e.eng, nil)
	e.store.Hooks = []events.Hook{trig.Hook}
	e.publish(`{"slug":"on-lead","trigger":{"type":"record.created","entity":"lead","condition":"record.amount > 10"},"nodes":[
	  {"id":"note","type":"set","params":{"values":{"lead":"{{ trigger.record.id }}","name":"{{ trigger.record.name }}"}}}]}`)
	ctx := context.Background()
	change := func(amount int) events.Change {
		return events.Change{Kind: events.Created, AppID: e.app, Entity: "lead", RecordID: uuid.New(), Record: map[string]any{"name": "n", "amount": amount}, At: time.Now()}
	}
	// rolled back: nothing
	tx, err := e.d.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := trig.Hook(ctx, tx, change(100)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// condition false: nothing
	if _, err := e.store.Create(ctx, engine.RecordCall{AppID: e.app, Entity: "lead", Values: map[string]any{"name": "small", "amount": 5}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if n := e.count(`SELECT count(*) FROM flow_runs`); n != 0 {
		t.Fatalf("%d runs after a rolled-back write", n)
	}
	if n := e.count(`SELECT count(*) FROM river_job`); n != 0 {
		t.Fatalf("%d jobs after a rolled-back write", n)
	}
	// committed: one run
	rec, err := e.store.Create(ctx, engine.RecordCall{AppID: e.app, Entity: "lead", Values: map[string]any{"name": "big", "amount": 50}})
	if err != nil {
		t.Fatal(err)
	}
	var run uuid.UUID
	if err := e.d.Pool.QueryRow(ctx, `SELECT id FROM flow_runs WHERE flow = 'on-lead'`).Scan(&run); err != nil {
		t.Fatal(err)
	}
	r := e.wait(run, "succeeded", "failed")
	if r.Output["lead"] != rec["id"] || r.Output["name"] != "big" {
		t.Fatalf("output %v", r.Output)
	}
}

func TestTaskOverdueEscalates(t *testing.T) {
	e := newEnv(t, true)
	rep, boss := e.user("rep"), e.user("boss")
	e.publish(fmt.Sprintf(`{"slug":"call","trigger":{"type":"manual"},"nodes":[
	  {"id":"t","type":"task","params":{"title":"24 小时内电话回访","assignee":%q,"due":"400ms","remind":"100ms","escalate_to":%q}}]}`, rep, boss))
	run := e.start("call", nil)
	task, who := e.openTask(run)
	if who != rep {
		t.Fatalf("assigned to %s", who)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var assignee uuid.UUID
		var reminded *time.Time
		_ = e.d.Pool.QueryRow(context.Background(), `SELECT assignee_id, reminded_at FROM tasks WHERE id = $1`, task).Scan(&assignee, &reminded)
		if assignee == boss {
			if reminded == nil {
				t.Fatal("no reminder before the escalation")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not escalated: %s", e.steps(run))
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.complete(task, boss, "done")
	if r := e.wait(run, "succeeded", "failed"); r.Output["escalated"] != true || r.Output["completed_by"] != boss.String() {
		t.Fatalf("output %v", r.Output)
	}
}

// TestRecordTriggerLoopStops: a flow that updates the record it is triggered by starts itself
// again at most trigger.MaxChain times; the write that would go further fails its step with an
// error naming the flow in English and zh-CN, and nothing runs after it. A person's update
// starts a chain again from 0.
func TestRecordTriggerLoopStops(t *testing.T) {
	e := newEnv(t, true)
	trig := trigger.New(e.eng, nil)
	e.store.Hooks = []events.Hook{trig.Hook}
	old := trigger.MaxChain
	trigger.MaxChain = 3
	t.Cleanup(func() { trigger.MaxChain = old })
	e.publish(`{"slug":"bump","trigger":{"type":"record.updated","entity":"lead"},"nodes":[
	  {"id":"u","type":"record.update","params":{"entity":"lead","id":"{{ trigger.record.id }}","values":{"n":"{{ (trigger.record.n ?? 0) + 1 }}"}}}]}`)
	ctx := context.Background()
	rec, err := e.store.Create(ctx, engine.RecordCall{AppID: e.app, Entity: "lead", Values: map[string]any{"n": 0}})
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.MustParse(rec["id"].(string))
	seen := []uuid.UUID{}
	deadline := time.Now().Add(time.Minute) // only against hanging; not a timing assertion
	for round := 1; round <= 2; round++ {
		if _, err := e.store.Update(ctx, engine.RecordCall{AppID: e.app, Entity: "lead", ID: id, Values: map[string]any{"n": 0}}); err != nil {
			t.Fatal(err)
		}
		// runs with chain 0..MaxChain: MaxChain+1 runs; the last one's write fails
		want := round * (trigger.MaxChain + 1)
		var failed uuid.UUID
		for failed == uuid.Nil {
			_ = e.d.Pool.QueryRow(ctx, `SELECT id FROM flow_runs WHERE flow = 'bump' AND status = 'failed' AND NOT id = ANY($1)`, seen).Scan(&failed)
			if failed == uuid.Nil {
				if time.Now().After(deadline) {
					t.Fatalf("round %d: no failed run: %d runs", round, e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'bump'`))
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		seen = append(seen, failed)
		r := e.wait(failed, "failed")
		if msg := deref(r.Error); !strings.Contains(msg, "flow bump") || !strings.Contains(msg, "记录触发链过深") {
			t.Fatalf("round %d: run error %q", round, msg)
		}
		if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'bump'`); n != want {
			t.Fatalf("round %d: %d runs, want %d", round, n, want)
		}
		for e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'bump' AND status NOT IN ('failed', 'succeeded')`) != 0 {
			time.Sleep(20 * time.Millisecond) // the earlier runs finishing
		}
		if n := e.count(`SELECT (data->>'n')::int FROM records WHERE id = $1`, id); n != trigger.MaxChain {
			t.Fatalf("round %d: n = %d, want %d (the failed write rolled back)", round, n, trigger.MaxChain)
		}
	}
}

// TestRecordTriggerLoopThroughSubflow: the chain of record triggers continues through a
// sub-flow that makes the change, so such a loop stops too.
func TestRecordTriggerLoopThroughSubflow(t *testing.T) {
	e := newEnv(t, true)
	trig := trigger.New(e.eng, nil)
	e.store.Hooks = []events.Hook{trig.Hook}
	old := trigger.MaxChain
	trigger.MaxChain = 2
	t.Cleanup(func() { trigger.MaxChain = old })
	e.publish(`{"slug":"outer","trigger":{"type":"record.updated","entity":"lead"},"nodes":[
	  {"id":"s","type":"subflow","params":{"flow":"inner","input":{"id":"{{ trigger.record.id }}","n":"{{ trigger.record.n }}"}}}]}`)
	e.publish(`{"slug":"inner","trigger":{"type":"manual"},"nodes":[
	  {"id":"u","type":"record.update","params":{"entity":"lead","id":"{{ trigger.input.id }}","values":{"n":"{{ trigger.input.n + 1 }}"}}}]}`)
	ctx := context.Background()
	rec, err := e.store.Create(ctx, engine.RecordCall{AppID: e.app, Entity: "lead", Values: map[string]any{"n": 0}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Update(ctx, engine.RecordCall{AppID: e.app, Entity: "lead", ID: uuid.MustParse(rec["id"].(string)), Values: map[string]any{"n": 0}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute) // only against hanging
	for e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'inner' AND status = 'failed'`) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the loop did not stop: %d runs", e.count(`SELECT count(*) FROM flow_runs`))
		}
		time.Sleep(20 * time.Millisecond)
	}
	for e.count(`SELECT count(*) FROM flow_runs WHERE status NOT IN ('failed', 'succeeded')`) != 0 {
		time.Sleep(20 * time.Millisecond)
	}
	if n := e.count(`SELECT count(*) FROM flow_runs WHERE flow = 'outer'`); n != trigger.MaxChain+1 {
		t.Fatalf("%d outer runs, want %d", n, trigger.MaxChain+1)
	}
}
