package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/queue"
)

// TestFloodInOneAppDoesNotStarveAnother: 60 runs of app A each spin a script until the sandbox's
// 2 s limit (2 sandbox workers, 10 queue workers, the server's default of 5 runs per app); a
// script-free run of app B started after them finishes within seconds, not after A's backlog.
func TestFloodInOneAppDoesNotStarveAnother(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	scripts := testScripts(t)
	eng := startWorker(t, d, queue.Options{Workers: 10, PollInterval: 100 * time.Millisecond}, engine.Options{AppConcurrency: 5, Scripts: scripts})
	var appA, appB uuid.UUID
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('a', 'A') RETURNING id`).Scan(&appA); err != nil {
		t.Fatal(err)
	}
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('b', 'B') RETURNING id`).Scan(&appB); err != nil {
		t.Fatal(err)
	}
	publishRaw(t, d, appA, "bomb", `{"slug":"bomb","trigger":{"type":"manual"},"nodes":[{"id":"js","type":"script","params":{"code":"while(true){}"}}]}`)
	publishRaw(t, d, appB, "quick", `{"slug":"quick","trigger":{"type":"manual"},"nodes":[{"id":"s","type":"set","params":{"values":{"ok":true}}}]}`)
	publishRaw(t, d, appB, "js", `{"slug":"js","trigger":{"type":"manual"},"nodes":[{"id":"js","type":"script","params":{"code":"return {ok: true};"}}]}`)
	err := pgx.BeginFunc(ctx, d.Pool, func(tx pgx.Tx) error {
		for range 60 {
			if _, _, err := eng.Start(ctx, tx, engine.StartRequest{AppID: appA, Flow: "bomb"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, d: d, eng: eng, app: appB}
	// wait until the flood occupies the workers
	deadline := time.Now().Add(30 * time.Second)
	for e.count(`SELECT count(*) FROM flow_runs WHERE app_id = $1 AND status = 'running'`, appA) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the flood never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var id uuid.UUID
	var took time.Duration
	for _, flow := range []string{"quick", "js"} { // script-free, then needing a sandbox worker
		start := time.Now()
		id = e.start(flow, nil)
		r := e.wait(id, "succeeded", "failed")
		took = time.Since(start)
		doneA := e.count(`SELECT count(*) FROM flow_runs WHERE app_id = $1 AND status IN ('succeeded', 'failed')`, appA)
		t.Logf("app B's %s run %s after %s, while app A had finished %d of its 60 runs", flow, r.Status, took, doneA)
		if r.Status != "succeeded" {
			t.Fatalf("app B's %s run %s: %s", flow, r.Status, e.steps(id))
		}
		if took > 5*time.Second {
			t.Fatalf("app B's %s run waited %s behind app A's flood, want under 5s", flow, took)
		}
		if doneA >= 50 {
			t.Fatalf("app A's flood was nearly over (%d of 60 finished): the test proves nothing", doneA)
		}
	}
	// the time it spent queued is on the run
	var queuedAt *time.Time
	var queuedMS int64
	if err := d.Pool.QueryRow(ctx, `SELECT queued_at, queued_ms FROM flow_runs WHERE id = $1`, id).Scan(&queuedAt, &queuedMS); err != nil {
		t.Fatal(err)
	}
	t.Logf("app B's run queued %d ms", queuedMS)
	if queuedAt == nil || queuedMS < 0 || queuedMS > took.Milliseconds() {
		t.Fatalf("queued_at %v, queued_ms %d (the run took %s)", queuedAt, queuedMS, took)
	}
}

// TestLoneAppUsesIdleWorkers: with no other app's run queued, an app's runs go past its cap
// (2) up to all but one of the workers (6 - 1): a lone app's burst is not held to the cap.
func TestLoneAppUsesIdleWorkers(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	eng := startWorker(t, d, queue.Options{Workers: 6, PollInterval: 100 * time.Millisecond}, engine.Options{AppConcurrency: 2, Scripts: testScripts(t)})
	var app uuid.UUID
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('lone', 'Lone') RETURNING id`).Scan(&app); err != nil {
		t.Fatal(err)
	}
	publishRaw(t, d, app, "spin", `{"slug":"spin","trigger":{"type":"manual"},"nodes":[{"id":"js","type":"script","params":{"code":"while(true){}"}}]}`)
	err := pgx.BeginFunc(ctx, d.Pool, func(tx pgx.Tx) error {
		for range 8 {
			if _, _, err := eng.Start(ctx, tx, engine.StartRequest{AppID: app, Flow: "spin"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, d: d, eng: eng, app: app}
	most := 0
	for deadline := time.Now().Add(30 * time.Second); most < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("at most %d runs of the lone app worked at once, want past its cap of 2", most)
		}
		n := e.count(`SELECT count(*) FROM flow_runs WHERE app_id = $1 AND status = 'running'`, app)
		if n > 5 {
			t.Fatalf("%d runs of one app worked at once, want at most 5 (all but one of 6 workers)", n)
		}
		most = max(most, n)
	}
	t.Logf("%d runs of the lone app worked at once (cap 2, 6 workers)", most)
}
