package engine

import (
	"context"
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
