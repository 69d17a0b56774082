package report_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/report"
)

// TestProvisionReportIndexes: the stage-event index is created when the entity asks for report
// indexes, is idempotent, and is dropped when it no longer asks.
func TestProvisionReportIndexes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ent := mustEntity(t)
	count := func() int {
		var n int
		if err := f.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = 'record_events' AND indexname LIKE 'rpt\_%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	provision := func() {
		t.Helper()
		tx, err := f.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck
		if err := report.ProvisionReportIndexes(ctx, tx, f.App, ent); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	provision()
	provision()
	if n := count(); n != 1 {
		t.Fatalf("%d report indexes, want 1", n)
	}
	var def string
	_ = f.Pool.QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE indexname LIKE 'rpt\_%'`).Scan(&def)
	t.Log(def)
	// The grouping statistics cover the report fields with owner and team.
	stats := func() string {
		var exprs string
		err := f.Pool.QueryRow(ctx, `SELECT coalesce(string_agg(pg_get_statisticsobjdef_expressions(oid)::text, ';'), '') FROM pg_statistic_ext WHERE stxname LIKE 'rpt\_%'`).Scan(&exprs)
		if err != nil {
			t.Fatal(err)
		}
		return exprs
	}
	if got := stats(); !strings.Contains(got, "stage") || !strings.Contains(got, "channel") || !strings.Contains(got, "amount") {
		t.Fatalf("statistics expressions %q, want stage, channel and amount", got)
	}
	ent.ReportIndex = nil
	provision()
	if n := count(); n != 0 {
		t.Fatalf("%d report indexes after dropping report_index, want 0", n)
	}
	if got := stats(); got != "" {
		t.Fatalf("statistics %q left after dropping report_index", got)
	}
	ent.Slug = "Bad Slug'"
	tx, _ := f.Pool.Begin(ctx)
	defer tx.Rollback(ctx) //nolint:errcheck
	if err := report.ProvisionReportIndexes(ctx, tx, f.App, ent); err == nil {
		t.Fatal("a bad slug was accepted")
	}
}

// TestTimezoneBuckets: date buckets follow the app's time zone (Asia/Shanghai by default).
func TestTimezoneBuckets(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Sunday 2026-03-01 17:00 UTC is Monday 2026-03-02 01:00 in Shanghai.
	f.insert(t, rec{data: map[string]any{"name": "x"}, owner: f.Alice, created: time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC)})
	rep := mustReport(t, `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"created_at","bucket":"week"},{"field":"created_at","bucket":"day"}],"measures":[{"agg":"count"}]}`)
	for _, tc := range []struct{ settings, want string }{
		{`{}`, `[["2026-03-02","2026-03-02",1]]`},
		{`{"timezone":"Asia/Shanghai"}`, `[["2026-03-02","2026-03-02",1]]`},
		{`{"timezone":"UTC"}`, `[["2026-02-23","2026-03-01",1]]`},
		{`{"timezone":"America/New_York"}`, `[["2026-02-23","2026-03-01",1]]`},
	} {
		app := *f.App
		app.Settings = json.RawMessage(tc.settings)
		res, err := f.Engine.Run(ctx, &app, rep, report.Params{}, access.All())
		if err != nil {
			t.Fatal(err)
		}
		if got := rowsJSON(t, res); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.settings, got, tc.want)
		}
	}
}
