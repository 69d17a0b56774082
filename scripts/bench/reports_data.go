package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// benchStages is the pipeline of the generated entity.
var benchStages = []string{"new", "contacted", "demo", "proposal", "negotiation", "won"}

// benchOffices are the 14 offices of the dwell heatmap.
var benchOffices = []string{"北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安", "重庆", "天津", "苏州", "长沙", "厦门"}

// benchChannels are the lead channels.
var benchChannels = []string{"web", "sem", "wechat", "weibo", "linkedin", "expo", "referral", "import"}

// benchEntity is the published entity definition of the generated data.
func benchEntity() map[string]any {
	opts := func(v []string) []any {
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	}
	return map[string]any{
		"slug":  "lead",
		"label": map[string]string{"en": "Lead", "zh-CN": "线索"},
		"fields": []any{
			map[string]any{"key": "name", "type": "text", "required": true},
			map[string]any{"key": "amount", "type": "money"},
			map[string]any{"key": "stage", "type": "select", "options": opts(benchStages)},
			map[string]any{"key": "channel", "type": "select", "options": opts(benchChannels)},
			map[string]any{"key": "office", "type": "select", "options": opts(benchOffices)},
		},
		"stages": map[string]any{"field": "stage", "order": benchStages, "terminal": []string{"won"},
			"probability": map[string]float64{"new": 0.05, "contacted": 0.1, "demo": 0.25, "proposal": 0.4, "negotiation": 0.7, "won": 1}},
		"title_field":  "name",
		"report_index": []string{"stage", "channel", "office"},
	}
}

// seedReports creates app "bench" with entity "lead" and n records with their history:
// a created event each, stage events up to a random stage (10% skip one stage), and an
// "updated" event for 30% of them. It answers the app id.
func seedReports(ctx context.Context, pool *pgxpool.Pool, n int) (uuid.UUID, error) {
	var appID uuid.UUID
	if err := pool.QueryRow(ctx, `INSERT INTO apps (slug, name, settings) VALUES ('bench', 'Bench', '{"timezone":"Asia/Shanghai"}') RETURNING id`).Scan(&appID); err != nil {
		return appID, fmt.Errorf("creating app: %w", err)
	}
	body, _ := json.Marshal(benchEntity())
	if _, err := pool.Exec(ctx, `WITH d AS (INSERT INTO definitions (app_id, kind, slug, draft, published_version) VALUES ($1, 'entities', 'lead', $2, 1) RETURNING id)
		INSERT INTO definition_versions (definition_id, version, body) SELECT id, 1, $2 FROM d`, appID, body); err != nil {
		return appID, fmt.Errorf("publishing entity: %w", err)
	}
	steps := []struct{ what, sql string }{
		{"teams", `INSERT INTO teams (name) SELECT '销售' || t || '组' FROM generate_series(0, 9) t`},
		{"users", `INSERT INTO users (email, name, team_id)
			SELECT 'rep' || u || '@bench.local', '销售' || u, (SELECT id FROM teams ORDER BY name OFFSET u % 10 LIMIT 1)
			FROM generate_series(0, 99) u`},
		{"generator", `CREATE UNLOGGED TABLE bench_g AS
			SELECT i, gen_random_uuid() AS id,
			  CASE WHEN u < 0.40 THEN 1 WHEN u < 0.65 THEN 2 WHEN u < 0.80 THEN 3 WHEN u < 0.90 THEN 4 WHEN u < 0.96 THEN 5 ELSE 6 END AS reached,
			  (i % 10 = 3) AS skip,
			  now() - interval '63 days' - random() * interval '337 days' AS created_at,
			  i % 8 AS ch, (i * 7 + i / 14) % 14 AS off, i % 100 AS rep,
			  ((10 + (i * 31) % 97) * (1 + ((i * 7 + i / 14) % 14) * 0.1)) * interval '1 hour' AS unit
			FROM (SELECT i, random() AS u FROM generate_series(1, $1::int) i) s`},
		{"records", `INSERT INTO records (id, app_id, entity, data, owner_id, team_id, created_at, updated_at)
			SELECT g.id, $1, 'lead',
			  jsonb_build_object('name', '客户' || g.i, 'amount', (g.i % 1000) * 100 + 500, 'stage', ($2::text[])[g.reached],
			    'channel', ($3::text[])[g.ch + 1], 'office', ($4::text[])[g.off + 1]),
			  u.id, u.team_id, g.created_at, g.created_at + g.unit * (ARRAY[0, 1, 2.6, 3.4, 5.0, 6.1])[g.reached]
			FROM bench_g g JOIN (SELECT id, team_id, row_number() OVER (ORDER BY email) - 1 AS n FROM users WHERE email LIKE 'rep%') u ON u.n = g.rep`},
		{"created events", `INSERT INTO record_events (record_id, app_id, entity, at, actor, kind, changes)
			SELECT r.id, r.app_id, 'lead', r.created_at, r.owner_id, 'created',
			  jsonb_build_object('name', jsonb_build_array(NULL, r.data->'name'), 'stage', jsonb_build_array(NULL, 'new'), 'amount', jsonb_build_array(NULL, r.data->'amount'))
			FROM records r WHERE r.app_id = $1`},
		{"stage events", `INSERT INTO record_events (record_id, app_id, entity, at, actor, kind, changes)
			SELECT g.id, $1, 'lead', g.created_at + g.unit * (ARRAY[0, 1, 2.6, 3.4, 5.0, 6.1])[k], NULL, 'stage',
			  jsonb_build_object('stage', jsonb_build_array(($2::text[])[CASE WHEN g.skip AND k = 4 THEN 2 ELSE k - 1 END], ($2::text[])[k]))
			FROM bench_g g CROSS JOIN LATERAL generate_series(2, g.reached) k
			WHERE NOT (g.skip AND k = 3 AND g.reached >= 4)`},
		{"updated events", `INSERT INTO record_events (record_id, app_id, entity, at, actor, kind, changes)
			SELECT g.id, $1, 'lead', g.created_at + interval '2 hours', NULL, 'updated', jsonb_build_object('amount', jsonb_build_array(0, (g.i % 1000) * 100 + 500))
			FROM bench_g g WHERE g.i % 10 < 3`},
		{"cleanup", `DROP TABLE bench_g`},
	}
	for _, st := range steps {
		start := time.Now()
		var args []any
		switch st.what {
		case "generator":
			args = []any{n}
		case "records":
			args = []any{appID, benchStages, benchChannels, benchOffices}
		case "created events", "updated events":
			args = []any{appID}
		case "stage events":
			args = []any{appID, benchStages}
		}
		if _, err := pool.Exec(ctx, st.sql, args...); err != nil {
			return appID, fmt.Errorf("generating %s: %w", st.what, err)
		}
		fmt.Printf("  generated %-15s %8s\n", st.what, time.Since(start).Round(time.Millisecond))
	}
	start := time.Now()
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE records`); err != nil {
		return appID, fmt.Errorf("vacuum records: %w", err)
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE record_events`); err != nil {
		return appID, fmt.Errorf("vacuum events: %w", err)
	}
	fmt.Printf("  vacuum analyze          %8s\n", time.Since(start).Round(time.Millisecond))
	return appID, nil
}
