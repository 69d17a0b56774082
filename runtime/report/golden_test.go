package report_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/report"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestGoldenSQL compiles report definitions and compares the SQL and arguments with
// testdata/<name>.golden (go test ./runtime/report -run TestGoldenSQL -update rewrites them).
func TestGoldenSQL(t *testing.T) {
	ent := mustEntity(t)
	app := &defs.App{ID: uuid.MustParse("00000000-0000-0000-0000-0000000000a1"), Slug: "crm", Settings: json.RawMessage(`{"timezone":"Asia/Shanghai"}`)}
	rep := access.Grant{Scope: access.ScopeOwn, Owner: uuid.MustParse("00000000-0000-0000-0000-00000000000b"), Hidden: map[string]bool{"cost": true}}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		report string
		grant  access.Grant
		params report.Params
	}{
		{"pivot", `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"stage"},{"field":"created_at","bucket":"month"}],"measures":[{"agg":"count"},{"agg":"sum","field":"amount"},{"agg":"median","field":"amount"}],"filters":{"channel":{"in":["web","sem"]}},"sort":["-count"],"limit":10}`, access.All(), report.Params{From: &from}},
		{"pivot_rep_scope", `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"owner_id"},{"field":"rep"}],"measures":[{"agg":"count_distinct","field":"channel"}]}`, rep, report.Params{Filter: json.RawMessage(`{"amount":{"gte":100}}`)}},
		{"kpi_compare", `{"slug":"r","entity":"lead","kind":"kpi","measures":[{"agg":"count"},{"agg":"avg","field":"amount"}],"compare":{"period":"month"}}`, access.All(), report.Params{}},
		{"compare_weeks", `{"slug":"r","entity":"lead","kind":"compare","dimensions":[{"field":"created_at","bucket":"week"},{"field":"channel"}],"measures":[{"agg":"count"}],"compare":{"period":"week"}}`, access.All(), report.Params{From: &from}},
		{"table", `{"slug":"r","entity":"lead","kind":"table","dimensions":[{"field":"name"},{"field":"closed"},{"field":"tags"}],"sort":["-closed"]}`, rep, report.Params{}},
		{"funnel", `{"slug":"r","entity":"lead","kind":"funnel","dimensions":[{"field":"channel"},{"field":"team_id"}]}`, access.All(), report.Params{}},
		{"funnel_rep_scope", `{"slug":"r","entity":"lead","kind":"funnel"}`, rep, report.Params{}},
		{"dwell", `{"slug":"r","entity":"lead","kind":"dwell","dimensions":[{"field":"office"}],"params":{"include_open":true}}`, access.All(), report.Params{}},
		{"dwell_stuck", `{"slug":"r","entity":"lead","kind":"dwell","dimensions":[{"field":"owner_id"}],"params":{"stuck":3}}`, rep, report.Params{}},
		{"stagnation", `{"slug":"r","entity":"lead","kind":"stagnation","params":{"stage":"proposal","days":7}}`, rep, report.Params{}},
		{"penetration", `{"slug":"r","entity":"lead","kind":"penetration","dimensions":[{"field":"channel"}],"params":{"from_stage":"new","to_stage":"contacted","hours":72}}`, access.All(), report.Params{}},
		{"cycle", `{"slug":"r","entity":"lead","kind":"cycle","dimensions":[{"field":"owner_id"}],"params":{"to_stage":"won"}}`, rep, report.Params{}},
		{"forecast", `{"slug":"r","entity":"lead","kind":"forecast","dimensions":[{"field":"owner_id"}]}`, access.All(), report.Params{}},
	}
	now := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.params
			p.Now = now
			q, err := report.Compile(app, ent, mustReport(t, tc.report), p, tc.grant)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			b.WriteString(q.SQL)
			b.WriteString("\n-- args\n")
			for i, a := range q.Args {
				js, _ := json.Marshal(a)
				fmt.Fprintf(&b, "$%d = %s\n", i+1, js)
			}
			b.WriteString("-- columns\n")
			for _, c := range q.Columns {
				fmt.Fprintf(&b, "%s (%s) %s\n", c.Key, c.Type, c.Label)
			}
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if string(want) != b.String() {
				t.Errorf("%s differs from %s:\n%s", tc.name, path, b.String())
			}
		})
	}
}

// TestGoldenSQLRuns runs every golden query against Postgres so the SQL stays valid.
func TestGoldenSQLRuns(t *testing.T) {
	f := newFixture(t)
	seedSales(t, f)
	for _, js := range []string{
		`{"slug":"r","entity":"lead","kind":"compare","dimensions":[{"field":"created_at","bucket":"week"},{"field":"channel"}],"measures":[{"agg":"count"}],"compare":{"period":"week"}}`,
		`{"slug":"r","entity":"lead","kind":"table","dimensions":[{"field":"name"},{"field":"closed"},{"field":"tags"}],"sort":["-closed"]}`,
		`{"slug":"r","entity":"lead","kind":"funnel","dimensions":[{"field":"channel"},{"field":"team_id"}]}`,
		`{"slug":"r","entity":"lead","kind":"penetration","dimensions":[{"field":"channel"}],"params":{"from_stage":"new","to_stage":"contacted","hours":72}}`,
		`{"slug":"r","entity":"lead","kind":"forecast","dimensions":[{"field":"owner_id"}]}`,
		`{"slug":"r","entity":"lead","kind":"table"}`,
	} {
		from := hours(-500)
		for _, g := range []access.Grant{access.All(), {Scope: access.ScopeOwn, Owner: f.Alice}, {Scope: access.ScopeTeam, Owner: f.Bob, Teams: []uuid.UUID{f.TeamB}}} {
			if _, err := f.Engine.Run(t.Context(), f.App, mustReport(t, js), report.Params{From: &from, Now: hours(200)}, g); err != nil {
				t.Errorf("%s: %v", js, err)
			}
		}
	}
}
