package records_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/filter"
	"github.com/tessera/tessera/runtime/records"
)

// planRows walks an EXPLAIN (ANALYZE, FORMAT JSON) plan and sums the rows its leaf scans
// produced and the rows any node removed by a filter: what the query had to read.
func planRows(node map[string]any) (read float64) {
	if v, ok := node["Rows Removed by Filter"].(float64); ok {
		read += v
	}
	kids, _ := node["Plans"].([]any)
	if len(kids) == 0 {
		v, _ := node["Actual Rows"].(float64)
		read += v
	}
	for _, k := range kids {
		if m, ok := k.(map[string]any); ok {
			read += planRows(m)
		}
	}
	return read
}

// rowsRead runs sql under EXPLAIN ANALYZE and answers the rows it read (planRows) with the plan.
func (e *env) rowsRead(sql string, args []any) (float64, []byte) {
	e.t.Helper()
	var raw []byte
	if err := e.d.Pool.QueryRow(context.Background(), "EXPLAIN (ANALYZE, FORMAT JSON) "+sql, args...).Scan(&raw); err != nil {
		e.t.Fatal(err)
	}
	var plan []map[string]any
	if err := json.Unmarshal(raw, &plan); err != nil {
		e.t.Fatal(err)
	}
	return planRows(plan[0]["Plan"].(map[string]any)), raw
}

// TestDeepCursorIsAnIndexBound checks that a page deep in the default order ("-created_at") is
// found through an index bound, not by reading and discarding every row before it: the keyset
// condition is one row comparison that the records index serves. Many rows share one
// created_at (one INSERT), so the id tie-breaker is exercised too. The same walk also checks
// that the pages cover every row exactly once, both directions.
func TestDeepCursorIsAnIndexBound(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(spec.KindEntity, "big", `{"slug":"big","fields":[{"key":"name","type":"text"}]}`)
	// 6,000 rows over 1,500 distinct instants: four rows per created_at.
	if _, err := e.d.Pool.Exec(ctx, `INSERT INTO records (app_id, entity, data, created_at)
		SELECT $1, 'big', jsonb_build_object('name', 'n' || g), timestamptz '2026-01-01' + (g / 4) * interval '1 second'
		FROM generate_series(1, 6000) g`, e.app.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.Pool.Exec(ctx, `ANALYZE records`); err != nil {
		t.Fatal(err)
	}
	for _, sortSpec := range []string{"", "-created_at", "created_at", "-updated_at,-created_at"} {
		var sql string
		var args []any
		records.TraceQueries(e.store, func(s string, a []any) { sql, args = s, a })
		seen := map[string]bool{}
		cursor := ""
		for pages := 0; ; pages++ {
			p, err := e.store.List(ctx, e.app, "big", records.ListQuery{Sort: sortSpec, Limit: 500, Cursor: cursor}, access.All())
			if err != nil {
				t.Fatalf("sort %q page %d: %v", sortSpec, pages, err)
			}
			for _, r := range p.Items {
				if seen[r.ID.String()] {
					t.Fatalf("sort %q: %s on two pages", sortSpec, r.ID)
				}
				seen[r.ID.String()] = true
			}
			if p.NextCursor == nil {
				break
			}
			cursor = *p.NextCursor
			if len(seen) == 3000 && sortSpec != "-updated_at,-created_at" { // (no index serves that one)
				// the page after row 3,000 (3,000 more follow) must read about one page of
				// rows: an index scan that starts at the cursor, neither skipping the rows
				// before it by a filter nor sorting all the rows after it
				if read, plan := e.rowsRead(sql, args); read > 1000 {
					t.Fatalf("sort %q: a page of 500 read %v rows: the cursor is not an index bound\n%s\n%s", sortSpec, read, sql, plan)
				}
			}
		}
		if len(seen) != 6000 {
			t.Fatalf("sort %q: %d rows over all pages, want 6000", sortSpec, len(seen))
		}
	}
}

// TestDeepFieldSortCursorIsAnIndexBound: a list sorted by a field (a saved view's "-amount")
// pages through the field's index ((field), id), as runtime/autoindex builds it, with one row
// comparison: a deep page reads about one page of rows, both directions. The records whose
// field is empty come first descending and last ascending, in id order; the walk's order must
// be exactly the ORDER BY's over the whole entity (ties, NULLs and the switch from values to
// NULLs inside a page included).
func TestDeepFieldSortCursorIsAnIndexBound(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(spec.KindEntity, "deal", `{"slug":"deal","fields":[{"key":"name","type":"text"},{"key":"amount","type":"number"}]}`)
	// 6,000 rows: four per amount, every tenth without one; names repeat every 1,000 rows
	if _, err := e.d.Pool.Exec(ctx, `INSERT INTO records (app_id, entity, data)
		SELECT $1, 'deal', CASE WHEN g % 10 = 0 THEN jsonb_build_object('name', 'n' || (g % 1000))
			ELSE jsonb_build_object('name', 'n' || (g % 1000), 'amount', g % 1500) END
		FROM generate_series(1, 6000) g`, e.app.ID); err != nil {
		t.Fatal(err)
	}
	ent, _, err := defs.New(e.d.Pool).Entity(ctx, e.app.ID, "deal")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"amount", "name"} {
		expr, _ := filter.FieldExpr("", ent.Field(key))
		if _, err := e.d.Pool.Exec(ctx, fmt.Sprintf(`CREATE INDEX ON records ((%s), id) WHERE app_id = '%s' AND entity = 'deal' AND deleted_at IS NULL`, expr, e.app.ID)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.d.Pool.Exec(ctx, `ANALYZE records`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sortSpec string
		limit    int
	}{{"amount", 500}, {"-amount", 500}, {"name", 500}, {"-name", 500},
		{"amount", 600}} { // 5,400 amounts: a page ends on the last one, the next holds only NULLs
		sortSpec, limit := tc.sortSpec, tc.limit
		keys, err := filter.SortKeys(sortSpec, ent, nil, "r")
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		rows, err := e.d.Pool.Query(ctx, `SELECT r.id::text FROM records r WHERE app_id = $1 AND entity = 'deal' AND deleted_at IS NULL ORDER BY `+filter.OrderBy(keys, "r"), e.app.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			want = append(want, id)
		}
		rows.Close()
		var sql string
		var args []any
		records.TraceQueries(e.store, func(s string, a []any) { sql, args = s, a })
		var got []string
		cursor := ""
		for {
			p, err := e.store.List(ctx, e.app, "deal", records.ListQuery{Sort: sortSpec, Limit: limit, Cursor: cursor}, access.All())
			if err != nil {
				t.Fatalf("sort %q page %d: %v", sortSpec, len(got)/limit, err)
			}
			for _, r := range p.Items {
				got = append(got, r.ID.String())
			}
			if p.NextCursor == nil {
				break
			}
			cursor = *p.NextCursor
			if len(got) == 3000 {
				if read, plan := e.rowsRead(sql, args); read > float64(2*limit) {
					t.Fatalf("sort %q: a page of %d read %v rows: the cursor is not an index bound\n%s\n%s", sortSpec, limit, read, sql, plan)
				}
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			n := 0
			for n < len(got) && n < len(want) && got[n] == want[n] {
				n++
			}
			t.Fatalf("sort %q: the pages list %d records, want %d; they differ from row %d on", sortSpec, len(got), len(want), n)
		}
	}
}
