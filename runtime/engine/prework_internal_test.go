package engine

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/queue"
)

// TestPreworkPastItsDeadlineIsPaused: a working before the run's accept that runs past
// PreworkWithin is rolled back and the run accepted first (and worked once); its plan's runs are
// then accepted first for a while, so a slow flow is not worked twice per run. The same holds
// for a flow whose workings before the accept keep failing: after preworkMissesToPause of them.
func TestPreworkPastItsDeadlineIsPaused(t *testing.T) {
	ctx := context.Background()
	eng, d, app := preworkEngine(t, Options{PreworkWithin: time.Nanosecond},
		`{"slug":"f","trigger":{"type":"webhook","key":"f"},"nodes":[{"id":"s","type":"set","params":{"values":{"ok":true}}}]}`)
	req := StartRequest{AppID: app, Flow: "f", Version: 1, RunAs: "service"}
	plan, err := eng.PlanFor(ctx, app, "f", 1)
	if err != nil {
		t.Fatal(err)
	}
	if !eng.preworkable(req, plan) {
		t.Fatal("a run of a set node is not worked before its accept")
	}
	id, _, err := eng.Start(ctx, nil, req)
	if err != nil {
		t.Fatal(err)
	}
	if eng.preworkable(req, plan) {
		t.Fatal("the plan's runs are still worked before their accept after one ran past the deadline")
	}
	if after := time.Unix(0, plan.preworkAfter.Load()); after.Before(time.Now().Add(preworkPause / 2)) {
		t.Fatalf("paused until %s, want about %s from now", after, preworkPause)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var status string
		var runs int
		if err := d.Pool.QueryRow(ctx, `SELECT max(status), count(*) FROM flow_runs`).Scan(&status, &runs); err != nil {
			t.Fatal(err)
		}
		if runs != 1 {
			t.Fatalf("%d runs, want 1", runs)
		}
		if status == StatusSucceeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run accepted after its working ran past the deadline is %s, want succeeded (run %s)", status, id)
		}
	}
}

// TestFailingPreworkIsPaused: see TestPreworkPastItsDeadlineIsPaused.
func TestFailingPreworkIsPaused(t *testing.T) {
	ctx := context.Background()
	eng, d, app := preworkEngine(t, Options{}, // no record store: a record node fails
		`{"slug":"f","trigger":{"type":"webhook","key":"f"},"nodes":[{"id":"s","type":"record.create","params":{"entity":"lead","values":{"name":"x"}}}]}`)
	req := StartRequest{AppID: app, Flow: "f", Version: 1, RunAs: "service"}
	plan, err := eng.PlanFor(ctx, app, "f", 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= preworkMissesToPause; i++ {
		if !eng.preworkable(req, plan) {
			t.Fatalf("paused after %d failed workings, want after %d", i-1, preworkMissesToPause)
		}
		if _, _, err := eng.Start(ctx, nil, req); err != nil {
			t.Fatal(err)
		}
	}
	if eng.preworkable(req, plan) {
		t.Fatalf("not paused after %d failed workings", preworkMissesToPause)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var failed, runs int
		if err := d.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'failed'), count(*) FROM flow_runs`).Scan(&failed, &runs); err != nil {
			t.Fatal(err)
		}
		if runs != preworkMissesToPause {
			t.Fatalf("%d runs, want %d", runs, preworkMissesToPause)
		}
		if failed == runs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d runs failed, want all (accepted after the working before it failed)", failed, runs)
		}
	}
}

// preworkEngine gives an engine with options o whose process works runs (its queue never
// started: River fetches nothing) on a fresh database, with app "a" and flow body published as
// version 1.
func preworkEngine(t *testing.T, o Options, body string) (*Engine, *db.DB, uuid.UUID) {
	t.Helper()
	d := dbtest.Open(t)
	ctx := context.Background()
	q, err := queue.New(d.Pool, queue.Options{Work: true, Workers: 2, Handler: func(context.Context, uuid.UUID) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	eng := New(d.Pool, defs.New(d.Pool), q, o)
	t.Cleanup(eng.Close)
	var app uuid.UUID
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('a', 'a') RETURNING id`).Scan(&app); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Pool.Exec(ctx, `WITH d AS (INSERT INTO definitions (app_id, kind, slug, draft, published_version) VALUES ($1, 'flows', 'f', $2, 1) RETURNING id)
		INSERT INTO definition_versions (definition_id, version, body) SELECT id, 1, $2 FROM d`, app, body); err != nil {
		t.Fatal(err)
	}
	return eng, d, app
}
