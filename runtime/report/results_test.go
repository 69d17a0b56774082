package report_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/report"
)

// seedSales writes the sales fixture. Times are hours after T0 (Monday 2026-03-02 12:00 in
// Shanghai); "now" is T0+200h. Expected figures in TestResults are worked out by hand from it.
func seedSales(t testing.TB, f *fixture) {
	t.Helper()
	d := func(name, channel, office string, amount float64, extra ...any) map[string]any {
		m := map[string]any{"name": name, "channel": channel, "office": office, "amount": amount, "stage": "new"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i].(string)] = extra[i+1]
		}
		return m
	}
	f.insert(t, rec{data: d("A1", "web", "北京", 1000, "score", 5, "closed", "2026-03-20"), owner: f.Alice, team: f.TeamA, created: hours(0), moves: []move{
		{hours(10), "new", "contacted"}, {hours(40), "contacted", "proposal"}, {hours(100), "proposal", "won"}}})
	// A2 and B2 have no creation stage event (older histories): both conventions must count alike.
	f.insert(t, rec{data: d("A2", "web", "北京", 2000, "score", 3), owner: f.Alice, team: f.TeamA, created: hours(1), noCreateStage: true, moves: []move{
		{hours(21), "new", "proposal"}}})
	f.insert(t, rec{data: d("A3", "sem", "上海", 500), owner: f.Alice, team: f.TeamA, created: hours(2)})
	f.insert(t, rec{data: d("B1", "sem", "上海", 3000, "score", 8, "rep", f.Alice.String()), owner: f.Bob, team: f.TeamB, created: hours(3), moves: []move{
		{hours(13), "new", "contacted"}}})
	f.insert(t, rec{data: d("B2", "expo", "上海", 4000, "rep", f.Alice.String()), owner: f.Bob, team: f.TeamB, created: hours(-163), noCreateStage: true, moves: []move{
		{hours(-143), "new", "contacted"}, {hours(-43), "contacted", "won"}}})
	f.insert(t, rec{data: d("B3", "web", "北京", 100), owner: f.Bob, team: f.TeamB, created: hours(-168), deleted: true})
	f.insert(t, rec{data: d("A4", "expo", "北京", 700, "closed", "2026-02-27"), owner: f.Alice, team: f.TeamA, created: hours(-166), moves: []move{
		{hours(-118), "new", "contacted"}, {hours(-108), "contacted", "lost"}}})
}

func rowsJSON(t testing.TB, res *report.Result) string {
	t.Helper()
	b, err := json.Marshal(res.Rows)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func colKeys(res *report.Result) []string {
	var out []string
	for _, c := range res.Columns {
		out = append(out, c.Key)
	}
	return out
}

// TestResults runs every report kind on the seeded fixture and checks the figures.
func TestResults(t *testing.T) {
	f := newFixture(t)
	seedSales(t, f)
	now := hours(200)
	cases := []struct {
		name   string
		report string
		params report.Params
		grant  *access.Grant
		cols   string
		rows   string
	}{
		{name: "pivot count and sum by channel", report: `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"}],"measures":[{"agg":"count"},{"agg":"sum","field":"amount"}]}`,
			cols: `["channel","count","sum_amount"]`, rows: `[["expo",2,4700],["sem",2,3500],["web",2,3000]]`},
		{name: "pivot sorted top 1", report: `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"}],"measures":[{"agg":"sum","field":"amount"}],"sort":["-sum_amount"],"limit":1}`,
			rows: `[["expo",4700]]`},
		{name: "conditional measures and rate", report: `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"}],"measures":[{"agg":"rate","filter":{"stage":"won"},"key":"win_rate"},{"agg":"sum","field":"amount","filter":{"stage":"won"},"key":"revenue"}],"sort":["-revenue"]}`,
			cols: `["channel","win_rate","revenue"]`, rows: `[["expo",50,4000],["web",50,1000],["sem",0,null]]`},
		{name: "rate in a comparison", report: `{"slug":"r","entity":"lead","kind":"kpi","measures":[{"agg":"rate","filter":{"stage":{"in":["contacted","proposal","won"]}}}],"compare":{"period":"week"}}`,
			params: report.Params{Now: hours(6)}, rows: `[[75,50,25,50]]`},
		{name: "kpi all measures", report: `{"slug":"r","entity":"lead","kind":"kpi","measures":[{"agg":"count"},{"agg":"count_distinct","field":"channel"},{"agg":"avg","field":"amount"},{"agg":"min","field":"amount"},{"agg":"max","field":"amount"},{"agg":"median","field":"amount"},{"agg":"max","field":"closed"}]}`,
			rows: `[[6,3,1866.6666666666667,500,4000,1500,"2026-03-20"]]`},
		{name: "owner with names", report: `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"owner_id"}],"measures":[{"agg":"count"}],"sort":["owner_id_name"]}`,
			cols: `["owner_id","owner_id_name","count"]`},
		{name: "user field with names", report: `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"rep"}],"measures":[{"agg":"count"}],"filters":{"rep":{"is_empty":false}}}`,
			cols: `["rep","rep_name","count"]`},
		{name: "week buckets in Shanghai", report: `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"created_at","bucket":"week"}],"measures":[{"agg":"count"}]}`,
			cols: `["created_at_week","count"]`, rows: `[["2026-02-23",2],["2026-03-02",4]]`},
		{name: "month of a date field", report: `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"closed","bucket":"month"}],"measures":[{"agg":"count"}],"filters":{"closed":{"is_empty":false}}}`,
			rows: `[["2026-02",1],["2026-03",1]]`},
		{name: "filter and runtime range", report: `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"}],"measures":[{"agg":"count"}],"filters":{"amount":{"gte":1000}}}`,
			params: report.Params{From: ptr(hours(-12))}, rows: `[["sem",1],["web",2]]`},
		{name: "funnel", report: `{"slug":"r","entity":"lead","kind":"funnel"}`,
			cols: `["stage","stage_index","count","conversion_pct","overall_pct"]`,
			rows: `[["new",1,6,100,100],["contacted",2,5,83.33,83.33],["proposal",3,3,60,50],["won",4,2,66.67,33.33]]`},
		{name: "funnel by channel", report: `{"slug":"r","entity":"lead","kind":"funnel","dimensions":[{"field":"channel"}]}`,
			rows: `[["expo","new",1,2,100,100],["expo","contacted",2,2,100,100],["expo","proposal",3,1,50,50],["expo","won",4,1,100,50],` +
				`["sem","new",1,2,100,100],["sem","contacted",2,1,50,50],["sem","proposal",3,0,0,0],["sem","won",4,0,null,0],` +
				`["web","new",1,2,100,100],["web","contacted",2,2,100,100],["web","proposal",3,2,100,100],["web","won",4,1,50,50]]`},
		{name: "funnel own scope", report: `{"slug":"r","entity":"lead","kind":"funnel"}`, grant: &access.Grant{Scope: access.ScopeOwn, Owner: f.Alice},
			rows: `[["new",1,4,100,100],["contacted",2,3,75,75],["proposal",3,2,66.67,50],["won",4,1,50,25]]`},
		{name: "funnel team scope", report: `{"slug":"r","entity":"lead","kind":"funnel"}`, grant: &access.Grant{Scope: access.ScopeTeam, Owner: f.Bob, Teams: []uuid.UUID{f.TeamB}},
			rows: `[["new",1,2,100,100],["contacted",2,2,100,100],["proposal",3,1,50,50],["won",4,1,100,50]]`},
		{name: "funnel no access", report: `{"slug":"r","entity":"lead","kind":"funnel"}`, grant: &access.Grant{Scope: access.ScopeNone},
			rows: `[]`},
		{name: "dwell", report: `{"slug":"r","entity":"lead","kind":"dwell"}`,
			cols: `["stage","stays","avg_hours","median_hours","max_hours"]`,
			rows: `[["new",5,21.6,20,48],["contacted",3,46.67,30,100],["proposal",1,60,60,60]]`},
		{name: "dwell by office", report: `{"slug":"r","entity":"lead","kind":"dwell","dimensions":[{"field":"office"}]}`,
			rows: `[["上海","new",2,15,15,20],["上海","contacted",1,100,100,100],["北京","new",3,26,20,48],["北京","contacted",2,20,20,30],["北京","proposal",1,60,60,60]]`},
		{name: "dwell with open stays", report: `{"slug":"r","entity":"lead","kind":"dwell","params":{"include_open":true}}`,
			rows: `[["new",6,51,20,198],["contacted",4,81.75,65,187],["proposal",2,119.5,119.5,179]]`},
		{name: "stagnation", report: `{"slug":"r","entity":"lead","kind":"stagnation","params":{"days":7}}`,
			cols: `["id","title","stage","owner_name","since","days","updated_at"]`},
		{name: "penetration", report: `{"slug":"r","entity":"lead","kind":"penetration","params":{"from_stage":"new","to_stage":"contacted","hours":72}}`,
			cols: `["entered","moved","rate_pct"]`, rows: `[[6,4,66.67]]`},
		{name: "penetration by team", report: `{"slug":"r","entity":"lead","kind":"penetration","dimensions":[{"field":"team_id"}],"params":{"from_stage":"contacted","to_stage":"won","hours":120}}`,
			cols: `["team_id","team_id_name","entered","moved","rate_pct"]`},
		{name: "cycle to won", report: `{"slug":"r","entity":"lead","kind":"cycle","params":{"to_stage":"won"}}`,
			cols: `["records","reached","reached_pct","avg_days","median_days"]`, rows: `[[6,2,33.33,4.58,4.58]]`},
		{name: "forecast", report: `{"slug":"r","entity":"lead","kind":"forecast"}`,
			cols: `["count","amount","weighted"]`, rows: `[[3,5500,1650]]`},
		{name: "compare week buckets", report: `{"slug":"r","entity":"lead","kind":"compare","dimensions":[{"field":"created_at","bucket":"week"}],"measures":[{"agg":"count"}],"compare":{"period":"week"}}`,
			cols: `["created_at_week","count","count_prev","count_change","count_change_pct"]`,
			rows: `[["2026-02-23",2,0,2,null],["2026-03-02",4,2,2,100]]`}, // nothing the week before: 0, not unknown
		{name: "compare week buckets from a date", report: `{"slug":"r","entity":"lead","kind":"compare","dimensions":[{"field":"created_at","bucket":"week"}],"measures":[{"agg":"count"}],"compare":{"period":"week"}}`,
			params: report.Params{From: ptr(hours(-12))}, rows: `[["2026-03-02",4,2,2,100]]`},
		{name: "compare explicit range", report: `{"slug":"r","entity":"lead","kind":"kpi","measures":[{"agg":"count"}],"compare":{"period":"week"}}`,
			params: report.Params{From: ptr(hours(-12)), To: ptr(hours(3))}, rows: `[[3,1,2,200]]`},
		{name: "compare period to date", report: `{"slug":"r","entity":"lead","kind":"kpi","measures":[{"agg":"count"},{"agg":"sum","field":"amount"}],"compare":{"period":"week"}}`,
			params: report.Params{Now: hours(6)},
			rows:   `[[4,2,2,100,6500,4700,1800,38.3]]`},
	}
	ctx := context.Background()
	for _, tc := range cases {
		// Stage reports answer from the stage paths; the stage events must give the same.
		for _, fromEvents := range []bool{false, true} {
			name := tc.name
			if fromEvents {
				name += " (from events)"
			}
			t.Run(name, func(t *testing.T) {
				rep := mustReport(t, tc.report)
				g := access.All()
				if tc.grant != nil {
					g = *tc.grant
				}
				p := tc.params
				if p.Now.IsZero() {
					p.Now = now
				}
				p.FromEvents = fromEvents
				res, err := f.Engine.Run(ctx, f.App, rep, p, g)
				if err != nil {
					t.Fatalf("run: %v", err)
				}
				if tc.cols != "" {
					b, _ := json.Marshal(colKeys(res))
					if string(b) != tc.cols {
						t.Errorf("columns %s, want %s", b, tc.cols)
					}
				}
				if tc.rows != "" {
					if got := rowsJSON(t, res); got != tc.rows {
						t.Errorf("rows\n got %s\nwant %s", got, tc.rows)
					}
				}
				if len(res.Columns) == 0 {
					t.Error("no columns")
				}
				for _, r := range res.Rows {
					if len(r) != len(res.Columns) {
						t.Fatalf("row %v has %d values for %d columns", r, len(r), len(res.Columns))
					}
				}
			})
		}
	}
}

func ptr(t time.Time) *time.Time { return &t }

// TestStagnationAndNames checks the stagnation list order and the user/team name joins.
func TestStagnationAndNames(t *testing.T) {
	f := newFixture(t)
	seedSales(t, f)
	ctx := context.Background()
	run := func(js string) *report.Result {
		t.Helper()
		res, err := f.Engine.Run(ctx, f.App, mustReport(t, js), report.Params{Now: hours(200), Locale: "en"}, access.All())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := run(`{"slug":"r","entity":"lead","kind":"stagnation","params":{"days":7}}`)
	var titles []any
	for _, r := range res.Rows {
		titles = append(titles, r[1], r[2], r[3])
	}
	if b, _ := json.Marshal(titles); string(b) != `["A3","new","Alice","B1","contacted","Bob","A2","proposal","Alice"]` {
		t.Errorf("stagnation rows %s", b)
	}
	// Sorted by owner name, then by days (longest first), and with a limit below the matches.
	res = run(`{"slug":"r","entity":"lead","kind":"stagnation","params":{"days":7},"sort":["-owner_name","-days"]}`)
	titles = nil
	for _, r := range res.Rows {
		titles = append(titles, r[1], r[3])
	}
	if b, _ := json.Marshal(titles); string(b) != `["B1","Bob","A3","Alice","A2","Alice"]` {
		t.Errorf("stagnation sorted by owner and days %s", b)
	}
	res = run(`{"slug":"r","entity":"lead","kind":"stagnation","params":{"days":7},"sort":["-days"],"limit":1}`)
	if len(res.Rows) != 1 || res.Rows[0][1] != "A3" {
		t.Errorf("longest stagnation: %v", res.Rows)
	}
	res = run(`{"slug":"r","entity":"lead","kind":"stagnation","params":{"days":7,"stage":"proposal"}}`)
	if len(res.Rows) != 1 || res.Rows[0][1] != "A2" || res.Rows[0][5] != 7.5 {
		t.Errorf("stagnation in proposal: %v", res.Rows)
	}
	// Dwell heatmap with the longest current stay per cell (open stays only, terminal stages excluded).
	res = run(`{"slug":"r","entity":"lead","kind":"dwell","dimensions":[{"field":"office"}],"params":{"stuck":2}}`)
	var cells []string
	for _, r := range res.Rows {
		var titles []string
		if list, ok := r[len(r)-1].([]any); ok {
			for _, it := range list {
				m := it.(map[string]any)
				titles = append(titles, fmt.Sprintf("%s:%v", m["title"], m["hours"]))
			}
		}
		cells = append(cells, fmt.Sprintf("%s/%s=%s", r[0], r[1], strings.Join(titles, ",")))
	}
	if got := strings.Join(cells, " "); got != "上海/new=A3:198 上海/contacted=B1:187 北京/new= 北京/contacted= 北京/proposal=A2:179" {
		t.Errorf("stuck cells %s", got)
	}
	res = run(`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"owner_id"},{"field":"team_id"}],"measures":[{"agg":"count"}],"sort":["owner_id_name"]}`)
	want := [][]any{{f.Alice.String(), "Alice", f.TeamA.String(), "华东", int64(4)}, {f.Bob.String(), "Bob", f.TeamB.String(), "华南", int64(2)}}
	if b1, b2 := mustJSON(res.Rows), mustJSON(want); b1 != b2 {
		t.Errorf("owner/team rows %s, want %s", b1, b2)
	}
	if res.Columns[4].Label != "Count" {
		t.Errorf("en label %q", res.Columns[4].Label)
	}
	res = run(`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"rep"}],"measures":[{"agg":"count"}],"filters":{"rep":{"is_empty":false}}}`)
	if b1, b2 := mustJSON(res.Rows), mustJSON([][]any{{f.Alice.String(), "Alice", 2}}); b1 != b2 {
		t.Errorf("user field rows %s, want %s", b1, b2)
	}
	res = run(`{"slug":"r","entity":"lead","kind":"penetration","dimensions":[{"field":"team_id"}],"sort":["team_id_name"],"params":{"from_stage":"contacted","to_stage":"won","hours":120}}`)
	// Team A: A1 (contacted at 10h, won at 100h: yes), A4 (contacted, then lost: no). Team B: B1 (no), B2 (won after 100h: yes).
	if b1, b2 := mustJSON(res.Rows), mustJSON([][]any{{f.TeamA.String(), "华东", 2, 1, 50}, {f.TeamB.String(), "华南", 2, 1, 50}}); b1 != b2 {
		t.Errorf("penetration by team %s, want %s", b1, b2)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestValidate checks that bad definitions answer field errors with paths.
func TestValidate(t *testing.T) {
	ent := mustEntity(t)
	cases := []struct {
		report string
		field  string
		code   string
	}{
		{`{"slug":"r","entity":"lead","kind":"nope"}`, "kind", "unknown_kind"},
		{`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"nope"}]}`, "dimensions[0].field", "unknown_field"},
		{`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"tags"}]}`, "dimensions[0].field", "unsupported"},
		{`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"channel","bucket":"week"}]}`, "dimensions[0].bucket", "invalid"},
		{`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"created_at","bucket":"fortnight"}]}`, "dimensions[0].bucket", "invalid"},
		{`{"slug":"r","entity":"lead","kind":"pivot","measures":[{"agg":"sum","field":"channel"}]}`, "measures[0].field", "not_numeric"},
		{`{"slug":"r","entity":"lead","kind":"pivot","measures":[{"agg":"sum"}]}`, "measures[0].field", "required"},
		{`{"slug":"r","entity":"lead","kind":"pivot","measures":[{"agg":"stddev","field":"amount"}]}`, "measures[0].agg", "invalid"},
		{`{"slug":"r","entity":"lead","kind":"pivot","sort":["-nope"]}`, "sort[0]", "unknown_column"},
		{`{"slug":"r","entity":"lead","kind":"pivot","filters":{"nope":{"eq":1}}}`, "filters.nope", "unknown_field"},
		{`{"slug":"r","entity":"lead","kind":"pivot","limit":1000000}`, "limit", "out_of_range"},
		{`{"slug":"r","entity":"lead","kind":"compare"}`, "compare", "required"},
		{`{"slug":"r","entity":"lead","kind":"compare","compare":{"period":"decade"}}`, "compare.period", "invalid"},
		{`{"slug":"r","entity":"lead","kind":"compare","compare":{"period":"week","field":"channel"}}`, "compare.field", "not_date"},
		{`{"slug":"r","entity":"lead","kind":"funnel","params":{"stages":["new","nope"]}}`, "params.stages[1]", "unknown_stage"},
		{`{"slug":"r","entity":"lead","kind":"funnel","params":{"bogus":1}}`, "params.bogus", "unknown_field"},
		{`{"slug":"r","entity":"lead","kind":"funnel","params":{"field":"amount"}}`, "params.field", "invalid"},
		{`{"slug":"r","entity":"lead","kind":"penetration","params":{"from_stage":"new"}}`, "params.to_stage", "unknown_stage"},
		{`{"slug":"r","entity":"lead","kind":"stagnation","params":{"stage":"zzz"}}`, "params.stage", "unknown_stage"},
		{`{"slug":"r","entity":"lead","kind":"forecast","params":{"amount":"channel"}}`, "params.amount", "not_numeric"},
		{`{"slug":"r","entity":"other","kind":"pivot"}`, "entity", "mismatch"},
		{`{"slug":"r","entity":"lead","kind":"pivot","measures":[{"agg":"rate"}]}`, "measures[0].filter", "required"},
		{`{"slug":"r","entity":"lead","kind":"pivot","measures":[{"agg":"count","filter":{"nope":1}}]}`, "measures[0].filter.nope", "unknown_field"},
		{`{"slug":"r","entity":"lead","kind":"pivot","measures":[{"agg":"count","key":"Bad Key"}]}`, "measures[0].key", "invalid"},
		{`{"slug":"r","entity":"lead","kind":"pivot","measures":[{"agg":"count"},{"agg":"rate","filter":{"vip":true},"key":"count"}]}`, "measures[1]", "duplicate"},
		{`{"slug":"r","entity":"lead","kind":"stagnation","params":{"days":-1}}`, "params.days", "out_of_range"},
		{`{"slug":"r","entity":"lead","kind":"penetration","params":{"from_stage":"new","to_stage":"won","hours":-5}}`, "params.hours", "out_of_range"},
		{`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"},{"field":"channel"}]}`, "dimensions[1]", "duplicate"},
		{`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"}],"measures":[{"agg":"count","key":"channel"}]}`, "dimensions[0]", "duplicate_column"},
		{`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"created_at"}],"measures":[{"agg":"count","key":"created_at_day"}]}`, "dimensions[0]", "duplicate_column"},
		{`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[` + repeatJSON(`{"field":"channel"}`, report.MaxDimensions+1) + `]}`, "dimensions", "too_many"},
		{`{"slug":"r","entity":"lead","kind":"pivot","measures":[` + repeatJSON(`{"agg":"count"}`, report.MaxMeasures+1) + `]}`, "measures", "too_many"},
	}
	for _, tc := range cases {
		errs := report.Validate(mustReport(t, tc.report), ent)
		found := false
		for _, e := range errs {
			if e.Field == tc.field && e.Code == tc.code {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: errors %v, want %s/%s", tc.report, errs, tc.field, tc.code)
		}
	}
	if errs := report.Validate(mustReport(t, `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"stage"},{"field":"created_at","bucket":"month"}],"measures":[{"agg":"median","field":"amount"}]}`), ent); errs != nil {
		t.Errorf("valid report: %v", errs)
	}
}

func repeatJSON(item string, n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = item
	}
	return strings.Join(items, ",")
}

// TestLocaleLabels: labels are English for any English locale and Chinese otherwise, never a
// mix; the id column of a user dimension is told apart from its name column.
func TestLocaleLabels(t *testing.T) {
	ent := mustEntity(t)
	app := &defs.App{Slug: "crm"}
	rep := mustReport(t, `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"owner_id"}],"measures":[{"agg":"sum","field":"amount"}]}`)
	cases := []struct {
		locale string
		labels string
	}{
		{"", `["负责人 ID","负责人","金额合计"]`},
		{"zh-CN", `["负责人 ID","负责人","金额合计"]`},
		{"fr", `["负责人 ID","负责人","金额合计"]`},
		{"en", `["Owner ID","Owner","Sum of Amount"]`},
		{"en-US", `["Owner ID","Owner","Sum of Amount"]`},
	}
	for _, tc := range cases {
		q, err := report.Compile(app, ent, rep, report.Params{Locale: tc.locale}, access.All())
		if err != nil {
			t.Fatalf("%q: %v", tc.locale, err)
		}
		var labels []string
		for _, c := range q.Columns {
			labels = append(labels, c.Label)
		}
		if got, _ := json.Marshal(labels); string(got) != tc.labels {
			t.Errorf("locale %q: labels %s, want %s", tc.locale, got, tc.labels)
		}
	}
}

// TestHiddenFields: a field hidden from the caller behaves like an unknown field everywhere.
func TestHiddenFields(t *testing.T) {
	f := newFixture(t)
	seedSales(t, f)
	g := access.Grant{Scope: access.ScopeOwn, Owner: f.Alice, Hidden: map[string]bool{"cost": true, "amount": true}}
	for _, js := range []string{
		`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"amount"}]}`,
		`{"slug":"r","entity":"lead","kind":"pivot","measures":[{"agg":"sum","field":"cost"}]}`,
		`{"slug":"r","entity":"lead","kind":"pivot","filters":{"amount":{"gt":0}}}`,
		`{"slug":"r","entity":"lead","kind":"forecast","params":{"amount":"amount"}}`,
	} {
		_, err := f.Engine.Run(context.Background(), f.App, mustReport(t, js), report.Params{}, g)
		var fe spec.Errors
		if !errors.As(err, &fe) || fe[0].Code != "unknown_field" {
			t.Errorf("%s: err %v, want unknown_field", js, err)
		}
	}
	// The same reports work for a caller who sees the fields.
	if _, err := f.Engine.Run(context.Background(), f.App, mustReport(t, `{"slug":"r","entity":"lead","kind":"pivot","measures":[{"agg":"sum","field":"cost"}]}`), report.Params{}, access.All()); err != nil {
		t.Fatal(err)
	}
}

// TestPenetrationEntryTime: entering stage A is timed from the move into A, not from the
// record's creation in another stage (the creation stage event [null, B] must not count as A).
func TestPenetrationEntryTime(t *testing.T) {
	f := newFixture(t)
	f.insert(t, rec{data: map[string]any{"name": "x", "stage": "contacted"}, owner: f.Alice, created: hours(0), moves: []move{
		{hours(10), "contacted", "new"}, {hours(20), "new", "contacted"}}})
	for _, tc := range []struct {
		hours float64
		want  string
	}{{5, `[[1,0,0]]`}, {12, `[[1,1,100]]`}} {
		rep := mustReport(t, fmt.Sprintf(`{"slug":"r","entity":"lead","kind":"penetration","params":{"from_stage":"new","to_stage":"contacted","hours":%g}}`, tc.hours))
		res, err := f.Engine.Run(context.Background(), f.App, rep, report.Params{Now: hours(100)}, access.All())
		if err != nil {
			t.Fatal(err)
		}
		if got := rowsJSON(t, res); got != tc.want {
			t.Errorf("within %gh: %s, want %s", tc.hours, got, tc.want)
		}
	}
}

// TestTimeout: a query over the statement timeout answers ErrTimeout.
func TestTimeout(t *testing.T) {
	f := newFixture(t)
	seedSales(t, f)
	f.Engine.StatementTimeout = time.Millisecond
	q := &report.Query{SQL: "SELECT pg_sleep(1)"}
	err := f.Engine.Stream(context.Background(), q, func([]any) error { return nil })
	if !errors.Is(err, report.ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
}

// TestOptionLabels: columns holding a select field's values or the stages carry the options'
// labels in the answer's language (rows keep the values); stage names in column labels are the
// stages' labels.
func TestOptionLabels(t *testing.T) {
	var ent spec.Entity
	if err := spec.DecodeInto([]byte(`{"slug":"deal","fields":[
		{"key":"office","type":"select","options":[{"value":"sh","label":{"en":"Shanghai","zh-CN":"上海"}},"bj"]},
		{"key":"channel","type":"select","options":["web","phone"]},
		{"key":"stage","type":"select","options":[{"value":"new","label":{"en":"New","zh-CN":"新商机"}},{"value":"won","label":{"en":"Won","zh-CN":"已赢单"}}]}],
		"stages":{"field":"stage","order":["new","won"],"terminal":["won"]}}`), &ent); err != nil {
		t.Fatal(err)
	}
	app := &defs.App{Slug: "crm"}
	cases := []struct {
		report, locale string
		want           map[string]string // column key -> options JSON ("" = none)
		labels         string
	}{
		{`{"slug":"r","entity":"deal","kind":"pivot","dimensions":[{"field":"office"},{"field":"channel"}]}`, "zh-CN",
			map[string]string{"office": `{"bj":"bj","sh":"上海"}`, "channel": "", "count": ""}, ""},
		{`{"slug":"r","entity":"deal","kind":"funnel","dimensions":[{"field":"office"}]}`, "en",
			map[string]string{"office": `{"bj":"bj","sh":"Shanghai"}`, "stage": `{"new":"New","won":"Won"}`}, ""},
		{`{"slug":"r","entity":"deal","kind":"dwell"}`, "zh-CN", map[string]string{"stage": `{"new":"新商机","won":"已赢单"}`}, ""},
		{`{"slug":"r","entity":"deal","kind":"penetration","params":{"from_stage":"new","to_stage":"won","hours":48}}`, "zh-CN",
			map[string]string{}, `["进入新商机","48小时内进入已赢单","渗透率%"]`},
		{`{"slug":"r","entity":"deal","kind":"cycle","params":{"to_stage":"won"}}`, "en", map[string]string{}, `["Records","Reached Won","Reached %","Average days","Median days"]`},
	}
	for _, tc := range cases {
		q, err := report.Compile(app, &ent, mustReport(t, tc.report), report.Params{Locale: tc.locale}, access.All())
		if err != nil {
			t.Fatalf("%s: %v", tc.report, err)
		}
		var labels []string
		for _, c := range q.Columns {
			labels = append(labels, c.Label)
			want, ok := tc.want[c.Key]
			if !ok {
				continue
			}
			got := ""
			if c.Options != nil {
				b, _ := json.Marshal(c.Options)
				got = string(b)
			}
			if got != want {
				t.Errorf("%s: column %s options %s, want %s", tc.report, c.Key, got, want)
			}
		}
		if tc.labels != "" {
			if got, _ := json.Marshal(labels); string(got) != tc.labels {
				t.Errorf("%s: labels %s, want %s", tc.report, got, tc.labels)
			}
		}
	}
}

// TestRateColumnIsPercent: a rate measure's column is typed percent, like the funnel's rates.
func TestRateColumnIsPercent(t *testing.T) {
	ent := mustEntity(t)
	rep := mustReport(t, `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"}],"measures":[{"agg":"rate","filter":{"stage":{"eq":"won"}}},{"agg":"count"}]}`)
	q, err := report.Compile(&defs.App{Slug: "crm"}, ent, rep, report.Params{}, access.All())
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, c := range q.Columns {
		types[c.Key] = c.Type
	}
	if types["rate"] != "percent" || types["count"] != "number" {
		t.Fatalf("column types %v", types)
	}
}
