package engine_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/events"
)

// TestQueuedRunWorkedInOneTransaction: a run River fetches for its first working, whose plan
// allows it, is worked like an inline run: its steps, record and end commit together in one
// transaction (#18: the River path cost 17 statements and 5 commits, then 11 and 2 with a
// statement of its own marking the run running; now 10 and 1 in 6 round trips: the run's
// session lock and its row together, begin with the run's transaction lock (which is the claim:
// it fails unless the run is still queued or running and has no step; this store's savepoint
// needs the transaction; the server's writes take none and go with it), the savepoint, the
// record write, its release, then the steps with the end, the commit and the unlock together;
// the write's effect is held, its step committing with it). The server's record store takes no
// savepoint: 8 statements, and with the accept (one statement) 9 statements and 2 commits for
// the whole run. A working that lasts past ShowRunningAfter (100 ms) also marks the run running
// from another connection (the fairness tests watch such runs). A run that was worked before (a
// retry) is worked step by step as before.
func TestQueuedRunWorkedInOneTransaction(t *testing.T) {
	d, counter := dbtest.OpenCounted(t)
	// no River worker: the test calls Execute as one would; the run is never shown running
	// on its own (a loaded machine could make the working last past the default)
	e := envWith(t, d, false, 4, engine.Options{ShowRunningAfter: time.Hour})
	e.eng.SetScripts(testScripts(t))
	e.publish(`{"slug":"one","trigger":{"type":"manual"},"nodes":[
	  {"id":"js","type":"script","params":{"code":"return {name: input.trigger.name.toUpperCase()};"}},
	  {"id":"save","type":"record.create","params":{"entity":"lead","values":{"name":"{{ steps.js.name }}"}}}],
	  "edges":[{"from":"js","to":"save"}]}`)
	ctx := context.Background()
	execute := func(name string) (statements, commits, trips int) {
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
		trips = counter.RoundTrips()
		t.Logf("%d statements, %d commits, %d round trips:\n%s", statements, commits, trips, counter.Report())
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
		return statements, commits, trips
	}
	execute("warm") // the plan and the sandbox
	n, commits, trips := execute("zhang")
	if n > 10 || commits > 1 || trips > 6 {
		t.Fatalf("%d statements, %d commits and %d round trips, want ≤ 10, ≤ 1 and ≤ 6:\n%s", n, commits, trips, counter.Report())
	}
	if got := e.count(`SELECT count(*) FROM flow_effects`); got != 0 {
		t.Fatalf("%d effect rows written, want none (the steps commit with their writes)", got)
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

// TestFetchingScriptSendsOnce: a script's http.fetch is never sent from a working in one
// transaction, which a later database error could roll back and have worked again: the working
// is abandoned before the request and the run worked step by step, where it is sent once. The
// flow's later runs go step by step at once.
func TestFetchingScriptSendsOnce(t *testing.T) {
	e := newEnv(t, false) // no River worker: the test calls Execute as one would
	e.eng.SetScripts(testScripts(t))
	var hits atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"score": 7}`))
	}))
	defer api.Close()
	e.eng.SetHTTPClient(api.Client())
	// a record write inside a one-transaction working fails in the database (as a transient
	// serialization failure would), so such a working would be rolled back and worked again
	e.store.Hooks = append(e.store.Hooks, func(ctx context.Context, _ pgx.Tx, _ events.Change) error {
		if engine.RunTx(ctx) != nil {
			return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
		}
		return nil
	})
	e.publish(`{"slug":"fetch","trigger":{"type":"manual"},"nodes":[
	  {"id":"js","type":"script","params":{"code":"return {score: http.fetch('` + api.URL + `').json().score};"}},
	  {"id":"save","type":"record.create","params":{"entity":"lead","values":{"score":"{{ steps.js.score }}"}}}],
	  "edges":[{"from":"js","to":"save"}]}`)
	ctx := context.Background()
	for i := 1; i <= 2; i++ {
		id := e.start("fetch", nil)
		if err := e.eng.Execute(ctx, id); err != nil {
			t.Fatalf("executing run %d: %v", i, err)
		}
		if r := e.wait(id, "succeeded", "failed"); r.Status != "succeeded" {
			t.Fatalf("run %d %s: %s", i, r.Status, e.steps(id))
		}
		if n := hits.Load(); n != int32(i) {
			t.Fatalf("%d requests after %d runs, want one each", n, i)
		}
		if n := e.count(`SELECT count(DISTINCT xmin::text) FROM flow_steps WHERE run_id = $1`, id); n != 2 {
			t.Fatalf("run %d's two steps were written by %d transactions, want 2 (step by step)", i, n)
		}
	}
	if n := e.count(`SELECT count(*) FROM records WHERE entity = 'lead' AND (data->>'score')::int = 7`); n != 2 {
		t.Fatalf("%d records, want 2", n)
	}
}

// TestHeldEffectOfFailedStepIsWritten: a one-transaction working holds its writes' effects
// instead of writing them, since a step that succeeds commits with its write and is never
// worked again. A step that fails after writing commits its write too, and a retry works it
// again under the same key: its effect is written with it, so the retry answers the record
// written before instead of writing a second one.
func TestHeldEffectOfFailedStepIsWritten(t *testing.T) {
	e := newEnv(t, false) // no River worker: the test calls Execute as one would
	e.eng.SetScripts(testScripts(t))
	e.publish(`{"slug":"half","trigger":{"type":"manual"},"nodes":[
	  {"id":"js","type":"script","params":{"code":"const r = records.create('lead', {name: 'half'}); if (!input.trigger.ok) throw new Error('not yet'); return r;"}}]}`)
	ctx := context.Background()
	id := e.start("half", map[string]any{"ok": false})
	if err := e.eng.Execute(ctx, id); err != nil {
		t.Fatal(err)
	}
	if r := e.wait(id, "succeeded", "failed"); r.Status != "failed" {
		t.Fatalf("run %s, want failed: %s", r.Status, e.steps(id))
	}
	if n := e.count(`SELECT count(DISTINCT xmin::text) FROM flow_steps WHERE run_id = $1`, id); n != 1 {
		t.Fatalf("the failed working was not one transaction (%d)", n)
	}
	if n := e.count(`SELECT count(*) FROM records WHERE data->>'name' = 'half'`); n != 1 {
		t.Fatalf("%d records after the failed working, want 1 (its write commits with the failed step)", n)
	}
	if n := e.count(`SELECT count(*) FROM flow_effects WHERE key LIKE $1 || ':%'`, id.String()); n != 1 {
		t.Fatalf("%d effect rows for the failed step's write, want 1", n)
	}
	if _, err := e.d.Pool.Exec(ctx, `UPDATE flow_runs SET trigger = '{"ok": true}' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.eng.Retry(ctx, id); err != nil || !ok {
		t.Fatalf("retry: %v %v", ok, err)
	}
	if err := e.eng.Execute(ctx, id); err != nil {
		t.Fatal(err)
	}
	if r := e.wait(id, "succeeded", "failed"); r.Status != "succeeded" {
		t.Fatalf("run %s after the retry: %s", r.Status, e.steps(id))
	}
	if n := e.count(`SELECT count(*) FROM records WHERE data->>'name' = 'half'`); n != 1 {
		t.Fatalf("%d records after the retry, want 1 (the retried step wrote again)", n)
	}
}

// TestHeldEffectOfUndoneWriteIsForgotten: a write in a savepoint (this store's) that fails
// after its effect was held is rolled back, and so is the effect: the step's retry writes the
// record instead of finding the key of a record that does not exist.
func TestHeldEffectOfUndoneWriteIsForgotten(t *testing.T) {
	e := newEnv(t, true)
	var calls atomic.Int32
	e.store.Hooks = append(e.store.Hooks, func(ctx context.Context, _ pgx.Tx, c events.Change) error {
		if c.Entity == "undone" && calls.Add(1) == 1 {
			return errors.New("the first write is refused after its row was written")
		}
		return nil
	})
	e.publish(`{"slug":"undo","trigger":{"type":"manual"},"nodes":[
	  {"id":"save","type":"record.create","retry":{"max_attempts":2,"backoff":"20ms"},"params":{"entity":"undone","values":{"name":"{{ trigger.name }}"}}}]}`)
	id := e.start("undo", map[string]any{"name": "again"})
	if r := e.wait(id, "succeeded", "failed"); r.Status != "succeeded" {
		t.Fatalf("run %s, want succeeded on the retry: %s", r.Status, e.steps(id))
	}
	if n := e.count(`SELECT count(*) FROM flow_steps WHERE run_id = $1 AND node = 'save'`, id); n != 2 {
		t.Fatalf("%d attempts of the step, want 2: %s", n, e.steps(id))
	}
	if n := e.count(`SELECT count(*) FROM records WHERE entity = 'undone'`); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
}

// TestShowRunningNeverOutlivesTheEnd: a first working marked running at once (ShowRunningAfter
// 1 ns, the mark racing the working) still ends succeeded, with its start before its end: the
// mark changes only a run still queued, and waits for the working's end if it holds the row.
func TestShowRunningNeverOutlivesTheEnd(t *testing.T) {
	d := dbtest.Open(t)
	e := envWith(t, d, false, 4, engine.Options{ShowRunningAfter: time.Nanosecond})
	e.eng.SetScripts(testScripts(t))
	e.publish(`{"slug":"one","trigger":{"type":"manual"},"nodes":[
	  {"id":"js","type":"script","params":{"code":"return {name: input.trigger.name.toUpperCase()};"}},
	  {"id":"save","type":"record.create","params":{"entity":"lead","values":{"name":"{{ steps.js.name }}"}}}],
	  "edges":[{"from":"js","to":"save"}]}`)
	for i := range 20 {
		id := e.start("one", map[string]any{"name": fmt.Sprint("r", i)})
		if err := e.eng.Execute(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		if r := e.wait(id, "succeeded", "failed"); r.Status != "succeeded" {
			t.Fatalf("run %d %s: %s", i, r.Status, e.steps(id))
		}
		// a mark still in flight lands now or never: the run stays succeeded, started first
		if n := e.count(`SELECT count(*) FROM flow_runs WHERE id = $1 AND status = 'succeeded' AND started_at <= finished_at
			AND NOT EXISTS (SELECT 1 FROM flow_runs r WHERE r.id = $1 AND r.status = 'running')`, id); n != 1 {
			t.Fatalf("run %d: %s", i, e.steps(id))
		}
	}
	if n := e.count(`SELECT count(*) FROM flow_runs WHERE status <> 'succeeded'`); n != 0 {
		t.Fatalf("%d runs not succeeded", n)
	}
}
