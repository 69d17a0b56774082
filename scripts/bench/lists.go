package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/autoindex"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/records"
)

func init() {
	register(section{Name: "lists", Order: 70, Run: benchLists})
}

// benchLists times record list pages at growing depth in the default order (-created_at): the
// keyset cursor is one row comparison, so a page deep in the list should cost what the first
// page costs. The baseline is the previous cursor form (an OR of comparisons over the old
// index, measured with that index rebuilt for the purpose) and OFFSET paging at the same depth.
func benchLists(ctx context.Context, e *env) error {
	pool := e.DB.Pool
	loader := defs.New(pool)
	app, err := loader.App(ctx, "benchlist")
	if err != nil {
		var appID uuid.UUID
		if err := pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('benchlist', 'Bench lists') RETURNING id`).Scan(&appID); err != nil {
			return fmt.Errorf("creating app: %w", err)
		}
		body, _ := json.Marshal(benchEntity())
		if _, err := pool.Exec(ctx, `WITH d AS (INSERT INTO definitions (app_id, kind, slug, draft, published_version) VALUES ($1, 'entities', 'lead', $2, 1) RETURNING id)
			INSERT INTO definition_versions (definition_id, version, body) SELECT id, 1, $2 FROM d`, appID, body); err != nil {
			return fmt.Errorf("publishing entity: %w", err)
		}
		fmt.Printf("generating %d records (set -records to change)\n", e.Records)
		start := time.Now()
		// 4 records per instant, so the id tie-breaker matters
		if _, err := pool.Exec(ctx, `INSERT INTO records (app_id, entity, data, created_at)
			SELECT $1, 'lead', jsonb_build_object('name', 'lead ' || g, 'amount', (g::bigint * 7919) % 100000, 'stage', 'new'),
			       timestamptz '2026-01-01' + (g / 4) * interval '1 second'
			FROM generate_series(1, $2::int) g`, appID, e.Records); err != nil {
			return fmt.Errorf("generating records: %w", err)
		}
		fmt.Printf("generated in %s\n", time.Since(start).Round(time.Millisecond))
		if _, err := pool.Exec(ctx, `VACUUM ANALYZE records`); err != nil {
			return err
		}
		if app, err = loader.App(ctx, "benchlist"); err != nil {
			return err
		}
	}
	store := records.New(pool, loader, records.Options{})

	// walk the whole list with pages of 500, timing the pages at chosen depths
	depths := []int{0, 1_000, 10_000, 100_000, 500_000, e.Records - 1_000}
	fmt.Printf("%-12s %12s %14s %14s\n", "depth", "keyset page", "old OR cursor", "OFFSET")
	cursor := ""
	seen := 0
	next := 0
	for next < len(depths) {
		if depths[next] < 0 || depths[next] > e.Records {
			next++
			continue
		}
		atDepth := seen >= depths[next]
		if !atDepth {
			p, err := store.List(ctx, app, "lead", records.ListQuery{Limit: records.MaxLimit, Cursor: cursor}, access.All())
			if err != nil {
				return err
			}
			if p.NextCursor == nil {
				break
			}
			seen += len(p.Items)
			cursor = *p.NextCursor
			continue
		}
		var times []time.Duration
		for i := 0; i < e.Iters; i++ {
			start := time.Now()
			if _, err := store.List(ctx, app, "lead", records.ListQuery{Limit: 50, Cursor: cursor}, access.All()); err != nil {
				return err
			}
			times = append(times, time.Since(start))
		}
		oldT, offT := baselinePages(ctx, e, app, seen)
		fmt.Printf("%-12d %12s %14s %14s\n", seen, msf(medianDur(times)), oldT, offT)
		next++
	}
	return adHocFilter(ctx, e, store, app)
}

// adHocFilter times the first page of an unindexed filter + sort ("amount > 90000", sort
// -amount), prints its plan's shape, then builds the automatic index a saved view with that
// filter asks for (runtime/autoindex) and times the same page again.
func adHocFilter(ctx context.Context, e *env, store *records.Store, app *defs.App) error {
	q := records.ListQuery{Filter: json.RawMessage(`{"amount":{"gt":90000}}`), Sort: "-amount", Limit: 50}
	page := func() (time.Duration, error) {
		var times []time.Duration
		for i := 0; i < e.Iters; i++ {
			start := time.Now()
			if _, err := store.List(ctx, app, "lead", q, access.All()); err != nil {
				return 0, err
			}
			times = append(times, time.Since(start))
		}
		return medianDur(times), nil
	}
	fmt.Printf("load average: %s\n", loadAvg())
	t, err := page()
	if err != nil {
		return err
	}
	// the plan of the statement List runs (the filter as runtime/filter writes it: a jsonpath test
	// on the data, then the typed comparison)
	var plan []string
	rows, err := e.DB.Pool.Query(ctx, `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT TEXT) SELECT r.id, r.data FROM records r WHERE r.app_id = '`+app.ID.String()+`' AND r.entity = 'lead'
		AND r.deleted_at IS NULL AND (r.data @? 'strict $."amount" ? (@ > 90000)' AND tessera_num(r.data->'amount') > 90000) ORDER BY tessera_num(r.data->'amount') DESC NULLS FIRST, r.id DESC LIMIT 51`)
	if err == nil {
		plan, _ = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	fmt.Printf("ad-hoc filter amount > 90000, sort -amount, no index: %s; plan:\n    %s\n", msf(t), strings.Join(plan, "\n    "))
	// the physical baseline: the same filter and sort on a plain table whose amount is a typed
	// column (what PostgreSQL does without jsonb, without an index)
	plain, err := plainTable(ctx, e, app)
	if err != nil {
		return err
	}
	defer e.DB.Pool.Exec(ctx, `DROP TABLE IF EXISTS bench_plain`)
	base, err := timeQuery(ctx, e, `SELECT id, data FROM bench_plain WHERE amount > 90000 ORDER BY amount DESC, id DESC LIMIT 51`)
	if err != nil {
		return fmt.Errorf("plain-table baseline: %w", err)
	}
	fmt.Printf("  baseline: the same on a plain table with a typed column (%d rows, no index): %s  ratio %.2f\n", plain, msf(base), ratio(t, base))
	var owner uuid.UUID
	if err := e.DB.Pool.QueryRow(ctx, `INSERT INTO users (email, name) VALUES ('bench-lists-' || gen_random_uuid() || '@example.com', 'Bench') RETURNING id`).Scan(&owner); err != nil {
		return err
	}
	if _, err := e.DB.Pool.Exec(ctx, `INSERT INTO record_views (app_id, entity, owner_id, name, config) VALUES ($1, 'lead', $2, 'big deals', '{"filter":{"amount":{"gt":90000}},"sort":"-amount"}')`, app.ID, owner); err != nil {
		return err
	}
	start := time.Now()
	rep, err := autoindex.New(e.DB.Pool, autoindex.Options{}).Reconcile(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("auto index for the saved view built concurrently in %s: %v\n", time.Since(start).Round(time.Millisecond), rep.Created)
	if t, err = page(); err != nil {
		return err
	}
	fmt.Printf("same page with the auto index: %s\n", msf(t))
	if err := fieldSortDepths(ctx, e, store, app); err != nil {
		return err
	}
	// an equality on the indexed field (amount = (g * 7919) % 100000 hits ~10 of 1M rows)
	q = records.ListQuery{Filter: json.RawMessage(`{"amount":{"eq":4242}}`), Limit: 50}
	if t, err = page(); err != nil {
		return err
	}
	fmt.Printf("first page of amount = 4242 (eq on the indexed field): %s  load %s\n", msf(t), loadAvg())
	if _, err := e.DB.Pool.Exec(ctx, `CREATE INDEX ON bench_plain (amount)`); err != nil {
		return err
	}
	if _, err := e.DB.Pool.Exec(ctx, `ANALYZE bench_plain`); err != nil {
		return err
	}
	if base, err = timeQuery(ctx, e, `SELECT id, data FROM bench_plain WHERE amount = 4242 ORDER BY created_at DESC, id DESC LIMIT 51`); err != nil {
		return fmt.Errorf("plain-table baseline: %w", err)
	}
	fmt.Printf("  baseline: the same on the plain table with an index on the typed column: %s  ratio %.2f\n", msf(base), ratio(t, base))
	plan = nil
	if rows, err := e.DB.Pool.Query(ctx, `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT TEXT) SELECT r.id, r.data FROM records r WHERE r.app_id = '`+app.ID.String()+`' AND r.entity = 'lead'
		AND r.deleted_at IS NULL AND tessera_num(r.data->'amount') = 4242 ORDER BY r.created_at DESC, r.id DESC LIMIT 51`); err == nil {
		plan, _ = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	fmt.Printf("  plan (default order):\n    %s\n", strings.Join(plan, "\n    "))
	return nil
}

// baselinePages times the previous cursor form and OFFSET paging at the same position.
func baselinePages(ctx context.Context, e *env, app *defs.App, depth int) (string, string) {
	pool := e.DB.Pool
	// the position of the cursor: the row at depth-1 in the old order (created_at DESC, id ASC)
	var at time.Time
	var id uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT created_at, id FROM records WHERE app_id = $1 AND entity = 'lead' AND deleted_at IS NULL
		ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1`, app.ID, max(depth-1, 0)).Scan(&at, &id); err != nil {
		return "-", "-"
	}
	if _, err := pool.Exec(ctx, `CREATE INDEX IF NOT EXISTS bench_old_list_idx ON records (app_id, entity, created_at DESC, id) WHERE deleted_at IS NULL`); err != nil {
		return "-", "-"
	}
	defer pool.Exec(ctx, `DROP INDEX IF EXISTS bench_old_list_idx`)
	timeIt := func(q string, a ...any) string {
		t, err := timeQuery(ctx, e, q, a...)
		if err != nil {
			return "error"
		}
		return msf(t)
	}
	old := timeIt(`SELECT id, data FROM records r WHERE r.app_id = $1 AND r.entity = 'lead' AND r.deleted_at IS NULL
		AND ((r.created_at < $2) OR (r.created_at = $2 AND r.id > $3)) ORDER BY r.created_at DESC, r.id ASC LIMIT 51`, app.ID, at, id)
	off := timeIt(`SELECT id, data FROM records r WHERE r.app_id = $1 AND r.entity = 'lead' AND r.deleted_at IS NULL
		ORDER BY r.created_at DESC, r.id DESC OFFSET $2 LIMIT 51`, app.ID, depth)
	return old, off
}

// plainTable copies the bench entity's records into bench_plain (id, created_at, a typed
// amount column, data), the baseline of the filter rows; it answers the row count.
func plainTable(ctx context.Context, e *env, app *defs.App) (int64, error) {
	pool := e.DB.Pool
	if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS bench_plain`); err != nil {
		return 0, err
	}
	tag, err := pool.Exec(ctx, `CREATE TABLE bench_plain AS SELECT id, created_at, tessera_num(data->'amount') AS amount, data
		FROM records WHERE app_id = $1 AND entity = 'lead' AND deleted_at IS NULL`, app.ID)
	if err != nil {
		return 0, fmt.Errorf("plain baseline table: %w", err)
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE bench_plain`); err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// timeQuery is the median time of e.Iters runs of a query, its rows read through.
func timeQuery(ctx context.Context, e *env, q string, args ...any) (time.Duration, error) {
	var times []time.Duration
	for i := 0; i < e.Iters; i++ {
		start := time.Now()
		rows, err := e.DB.Pool.Query(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		for rows.Next() {
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
		times = append(times, time.Since(start))
	}
	return medianDur(times), nil
}

// ratio is a/b (0 when b is 0).
func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// fieldSortDepths walks the saved view's list (amount > 90000, sort -amount, served by the
// automatic index ((amount), id)) and times a 50-row page at growing depths: the keyset cursor
// is one row comparison on that index, so a deep page costs what the first one does. The
// baseline is the previous cursor form for a field sort (an OR of comparisons) at the same
// position.
func fieldSortDepths(ctx context.Context, e *env, store *records.Store, app *defs.App) error {
	q := records.ListQuery{Filter: json.RawMessage(`{"amount":{"gt":90000}}`), Sort: "-amount", Limit: records.MaxLimit}
	fmt.Printf("%-12s %12s %14s %7s   (the saved view's order: amount > 90000, sort -amount)\n", "depth", "keyset page", "old OR cursor", "ratio")
	depths := []int{0, 1_000, 10_000, 50_000, 90_000}
	seen, next := 0, 0
	var last *records.Record
	for next < len(depths) {
		if seen < depths[next] {
			p, err := store.List(ctx, app, "lead", q, access.All())
			if err != nil {
				return err
			}
			if p.NextCursor == nil {
				break
			}
			seen += len(p.Items)
			last = p.Items[len(p.Items)-1]
			q.Cursor = *p.NextCursor
			continue
		}
		page := q
		page.Limit = 50
		var times []time.Duration
		for i := 0; i < e.Iters; i++ {
			start := time.Now()
			if _, err := store.List(ctx, app, "lead", page, access.All()); err != nil {
				return err
			}
			times = append(times, time.Since(start))
		}
		t := medianDur(times)
		if last == nil {
			fmt.Printf("%-12d %12s %14s %7s\n", seen, msf(t), "-", "-")
		} else {
			old, err := timeQuery(ctx, e, `SELECT id, data FROM records r WHERE r.app_id = $1 AND r.entity = 'lead' AND r.deleted_at IS NULL
				AND (r.data @? 'strict $."amount" ? (@ > 90000)' AND tessera_num(r.data->'amount') > 90000)
				AND ((tessera_num(r.data->'amount') < $2::numeric) OR (tessera_num(r.data->'amount') = $2::numeric AND r.id < $3))
				ORDER BY tessera_num(r.data->'amount') DESC NULLS FIRST, r.id DESC LIMIT 51`, app.ID, fmt.Sprint(last.Data["amount"]), last.ID)
			if err != nil {
				return fmt.Errorf("old cursor form: %w", err)
			}
			fmt.Printf("%-12d %12s %14s %7.2f\n", seen, msf(t), msf(old), ratio(t, old))
		}
		next++
	}
	return nil
}

func medianDur(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
