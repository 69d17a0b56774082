package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/runtime/db"
)

// The record creates measured the way #18 measured them: wrk (a C load generator, far lighter
// than the Go client of measure) against pgbench's one-INSERT transaction at the same
// concurrency. Both are used when on PATH (`make bench` installs wrk as root); otherwise the
// rows are left out.

var (
	wrkRateRe = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkPctRe  = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	wrkBadRe  = regexp.MustCompile(`Non-2xx or 3xx responses:\s+([0-9]+)`)
	wrkErrRe  = regexp.MustCompile(`Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)`)
)

// wrkPost posts body to url with a bearer token at concurrency c for d with wrk; ok is false
// when wrk is not available or failed.
func wrkPost(ctx context.Context, url, token string, body []byte, c int, d time.Duration) (rate, bool) {
	bin, err := exec.LookPath("wrk")
	if err != nil {
		return rate{}, false
	}
	dir, err := os.MkdirTemp("", "tessera-wrk-")
	if err != nil {
		return rate{}, false
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "post.lua")
	lua := fmt.Sprintf("wrk.method = \"POST\"\nwrk.body = %q\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"Bearer %s\"\n", string(body), token)
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		return rate{}, false
	}
	cpu0 := machineCPU()
	out, err := exec.CommandContext(ctx, bin, "-t", strconv.Itoa(min(c, 2)), "-c", strconv.Itoa(c), "-d", fmt.Sprintf("%ds", int(d.Seconds())),
		"--latency", "-s", script, url).CombinedOutput()
	if err != nil {
		fmt.Printf("  (wrk failed: %v: %s)\n", err, strings.TrimSpace(string(out)))
		return rate{}, false
	}
	m := wrkRateRe.FindSubmatch(out)
	if m == nil {
		return rate{}, false
	}
	var r rate
	r.perSec, _ = strconv.ParseFloat(string(m[1]), 64)
	for _, p := range wrkPctRe.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(p[2]), 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(p[3])]
		if string(p[1]) == "50" {
			r.p50 = time.Duration(v * float64(unit))
		} else {
			r.p99 = time.Duration(v * float64(unit))
		}
	}
	for _, re := range []*regexp.Regexp{wrkBadRe, wrkErrRe} {
		if m := re.FindSubmatch(out); m != nil {
			for _, v := range m[1:] {
				n, _ := strconv.Atoi(string(v))
				r.errs += n
			}
		}
	}
	r.cpu = cpuPer(cpu0, r.perSec*d.Seconds())
	return r, true
}

// wrkRounds is how many alternating rounds (pgbench, then wrk) each concurrency gets: #18
// measured "alternating 10 s rounds, medians", since one round on a shared 2-core machine
// swings by a third.
const wrkRounds = 3

// wrkCreateRows measures record creates with wrk at 1/8/32 connections next to pgbench's
// one-INSERT at the same concurrency (nothing when either is missing): wrkRounds alternating
// rounds each, the medians compared, the rounds' own ratios shown as a range.
func wrkCreateRows(ctx context.Context, dsn string, app uuid.UUID, bs *benchServer, d time.Duration) {
	body := []byte(`{"name":"w","n":1,"phone":"138","city":"上海"}`)
	url := bs.url + "/api/v1/apps/runbench/entities/lead/records"
	if _, ok := wrkPost(ctx, url, bs.token, body, 2, time.Second); !ok { // warm; also: is wrk here?
		fmt.Println("  (wrk rows left out: wrk is not installed or failed; `make bench` installs it as root)")
		return
	}
	if _, ok := pgbenchInsert(ctx, dsn, app, 1, time.Second); !ok {
		fmt.Println("  (wrk rows left out: pgbench, their baseline, is not installed or failed; it comes with the postgresql package)")
		return
	}
	fmt.Printf("  (wrk as the client, pgbench's one-INSERT transaction as the baseline, %d alternating rounds, medians: #18's own method)\n", wrkRounds)
	for _, c := range []int{1, 8, 32} {
		var bases, rates []rate
		var ratios []float64
		for range wrkRounds {
			tps, ok := pgbenchInsert(ctx, dsn, app, c, d)
			if !ok {
				return
			}
			r, ok := wrkPost(ctx, url, bs.token, body, c, d)
			if !ok {
				return
			}
			bases, rates = append(bases, rate{perSec: tps}), append(rates, r)
			ratios = append(ratios, r.perSec/max(tps, 1))
		}
		slices.Sort(ratios)
		printRow(fmt.Sprintf("record create, wrk, %d conn", c), medianRate(rates), medianRate(bases))
		fmt.Printf("  %-34s rounds' ratios %.2f–%.2f\n", "", ratios[0], ratios[len(ratios)-1])
		if c == 8 {
			bareRow(ctx, dsn, app, c, d, body)
		}
	}
}

// bareRow measures, with wrk and in alternating rounds against pgbench like the rows above,
// the least any Go HTTP server can do for a create: a bare Fiber handler that decodes the
// body and sends one INSERT through pgx (no authentication, validation, history or
// middleware). Its ratio is the ceiling of a create's ratio on this machine.
func bareRow(ctx context.Context, dsn string, app uuid.UUID, c int, d time.Duration, body []byte) {
	pool, err := pgxpool.New(ctx, withPool(dsn, db.DefaultPoolSize)) // Tessera's pool size
	if err != nil {
		return
	}
	defer pool.Close()
	bare := fiber.New(fiber.Config{DisableStartupMessage: true})
	bare.Post("/records", func(fc *fiber.Ctx) error {
		var v map[string]any
		if err := json.Unmarshal(fc.Body(), &v); err != nil {
			return fc.SendStatus(fiber.StatusBadRequest)
		}
		data, _ := json.Marshal(v)
		var id uuid.UUID
		if err := pool.QueryRow(fc.UserContext(), `INSERT INTO records (app_id, entity, data) VALUES ($1, 'bench_bare', $2) RETURNING id`, app, data).Scan(&id); err != nil {
			return err
		}
		return fc.Status(fiber.StatusCreated).JSON(fiber.Map{"id": id, "data": v})
	})
	url, stop, err := serveOn(bare)
	if err != nil {
		return
	}
	defer stop()
	var bases, rates []rate
	for range wrkRounds {
		tps, ok := pgbenchInsert(ctx, dsn, app, c, d)
		if !ok {
			return
		}
		r, ok := wrkPost(ctx, url+"/records", "none", body, c, d)
		if !ok {
			return
		}
		bases, rates = append(bases, rate{perSec: tps}), append(rates, r)
	}
	printRow(fmt.Sprintf("bare Fiber + pgx INSERT, wrk, %d", c), medianRate(rates), medianRate(bases))
}

// medianRate is the round with the median rate (its latencies and CPU come with it); errors
// are summed over every round.
func medianRate(rs []rate) rate {
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b rate) int { return cmp.Compare(a.perSec, b.perSec) })
	m := sorted[len(sorted)/2]
	m.errs = 0
	for _, r := range rs {
		m.errs += r.errs
	}
	return m
}
