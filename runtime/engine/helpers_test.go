package engine_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/queue"
	"github.com/tessera/tessera/runtime/script"
)

func TestMain(m *testing.M) {
	if os.Getenv("TESSERA_SANDBOX_WORKER") == "1" {
		os.Exit(script.WorkerMain(os.Args[1:]))
	}
	if os.Getenv("TESSERA_ENGINE_WORKER") == "1" {
		workerMain()
		return
	}
	dbtest.Main(m)
}

type env struct {
	t     *testing.T
	d     *db.DB
	eng   *engine.Engine
	app   uuid.UUID
	store *engine.SQLRecords
}

// newEnv gives an engine with running workers on a fresh database and one app.
func newEnv(t *testing.T, work bool) *env {
	t.Helper()
	d := dbtest.Open(t)
	return envOn(t, d, work, 8)
}

func envOn(t *testing.T, d *db.DB, work bool, workers int) *env {
	t.Helper()
	return envWith(t, d, work, workers, engine.Options{})
}

// envWith is envOn with engine options (its Records are the env's store).
func envWith(t *testing.T, d *db.DB, work bool, workers int, o engine.Options) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, d: d}
	var eng *engine.Engine
	q, err := queue.New(d.Pool, queue.Options{Work: work, Workers: workers, PollInterval: 100 * time.Millisecond,
		Handler: func(ctx context.Context, id uuid.UUID) error { return eng.Execute(ctx, id) }})
	if err != nil {
		t.Fatal(err)
	}
	e.store = &engine.SQLRecords{Pool: d.Pool}
	o.Records = e.store
	eng = engine.New(d.Pool, defs.New(d.Pool), q, o)
	e.eng = eng
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(c)
		eng.Close()
	})
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('crm', 'CRM') ON CONFLICT (slug) DO UPDATE SET name = 'CRM' RETURNING id`).Scan(&e.app); err != nil {
		t.Fatal(err)
	}
	return e
}

// publish stores flow as the next published version (what the builder's publish does).
func (e *env) publish(flowJSON string) int {
	e.t.Helper()
	v, err := spec.Decode(spec.KindFlow, []byte(flowJSON))
	if err != nil {
		e.t.Fatalf("decoding flow: %v", err)
	}
	f := v.(*spec.Flow)
	if _, errs := engine.Compile(f); len(errs) > 0 {
		e.t.Fatalf("compiling flow: %v", errs)
	}
	return publishRaw(e.t, e.d, e.app, f.Slug, flowJSON)
}

func publishRaw(t testing.TB, d *db.DB, app uuid.UUID, slug, body string) int {
	t.Helper()
	ctx := context.Background()
	var version int
	err := d.Pool.QueryRow(ctx, `INSERT INTO definitions (app_id, kind, slug, draft, published_version) VALUES ($1, 'flows', $2, $3, 1)
		ON CONFLICT (app_id, kind, slug) DO UPDATE SET draft = $3, published_version = definitions.published_version + 1
		RETURNING published_version`, app, slug, body).Scan(&version)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Pool.Exec(ctx, `INSERT INTO definition_versions (definition_id, version, body)
		SELECT id, $3, $4 FROM definitions WHERE app_id = $1 AND kind = 'flows' AND slug = $2`, app, slug, version, body); err != nil {
		t.Fatal(err)
	}
	return version
}

func (e *env) start(flow string, trigger map[string]any) uuid.UUID {
	e.t.Helper()
	id, _, err := e.eng.Start(context.Background(), nil, engine.StartRequest{AppID: e.app, Flow: flow, Trigger: trigger})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

type runInfo struct {
	Status string
	Output map[string]any
	Raw    json.RawMessage
	Error  *string
}

// wait polls the run until it reaches one of statuses.
func (e *env) wait(id uuid.UUID, statuses ...string) runInfo {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var r runInfo
		if err := e.d.Pool.QueryRow(context.Background(), `SELECT status, output, error FROM flow_runs WHERE id = $1`, id).Scan(&r.Status, &r.Raw, &r.Error); err != nil {
			e.t.Fatal(err)
		}
		for _, s := range statuses {
			if r.Status == s {
				_ = json.Unmarshal(r.Raw, &r.Output)
				return r
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("run %s is %s (error %v), want %v; steps: %s", id, r.Status, deref(r.Error), statuses, e.steps(id))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (e *env) steps(id uuid.UUID) string {
	rows, err := e.d.Pool.Query(context.Background(), `SELECT json_agg(json_build_object('node', node, 'status', status, 'output', output, 'error', error, 'port', port, 'attempt', attempt) ORDER BY id)::text FROM flow_steps WHERE run_id = $1`, id)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var s *string
	for rows.Next() {
		_ = rows.Scan(&s)
	}
	return deref(s)
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.d.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// startWorker starts queue workers (qo.Handler is set to the engine) and an engine on d in this
// process; both stop at the end of the test.
func startWorker(t testing.TB, d *db.DB, qo queue.Options, o engine.Options) *engine.Engine {
	t.Helper()
	var eng *engine.Engine
	qo.Work = true
	qo.Handler = func(ctx context.Context, id uuid.UUID) error { return eng.Execute(ctx, id) }
	q, err := queue.New(d.Pool, qo)
	if err != nil {
		t.Fatal(err)
	}
	if o.Records == nil {
		o.Records = &engine.SQLRecords{Pool: d.Pool}
	}
	eng = engine.New(d.Pool, defs.New(d.Pool), q, o)
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(c)
		eng.Close()
	})
	return eng
}
