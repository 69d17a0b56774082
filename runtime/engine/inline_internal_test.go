package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/queue"
)

// TestRunOfAppAtCapIsNotClaimedInline: a run of an app at its cap (another app's run queued)
// is inserted for River unclaimed, instead of being claimed by the accepting process and handed
// over later with a delay (the app's slot is taken before the insert); under the cap, a run is
// claimed and worked inline.
func TestRunOfAppAtCapIsNotClaimedInline(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	// a working queue never started: River fetches nothing, yet the process works runs inline
	q, err := queue.New(d.Pool, queue.Options{Work: true, Workers: 2, Handler: func(context.Context, uuid.UUID) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	eng := New(d.Pool, defs.New(d.Pool), q, Options{AppConcurrency: 1, InlineWorkers: 4})
	t.Cleanup(eng.Close)
	apps := map[string]uuid.UUID{}
	for _, slug := range []string{"a", "b"} {
		var id uuid.UUID
		if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ($1, $1) RETURNING id`, slug).Scan(&id); err != nil {
			t.Fatal(err)
		}
		apps[slug] = id
		body := `{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"s","type":"set","params":{"values":{"ok":true}}}]}`
		if _, err := d.Pool.Exec(ctx, `WITH d AS (INSERT INTO definitions (app_id, kind, slug, draft, published_version) VALUES ($1, 'flows', 'f', $2, 1) RETURNING id)
			INSERT INTO definition_versions (definition_id, version, body) SELECT id, 1, $2 FROM d`, id, body); err != nil {
			t.Fatal(err)
		}
	}
	// app B has a run queued (due in an hour), so app A gets no slot past its cap
	if _, _, err := eng.Start(ctx, nil, StartRequest{AppID: apps["b"], Flow: "f", At: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	job := func(run uuid.UUID) (state string, claimed bool) {
		t.Helper()
		err := d.Pool.QueryRow(ctx, `SELECT state::text, attempted_by IS NOT NULL FROM river_job WHERE (args->>'run_id')::uuid = $1`, run).Scan(&state, &claimed)
		if err != nil {
			t.Fatal(err)
		}
		return state, claimed
	}
	eng.slots.add(apps["a"], inlineRun) // app A has its one run working here
	atCap, _, err := eng.Start(ctx, nil, StartRequest{AppID: apps["a"], Flow: "f"})
	if err != nil {
		t.Fatal(err)
	}
	if state, claimed := job(atCap); state != "available" || claimed {
		t.Fatalf("the run of an app at its cap has its job %s (claimed %v), want available and unclaimed", state, claimed)
	}
	eng.slots.release(apps["a"], inlineRun)
	under, _, err := eng.Start(ctx, nil, StartRequest{AppID: apps["a"], Flow: "f"})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var status string
		if err := d.Pool.QueryRow(ctx, `SELECT status FROM flow_runs WHERE id = $1`, under).Scan(&status); err != nil {
			t.Fatal(err)
		}
		if status == StatusSucceeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run under the cap is %s, want worked inline", status)
		}
	}
	if n := eng.slots.total(apps["a"]); n != 0 {
		t.Fatalf("app A holds %d slots after its inline run, want 0", n)
	}
}

// TestInlineWorkingOfLockedRunIsBusy: an inline working sends BEGIN, the run's lock and its first
// statement in one round trip (runTx). When another working holds the run's lock, or has worked
// the run meanwhile, the lock call aborts the transaction: what was sent with it never runs (for a
// run of set nodes, that is its steps, its end and the COMMIT), and the working answers busy.
func TestInlineWorkingOfLockedRunIsBusy(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	q, err := queue.New(d.Pool, queue.Options{Work: true, Workers: 2, Handler: func(context.Context, uuid.UUID) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	store := &SQLRecords{Pool: d.Pool}
	eng := New(d.Pool, defs.New(d.Pool), q, Options{Records: store})
	t.Cleanup(eng.Close)
	var app uuid.UUID
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('a', 'a') RETURNING id`).Scan(&app); err != nil {
		t.Fatal(err)
	}
	for slug, nodes := range map[string]string{
		"write": `[{"id":"s","type":"record.create","params":{"entity":"lead","values":{"name":"locked"}}}]`,
		"sets":  `[{"id":"a","type":"set","params":{"values":{"x":1}}},{"id":"b","type":"set","params":{"values":{"y":2}}}]`,
	} {
		body := `{"slug":"` + slug + `","trigger":{"type":"manual"},"nodes":` + nodes + `}`
		if _, err := d.Pool.Exec(ctx, `WITH d AS (INSERT INTO definitions (app_id, kind, slug, draft, published_version) VALUES ($1, 'flows', $2, $3, 1) RETURNING id)
			INSERT INTO definition_versions (definition_id, version, body) SELECT id, 1, $3 FROM d`, app, slug, body); err != nil {
			t.Fatal(err)
		}
	}
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := d.Pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// runs for later (not worked now), loaded as an inline working would have them
	load := func(flow string) *runRow {
		t.Helper()
		id, _, err := eng.Start(ctx, nil, StartRequest{AppID: app, Flow: flow, At: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		run, err := eng.loadRun(ctx, d.Pool, id)
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	holder, err := d.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release()
	hold := func(run *runRow, on bool) {
		t.Helper()
		sql := `SELECT pg_advisory_unlock($1)`
		if on {
			sql = `SELECT pg_advisory_lock($1)`
		}
		if _, err := holder.Exec(ctx, sql, lockKey(run.ID)); err != nil {
			t.Fatal(err)
		}
	}
	busy := func(run *runRow, why string) {
		t.Helper()
		if _, err := eng.executeInline(ctx, run, 0); !errors.Is(err, queue.ErrBusy) {
			t.Fatalf("working a run %s: %v, want busy", why, err)
		}
	}

	sets := load("sets")
	hold(sets, true)
	busy(sets, "whose lock is held (its steps, end and commit sent with the lock)")
	if n := count(`SELECT count(*) FROM flow_steps WHERE run_id = $1`, sets.ID); n != 0 {
		t.Fatalf("%d steps written by the busy working, want none", n)
	}
	if n := count(`SELECT count(*) FROM flow_runs WHERE id = $1 AND status = 'queued'`, sets.ID); n != 1 {
		t.Fatal("the busy working changed the run")
	}
	hold(sets, false)

	write := load("write")
	hold(write, true)
	busy(write, "whose lock is held (its record sent with the lock)")
	if n := count(`SELECT count(*) FROM records WHERE data->>'name' = 'locked'`); n != 0 {
		t.Fatalf("%d records written by the busy working, want none", n)
	}
	hold(write, false)
	res, err := eng.executeInline(ctx, write, 0)
	if err != nil || res == nil || res.Status != StatusSucceeded {
		t.Fatalf("working the run once its lock is free: %+v, %v", res, err)
	}
	// a second working of the same run (as after a hand-over) finds it worked
	busy(write, "worked meanwhile")
	if n := count(`SELECT count(*) FROM records WHERE data->>'name' = 'locked'`); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
}
