package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/db"
)

// The "pool" section (#18 point 3: the pool size is chosen from measurement): record creates
// (4 fields, bearer token) at 1/8/32 client connections for each pool size in
// -pools (default 8,20,40), each next to pgbench's one-INSERT transaction at the same
// concurrency measured just before (the in-process one-INSERT loop when pgbench is not on the
// PATH), with the load average, since the machine may be shared: compare ratios, not figures.

func init() { register(section{Name: "pool", Order: 42, Run: benchPool}) }

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// withPool sets pool_max_conns on a URL or keyword/value DSN.
func withPool(dsn string, n int) string {
	if strings.Contains(dsn, "://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + "pool_max_conns=" + strconv.Itoa(n)
	}
	return dsn + " pool_max_conns=" + strconv.Itoa(n)
}

var tpsRe = regexp.MustCompile(`tps = ([0-9.]+)`)

// pgbenchInsert runs pgbench with a one-INSERT script at concurrency c for d; ok is false when
// pgbench is not available or failed.
func pgbenchInsert(ctx context.Context, dsn string, app uuid.UUID, c int, d time.Duration) (float64, bool) {
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		return 0, false
	}
	dir, err := os.MkdirTemp("", "tessera-pgbench-")
	if err != nil {
		return 0, false
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "insert.sql")
	sql := fmt.Sprintf("INSERT INTO records (app_id, entity, data) VALUES ('%s', 'bench_base', '{\"n\": 1}');\n", app)
	if err := os.WriteFile(script, []byte(sql), 0o644); err != nil {
		return 0, false
	}
	// pgbench takes a libpq URL without pgx's pool settings
	conn := regexp.MustCompile(`[?&]pool_[a-z_]+=[^&]*`).ReplaceAllString(dsn, "")
	out, err := exec.CommandContext(ctx, bin, "-n", "-M", "prepared", "-f", script, "-c", strconv.Itoa(c), "-j", strconv.Itoa(min(c, 4)),
		"-T", strconv.Itoa(int(d.Seconds())), conn).CombinedOutput()
	if err != nil {
		fmt.Printf("  (pgbench failed: %v: %s)\n", err, strings.TrimSpace(string(out)))
		return 0, false
	}
	m := tpsRe.FindStringSubmatch(string(out))
	if m == nil {
		return 0, false
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v, true
}

func benchPool(ctx context.Context, e *env) error {
	var sizes []int
	for _, p := range strings.Split(e.Pools, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil && n > 0 {
			sizes = append(sizes, n)
		}
	}
	app, err := benchApp(ctx, e.DB.Pool)
	if err != nil {
		return err
	}
	const d = 5 * time.Second
	fmt.Printf("  load average at start: %s (default pool size: %d)\n", loadAvg(), db.DefaultPoolSize)
	fmt.Println("  baseline: pgbench one-INSERT transactions at the same concurrency, measured just before")
	for _, size := range sizes {
		pd, err := db.Open(ctx, withPool(e.DB.DSN, size))
		if err != nil {
			return err
		}
		bs, cleanup, err := startServer(ctx, pd)
		if err != nil {
			pd.Close()
			return err
		}
		measure(4, time.Second, bs.createRecord) // warm the caches
		for _, c := range []int{1, 8, 32} {
			base, ok := pgbenchInsert(ctx, e.DB.DSN, app, c, d)
			kind := "pgbench"
			if !ok {
				base, kind = baselineInsert(ctx, pd.Pool, app, c, d).perSec, "in-process"
			}
			r := measure(c, d, bs.createRecord)
			fmt.Printf("  pool %2d  record create, %2d conn %s  %s %7.0f /s  ratio %.2f  load %s", size, c, r, kind, base, r.perSec/max(base, 1), loadAvg())
			if r.errs > 0 {
				fmt.Printf("  (%d errors)", r.errs)
			}
			fmt.Println()
		}
		cleanup()
		pd.Close()
	}
	return nil
}
