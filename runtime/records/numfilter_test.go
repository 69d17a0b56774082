package records_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/filter"
	"github.com/tessera/tessera/runtime/records"
)

// TestNumericFilterPrefilter: a numeric comparison is tested as a jsonpath on the record's
// data first (filter's prefilter); the rows it answers are still exactly the rows whose value
// is a JSON number satisfying the comparison, whatever else the field holds.
func TestNumericFilterPrefilter(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	values := map[string]string{ // name → the amount's JSON (none: no amount)
		"n-5": `-5`, "n0": `0`, "n0.1": `0.1`, "n900": `900`, "n900.5": `900.5`, "n1000": `1000`, "n1e21": `1e21`,
		"text950": `"950"`, "true": `true`, "list": `[1000]`, "object": `{"v": 1000}`, "null": `null`, "none": ``,
	}
	num := map[string]float64{"n-5": -5, "n0": 0, "n0.1": 0.1, "n900": 900, "n900.5": 900.5, "n1000": 1000, "n1e21": 1e21}
	for name, v := range values {
		data := fmt.Sprintf(`{"name": %q}`, name)
		if v != "" {
			data = fmt.Sprintf(`{"name": %q, "amount": %s}`, name, v)
		}
		if _, err := e.d.Pool.Exec(ctx, `INSERT INTO records (app_id, entity, data) VALUES ($1, 'lead', $2::jsonb)`, e.app.ID, data); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		filter string
		want   func(x float64) bool
	}{
		{`{"amount": {"gt": 900}}`, func(x float64) bool { return x > 900 }},
		{`{"amount": {"gte": "900"}}`, func(x float64) bool { return x >= 900 }},
		{`{"amount": {"lt": 0.1}}`, func(x float64) bool { return x < 0.1 }},
		{`{"amount": {"lte": -5}}`, func(x float64) bool { return x <= -5 }},
		{`{"amount": {"eq": 900.5}}`, func(x float64) bool { return x == 900.5 }},
		{`{"amount": {"eq": 1e21}}`, func(x float64) bool { return x == 1e21 }},
		{`{"amount": {"between": [0, 900]}}`, func(x float64) bool { return x >= 0 && x <= 900 }},
		{`{"amount": {"gt": "0.09999999999999999999"}}`, func(x float64) bool { return x >= 0.1 }}, // more digits than a float64
		{`{"not": {"amount": {"gt": 900}}}`, func(x float64) bool { return !(x > 900) }},           // non-numbers stay out (NULL)
		{`{"not": {"or": [{"amount": {"lt": 0}}, {"not": {"amount": {"eq": 0}}}]}}`, func(x float64) bool { return !(x < 0 || x != 0) }},
		{`{"amount": {"gt": "+900"}}`, func(x float64) bool { return x > 900 }}, // a number, but not JSON's: no prefilter
	}
	for _, c := range cases {
		t.Run(c.filter, func(t *testing.T) {
			page, err := e.store.List(ctx, e.app, "lead", records.ListQuery{Filter: json.RawMessage(c.filter), Limit: 100}, access.All())
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, r := range page.Items {
				got = append(got, r.Data["name"].(string))
			}
			for name, x := range num {
				if c.want(x) {
					want = append(want, name)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
	// the comparison is behind the jsonpath test, and keeps its own expression (for indexes)
	ent, _, err := defs.New(e.d.Pool).Entity(ctx, e.app.ID, "lead")
	if err != nil {
		t.Fatal(err)
	}
	var args []any
	sql, err := filter.Compile(json.RawMessage(`{"amount": {"gt": 900}}`), ent, nil, "r", &args)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sql, "r.data @? $2::jsonpath AND tessera_num(r.data->'amount') > $1::numeric") || args[1] != `strict $."amount" ? (@ > 900)` {
		t.Fatalf("%s %v", sql, args)
	}
}
