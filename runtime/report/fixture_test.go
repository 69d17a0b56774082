package report_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/report"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// leadEntity is the entity every test uses.
const leadEntity = `{"slug":"lead","label":{"en":"Lead","zh-CN":"线索"},"title_field":"name","fields":[
 {"key":"name","type":"text","label":{"en":"Name","zh-CN":"名称"}},
 {"key":"amount","type":"money","label":{"en":"Amount","zh-CN":"金额"}},
 {"key":"cost","type":"money"},
 {"key":"score","type":"number"},
 {"key":"stage","type":"select","options":["new","contacted","proposal","won","lost"]},
 {"key":"channel","type":"select","options":["web","sem","expo"]},
 {"key":"office","type":"select","options":["北京","上海"]},
 {"key":"rep","type":"user"},
 {"key":"closed","type":"date"},
 {"key":"vip","type":"boolean"},
 {"key":"tags","type":"multiselect","options":["a","b"]}],
 "stages":{"field":"stage","order":["new","contacted","proposal","won"],"terminal":["won"],
   "probability":{"new":0.1,"contacted":0.2,"proposal":0.5,"won":1}},
 "report_index":["stage","channel","amount"]}`

func mustEntity(t testing.TB) *spec.Entity {
	t.Helper()
	v, err := spec.Decode(spec.KindEntity, []byte(leadEntity))
	if err != nil {
		t.Fatal(err)
	}
	return v.(*spec.Entity)
}

func mustReport(t testing.TB, js string) *spec.Report {
	t.Helper()
	v, err := spec.Decode(spec.KindReport, []byte(js))
	if err != nil {
		t.Fatalf("decoding report %s: %v", js, err)
	}
	return v.(*spec.Report)
}

// T0 is the fixture's reference time (a Monday, 12:00 in Shanghai).
var T0 = time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)

func hours(h float64) time.Time { return T0.Add(time.Duration(h * float64(time.Hour))) }

// fixture is a seeded database.
type fixture struct {
	DB     *db.DB
	Pool   *pgxpool.Pool
	App    *defs.App
	Engine *report.Engine
	Alice  uuid.UUID // rep in team A
	Bob    uuid.UUID // rep in team B
	TeamA  uuid.UUID
	TeamB  uuid.UUID
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	d := dbtest.Open(t)
	ctx := context.Background()
	f := &fixture{DB: d, Pool: d.Pool}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var appID uuid.UUID
	must(d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name, settings) VALUES ('crm', 'CRM', '{"timezone":"Asia/Shanghai"}') RETURNING id`).Scan(&appID))
	publish(t, d.Pool, appID, "entities", "lead", leadEntity)
	must(d.Pool.QueryRow(ctx, `INSERT INTO teams (name) VALUES ('华东') RETURNING id`).Scan(&f.TeamA))
	must(d.Pool.QueryRow(ctx, `INSERT INTO teams (name) VALUES ('华南') RETURNING id`).Scan(&f.TeamB))
	must(d.Pool.QueryRow(ctx, `INSERT INTO users (email, name, team_id) VALUES ('alice@x.cn', 'Alice', $1) RETURNING id`, f.TeamA).Scan(&f.Alice))
	must(d.Pool.QueryRow(ctx, `INSERT INTO users (email, name, team_id) VALUES ('bob@x.cn', 'Bob', $1) RETURNING id`, f.TeamB).Scan(&f.Bob))
	loader := defs.New(d.Pool)
	app, err := loader.App(ctx, "crm")
	must(err)
	f.App = app
	f.Engine = report.New(d.Pool, loader)
	return f
}

// publish inserts a published definition directly (the definitions routes are not needed).
func publish(t testing.TB, pool *pgxpool.Pool, appID uuid.UUID, kind, slug, body string) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `WITH d AS (
		INSERT INTO definitions (app_id, kind, slug, draft, published_version) VALUES ($1, $2, $3, $4, 1)
		ON CONFLICT (app_id, kind, slug) DO UPDATE SET draft = EXCLUDED.draft, published_version = definitions.published_version + 1
		RETURNING id, published_version)
		INSERT INTO definition_versions (definition_id, version, body) SELECT id, published_version, $4 FROM d`, appID, kind, slug, body)
	if err != nil {
		t.Fatalf("publishing %s %s: %v", kind, slug, err)
	}
}

// rec describes one seeded record: its data, owner, creation time and stage moves.
type rec struct {
	data    map[string]any
	owner   uuid.UUID
	team    uuid.UUID
	created time.Time
	moves   []move
	deleted bool
	// noCreateStage leaves out the creation's stage event (histories written before it existed).
	noCreateStage bool
}

type move struct {
	at       time.Time
	from, to string
}

// insert writes r and its history like the records service does: a created event with the
// initial values as {field: [null, value]} and one "stage" event per stage change.
func (f *fixture) insert(t testing.TB, r rec) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	data := map[string]any{}
	for k, v := range r.data {
		data[k] = v
	}
	initial := map[string]any{}
	for k, v := range data {
		initial[k] = []any{nil, v}
	}
	if len(r.moves) > 0 {
		initial["stage"] = []any{nil, r.moves[0].from}
		data["stage"] = r.moves[len(r.moves)-1].to
	}
	updated := r.created
	if len(r.moves) > 0 {
		updated = r.moves[len(r.moves)-1].at
	}
	body, _ := json.Marshal(data)
	var owner, team any
	if r.owner != uuid.Nil {
		owner = r.owner
	}
	if r.team != uuid.Nil {
		team = r.team
	}
	var deleted any
	if r.deleted {
		deleted = updated
	}
	var id uuid.UUID
	if err := f.Pool.QueryRow(ctx, `INSERT INTO records (app_id, entity, data, owner_id, team_id, created_at, updated_at, deleted_at)
		VALUES ($1, 'lead', $2, $3, $4, $5, $6, $7) RETURNING id`, f.App.ID, body, owner, team, r.created, updated, deleted).Scan(&id); err != nil {
		t.Fatal(err)
	}
	ch, _ := json.Marshal(initial)
	if _, err := f.Pool.Exec(ctx, `INSERT INTO record_events (record_id, app_id, entity, at, actor, kind, changes) VALUES ($1, $2, 'lead', $3, $4, 'created', $5)`,
		id, f.App.ID, r.created, owner, ch); err != nil {
		t.Fatal(err)
	}
	// Like runtime/records, the creation also writes a stage event [null, initial stage].
	if st, ok := initial["stage"].([]any); ok && st[1] != nil && !r.noCreateStage {
		ch, _ := json.Marshal(map[string]any{"stage": st})
		if _, err := f.Pool.Exec(ctx, `INSERT INTO record_events (record_id, app_id, entity, at, actor, kind, changes) VALUES ($1, $2, 'lead', $3, $4, 'stage', $5)`,
			id, f.App.ID, r.created, owner, ch); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range r.moves {
		ch, _ := json.Marshal(map[string]any{"stage": []any{m.from, m.to}})
		if _, err := f.Pool.Exec(ctx, `INSERT INTO record_events (record_id, app_id, entity, at, actor, kind, changes) VALUES ($1, $2, 'lead', $3, $4, 'stage', $5)`,
			id, f.App.ID, m.at, owner, ch); err != nil {
			t.Fatal(err)
		}
	}
	// Stage paths follow the history, as the records service keeps them (rebuilt here by the
	// same function publishing and the migration use).
	if _, err := f.Pool.Exec(ctx, `SELECT tessera_build_stage_paths($1, 'lead', 'stage')`, f.App.ID); err != nil {
		t.Fatal(err)
	}
	return id
}
