package engine_test

import (
	"context"
	"testing"

	"github.com/tessera/tessera/runtime/dbtest"
)

// TestQueuedRunWorkedInOneTransaction: a run River fetches for its first working, whose plan
// allows it, is worked like an inline run: its steps, record and end commit together in one
// transaction (#18: the River path cost 17 statements and 5 commits; now 10 and 2: the run
// marked running, begin, lock and check, the record write in a savepoint, the steps with the
// end, commit).
// A run that was worked before (a retry) is worked step by step as before.
func TestQueuedRunWorkedInOneTransaction(t *testing.T) {
	d, counter := dbtest.OpenCounted(t)
	e := envOn(t, d, false, 4) // no River worker: the test calls Execute as one would
	e.eng.SetScripts(testScripts(t))
	e.publish(`{"slug":"one","trigger":{"type":"manual"},"nodes":[
	  {"id":"js","type":"script","params":{"code":"return {name: input.trigger.name.toUpperCase()};"}},
	  {"id":"save","type":"record.create","params":{"entity":"lead","values":{"name":"{{ steps.js.name }}"}}}],
	  "edges":[{"from":"js","to":"save"}]}`)
	ctx := context.Background()
	execute := func(name string) (statements, commits int) {
		t.Helper()
		id := e.start("one", map[string]any{"name": name})
		if n := e.count(`SELECT count(*) FROM flow_runs WHERE id = $1 AND status = 'queued'`, id); n != 1 {
			t.Fatalf("the run is not queued for River")
		}
		counter.Reset()
		if err := e.eng.Execute(ctx, id); err != nil {
			t.Fatalf("executing: %v", err)
		}
		statements, commits = counter.Counts()
		t.Logf("%d statements, %d commits:\n%s", statements, commits, counter.Report())
		r := e.wait(id, "succeeded", "failed")
		if r.Status != "succeeded" {
			t.Fatalf("run %s: %s", r.Status, e.steps(id))
		}
		if n := e.count(`SELECT count(*) FROM flow_steps WHERE run_id = $1 AND status = 'succeeded'`, id); n != 2 {
			t.Fatalf("%d steps persisted, want 2: %s", n, e.steps(id))
		}
		if n := e.count(`SELECT count(*) FROM flow_runs WHERE id = $1 AND started_at IS NOT NULL AND finished_at >= started_at`, id); n != 1 {
			t.Fatal("the run's timing (started_at, finished_at) is not written")
		}
		return statements, commits
	}
	execute("warm") // the plan and the sandbox
	n, commits := execute("zhang")
	if n > 10 || commits > 2 {
		t.Fatalf("%d statements and %d commits, want ≤ 10 and ≤ 2:\n%s", n, commits, counter.Report())
	}
	if got := e.count(`SELECT count(*) FROM records WHERE entity = 'lead' AND data->>'name' = 'ZHANG'`); got != 1 {
		t.Fatalf("%d records, want 1", got)
	}

	// a failed run retried (queued again, with its steps) is worked step by step: its
	// succeeded step is not run again
	e.publish(`{"slug":"two","trigger":{"type":"manual"},"nodes":[
	  {"id":"save","type":"record.create","params":{"entity":"lead","values":{"name":"{{ trigger.name }}"}}},
	  {"id":"js","type":"script","params":{"code":"if (!input.trigger.ok) throw new Error('not yet'); return 1;"}}],
	  "edges":[{"from":"save","to":"js"}]}`)
	id := e.start("two", map[string]any{"name": "retried"})
	if err := e.eng.Execute(ctx, id); err != nil {
		t.Fatal(err)
	}
	if r := e.wait(id, "succeeded", "failed"); r.Status != "failed" {
		t.Fatalf("run %s, want failed: %s", r.Status, e.steps(id))
	}
	if n := e.count(`SELECT count(*) FROM records WHERE data->>'name' = 'retried'`); n != 1 {
		t.Fatalf("%d records after the failed working, want 1", n)
	}
	if ok, err := e.eng.Retry(ctx, id); err != nil || !ok {
		t.Fatalf("retry: %v %v", ok, err)
	}
	if err := e.eng.Execute(ctx, id); err != nil {
		t.Fatal(err)
	}
	e.wait(id, "succeeded", "failed")
	if n := e.count(`SELECT count(*) FROM records WHERE data->>'name' = 'retried'`); n != 1 {
		t.Fatalf("%d records after the retry, want 1 (the record step ran again)", n)
	}
	if n := e.count(`SELECT count(*) FROM flow_steps WHERE run_id = $1 AND node = 'save'`, id); n != 1 {
		t.Fatalf("the record step ran %d times, want once", n)
	}
}
