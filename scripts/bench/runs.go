package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/server/api"
	"github.com/tessera/tessera/server/config"
)

// The "runs" section (#18 points 1–3): sync webhook → JS → record at 1 and 8 connections,
// async runs completed end to end at 8 connections, and record creates at 1/8/32 connections,
// each next to a pgbench-like baseline measured in the same run: one INSERT per transaction
// through the same pool at the same concurrency.

func init() {
	register(section{Name: "runs", Order: 41, Run: benchRuns})
	register(section{Name: "creates", Order: 43, Run: benchCreates, Optional: true})
}

// rate is a throughput with its latencies.
type rate struct {
	perSec   float64
	p50, p99 time.Duration
	errs     int
	// cpu is the machine's CPU per operation (every process: server, PostgreSQL, sandbox
	// workers, load generator), 0 when unknown.
	cpu time.Duration
}

func (r rate) String() string {
	s := fmt.Sprintf("%7.0f /s  p50 %-9s p99 %-9s", r.perSec, msf(r.p50), msf(r.p99))
	if r.cpu > 0 {
		s += fmt.Sprintf(" cpu %.2f ms/op", float64(r.cpu.Microseconds())/1000)
	}
	return s
}

// measure calls op from c goroutines for d and answers the rate and latencies.
func measure(c int, d time.Duration, op func(i int) error) rate {
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	start := time.Now()
	cpu0 := machineCPU()
	var n int64
	for g := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for i := g; time.Now().Before(stop); i += c {
				t := time.Now()
				if err := op(i); err != nil {
					bad++
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			n += int64(len(mine))
			mu.Unlock()
		}()
	}
	wg.Wait()
	total := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) == 0 {
		return rate{}
	}
	return rate{perSec: float64(n) / total.Seconds(), p50: pct(lat, 50), p99: pct(lat, 99), errs: errs, cpu: cpuPer(cpu0, float64(n))}
}

// baselineInsert is pgbench's one-INSERT transaction through pool at concurrency c.
func baselineInsert(ctx context.Context, pool *pgxpool.Pool, app uuid.UUID, c int, d time.Duration) rate {
	return measure(c, d, func(i int) error {
		_, err := pool.Exec(ctx, `INSERT INTO records (app_id, entity, data) VALUES ($1, 'bench_base', $2)`, app, fmt.Sprintf(`{"n":%d}`, i))
		return err
	})
}

func post(client *http.Client, url, token string, body []byte, want int) error {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// benchApp creates the "runbench" app: the lead entity (4 fields) and the sync and async
// webhook → JS → record flows.
func benchApp(ctx context.Context, pool *pgxpool.Pool) (uuid.UUID, error) {
	var app uuid.UUID
	if err := pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('runbench', 'Run bench') ON CONFLICT (slug) DO UPDATE SET name = 'Run bench' RETURNING id`).Scan(&app); err != nil {
		return app, err
	}
	if err := publishDef(ctx, pool, app, "entities", "lead", `{"slug":"lead","fields":[{"key":"name","type":"text","required":true},{"key":"n","type":"number"},{"key":"phone","type":"text"},{"key":"city","type":"text"}]}`); err != nil {
		return app, err
	}
	flow := func(slug, key, mode string) error {
		return publishDef(ctx, pool, app, "flows", slug, `{"slug":"`+slug+`","trigger":{"type":"webhook","key":"`+key+`","mode":"`+mode+`"},"nodes":[
		  {"id":"js","type":"script","params":{"code":"return {name: input.trigger.body.name.toUpperCase(), n: input.trigger.body.n};"}},
		  {"id":"save","type":"record.create","params":{"entity":"lead","values":"{{ steps.js }}"}}],
		  "edges":[{"from":"js","to":"save"}]}`)
	}
	if err := flow("rb-sync", "rb-sync", "sync"); err != nil {
		return app, err
	}
	return app, flow("rb-async", "rb-async", "async")
}

// benchServer is a Tessera server on a loopback port with a logged-in admin.
type benchServer struct {
	url, token string
	client     *http.Client
}

// startServer serves Tessera on d (role all, intake limits off) and logs an admin in.
func startServer(ctx context.Context, d *db.DB) (*benchServer, func(), error) {
	cfg := config.FromEnv()
	cfg.DatabaseURL = d.DSN
	cfg.DataDir, _ = os.MkdirTemp("", "tessera-bench-data-")
	cfg.Role = "all"
	cfg.WebhookRate, cfg.AppRate, cfg.RunBacklog = 0, 0, 0
	srv, err := api.New(cfg, d, slog.New(slog.DiscardHandler))
	if err != nil {
		os.RemoveAll(cfg.DataDir)
		return nil, nil, err
	}
	url, stop, err := serveOn(srv.App())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 60 * time.Second}
	cleanup := func() {
		client.CloseIdleConnections() // the server's shutdown waits for open connections
		if stop != nil {
			stop()
		}
		srv.Shutdown(10 * time.Second)
		os.RemoveAll(cfg.DataDir)
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	const email, password = "bench-admin@example.com", "bench-password-1"
	if _, err := srv.Auth.EnsureAdmin(ctx, email, password); err != nil {
		cleanup()
		return nil, nil, err
	}
	token, err := login(client, url, email, password)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return &benchServer{url: url, token: token, client: client}, cleanup, nil
}

// createRecord posts one 4-field lead.
func (b *benchServer) createRecord(i int) error {
	body, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("r%d", i), "n": i, "phone": "138", "city": "上海"})
	return post(b.client, b.url+"/api/v1/apps/runbench/entities/lead/records", b.token, body, 201)
}

// runBench is the "runbench" app and a server over it, for the run and create figures.
func runBench(ctx context.Context, e *env) (uuid.UUID, *benchServer, func(), error) {
	app, err := benchApp(ctx, e.DB.Pool)
	if err != nil {
		return uuid.Nil, nil, nil, err
	}
	bs, cleanup, err := startServer(ctx, e.DB)
	if err != nil {
		return uuid.Nil, nil, nil, err
	}
	return app, bs, cleanup, nil
}

// printRow prints one figure next to its baseline and their ratio.
func printRow(label string, r, base rate) {
	fmt.Printf("  %-34s %s  baseline %7.0f /s  ratio %.2f", label, r, base.perSec, r.perSec/max(base.perSec, 1))
	if r.errs > 0 {
		fmt.Printf("  (%d errors)", r.errs)
	}
	fmt.Println()
}

func benchRuns(ctx context.Context, e *env) error {
	pool := e.DB.Pool
	app, bs, cleanup, err := runBench(ctx, e)
	if err != nil {
		return err
	}
	defer cleanup()
	url, client := bs.url, bs.client
	const d = 5 * time.Second
	body := func(i int) []byte { return []byte(fmt.Sprintf(`{"name":"lead %d","n":%d}`, i, i)) }
	// warm the sandbox workers and the caches
	measure(4, time.Second, func(i int) error { return post(client, url+"/hooks/rb-sync", "", body(i), 200) })

	fmt.Println("  (baseline: one INSERT per transaction through the same pool, same concurrency, measured just before)")
	for _, c := range []int{1, 8} {
		base := baselineInsert(ctx, pool, app, c, d)
		r := measure(c, d, func(i int) error { return post(client, url+"/hooks/rb-sync", "", body(i), 200) })
		printRow(fmt.Sprintf("sync webhook→JS→record, %d conn", c), r, base)
	}
	// async: accept at 8 connections, then count completions end to end (including the drain)
	base := baselineInsert(ctx, pool, app, 8, d)
	var since time.Time
	_ = pool.QueryRow(ctx, `SELECT now()`).Scan(&since)
	cpu0 := machineCPU()
	inline0, queue0 := workedRuns()
	acc := measure(8, d, func(i int) error { return post(client, url+"/hooks/rb-async", "", body(i), 202) })
	printRow("async webhook accept, 8 conn", acc, base)
	open := -1
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM flow_runs WHERE flow = 'rb-async' AND created_at >= $1 AND status NOT IN ('succeeded', 'failed')`, since).Scan(&open)
		if open == 0 {
			break
		}
	}
	var failed int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM flow_runs WHERE flow = 'rb-async' AND created_at >= $1 AND status = 'failed'`, since).Scan(&failed)
	if open != 0 || failed > 0 {
		fmt.Printf("  async runs: %d still open after 5 minutes, %d failed (the row below counts the succeeded ones only)\n", max(open, 0), failed)
	}
	var done int
	var span float64
	cpu1 := machineCPU()
	_ = pool.QueryRow(ctx, `SELECT count(*), extract(epoch FROM max(finished_at) - min(created_at)) FROM flow_runs WHERE flow = 'rb-async' AND created_at >= $1 AND status = 'succeeded'`, since).Scan(&done, &span)
	e2e, err := durs(ctx, pool, `SELECT extract(epoch FROM finished_at - created_at) * 1e6 FROM flow_runs WHERE flow = 'rb-async' AND created_at >= $1`, since)
	if err == nil && span > 0 {
		// the accept and the drain: every process's CPU per completed run
		var cpu time.Duration
		if cpu0 > 0 && cpu1 > cpu0 && done > 0 {
			cpu = (cpu1 - cpu0) / time.Duration(done)
		}
		printRow("async runs completed end to end, 8", rate{perSec: float64(done) / span, p50: pct(e2e, 50), p99: pct(e2e, 99), cpu: cpu}, base)
		inline1, queue1 := workedRuns()
		fmt.Printf("  (worked: %.0f by the accepting process, before or as it accepted them; %.0f fetched from the queue)\n", inline1-inline0, queue1-queue0)
	}
	createRows(ctx, pool, app, bs, d, printRow)
	wrkCreateRows(ctx, e.DB.DSN, app, bs, d)
	return nil
}

// createRows measures record creates at 1/8/32 connections next to the one-INSERT baseline.
func createRows(ctx context.Context, pool *pgxpool.Pool, app uuid.UUID, bs *benchServer, d time.Duration, row func(string, rate, rate)) {
	for _, c := range []int{1, 8, 32} {
		base := baselineInsert(ctx, pool, app, c, d)
		r := measure(c, d, bs.createRecord)
		printRow(fmt.Sprintf("record create (4 fields), %d conn", c), r, base)
	}
}

// benchCreates is the record-create part of "runs" alone (`-only=creates`, not in the default
// run): what to profile with -cpuprofile when working on the create path.
func benchCreates(ctx context.Context, e *env) error {
	app, bs, cleanup, err := runBench(ctx, e)
	if err != nil {
		return err
	}
	defer cleanup()
	measure(4, time.Second, bs.createRecord) // warm the caches
	createRows(ctx, e.DB.Pool, app, bs, 5*time.Second, printRow)
	wrkCreateRows(ctx, e.DB.DSN, app, bs, 5*time.Second)
	return nil
}

func login(client *http.Client, url, email, password string) (string, error) {
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := client.Post(url+"/api/v1/auth/login", "application/json", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		return "", fmt.Errorf("login: status %d", resp.StatusCode)
	}
	return out.Token, nil
}

// workedRuns reads this process's tessera_flow_run_seconds counts: runs worked by the process
// that accepted them (inline) and runs fetched from the queue.
func workedRuns() (inline, queued float64) {
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		return 0, 0
	}
	for _, mf := range mfs {
		if mf.GetName() != "tessera_flow_run_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() != "worked" {
					continue
				}
				switch l.GetValue() {
				case "inline":
					inline += float64(m.GetHistogram().GetSampleCount())
				case "queue":
					queued += float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	return inline, queued
}
