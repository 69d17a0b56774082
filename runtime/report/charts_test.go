package report_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/report"
)

// TestChartComputations checks what the report charts ask of the server on the sales fixture
// (seedSales: now is 2026-03-10 20:00 in Shanghai; four leads created on 2026-03-02, two on
// 2026-02-24, one deleted): KPI cards against the previous period with the same filter
// shifted, pivot tables with subtotals, threshold flags of heatmaps and a dashboard's global
// filter narrowed to the widget's entity.
func TestChartComputations(t *testing.T) {
	f := newFixture(t)
	seedSales(t, f)
	now := hours(200)
	kpi := func(filters string, measures string) string {
		return `{"slug":"r","entity":"lead","kind":"kpi","measures":` + measures + `,"filters":` + filters + `,"compare":{"period":"previous"}}`
	}
	cases := []struct {
		name   string
		report string
		params report.Params
		cols   string
		rows   string
	}{
		// previous-period KPI: the relative period in the filter is shifted back by its length
		{name: "kpi this month against last month", report: kpi(`{"created_at":{"period":"this_month"}}`, `[{"agg":"count"},{"agg":"sum","field":"amount"}]`),
			cols: `["count","count_prev","count_change","count_change_pct","sum_amount","sum_amount_prev","sum_amount_change","sum_amount_change_pct"]`,
			rows: `[[4,2,2,100,6500,4700,1800,38.3]]`},
		{name: "kpi keeps the rest of the filter for both periods", report: kpi(`{"channel":"web","created_at":{"period":"this_month"}}`, `[{"agg":"count"}]`),
			rows: `[[2,0,2,null]]`},
		{name: "kpi period inside an and group", report: kpi(`{"and":[{"created_at":{"period":"this_month"}},{"channel":{"in":["sem","expo"]}}]}`, `[{"agg":"count"}]`),
			rows: `[[2,2,0,0]]`},
		{name: "kpi last 7 days against the 7 days before", report: kpi(`{"created_at":{"period":"last_7_days"}}`, `[{"agg":"count"}]`),
			rows: `[[0,4,-4,-100]]`},
		{name: "kpi without a range: the last 30 days against the 30 before", report: kpi(`{"channel":{"in":["web","sem","expo"]}}`, `[{"agg":"count"}]`),
			rows: `[[6,0,6,null]]`},
		{name: "kpi date range against the span before", report: kpi(`{}`, `[{"agg":"count"}]`),
			params: report.Params{From: ptr(hours(-12)), To: ptr(hours(12))}, rows: `[[4,0,4,null]]`},
		{name: "kpi two-week range reaches the leads a week before", report: kpi(`{}`, `[{"agg":"count"}]`),
			params: report.Params{From: ptr(hours(-12)), To: ptr(hours(324))}, rows: `[[4,2,2,100]]`},

		// pivot subtotals: each channel's rows, then its subtotal, then the grand total
		{name: "pivot subtotals", report: `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"},{"field":"stage"}],"measures":[{"agg":"count"},{"agg":"sum","field":"amount"}],"params":{"subtotals":true}}`,
			cols: `["channel","stage","count","sum_amount","_grouping"]`,
			rows: `[["expo","lost",1,700,0],["expo","won",1,4000,0],["expo",null,2,4700,1],` +
				`["sem","contacted",1,3000,0],["sem","new",1,500,0],["sem",null,2,3500,1],` +
				`["web","proposal",1,2000,0],["web","won",1,1000,0],["web",null,2,3000,1],[null,null,6,11200,3]]`},
		{name: "pivot subtotals one dimension", report: `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"}],"measures":[{"agg":"count"}],"params":{"subtotals":true}}`,
			rows: `[["expo",2,0],["sem",2,0],["web",2,0],[null,6,1]]`},

		// thresholds: the highest threshold a row is over names its colour
		{name: "thresholds on a measure", report: `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"stage"}],"measures":[{"agg":"sum","field":"amount"}],"params":{"thresholds":[{"over":1000,"color":"orange"},{"over":3000,"color":"red"}]}}`,
			cols: `["stage","sum_amount","_flag"]`,
			rows: `[["contacted",3000,"orange"],["lost",700,null],["new",500,null],["proposal",2000,"orange"],["won",5000,"red"]]`},
		{name: "dwell heatmap thresholds on average hours", report: `{"slug":"r","entity":"lead","kind":"dwell","params":{"thresholds":[{"over":40,"color":"red"},{"over":20,"color":"orange"}]}}`,
			cols: `["stage","stays","avg_hours","median_hours","max_hours","_flag"]`,
			rows: `[["new",5,21.6,20,48,"orange"],["contacted",3,46.67,30,100,"red"],["proposal",1,60,60,60,"red"]]`},
		{name: "funnel thresholds on conversion", report: `{"slug":"r","entity":"lead","kind":"funnel","params":{"thresholds":[{"over":60,"color":"green"}],"threshold_column":"conversion_pct"}}`,
			rows: `[["new",1,6,100,100,"green"],["contacted",2,5,83.33,83.33,"green"],["proposal",3,3,60,50,null],["won",4,2,66.67,33.33,"green"]]`},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.params
			p.Now = now
			res, err := f.Engine.Run(ctx, f.App, mustReport(t, tc.report), p, access.All())
			if err != nil {
				t.Fatal(err)
			}
			if tc.cols != "" {
				if got, _ := json.Marshal(colKeys(res)); string(got) != tc.cols {
					t.Errorf("columns = %s, want %s", got, tc.cols)
				}
			}
			if got := rowsJSON(t, res); tc.rows != "" && got != tc.rows {
				t.Errorf("rows = %s\nwant   %s", got, tc.rows)
			}
		})
	}
	// The pivot column's subtotals: per-column totals, then the grand total.
	t.Run("pivot column totals", func(t *testing.T) {
		res, err := f.Engine.Run(ctx, f.App, mustReport(t, `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"stage"},{"field":"channel"}],"measures":[{"agg":"count"}],"params":{"subtotals":true,"pivot_column":"channel"}}`), report.Params{Now: now}, access.All())
		if err != nil {
			t.Fatal(err)
		}
		got := rowsJSON(t, res)
		for _, want := range []string{`["won","expo",1,0]`, `["won","web",1,0]`, `["won",null,2,1]`, `[null,"expo",2,2]`, `[null,"web",2,2]`, `[null,null,6,3]`} {
			if !strings.Contains(got, want) {
				t.Errorf("rows %s lack %s", got, want)
			}
		}
		if !strings.HasSuffix(got, `[null,null,6,3]]`) {
			t.Errorf("the grand total is not last: %s", got)
		}
	})
}

// TestChartDefinitionErrors: bad chart settings are field errors (422), never a query.
func TestChartDefinitionErrors(t *testing.T) {
	ent := mustEntity(t)
	cases := []struct{ report, field, code string }{
		{`{"slug":"r","entity":"lead","kind":"kpi","compare":{"period":"fortnight"}}`, "compare.period", "invalid"},
		{`{"slug":"r","entity":"lead","kind":"kpi","filters":{"created_at":{"period":"someday"}},"compare":{"period":"previous"}}`, "filters.created_at.period", "invalid_value"},
		{`{"slug":"r","entity":"lead","kind":"pivot","params":{"subtotals":true}}`, "params.subtotals", "needs_dimension"},
		{`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"}],"sort":["-count"],"params":{"subtotals":true}}`, "sort", "unsupported"},
		{`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"}],"params":{"subtotals":true,"pivot_column":"office"}}`, "params.pivot_column", "unknown_field"},
		{`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"}],"params":{"thresholds":[{"over":1,"color":"purple"}]}}`, "params.thresholds[0].color", "invalid"},
		{`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"}],"params":{"thresholds":[{"over":1,"color":"red"}],"threshold_column":"channel"}}`, "params.threshold_column", "invalid"},
		{`{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"channel"}],"params":{"thresholds":[{"over":"high","color":"red"}]}}`, "params.thresholds.over", "invalid_type"},
	}
	for _, tc := range cases {
		t.Run(tc.field+" "+tc.code, func(t *testing.T) {
			errs := report.Validate(mustReport(t, tc.report), ent)
			if !slices.ContainsFunc(errs, func(e spec.FieldError) bool { return e.Field == tc.field && e.Code == tc.code }) {
				t.Fatalf("errors = %v, want %s %s", errs, tc.field, tc.code)
			}
		})
	}
}

// TestGlobalFilter: a dashboard's global filter reaches every widget whose entity has the
// field; conditions on other fields are left out for that widget (and named).
func TestGlobalFilter(t *testing.T) {
	f := newFixture(t)
	seedSales(t, f)
	ent := mustEntity(t)
	cases := []struct {
		name, filter, want string
		ignored            []string
		count              int64
	}{
		{"select field of the entity", `{"office":"北京"}`, `{"office":"北京"}`, nil, 3},
		{"field of another entity is left out", `{"office":"北京","region":"north"}`, `{"office":"北京"}`, []string{"region"}, 3},
		{"owner (a system column)", fmt.Sprintf(`{"owner_id":{"in":[%q]}}`, f.Bob), fmt.Sprintf(`{"owner_id":{"in":[%q]}}`, f.Bob), nil, 2},
		{"and of the dashboard and the viewer's filter", string(report.AndFilters(json.RawMessage(`{"channel":{"in":["web","sem"]},"region":"x"}`), json.RawMessage(`{"created_at":{"gte":"2026-03-01T00:00:00+08:00"}}`))),
			`{"and":[{"channel":{"in":["web","sem"]}},{"created_at":{"gte":"2026-03-01T00:00:00+08:00"}}]}`, []string{"region"}, 4},
		{"only foreign fields: every record", `{"region":"north"}`, `{}`, []string{"region"}, 6},
		{"or groups stay", `{"or":[{"channel":"web"},{"office":"上海"}]}`, `{"or":[{"channel":"web"},{"office":"上海"}]}`, nil, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ignored := report.NarrowFilter(json.RawMessage(tc.filter), ent)
			if string(got) != tc.want {
				t.Errorf("filter = %s, want %s", got, tc.want)
			}
			if !slices.Equal(ignored, tc.ignored) {
				t.Errorf("ignored = %v, want %v", ignored, tc.ignored)
			}
			res, err := f.Engine.Run(context.Background(), f.App, mustReport(t, `{"slug":"r","entity":"lead","kind":"kpi"}`), report.Params{Filter: got, Now: hours(200)}, access.All())
			if err != nil {
				var fe spec.Errors
				errors.As(err, &fe)
				t.Fatalf("run: %v %v", err, fe)
			}
			if n := res.Rows[0][0]; n != tc.count {
				t.Errorf("count = %v, want %d", n, tc.count)
			}
		})
	}
}
