package dynjson_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/tessera/tessera/runtime/dynjson"
)

// reference decodes b as encoding/json does: json.Unmarshal, or with UseNumber a Decoder over
// a document json.Valid accepts.
func reference(b []byte, useNumber bool) (any, error) {
	var v any
	if !useNumber {
		err := json.Unmarshal(b, &v)
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil { // the syntax error, if any
		if _, ok := err.(*json.SyntaxError); ok {
			return nil, err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v = nil
	err := dec.Decode(&v)
	return v, err
}

// sameDecode fails unless Unmarshal answers what encoding/json answers, value and error alike.
func sameDecode(t *testing.T, b []byte) {
	t.Helper()
	for _, useNumber := range []bool{false, true} {
		want, werr := reference(b, useNumber)
		got, gerr := dynjson.Unmarshal(b, useNumber)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q (UseNumber %v): error %v, encoding/json's %v", b, useNumber, gerr, werr)
		}
		if werr != nil {
			if gerr.Error() != werr.Error() {
				t.Fatalf("%q (UseNumber %v): error %q, encoding/json's %q", b, useNumber, gerr, werr)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q (UseNumber %v):\n got %#v\nwant %#v", b, useNumber, got, want)
		}
	}
}

var edgeDocs = []string{`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e3`, `-12.50`, `1e400`, `-1e400`, `1e-400`,
	`"plain"`, `"上海"`, `"esc \" \\ \/ \b \f \n \r \t"`, `"\u00e9\u4e0a"`, `"\ud83d\ude00"`, `"\ud800"`, `"\udc00x"`, `"\u12"`,
	`"\x"`, "\"bad \xff\"", "\"tab\there\"", "\"nul \x00\"", ` { "a" : [ 1 , "b" , { "c" : null } ] } `, `{"a":1,"a":2}`,
	`{"a":1}x`, `{"a":1} {"b":2}`, `{"a":}`, `{"a" 1}`, `{a:1}`, `[1,]`, `[1 2]`, `{"a":1,}`, `01`, `1.`, `.5`, `1e`, `-`, `+1`,
	`tru`, `nul`, `"unterminated`, ``, ` `, `{"n":123456789012345678901234567890}`, `{"big":1.7976931348623157e309}`,
	strings.Repeat("[", 300) + strings.Repeat("]", 300), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	`{"name":"r1","score":1,"phone":"13900000000","city":"上海"}`, "\ufeff{}", `{"a":"\u2028"}`}

// TestDecodeMatchesEncodingJSON: every edge document decodes (or fails) as with encoding/json.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, d := range edgeDocs {
		sameDecode(t, []byte(d))
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		b, err := json.Marshal(randomValue(r, 3))
		if err != nil {
			continue
		}
		sameDecode(t, b)
		if len(b) > 2 { // and broken: cut, or a byte changed
			sameDecode(t, b[:r.IntN(len(b))])
			c := bytes.Clone(b)
			const noise = "{}[],:\"\\ 0ae-"
			c[r.IntN(len(c))] = noise[r.IntN(len(noise))]
			sameDecode(t, c)
		}
	}
}

// FuzzDecode: any bytes decode (or fail) as with encoding/json (`go test -fuzz FuzzDecode`).
func FuzzDecode(f *testing.F) {
	for _, d := range edgeDocs {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameDecode(t, b)
	})
}

func BenchmarkDecodeRecordData(b *testing.B) {
	data := []byte(`{"name":"客户 1234","email":"c1234@example.com","company":"某某科技有限公司","city":"上海","budget":120000.5,"channel":"web","need":"想了解一下产品价格和交付周期","visit":"2026-12-01","tags":["a","b"]}`)
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var v map[string]any
			_ = json.Unmarshal(data, &v)
		}
	})
	b.Run("dynjson", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			_, _ = dynjson.Unmarshal(data, false)
		}
	})
}
