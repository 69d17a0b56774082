package autoindex_test

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/autoindex"
	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/filter"
)

func TestFilterAndSortFields(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		sort   []string
		want   []string
	}{
		{"plain", `{"score":{"gt":5},"city":{"eq":"x"}}`, nil, []string{"city", "score"}},
		{"combinators", `{"or":[{"a":{"eq":1}},{"not":{"b":{"eq":2}}}],"and":[{"a":{"eq":3}}]}`, nil, []string{"a", "b"}},
		{"sort keys", ``, []string{"-amount", " +city ", ""}, []string{"amount", "city"}},
		{"bad json", `{"a":`, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := append(autoindex.FilterFields(json.RawMessage(tc.filter)), autoindex.SortFields(tc.sort)...)
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// listSQL builds the list query as runtime/records does (literal app and entity, live rows,
// the compiled filter, the sort keys and the id tie-breaker).
func listSQL(t *testing.T, loader *defs.Loader, app *defs.App, filterJSON, sortSpec string) (string, []any) {
	t.Helper()
	ent, _, err := loader.Entity(context.Background(), app.ID, "lead")
	if err != nil {
		t.Fatal(err)
	}
	var args []any
	w, err := filter.Compile(json.RawMessage(filterJSON), ent, nil, "r", &args)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := filter.SortKeys(sortSpec, ent, nil, "r")
	if err != nil {
		t.Fatal(err)
	}
	return "SELECT r.id, r.data FROM records r WHERE r.app_id = '" + app.ID.String() + "' AND r.entity = 'lead' AND r.deleted_at IS NULL AND " + w +
		" ORDER BY " + filter.OrderBy(keys, "r") + " LIMIT 51", args
}

func publish(t *testing.T, d *db.DB, app uuid.UUID, kind, slug, body string) {
	t.Helper()
	ctx := context.Background()
	var id uuid.UUID
	if err := d.Pool.QueryRow(ctx, `INSERT INTO definitions (app_id, kind, slug, draft, published_version) VALUES ($1,$2,$3,$4::jsonb,1)
		ON CONFLICT (app_id, kind, slug) DO UPDATE SET draft = EXCLUDED.draft RETURNING id`, app, kind, slug, body).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Pool.Exec(ctx, `INSERT INTO definition_versions (definition_id, version, body) VALUES ($1,1,$2::jsonb)`, id, body); err != nil {
		t.Fatal(err)
	}
}

func indexes(t *testing.T, d *db.DB) map[string]string {
	t.Helper()
	rows, err := d.Pool.Query(context.Background(), `SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
		WHERE c.relname LIKE 'ax\_%' AND i.indisvalid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, def string
		if err := rows.Scan(&n, &def); err != nil {
			t.Fatal(err)
		}
		out[n] = def
	}
	return out
}

// statsObjects lists the auto indexes' extended statistics, sorted.
func statsObjects(t *testing.T, d *db.DB) []string {
	t.Helper()
	rows, err := d.Pool.Query(context.Background(), `SELECT stxname FROM pg_statistic_ext WHERE stxname LIKE 'ax\_%' ORDER BY stxname`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

func sortedCopy(s ...string) []string { sort.Strings(s); return s }

// planRows is the planner's row estimate for query.
func planRows(t *testing.T, d *db.DB, query string) float64 {
	t.Helper()
	var raw []byte
	if err := d.Pool.QueryRow(context.Background(), "EXPLAIN (FORMAT JSON) "+query).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var plan []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		}
	}
	if err := json.Unmarshal(raw, &plan); err != nil || len(plan) == 0 {
		t.Fatalf("plan %s: %v", raw, err)
	}
	return plan[0].Plan.Rows
}

// TestReconcile walks the life of auto indexes: views and reports ask for them (not for list
// fields, fields the entity indexes itself, unknown or hostile keys), the cap per app keeps the
// most used, the list query uses them, and they are dropped once unused for UnusedFor.
func TestReconcile(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	app := &defs.App{Slug: "crm", Name: "CRM"}
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('crm','CRM') RETURNING id`).Scan(&app.ID); err != nil {
		t.Fatal(err)
	}
	var user uuid.UUID
	if err := d.Pool.QueryRow(ctx, `INSERT INTO users (email, name, is_admin) VALUES ('a@example.com','A',true) RETURNING id`).Scan(&user); err != nil {
		t.Fatal(err)
	}
	publish(t, d, app.ID, spec.KindEntity, "lead", `{"slug":"lead","fields":[{"key":"name","type":"text"},{"key":"score","type":"number"},
		{"key":"city","type":"text"},{"key":"tags","type":"multiselect","options":["a","b"]},{"key":"code","type":"text","indexed":true},
		{"key":"due","type":"date"}]}`)
	view := func(name, cfg string) {
		if _, err := d.Pool.Exec(ctx, `INSERT INTO record_views (app_id, entity, owner_id, name, config) VALUES ($1, 'lead', $2, $3, $4::jsonb)`, app.ID, user, name, cfg); err != nil {
			t.Fatal(err)
		}
	}
	view("hot", `{"columns":["name","score"],"filter":{"score":{"gt":900},"tags":{"contains":"a"},"code":{"eq":"x"}},"sort":"-score"}`)
	view("hostile", `{"filter":{"x'); DROP TABLE records; --":{"eq":1},"nope":{"eq":1}},"sort":"-created_at"}`)
	publish(t, d, app.ID, spec.KindReport, "by-city", `{"slug":"by-city","entity":"lead","kind":"table","filters":{"city":{"eq":"沪"},"score":{"gte":1}},"sort":["due"]}`)
	loader := defs.New(d.Pool)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	score := autoindex.Name(app.ID, "lead", "score", filter.KindNumeric)
	city := autoindex.Name(app.ID, "lead", "city", filter.KindText)
	due := autoindex.Name(app.ID, "lead", "due", filter.KindDate)

	// capped at 1 per app: score is used three times (view filter, view sort, report filter)
	capped := autoindex.New(d.Pool, autoindex.Options{MaxPerApp: 1, Now: clock})
	rep, err := capped.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Created, []string{score}) {
		t.Fatalf("capped pass created %v, want only %s (score)", rep.Created, score)
	}
	m := autoindex.New(d.Pool, autoindex.Options{UnusedFor: 14 * 24 * time.Hour, Now: clock})
	rep, err = m.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]bool{}
	for _, n := range rep.Created {
		created[n] = true
	}
	if len(rep.Created) != 2 || !created[city] || !created[due] {
		t.Fatalf("second pass created %v, want %s (city) and %s (due)", rep.Created, city, due)
	}
	ix := indexes(t, d)
	if len(ix) != 3 {
		t.Fatalf("indexes %v, want 3 (score, city, due; not tags, code, unknown keys)", ix)
	}
	if def := ix[score]; !strings.Contains(def, "tessera_num((data -> 'score'::text))") || !strings.Contains(def, "deleted_at IS NULL") || !strings.Contains(def, app.ID.String()) {
		t.Fatalf("score index %q: want the typed expression, partial on the app and live rows", def)
	}
	// a second pass changes nothing
	if rep, err = m.Reconcile(ctx); err != nil || len(rep.Created)+len(rep.Dropped)+len(rep.Failed) != 0 {
		t.Fatalf("idle pass: %+v, %v", rep, err)
	}

	// each index has statistics on its expression (the planner ignores a partial index's own)
	if got := statsObjects(t, d); !reflect.DeepEqual(got, sortedCopy(city+"_st", due+"_st", score+"_st")) {
		t.Fatalf("statistics %v, want one per auto index", got)
	}

	// the list query's filter and sort are served by the index (a small table: seq scans off)
	if _, err := d.Pool.Exec(ctx, `INSERT INTO records (app_id, entity, data) SELECT $1, 'lead', jsonb_build_object('name', 'n' || g, 'score', g) FROM generate_series(1, 20000) g`, app.ID); err != nil {
		t.Fatal(err)
	}
	// with those statistics an equality on 20,000 distinct scores is estimated at about one row,
	// not the default 0.5% (100 rows) that made the first page walk the created_at index
	if _, err := d.Pool.Exec(ctx, `ANALYZE records`); err != nil {
		t.Fatal(err)
	}
	if est := planRows(t, d, `SELECT 1 FROM records WHERE tessera_num(data->'score') = 4242`); est > 10 {
		t.Fatalf("eq on an auto-indexed field estimated at %v rows of 20,000 distinct values, want about 1", est)
	}
	sql, args := listSQL(t, loader, app, `{"score":{"gt":19990}}`, "-score")
	tx, err := d.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	var plan string
	if err := tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, score) {
		t.Fatalf("the list query does not use %s:\n%s\n%s", score, sql, plan)
	}
	tx.Rollback(ctx)

	// 15 days later: the hostile view is gone, the hot view too; score and due stay wanted by
	// the report's filter... but were never scanned (this test's EXPLAIN does not count), so
	// they are dropped and not rebuilt while wanted; city likewise
	if _, err := d.Pool.Exec(ctx, `DELETE FROM record_views`); err != nil {
		t.Fatal(err)
	}
	now = now.Add(15 * 24 * time.Hour)
	if _, err := d.Pool.Exec(ctx, `UPDATE auto_indexes SET scans = scans + 1000000 WHERE name = $1`, city); err != nil { // city: pretend it was scanned until now
		t.Fatal(err)
	}
	if _, err := d.Pool.Exec(ctx, `UPDATE auto_indexes SET used_at = $1 WHERE name = $2`, now.Add(-time.Hour), city); err != nil {
		t.Fatal(err)
	}
	if rep, err = m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	ix = indexes(t, d)
	if _, ok := ix[city]; !ok || len(ix) != 1 {
		t.Fatalf("after 15 days unused: indexes %v (dropped %v), want only the recently used %s (city)", ix, rep.Dropped, city)
	}
	if got := statsObjects(t, d); !reflect.DeepEqual(got, []string{city + "_st"}) {
		t.Fatalf("after dropping: statistics %v, want only %s_st (their statistics go with the indexes)", got, city)
	}
	list, err := autoindex.List(ctx, d.Pool, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, x := range list {
		status[x.Field] = x.Status
	}
	if want := map[string]string{"city": "ready", "score": "dropped", "due": "dropped"}; !reflect.DeepEqual(status, want) {
		t.Fatalf("statuses %v, want %v", status, want)
	}
	// not rebuilt while still wanted
	if rep, err = m.Reconcile(ctx); err != nil || len(rep.Created) != 0 {
		t.Fatalf("pass after dropping: %+v, %v", rep, err)
	}
	// the report is withdrawn: the rows of the dropped ones are forgotten
	if _, err := d.Pool.Exec(ctx, `UPDATE definitions SET published_version = 0 WHERE kind = 'reports'`); err != nil {
		t.Fatal(err)
	}
	loader.Drop()
	now = now.Add(time.Minute)
	if _, err = m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if list, _ = autoindex.List(ctx, d.Pool, app.ID); len(list) != 1 || list[0].Field != "city" {
		t.Fatalf("after the report went: %+v, want only city (unwanted but used recently)", list)
	}
}

// TestAdHocListPlanIsParallel checks the shape of an unindexed filter + sort: the typed
// extraction functions are parallel safe, so on a large table the scan is parallel (the cost
// settings make the planner choose it on a small one).
func TestAdHocListPlanIsParallel(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	app := &defs.App{Slug: "crm", Name: "CRM"}
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('crm','CRM') RETURNING id`).Scan(&app.ID); err != nil {
		t.Fatal(err)
	}
	publish(t, d, app.ID, spec.KindEntity, "lead", `{"slug":"lead","fields":[{"key":"name","type":"text"},{"key":"score","type":"number"}]}`)
	if _, err := d.Pool.Exec(ctx, `INSERT INTO records (app_id, entity, data) SELECT $1, 'lead', jsonb_build_object('name', 'n' || g, 'score', g) FROM generate_series(1, 3000) g`, app.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Pool.Exec(ctx, `ANALYZE records`); err != nil {
		t.Fatal(err)
	}
	sql, args := listSQL(t, defs.New(d.Pool), app, `{"score":{"gt":900}}`, "-score")
	tx, err := d.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, s := range []string{`SET LOCAL parallel_setup_cost = 0`, `SET LOCAL parallel_tuple_cost = 0`, `SET LOCAL min_parallel_table_scan_size = 0`, `SET LOCAL max_parallel_workers_per_gather = 2`} {
		if _, err := tx.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	var plan string
	if err := tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, `"Parallel Aware": true`) || !strings.Contains(plan, "Gather Merge") {
		t.Fatalf("want a parallel scan under a Gather Merge (top-N sorted in the workers):\n%s\n%s", sql, plan)
	}
}
