package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/records"
)

// The "import" section (#18 point 5): rows/s of the set-based import (runtime/records.Import,
// batches through a staging table and COPY) for 100k rows and -records rows, next to the old
// path (one Create per row in one transaction, what the import API did before) measured in the
// same run, the cost of a stage gate evaluated per row, the load average and the peak RSS.
func init() { register(section{Name: "import", Order: 80, Run: benchImport}) }

const importEntity = `{"slug":"%s","fields":[{"key":"name","type":"text","required":true},{"key":"email","type":"email"},
 {"key":"amount","type":"money"},{"key":"stage","type":"select","options":["new","proposal"]}],
 "stages":{"field":"stage","order":["new","proposal"],"transitions":[{"from":"new","to":"proposal","require":"%s"}]},
 "dedupe":{"keys":[["email"]],"on_duplicate":"merge"}}`

func benchImport(ctx context.Context, e *env) error {
	pool := e.DB.Pool
	var appID uuid.UUID
	if err := pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('importbench', 'Import bench') ON CONFLICT (slug) DO UPDATE SET name = 'Import bench' RETURNING id`).Scan(&appID); err != nil {
		return err
	}
	loader := defs.New(pool)
	for _, slug := range []string{"lead_old", "lead", "lead_gate", "lead_http"} {
		gate := ""
		if slug == "lead_gate" {
			gate = "record.amount > 0"
		}
		if err := publishDef(ctx, pool, appID, "entities", slug, fmt.Sprintf(importEntity, slug, gate)); err != nil {
			return err
		}
	}
	app, err := loader.App(ctx, "importbench")
	if err != nil {
		return err
	}
	for _, slug := range []string{"lead_old", "lead", "lead_gate", "lead_http"} {
		ent, _, err := loader.Entity(ctx, app.ID, slug)
		if err != nil {
			return err
		}
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		if err := records.ProvisionIndexes(ctx, tx, app, ent); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
	}
	store := records.New(pool, loader, records.Options{})
	w := records.WriteOptions{Actor: access.Subject{System: true}, Grant: access.All(), Source: "import"}
	row := func(prefix string, i int, stage string) map[string]any {
		return map[string]any{"name": fmt.Sprintf("%s %d", prefix, i), "email": fmt.Sprintf("%s%d@example.com", prefix, i),
			"amount": json.Number(fmt.Sprint(i%1000 + 1)), "stage": stage}
	}
	// old path: one Create per row inside one transaction
	const oldN = 5000
	start := time.Now()
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	ow := w
	ow.Tx = tx
	for i := range oldN {
		if _, err := store.Create(ctx, app, "lead_old", row("old", i, "new"), ow); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	old := float64(oldN) / time.Since(start).Seconds()
	fmt.Printf("  old path (Create per row, %d rows)      %8.0f rows/s  load %s\n", oldN, old, loadAvg())
	run := func(label, entity string, n int, stage string) error {
		i := 0
		src := func() (map[string]any, error) {
			if i == n {
				return nil, io.EOF
			}
			i++
			return row(label, i, stage), nil
		}
		// WAL written per row: the import's cost on the PostgreSQL side, independent of load
		var lsn0 string
		_ = pool.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&lsn0)
		start := time.Now()
		res, err := store.Import(ctx, app, entity, src, records.ImportOptions{Write: w, Partial: true})
		if err != nil {
			return err
		}
		r := float64(res.Created) / time.Since(start).Seconds()
		var wal float64
		_ = pool.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn() - $1::pg_lsn`, lsn0).Scan(&wal)
		fmt.Printf("  set-based import, %-22s %8.0f rows/s  ratio %.1fx vs old  WAL %.0f B/row  load %s  peak RSS %s\n",
			fmt.Sprintf("%d rows%s", n, map[bool]string{true: " (gate)"}[stage == "proposal"]), r, r/old, wal/float64(max(res.Created, 1)), loadAvg(), peakRSS())
		return nil
	}
	if err := run("a", "lead", 100_000, "new"); err != nil {
		return err
	}
	if err := run("g", "lead_gate", 100_000, "proposal"); err != nil {
		return err
	}
	if e.Records > 100_000 {
		if err := run("b", "lead", e.Records, "new"); err != nil {
			return err
		}
	}
	return importOverHTTP(ctx, e, pool, e.Records)
}

// importOverHTTP sends n rows as one streamed CSV request (chunked, generated as it is sent)
// to a Tessera server in this process: the import API end to end, with the rate, the WAL per
// row and the process's peak RSS.
func importOverHTTP(ctx context.Context, e *env, pool *pgxpool.Pool, n int) error {
	bs, stop, err := startServer(ctx, e.DB)
	if err != nil {
		return err
	}
	defer stop()
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriterSize(pw, 64<<10)
		fmt.Fprintln(w, "name,email,amount,stage")
		for i := range n {
			fmt.Fprintf(w, "h %d,h%d@example.com,%d,new\n", i, i, i%1000+1)
		}
		_ = w.Flush()
		pw.Close()
	}()
	req, _ := http.NewRequestWithContext(ctx, "POST", bs.url+"/api/v1/apps/importbench/entities/lead_http/import?mode=partial", pr)
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+bs.token)
	var lsn0 string
	_ = pool.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&lsn0)
	start := time.Now()
	res, err := (&http.Client{Timeout: 30 * time.Minute}).Do(req)
	if err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("import over HTTP: %w", err)
	}
	defer res.Body.Close()
	var out struct {
		Created int `json:"created"`
		Failed  int `json:"failed"`
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 201 || json.Unmarshal(body, &out) != nil {
		return fmt.Errorf("import over HTTP: %d %s", res.StatusCode, body)
	}
	el := time.Since(start)
	var wal float64
	_ = pool.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn() - $1::pg_lsn`, lsn0).Scan(&wal)
	fmt.Printf("  import API, one streamed CSV request, %d rows: %d created in %s, %8.0f rows/s  WAL %.0f B/row  peak RSS %s (the whole bench process)\n",
		n, out.Created, el.Round(time.Millisecond), float64(out.Created)/el.Seconds(), wal/float64(max(out.Created, 1)), peakRSS())
	return nil
}

// peakRSS is the process's peak resident set (VmHWM).
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "?"
}
