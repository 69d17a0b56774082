package dynjson_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/dynjson"
)

// same fails unless Marshal(v) is json.Marshal(v), output and error alike.
func same(t *testing.T, v any) {
	t.Helper()
	want, werr := json.Marshal(v)
	got, gerr := dynjson.Marshal(v)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%#v: error %v, encoding/json's %v", v, gerr, werr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%#v:\n got %s\nwant %s", v, got, want)
	}
}

var edgeStrings = []string{"", "plain", "上海 客户", `quote " and \ backslash`, "<script>&amp;</script>",
	"\x00\x01\x1f\b\f\n\r\t", "\x7f", "bad \xff utf-8 \xc3", "line\u2028para\u2029", "emoji 😀", "\xed\xa0\x80 surrogate"}

var edgeFloats = []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1.5, 100, 1e20, 1e21, 123456789e13, 1e-6, 9.99e-7, 1e-7,
	5e-324, math.MaxFloat64, -math.MaxFloat64, 0.30000000000000004, 1e100, 12345.678}

// TestMatchesEncodingJSON: every edge value and nesting encodes as encoding/json encodes it.
func TestMatchesEncodingJSON(t *testing.T) {
	cases := []any{nil, true, false, 42, int64(-7), json.Number("12.50"), json.Number(""), json.Number("1e5"),
		json.Number("nope"), json.Number("01"), math.NaN(), math.Inf(1),
		map[string]any(nil), []any(nil), []string(nil), map[string]any{}, []any{}, []string{},
		time.Date(2026, 12, 7, 3, 4, 5, 6000, time.UTC), uuid.MustParse("0193a1b2-0000-7000-8000-000000000001"),
		struct{ A int }{1}, []int{1, 2}, map[string]string{"b": "<", "a": "&"}, json.RawMessage(`{"z": 1, "a":[1, 2]}`),
		func() {}, // unsupported: the same error
	}
	for _, s := range edgeStrings {
		cases = append(cases, s, map[string]any{s: s}, []string{s})
	}
	for _, f := range edgeFloats {
		cases = append(cases, f, -f, []any{f})
	}
	cases = append(cases, map[string]any{"b": 1.5, "a": []any{"x", nil, true, map[string]any{"z": json.Number("3"), "y": []string{"q"}}},
		"c": map[string]any{"bad": math.Inf(-1)}})
	for _, v := range cases {
		same(t, v)
	}
}

// TestRandomValues: random nested records encode as encoding/json encodes them.
func TestRandomValues(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		same(t, randomValue(r, 3))
	}
}

func randomValue(r *rand.Rand, depth int) any {
	n := 8
	if depth == 0 {
		n = 6
	}
	switch r.IntN(n) {
	case 0:
		return nil
	case 1:
		return edgeStrings[r.IntN(len(edgeStrings))] + fmt.Sprint(r.IntN(100))
	case 2:
		return r.IntN(2) == 0
	case 3:
		return edgeFloats[r.IntN(len(edgeFloats))] * float64(r.IntN(2000)-1000) / 7
	case 4:
		return json.Number(fmt.Sprint(r.Float64() * 1e6))
	case 5:
		return []string{edgeStrings[r.IntN(len(edgeStrings))], "x"}
	case 6:
		l := make([]any, r.IntN(4))
		for i := range l {
			l[i] = randomValue(r, depth-1)
		}
		return l
	default:
		m := map[string]any{}
		for range r.IntN(6) {
			m[edgeStrings[r.IntN(len(edgeStrings))]+fmt.Sprint(r.IntN(9))] = randomValue(r, depth-1)
		}
		return m
	}
}

// TestCreated: a record's data and its "created" changes are what encoding/json gives for the
// data and for {key: [null, value]}.
func TestCreated(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	datas := []map[string]any{{}, {"name": "客户 <1>", "score": 12.5, "tags": []string{"a"}, "n": nil}}
	for range 500 {
		if m, ok := randomValue(r, 3).(map[string]any); ok {
			datas = append(datas, m)
		}
	}
	for _, data := range datas {
		raw, changes, err := dynjson.Created(data)
		wantRaw, werr := json.Marshal(data)
		if (err == nil) != (werr == nil) {
			t.Fatalf("%#v: error %v, encoding/json's %v", data, err, werr)
		}
		if err != nil {
			continue // an infinity: refused alike
		}
		ch := map[string]any{}
		for k, v := range data {
			ch[k] = []any{nil, v}
		}
		wantCh, _ := json.Marshal(ch)
		if !bytes.Equal(raw, wantRaw) || !bytes.Equal(changes, wantCh) {
			t.Fatalf("%#v:\n got %s %s\nwant %s %s", data, raw, changes, wantRaw, wantCh)
		}
	}
	if _, _, err := dynjson.Created(map[string]any{"x": math.NaN()}); err == nil {
		t.Fatal("NaN encoded")
	}
}

// FuzzString: any string encodes as encoding/json encodes it (`go test -fuzz FuzzString`).
func FuzzString(f *testing.F) {
	for _, s := range edgeStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		same(t, s)
		same(t, map[string]any{s: []any{s, 1.5}})
	})
}

func BenchmarkRecordData(b *testing.B) {
	data := map[string]any{"name": "客户 1234", "email": "c1234@example.com", "company": "某某科技有限公司", "city": "上海",
		"budget": 120000.5, "channel": "web", "need": "想了解一下产品价格和交付周期", "visit": "2026-12-01", "tags": []string{"a", "b"}}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			_, _ = json.Marshal(data)
			ch := make(map[string]any, len(data))
			for k, v := range data {
				ch[k] = []any{nil, v}
			}
			_, _ = json.Marshal(ch)
		}
	})
	b.Run("dynjson.Created", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			_, _, _ = dynjson.Created(data)
		}
	})
}
