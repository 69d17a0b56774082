package records_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/records"
)

// BenchmarkImport measures the set-based import of 20,000 rows of a four-field entity with a
// dedupe key and a stage (what `make bench`'s import section does at scale); it reports rows/s.
// go test ./runtime/records -run '^$' -bench Import -cpuprofile cpu.out shows where the time goes.
func BenchmarkImport(b *testing.B) {
	d := dbtest.Open(b)
	ctx := context.Background()
	app := &defs.App{Slug: "ib", Name: "IB"}
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('ib','IB') RETURNING id`).Scan(&app.ID); err != nil {
		b.Fatal(err)
	}
	Publish(b, d.Pool, app.ID, spec.KindEntity, "lead", `{"slug":"lead","fields":[{"key":"name","type":"text","required":true},{"key":"email","type":"email"},
 {"key":"amount","type":"money"},{"key":"stage","type":"select","options":["new","proposal"]}],
 "stages":{"field":"stage","order":["new","proposal"]},
 "dedupe":{"keys":[["email"]],"on_duplicate":"merge"}}`, 1)
	store := records.New(d.Pool, defs.New(d.Pool), records.Options{FilesDir: b.TempDir()})
	w := records.WriteOptions{Actor: access.Subject{System: true}, Grant: access.All(), Source: "import"}
	const n = 20000
	b.ResetTimer()
	var total time.Duration
	for it := 0; it < b.N; it++ {
		i := 0
		src := func() (map[string]any, error) {
			if i == n {
				return nil, io.EOF
			}
			i++
			return map[string]any{"name": fmt.Sprintf("r%d %d", it, i), "email": fmt.Sprintf("r%d.%d@example.com", it, i),
				"amount": json.Number(fmt.Sprint(i%1000 + 1)), "stage": "new"}, nil
		}
		start := time.Now()
		res, err := store.Import(ctx, app, "lead", src, records.ImportOptions{Write: w, Partial: true})
		if err != nil || res.Created != n {
			b.Fatalf("import: %v %+v", err, res)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "rows/s")
}
