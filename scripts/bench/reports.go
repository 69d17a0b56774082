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
	"github.com/tessera/tessera/runtime/records"
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
	if err := provision(ctx, pool, app, ent); err != nil {
		return err
	}
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
			sql: `WITH per AS (
  SELECT r.data->>'channel' AS channel, r.team_id,
    greatest(coalesce((SELECT max(array_position($2::text[], p)) FROM unnest(r.stage_path) p), 0), coalesce(array_position($2::text[], r.data->>'stage'), 0)) AS idx, count(*) AS n
  FROM records r WHERE r.app_id = $1 AND r.entity = 'lead' AND r.deleted_at IS NULL GROUP BY 1, 2, 3)
SELECT per.channel, t.name, per.idx, sum(per.n) OVER (PARTITION BY per.channel, per.team_id ORDER BY per.idx DESC)
FROM per LEFT JOIN teams t ON t.id = per.team_id`,
			args: appArgs,
		},
		{
			name:   "dwell heatmap stage x 14 offices",
			report: `{"slug":"d","entity":"lead","kind":"dwell","dimensions":[{"field":"office"}]}`,
			grant:  access.All(),
			// the same question over the stage stays (migrations/00061_stage_stays.sql)
			sql: `SELECT value, stage, count(*), avg(hours), percentile_cont(0.5) WITHIN GROUP (ORDER BY hours), max(hours)
FROM stage_stays WHERE set_id = (SELECT id FROM stage_stay_sets WHERE app_id = $1 AND entity = 'lead' AND field = 'office')
  AND stage = ANY($2::text[])
GROUP BY 1, 2`,
			args: appArgs,
		},
		{
			name:   "dwell heatmap (hand SQL over paths)",
			report: `{"slug":"d","entity":"lead","kind":"dwell","dimensions":[{"field":"office"}]}`,
			grant:  access.All(),
			sql: `WITH s AS (
  SELECT r.data->>'office' AS office, unnest(r.stage_path) AS stage, unnest(r.stage_in) AS entered, unnest(r.stage_in[2:]) AS left_at
  FROM records r WHERE r.app_id = $1 AND r.entity = 'lead' AND r.deleted_at IS NULL)
SELECT office, stage, count(*), avg(h), percentile_cont(0.5) WITHIN GROUP (ORDER BY h), max(h)
FROM s CROSS JOIN LATERAL (SELECT extract(epoch FROM left_at - entered)::float8 / 3600 AS h) x
WHERE left_at IS NOT NULL AND stage = ANY($2::text[])
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
			name:   "penetration demo -> proposal in 72h x channel",
			report: `{"slug":"p","entity":"lead","kind":"penetration","dimensions":[{"field":"channel"}],"params":{"from_stage":"demo","to_stage":"proposal","hours":72}}`,
			grant:  access.All(),
			sql: `WITH y AS (
  SELECT r.data->>'channel' AS channel, r.stage_in[array_position(r.stage_path, 'demo')] AS a_at, r.stage_path, r.stage_in
  FROM records r WHERE r.app_id = $1 AND r.entity = 'lead' AND r.deleted_at IS NULL)
SELECT channel, count(*) FILTER (WHERE a_at IS NOT NULL),
  count(*) FILTER (WHERE a_at IS NOT NULL AND EXISTS (SELECT 1 FROM unnest(stage_path, stage_in) u(st, t) WHERE st = 'proposal' AND t BETWEEN a_at AND a_at + interval '72 hours'))
FROM y GROUP BY 1`,
			args: func(a uuid.UUID) []any { return []any{a} },
		},
		{
			name:   "stagnation: 7 days in stage, top 100",
			report: `{"slug":"s","entity":"lead","kind":"stagnation","params":{"days":7},"limit":100}`,
			grant:  access.All(),
			sql: `SELECT r.id, r.data->>'name', r.data->>'stage', u.name, r.stage_in[cardinality(r.stage_in)] AS since
FROM records r LEFT JOIN users u ON u.id = r.owner_id
WHERE r.app_id = $1 AND r.entity = 'lead' AND r.deleted_at IS NULL AND r.data->>'stage' = ANY($2::text[])
  AND r.stage_in[cardinality(r.stage_in)] < now() - interval '7 days'
ORDER BY since LIMIT 100`,
			args: func(a uuid.UUID) []any { return []any{a, benchStages[:5]} },
		},
		{
			name:   "dwell heatmap, one rep's own records",
			report: `{"slug":"d","entity":"lead","kind":"dwell","dimensions":[{"field":"office"}]}`,
			grant:  access.Grant{Scope: access.ScopeOwn, Owner: rep},
			sql: `WITH s AS (
  SELECT r.data->>'office' AS office, unnest(r.stage_path) AS stage, unnest(r.stage_in) AS entered, unnest(r.stage_in[2:]) AS left_at
  FROM records r WHERE r.app_id = $1 AND r.entity = 'lead' AND r.deleted_at IS NULL AND r.owner_id = $3)
SELECT office, stage, count(*), avg(h), percentile_cont(0.5) WITHIN GROUP (ORDER BY h), max(h)
FROM s CROSS JOIN LATERAL (SELECT extract(epoch FROM left_at - entered)::float8 / 3600 AS h) x
WHERE left_at IS NOT NULL AND stage = ANY($2::text[])
GROUP BY 1, 2`,
			args: func(a uuid.UUID) []any { return []any{a, benchStages, rep} },
		},
		{
			name:   "funnel, one rep's own records",
			report: `{"slug":"f","entity":"lead","kind":"funnel","dimensions":[{"field":"channel"}]}`,
			grant:  access.Grant{Scope: access.ScopeOwn, Owner: rep},
			sql: `WITH per AS (
  SELECT r.data->>'channel' AS channel,
    greatest(coalesce((SELECT max(array_position($2::text[], p)) FROM unnest(r.stage_path) p), 0), coalesce(array_position($2::text[], r.data->>'stage'), 0)) AS idx, count(*) AS n
  FROM records r WHERE r.app_id = $1 AND r.entity = 'lead' AND r.deleted_at IS NULL AND r.owner_id = $3 GROUP BY 1, 2)
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
	return benchStageWrites(ctx, pool, app.ID)
}

// benchStageWrites measures what keeping the stage stays costs a stage change: the records
// service's stage-change statement on 2,000 records, with the stays trigger at work and with
// it skipped, each inside a transaction that is rolled back (the data stays as it was).
func benchStageWrites(ctx context.Context, pool *pgxpool.Pool, app uuid.UUID) error {
	ids := make([]uuid.UUID, 0, 2000)
	rows, err := pool.Query(ctx, `SELECT id FROM records WHERE app_id = $1 AND entity = 'lead' AND deleted_at IS NULL
		AND cardinality(stage_path) > 1 ORDER BY id LIMIT 2000`, app)
	if err != nil {
		return err
	}
	if ids, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
		return err
	}
	run := func(skip bool) ([]time.Duration, error) {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return nil, err
		}
		defer tx.Rollback(ctx) //nolint:errcheck
		if skip {
			if _, err := tx.Exec(ctx, `SELECT set_config('tessera.skip_stays', 'on', true)`); err != nil {
				return nil, err
			}
		}
		var lat []time.Duration
		for _, id := range ids {
			t0 := time.Now()
			if _, err := tx.Exec(ctx, `UPDATE records SET data = jsonb_set(data, '{stage}', '"lost"'), version = version + 1, updated_at = now(),
				stage_path = array_append(stage_path, 'lost'), stage_in = array_append(stage_in, now()) WHERE id = $1`, id); err != nil {
				return nil, err
			}
			lat = append(lat, time.Since(t0))
		}
		return lat, nil
	}
	without, err := run(true)
	if err != nil {
		return fmt.Errorf("stage writes without stays: %w", err)
	}
	with, err := run(false)
	if err != nil {
		return fmt.Errorf("stage writes with stays: %w", err)
	}
	fmt.Printf("\nstage change (UPDATE of one record, %d records): p50 %s without the stays trigger, %s with it (p99 %s / %s)\n",
		len(ids), msf(pct(without, 50)), msf(pct(with, 50)), msf(pct(without, 99)), msf(pct(with, 99)))
	return nil
}

// provision does what publishing the entity does (field and report indexes, grouping
// statistics, stage paths built from the history when missing) and prints what it cost.
func provision(ctx context.Context, pool *pgxpool.Pool, app *defs.App, ent *spec.Entity) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	start := time.Now()
	if err := records.ProvisionIndexes(ctx, tx, app, ent); err != nil {
		return err
	}
	fmt.Printf("  field indexes             %8s\n", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if err := report.ProvisionReportIndexes(ctx, tx, app, ent); err != nil {
		return err
	}
	fmt.Printf("  report indexes, stats     %8s\n", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	n, err := records.ProvisionStagePaths(ctx, tx, app, ent)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Printf("  stage paths (%d records) %8s\n", n, time.Since(start).Round(time.Millisecond))
	}
	start = time.Now()
	ns, err := report.ProvisionStays(ctx, tx, app, ent)
	if err != nil {
		return err
	}
	if ns > 0 {
		fmt.Printf("  stage stays (%d rows)  %8s\n", ns, time.Since(start).Round(time.Millisecond))
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	if ns > 0 {
		// What autovacuum does soon after a bulk insert: the visibility map lets the dwell
		// query read the stays index without visiting the table.
		if _, err := pool.Exec(ctx, `VACUUM ANALYZE stage_stays, stage_stay_sets`); err != nil {
			return err
		}
	}
	if n > 0 {
		// The rebuild rewrote every row; compact the table so the figures show records written
		// with their paths from the start (as the records service writes them).
		start = time.Now()
		if _, err := pool.Exec(ctx, `VACUUM FULL ANALYZE records`); err != nil {
			return err
		}
		fmt.Printf("  vacuum full records       %8s\n", time.Since(start).Round(time.Millisecond))
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
