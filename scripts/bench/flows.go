package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/queue"
	"github.com/tessera/tessera/runtime/script"
	"github.com/tessera/tessera/runtime/trigger"
	"github.com/tessera/tessera/server/api"
	"github.com/tessera/tessera/server/config"
)

func init() {
	// the JavaScript sandbox re-executes this binary as its worker
	if len(os.Args) > 1 && os.Args[1] == script.WorkerSubcommand {
		os.Exit(script.WorkerMain(os.Args[2:]))
	}
	register(section{Name: "flows", Order: 40, Run: benchFlows})
}

func benchFlows(ctx context.Context, e *env) error {
	pool := e.DB.Pool
	var app uuid.UUID
	if err := pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('flowbench', 'Flow bench') ON CONFLICT (slug) DO UPDATE SET name = 'Flow bench' RETURNING id`).Scan(&app); err != nil {
		return err
	}
	if err := publishDef(ctx, pool, app, "entities", "bench_lead", `{"slug":"bench_lead","fields":[{"key":"name","type":"text","required":true},{"key":"n","type":"number"}]}`); err != nil {
		return err
	}
	if err := webhookFigures(ctx, e, app); err != nil {
		return err
	}
	if err := stepOverhead(ctx, pool, app); err != nil {
		return err
	}
	return cronLateness(ctx, pool)
}

func publishDef(ctx context.Context, pool *pgxpool.Pool, app uuid.UUID, kind, slug, body string) error {
	var version int
	if err := pool.QueryRow(ctx, `INSERT INTO definitions (app_id, kind, slug, draft, published_version) VALUES ($1, $2, $3, $4, 1)
		ON CONFLICT (app_id, kind, slug) DO UPDATE SET draft = $4, published_version = definitions.published_version + 1
		RETURNING published_version`, app, kind, slug, body).Scan(&version); err != nil {
		return fmt.Errorf("publishing %s: %w", slug, err)
	}
	_, err := pool.Exec(ctx, `INSERT INTO definition_versions (definition_id, version, body)
		SELECT id, $4, $5 FROM definitions WHERE app_id = $1 AND kind = $2 AND slug = $3`, app, kind, slug, version, body)
	return err
}

func durs(ctx context.Context, pool *pgxpool.Pool, q string, args ...any) ([]time.Duration, error) {
	rows, err := pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Duration
	for rows.Next() {
		var us float64
		if err := rows.Scan(&us); err != nil {
			return nil, err
		}
		out = append(out, time.Duration(us*1000))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, rows.Err()
}

func msf(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// fire posts n bodies to url with concurrency c and returns the request latencies.
func fire(url string, n, c int, body func(i int) []byte) ([]time.Duration, time.Duration, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}, Timeout: 60 * time.Second}
	lat := make([]time.Duration, n)
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan int)
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body(i)))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode >= 300 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	total := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat, total, firstErr
}

func serveOn(app *fiber.App) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() { _ = app.Listener(ln) }()
	// fasthttp's Shutdown waits for keep-alive connections it has not seen go idle, which the
	// load generator's client may hold open: bounded, or the bench could hang here.
	return "http://" + ln.Addr().String(), func() { _ = app.ShutdownWithTimeout(5 * time.Second) }, nil
}

// webhookFigures: webhook -> JavaScript action -> record insert, end to end, next to a raw Fiber
// handler doing one INSERT.
func webhookFigures(ctx context.Context, e *env, app uuid.UUID) error {
	pool := e.DB.Pool
	const n, conc = 1000, 16
	// baseline: raw Fiber + single INSERT
	raw := fiber.New(fiber.Config{DisableStartupMessage: true})
	raw.Post("/raw", func(c *fiber.Ctx) error {
		var v map[string]any
		if err := json.Unmarshal(c.Body(), &v); err != nil {
			return c.SendStatus(400)
		}
		data, _ := json.Marshal(map[string]any{"name": v["name"], "n": v["n"]})
		if _, err := pool.Exec(c.UserContext(), `INSERT INTO records (app_id, entity, data) VALUES ($1, 'bench_raw', $2)`, app, data); err != nil {
			return err
		}
		return c.SendStatus(201)
	})
	url, stop, err := serveOn(raw)
	if err != nil {
		return err
	}
	body := func(i int) []byte { return []byte(fmt.Sprintf(`{"name":"lead %d","n":%d}`, i, i)) }
	lat, total, err := fire(url+"/raw", n, conc, body)
	stop()
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	fmt.Printf("  raw Fiber + INSERT          %6.0f req/s   p50 %s   p99 %s   (%d requests, %d concurrent)\n",
		float64(n)/total.Seconds(), msf(pct(lat, 50)), msf(pct(lat, 99)), n, conc)

	// Tessera: async webhook, a script node, a record.create node
	if err := publishDef(ctx, pool, app, "flows", "bench-hook", `{"slug":"bench-hook","trigger":{"type":"webhook","key":"bench-in"},"nodes":[
	  {"id":"js","type":"script","params":{"code":"return {name: input.trigger.body.name.toUpperCase(), n: input.trigger.body.n};"}},
	  {"id":"save","type":"record.create","params":{"entity":"bench_lead","values":"{{ steps.js }}"}}],
	  "edges":[{"from":"js","to":"save"}]}`); err != nil {
		return err
	}
	cfg := config.FromEnv()
	cfg.DatabaseURL = e.DB.DSN
	cfg.DataDir, _ = os.MkdirTemp("", "tessera-bench-data-")
	defer os.RemoveAll(cfg.DataDir)
	cfg.Role = "all"
	// throughput, not the limits: per-key/per-app rate limits and back-pressure off (as in runs.go)
	cfg.WebhookRate, cfg.AppRate, cfg.RunBacklog = 0, 0, 0
	srv, err := api.New(cfg, e.DB, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer srv.Shutdown(10 * time.Second)
	url, stop, err = serveOn(srv.App())
	if err != nil {
		return err
	}
	defer stop()
	// warm up the sandbox workers and caches
	if _, _, err := fire(url+"/hooks/bench-in", 20, 4, func(i int) []byte { return []byte(`{"name":"warm","n":0}`) }); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var open int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM flow_runs WHERE flow = 'bench-hook' AND status NOT IN ('succeeded', 'failed')`).Scan(&open)
		if open == 0 {
			break
		}
	}
	var since time.Time
	_ = pool.QueryRow(ctx, `SELECT now()`).Scan(&since)
	lat, _, err = fire(url+"/hooks/bench-in", n, conc, body)
	if err != nil {
		return fmt.Errorf("webhooks: %w", err)
	}
	fmt.Printf("  webhook accept (202)        p50 %s   p99 %s\n", msf(pct(lat, 50)), msf(pct(lat, 99)))
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var open int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM flow_runs WHERE flow = 'bench-hook' AND created_at >= $1 AND status NOT IN ('succeeded', 'failed')`, since).Scan(&open)
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d runs still open after 5 minutes", open)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var failed int
	var span float64
	_ = pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'failed'), extract(epoch FROM max(finished_at) - min(created_at))
		FROM flow_runs WHERE flow = 'bench-hook' AND created_at >= $1`, since).Scan(&failed, &span)
	e2e, err := durs(ctx, pool, `SELECT extract(epoch FROM finished_at - created_at) * 1e6 FROM flow_runs WHERE flow = 'bench-hook' AND created_at >= $1`, since)
	if err != nil {
		return err
	}
	var saved int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM records WHERE app_id = $1 AND entity = 'bench_lead' AND created_at >= $2`, app, since).Scan(&saved)
	fmt.Printf("  webhook -> JS -> record     %6.0f runs/s  p50 %s   p99 %s   (async, %d runs offered at once: latency includes the backlog; %d failed, %d records)\n",
		float64(n)/span, msf(pct(e2e, 50)), msf(pct(e2e, 99)), n, failed, saved)
	// closed loop: sync webhooks answer with the flow's output, 4 callers
	if err := publishDef(ctx, pool, app, "flows", "bench-sync", `{"slug":"bench-sync","trigger":{"type":"webhook","key":"bench-sync","mode":"sync"},"nodes":[
	  {"id":"js","type":"script","params":{"code":"return {name: input.trigger.body.name.toUpperCase(), n: input.trigger.body.n};"}},
	  {"id":"save","type":"record.create","params":{"entity":"bench_lead","values":"{{ steps.js }}"}}],
	  "edges":[{"from":"js","to":"save"}]}`); err != nil {
		return err
	}
	const ns, cs = 300, 4
	lat, total, err = fire(url+"/hooks/bench-sync", ns, cs, body)
	if err != nil {
		return fmt.Errorf("sync webhooks: %w", err)
	}
	fmt.Printf("  sync webhook -> JS -> record %5.0f runs/s  p50 %s   p99 %s   (%d requests, %d concurrent, answer = flow output)\n",
		float64(ns)/total.Seconds(), msf(pct(lat, 50)), msf(pct(lat, 99)), ns, cs)
	return nil
}

// stepOverhead compares a 40-step sequential flow with a 1-step flow.
func stepOverhead(ctx context.Context, pool *pgxpool.Pool, app uuid.UUID) error {
	mk := func(slug string, steps int) string {
		var nodes, edges []any
		for i := range steps {
			nodes = append(nodes, map[string]any{"id": fmt.Sprintf("s%d", i), "type": "set", "params": map[string]any{"values": map[string]any{"i": i, "prev": fmt.Sprintf("{{ %d }}", i)}}})
			if i > 0 {
				edges = append(edges, map[string]any{"from": fmt.Sprintf("s%d", i-1), "to": fmt.Sprintf("s%d", i)})
			}
		}
		b, _ := json.Marshal(map[string]any{"slug": slug, "trigger": map[string]any{"type": "manual"}, "nodes": nodes, "edges": edges})
		return string(b)
	}
	if err := publishDef(ctx, pool, app, "flows", "steps-1", mk("steps-1", 1)); err != nil {
		return err
	}
	if err := publishDef(ctx, pool, app, "flows", "steps-40", mk("steps-40", 40)); err != nil {
		return err
	}
	eng, stop, err := benchEngine(ctx, pool, 4)
	if err != nil {
		return err
	}
	defer stop()
	const runs = 30
	measure := func(flow string) (time.Duration, error) {
		var ds []time.Duration
		for range runs {
			id, _, err := eng.Start(ctx, nil, engine.StartRequest{AppID: app, Flow: flow, Trigger: map[string]any{}})
			if err != nil {
				return 0, err
			}
			for {
				var status string
				var d *float64
				if err := pool.QueryRow(ctx, `SELECT status, extract(epoch FROM finished_at - started_at) * 1e6 FROM flow_runs WHERE id = $1`, id).Scan(&status, &d); err != nil {
					return 0, err
				}
				if status == "failed" {
					return 0, fmt.Errorf("run of %s failed", flow)
				}
				if status == "succeeded" {
					ds = append(ds, time.Duration(*d*1000))
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return pct(ds, 50), nil
	}
	one, err := measure("steps-1")
	if err != nil {
		return err
	}
	forty, err := measure("steps-40")
	if err != nil {
		return err
	}
	fmt.Printf("  40-step sequential flow     run %s (1-step run %s)   per-step overhead %s   (median of %d runs)\n",
		msf(forty), msf(one), msf((forty-one)/39), runs)
	return nil
}

func benchEngine(ctx context.Context, pool *pgxpool.Pool, workers int) (*engine.Engine, func(), error) {
	var eng *engine.Engine
	q, err := queue.New(pool, queue.Options{Work: true, Workers: workers, PollInterval: 50 * time.Millisecond,
		Handler: func(ctx context.Context, id uuid.UUID) error { return eng.Execute(ctx, id) }})
	if err != nil {
		return nil, nil, err
	}
	eng = engine.New(pool, defs.New(pool), q, engine.Options{Records: &engine.SQLRecords{Pool: pool}})
	if err := q.Start(ctx); err != nil {
		return nil, nil, err
	}
	return eng, func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(c)
	}, nil
}

// cronLateness fires 1,000 schedules on the same second and measures how late runs are created
// and started after their tick.
func cronLateness(ctx context.Context, pool *pgxpool.Pool) error {
	var app uuid.UUID
	if err := pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('cronbench', 'Cron bench') ON CONFLICT (slug) DO UPDATE SET name = 'Cron bench' RETURNING id`).Scan(&app); err != nil {
		return err
	}
	const flows = 1000
	for i := range flows {
		slug := fmt.Sprintf("cron-%04d", i)
		if err := publishDef(ctx, pool, app, "flows", slug, `{"slug":"`+slug+`","trigger":{"type":"cron","schedule":"*/5 * * * * *"},"nodes":[{"id":"s","type":"set","params":{"values":{"tick":"{{ trigger.tick }}"}}}]}`); err != nil {
			return err
		}
	}
	eng, stop, err := benchEngine(ctx, pool, 8)
	if err != nil {
		return err
	}
	defer stop()
	c := trigger.NewCron(eng, nil)
	cctx, cancel := context.WithCancel(ctx)
	go c.Run(cctx)
	time.Sleep(17 * time.Second) // three ticks after the first load
	cancel()
	c.Wait()
	created, err := durs(ctx, pool, `SELECT extract(epoch FROM r.created_at - (r.trigger->>'tick')::timestamptz) * 1e6 FROM flow_runs r WHERE r.app_id = $1`, app)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var open int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM flow_runs WHERE app_id = $1 AND status NOT IN ('succeeded', 'failed')`, app).Scan(&open)
		if open == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	started, err := durs(ctx, pool, `SELECT extract(epoch FROM r.started_at - (r.trigger->>'tick')::timestamptz) * 1e6 FROM flow_runs r WHERE r.app_id = $1 AND started_at IS NOT NULL`, app)
	if err != nil {
		return err
	}
	var ticks int
	_ = pool.QueryRow(ctx, `SELECT count(DISTINCT trigger->>'tick') FROM flow_runs WHERE app_id = $1`, app).Scan(&ticks)
	fmt.Printf("  cron, %d schedules/second  fire lateness p50 %s  p99 %s   start lateness p50 %s  p99 %s   (%d runs over %d ticks)\n",
		flows, msf(pct(created, 50)), msf(pct(created, 99)), msf(pct(started, 50)), msf(pct(started, 99)), len(created), ticks)
	return nil
}
