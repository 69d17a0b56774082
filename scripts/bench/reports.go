package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/report"
)

func init() {
	register(section{Name: "reports", Order: 60, Run: benchReports})
}

// question is one analytic question asked two ways: through the report engine and as SQL
// written by hand for exactly that question.
type question struct {
	name   string
	report string       // report definition (JSON)
	grant  access.Grant // caller
	sql    string       // hand-written SQL; $1 = app id, $2 = stage order
	args   func(app uuid.UUID) []any
}

func benchReports(ctx context.Context, e *env) error {
	pool := e.DB.Pool
	loader := defs.New(pool)
	app, err := loader.App(ctx, "bench")
	if err != nil {
		fmt.Printf("generating %d records with history (set -records to change)\n", e.Records)
		if _, err := seedReports(ctx, pool, e.Records); err != nil {
			return err
		}
		if app, err = loader.App(ctx, "bench"); err != nil {
			return err
		}
	}
	ent, _, err := loader.Entity(ctx, app.ID, "lead")
	if err != nil {
		return err
	}
	start := time.Now()
	if err := provision(ctx, pool, app, ent); err != nil {
		return err
	}
	fmt.Printf("  report indexes            %8s\n", time.Since(start).Round(time.Millisecond))
	var nrec, nev int64
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM records WHERE app_id = $1`, app.ID).Scan(&nrec)
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM record_events WHERE app_id = $1`, app.ID).Scan(&nev)
	fmt.Printf("data: %d records, %d events\n", nrec, nev)
	var rep uuid.UUID
	_ = pool.QueryRow(ctx, `SELECT owner_id FROM records WHERE app_id = $1 LIMIT 1`, app.ID).Scan(&rep)

	eng := report.New(pool, loader)
	appArgs := func(a uuid.UUID) []any { return []any{a, benchStages} }
	questions := []question{
		{
			name:   "funnel 6 stages x channel x team",
			report: `{"slug":"f","entity":"lead","kind":"funnel","dimensions":[{"field":"channel"},{"field":"team_id"}]}`,
			grant:  access.All(),
			sql: `WITH reach AS (
  SELECT record_id, max(greatest(array_position($2::text[], changes->'stage'->>0), array_position($2::text[], changes->'stage'->>1))) AS idx
  FROM record_events WHERE app_id = $1 AND entity = 'lead' AND kind = 'stage' GROUP BY record_id),
per AS (
  SELECT r.data->>'channel' AS channel, r.team_id, greatest(coalesce(reach.idx, 0), array_position($2::text[], r.data->>'stage')) AS idx, count(*) AS n
  FROM records r LEFT JOIN reach ON reach.record_id = r.id
  WHERE r.app_id = $1 AND r.entity = 'lead' AND r.deleted_at IS NULL GROUP BY 1, 2, 3)
SELECT per.channel, t.name, per.idx, sum(per.n) OVER (PARTITION BY per.channel, per.team_id ORDER BY per.idx DESC)
FROM per LEFT JOIN teams t ON t.id = per.team_id`,
			args: appArgs,
		},
		{
			name:   "dwell heatmap stage x 14 offices",
			report: `{"slug":"d","entity":"lead","kind":"dwell","dimensions":[{"field":"office"}]}`,
			grant:  access.All(),
			sql: `WITH ev AS (
  SELECT record_id, at, changes->'stage'->>0 AS old, changes->'stage'->>1 AS new,
         lead(at) OVER w AS next_at, row_number() OVER w AS n
  FROM record_events WHERE app_id = $1 AND entity = 'lead' AND kind = 'stage'
  WINDOW w AS (PARTITION BY record_id ORDER BY at, id)),
stays AS (
  SELECT ev.record_id, st.stage, st.entered, st.left_at
  FROM ev CROSS JOIN LATERAL (VALUES (ev.new, ev.at, ev.next_at), (CASE WHEN ev.n = 1 THEN ev.old END, NULL::timestamptz, ev.at)) st(stage, entered, left_at)
  WHERE st.left_at IS NOT NULL)
SELECT r.data->>'office', s.stage, count(*), avg(h.v), percentile_cont(0.5) WITHIN GROUP (ORDER BY h.v), max(h.v)
FROM stays s JOIN records r ON r.id = s.record_id
CROSS JOIN LATERAL (SELECT extract(epoch FROM s.left_at - coalesce(s.entered, r.created_at))::float8 / 3600 AS v) h
WHERE r.app_id = $1 AND r.entity = 'lead' AND r.deleted_at IS NULL AND s.stage = ANY($2::text[])
GROUP BY 1, 2`,
			args: appArgs,
		},
		{
			name:   "week-over-week pivot (week x channel)",
			report: `{"slug":"w","entity":"lead","kind":"compare","dimensions":[{"field":"created_at","bucket":"week"},{"field":"channel"}],"measures":[{"agg":"count"}],"compare":{"period":"week"}}`,
			grant:  access.All(),
			sql: `WITH w AS (
  SELECT date_trunc('week', created_at AT TIME ZONE 'Asia/Shanghai') AS wk, data->>'channel' AS channel, count(*) AS n
  FROM records WHERE app_id = $1 AND entity = 'lead' AND deleted_at IS NULL GROUP BY 1, 2)
SELECT c.wk, c.channel, c.n, p.n, c.n - p.n, round(100.0 * (c.n - p.n) / nullif(p.n, 0), 2)
FROM w c LEFT JOIN w p ON p.wk = c.wk - interval '7 days' AND p.channel = c.channel
ORDER BY 1, 2`,
			args: func(a uuid.UUID) []any { return []any{a} },
		},
		{
			name:   "funnel, one rep's own records",
			report: `{"slug":"f","entity":"lead","kind":"funnel","dimensions":[{"field":"channel"}]}`,
			grant:  access.Grant{Scope: access.ScopeOwn, Owner: rep},
			sql: `WITH mine AS (SELECT id, data->>'channel' AS channel, data->>'stage' AS stage FROM records WHERE app_id = $1 AND entity = 'lead' AND deleted_at IS NULL AND owner_id = $3),
reach AS (
  SELECT record_id, max(greatest(array_position($2::text[], changes->'stage'->>0), array_position($2::text[], changes->'stage'->>1))) AS idx
  FROM record_events WHERE app_id = $1 AND entity = 'lead' AND kind = 'stage' AND record_id IN (SELECT id FROM mine) GROUP BY record_id),
per AS (
  SELECT m.channel, greatest(coalesce(reach.idx, 0), array_position($2::text[], m.stage)) AS idx, count(*) AS n
  FROM mine m LEFT JOIN reach ON reach.record_id = m.id GROUP BY 1, 2)
SELECT channel, idx, sum(n) OVER (PARTITION BY channel ORDER BY idx DESC) FROM per`,
			args: func(a uuid.UUID) []any { return []any{a, benchStages, rep} },
		},
	}
	fmt.Printf("\n%-40s %10s %10s %10s %10s %7s\n", "question", "engine p50", "p99", "hand p50", "p99", "ratio")
	for _, q := range questions {
		var rep spec.Report
		if err := spec.DecodeInto([]byte(q.report), &rep); err != nil {
			return fmt.Errorf("%s: %w", q.name, err)
		}
		runEngine := func() error {
			_, err := eng.Run(ctx, app, &rep, report.Params{}, q.grant)
			return err
		}
		runHand := func() error { return handSQL(ctx, pool, q.sql, q.args(app.ID)) }
		// Warm up both, then alternate so machine load hits both sides alike.
		if err := runEngine(); err != nil {
			return fmt.Errorf("%s (engine): %w", q.name, err)
		}
		if err := runHand(); err != nil {
			return fmt.Errorf("%s (hand-written): %w", q.name, err)
		}
		var te, th []time.Duration
		for i := 0; i < e.Iters; i++ {
			t0 := time.Now()
			if err := runEngine(); err != nil {
				return err
			}
			te = append(te, time.Since(t0))
			t0 = time.Now()
			if err := runHand(); err != nil {
				return err
			}
			th = append(th, time.Since(t0))
		}
		pe, ph := pct(te, 50), pct(th, 50)
		fmt.Printf("%-40s %10s %10s %10s %10s %6.2fx\n", q.name, ms(pe), ms(pct(te, 99)), ms(ph), ms(pct(th, 99)), float64(pe)/float64(ph))
	}
	fmt.Println("(both sides: read-only transaction, jit = off, work_mem = 64MB, custom plans; iterations alternate)")
	return nil
}

// provision creates the report indexes the entity asks for, as publishing does.
func provision(ctx context.Context, pool *pgxpool.Pool, app *defs.App, ent *spec.Entity) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if err := report.ProvisionReportIndexes(ctx, tx, app, ent); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	_, err = pool.Exec(ctx, `ANALYZE record_events`)
	return err
}

// handSQL runs a hand-written query with the engine's session settings and reads every row.
func handSQL(ctx context.Context, pool *pgxpool.Pool, sql string, args []any) error {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'; SET LOCAL plan_cache_mode = force_custom_plan"); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if _, err := rows.Values(); err != nil {
			return err
		}
	}
	return rows.Err()
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }
