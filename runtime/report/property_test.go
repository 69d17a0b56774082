package report_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/report"
)

// refRecord is a record as the Go reference computation sees it.
type refRecord struct {
	owner   uuid.UUID
	created time.Time
	stage   *string
	channel *string
	amount  *float64
	score   *float64
	vip     *bool
	closed  *string
}

// refDim computes a dimension value (one or two output columns) of a record.
type refDim struct {
	spec string
	vals func(r refRecord) []any
}

type refMeasure struct {
	spec string
	agg  func(rs []refRecord) any
}

type refFilter struct {
	json string
	keep func(r refRecord) bool
}

func floats(rs []refRecord, get func(refRecord) *float64) []float64 {
	var out []float64
	for _, r := range rs {
		if v := get(r); v != nil {
			out = append(out, *v)
		}
	}
	return out
}

// TestPivotMatchesReference: for random pivot definitions (dimensions, measures, filters, row
// scope) the SQL path and a plain Go computation over the same records agree.
func TestPivotMatchesReference(t *testing.T) {
	f := newFixture(t)
	rng := rand.New(rand.NewPCG(7, 11))
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	names := map[uuid.UUID]string{f.Alice: "Alice", f.Bob: "Bob"}
	stages := []string{"new", "contacted", "proposal", "won"}
	channels := []string{"web", "sem", "expo"}
	var recs []refRecord
	for i := 0; i < 160; i++ {
		r := refRecord{owner: []uuid.UUID{f.Alice, f.Bob}[rng.IntN(2)], created: T0.Add(-time.Duration(rng.IntN(60*24)) * time.Hour)}
		data := map[string]any{"name": fmt.Sprintf("r%d", i)}
		if rng.IntN(10) > 0 {
			s := stages[rng.IntN(len(stages))]
			r.stage, data["stage"] = &s, s
		}
		if rng.IntN(6) > 0 {
			c := channels[rng.IntN(len(channels))]
			r.channel, data["channel"] = &c, c
		}
		if rng.IntN(5) > 0 {
			a := float64(rng.IntN(2000)) + float64(rng.IntN(2))*0.5
			r.amount, data["amount"] = &a, a
		}
		if rng.IntN(4) > 0 {
			s := float64(rng.IntN(10))
			r.score, data["score"] = &s, s
		}
		if rng.IntN(3) > 0 {
			v := rng.IntN(2) == 0
			r.vip, data["vip"] = &v, v
		}
		if rng.IntN(2) > 0 {
			d := T0.AddDate(0, 0, -rng.IntN(90)).In(shanghai).Format("2006-01-02")
			r.closed, data["closed"] = &d, d
		}
		f.insert(t, rec{data: data, owner: r.owner, created: r.created})
		recs = append(recs, r)
	}
	strp := func(p *string) any {
		if p == nil {
			return nil
		}
		return *p
	}
	week := func(t time.Time) string {
		t = t.In(shanghai)
		wd := (int(t.Weekday()) + 6) % 7
		return time.Date(t.Year(), t.Month(), t.Day()-wd, 0, 0, 0, 0, shanghai).Format("2006-01-02")
	}
	dims := []refDim{
		{`{"field":"stage"}`, func(r refRecord) []any { return []any{strp(r.stage)} }},
		{`{"field":"channel"}`, func(r refRecord) []any { return []any{strp(r.channel)} }},
		{`{"field":"vip"}`, func(r refRecord) []any {
			if r.vip == nil {
				return []any{nil}
			}
			return []any{*r.vip}
		}},
		{`{"field":"owner_id"}`, func(r refRecord) []any { return []any{r.owner.String(), names[r.owner]} }},
		{`{"field":"created_at","bucket":"day"}`, func(r refRecord) []any { return []any{r.created.In(shanghai).Format("2006-01-02")} }},
		{`{"field":"created_at","bucket":"week"}`, func(r refRecord) []any { return []any{week(r.created)} }},
		{`{"field":"created_at","bucket":"month"}`, func(r refRecord) []any { return []any{r.created.In(shanghai).Format("2006-01")} }},
		{`{"field":"closed","bucket":"month"}`, func(r refRecord) []any {
			if r.closed == nil {
				return []any{nil}
			}
			return []any{(*r.closed)[:7]}
		}},
	}
	amount := func(r refRecord) *float64 { return r.amount }
	score := func(r refRecord) *float64 { return r.score }
	measures := []refMeasure{
		{`{"agg":"count"}`, func(rs []refRecord) any { return float64(len(rs)) }},
		{`{"agg":"count_distinct","field":"channel"}`, func(rs []refRecord) any {
			seen := map[string]bool{}
			for _, r := range rs {
				if r.channel != nil {
					seen[*r.channel] = true
				}
			}
			return float64(len(seen))
		}},
		{`{"agg":"sum","field":"amount"}`, func(rs []refRecord) any {
			v := floats(rs, amount)
			if len(v) == 0 {
				return nil
			}
			s := 0.0
			for _, x := range v {
				s += x
			}
			return s
		}},
		{`{"agg":"avg","field":"amount"}`, func(rs []refRecord) any {
			v := floats(rs, amount)
			if len(v) == 0 {
				return nil
			}
			s := 0.0
			for _, x := range v {
				s += x
			}
			return s / float64(len(v))
		}},
		{`{"agg":"min","field":"score"}`, func(rs []refRecord) any {
			v := floats(rs, score)
			if len(v) == 0 {
				return nil
			}
			sort.Float64s(v)
			return v[0]
		}},
		{`{"agg":"max","field":"score"}`, func(rs []refRecord) any {
			v := floats(rs, score)
			if len(v) == 0 {
				return nil
			}
			sort.Float64s(v)
			return v[len(v)-1]
		}},
		{`{"agg":"median","field":"amount"}`, func(rs []refRecord) any {
			v := floats(rs, amount)
			if len(v) == 0 {
				return nil
			}
			sort.Float64s(v)
			n := len(v)
			if n%2 == 1 {
				return v[n/2]
			}
			return (v[n/2-1] + v[n/2]) / 2
		}},
	}
	filters := []refFilter{
		{``, func(refRecord) bool { return true }},
		{`{"amount":{"gte":800}}`, func(r refRecord) bool { return r.amount != nil && *r.amount >= 800 }},
		{`{"stage":{"in":["new","won"]}}`, func(r refRecord) bool { return r.stage != nil && (*r.stage == "new" || *r.stage == "won") }},
		{`{"channel":"web"}`, func(r refRecord) bool { return r.channel != nil && *r.channel == "web" }},
		{`{"or":[{"stage":"contacted"},{"score":{"lt":3}}]}`, func(r refRecord) bool {
			return (r.stage != nil && *r.stage == "contacted") || (r.score != nil && *r.score < 3)
		}},
		{`{"vip":true,"amount":{"lt":1000}}`, func(r refRecord) bool { return r.vip != nil && *r.vip && r.amount != nil && *r.amount < 1000 }},
	}
	ctx := context.Background()
	for iter := 0; iter < 60; iter++ {
		var ds []refDim
		for _, i := range rng.Perm(len(dims))[:rng.IntN(3)] {
			ds = append(ds, dims[i])
		}
		var ms []refMeasure
		for _, i := range rng.Perm(len(measures))[:1+rng.IntN(3)] {
			ms = append(ms, measures[i])
		}
		flt := filters[rng.IntN(len(filters))]
		g := access.All()
		own := rng.IntN(3) == 0
		if own {
			g = access.Grant{Scope: access.ScopeOwn, Owner: f.Alice}
		}
		var dspecs, mspecs []string
		for _, d := range ds {
			dspecs = append(dspecs, d.spec)
		}
		for _, m := range ms {
			mspecs = append(mspecs, m.spec)
		}
		js := fmt.Sprintf(`{"slug":"p","entity":"lead","kind":"pivot","dimensions":[%s],"measures":[%s]`, strings.Join(dspecs, ","), strings.Join(mspecs, ","))
		if flt.json != "" {
			js += `,"filters":` + flt.json
		}
		js += "}"
		res, err := f.Engine.Run(ctx, f.App, mustReport(t, js), report.Params{}, g)
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		// Reference: group the visible, matching records by their dimension values.
		type group struct {
			key  []any
			recs []refRecord
		}
		groups := map[string]*group{}
		for _, r := range recs {
			if (own && r.owner != f.Alice) || !flt.keep(r) {
				continue
			}
			var key []any
			for _, d := range ds {
				key = append(key, d.vals(r)...)
			}
			k := fmt.Sprint(key...)
			if groups[k] == nil {
				groups[k] = &group{key: key}
			}
			groups[k].recs = append(groups[k].recs, r)
		}
		if len(ds) == 0 && len(groups) == 0 {
			groups[""] = &group{} // an aggregate without GROUP BY answers one row
		}
		want := map[string][]any{}
		for k, gr := range groups {
			var vals []any
			for _, m := range ms {
				vals = append(vals, m.agg(gr.recs))
			}
			want[k] = vals
		}
		if len(res.Rows) != len(want) {
			t.Fatalf("%s (own=%v): %d rows, reference has %d", js, own, len(res.Rows), len(want))
		}
		nk := len(res.Columns) - len(ms)
		for _, row := range res.Rows {
			k := fmt.Sprint(row[:nk]...)
			w, ok := want[k]
			if !ok {
				t.Fatalf("%s: row %v not in the reference", js, row)
			}
			for i, v := range row[nk:] {
				if !sameNumber(v, w[i]) {
					t.Fatalf("%s (own=%v): group %s measure %s = %v, reference %v", js, own, k, mspecs[i], v, w[i])
				}
			}
		}
	}
}

func sameNumber(got, want any) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	var g float64
	switch x := got.(type) {
	case int64:
		g = float64(x)
	case float64:
		g = x
	default:
		b, _ := json.Marshal(x)
		return string(b) == fmt.Sprint(want)
	}
	w := want.(float64)
	return math.Abs(g-w) <= 1e-6*math.Max(1, math.Abs(w))
}
