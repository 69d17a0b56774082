package pgtext

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestJSONPath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		path string
		bad  bool
	}{
		{`{"name":"ok","n":1,"a":[1,"x",{"b":null}]}`, "", false},
		{`"a\u0000"`, "$", true},
		{`{"name":"a\u0000"}`, "name", true},
		{`{"a":{"b":[1,2,"x\u0000y"]}}`, "a.b[2]", true},
		{`[{"x":1},{"y":"\u0000"}]`, "[1].y", true},
		{`{"k\u0000":1}`, "k", true},
		{`{"a":"\\u0000"}`, "", false}, // an escaped backslash, then the text u0000
		{`{"a":"\ud83d\ude00"}`, "", false},
		{`{"a":"\ud83d"}`, "a", true},
		{`{"a":"x\ude00"}`, "a", true},
		{"{\"a\":[\"ok\",\"\xff\"]}", "a[1]", true},
		{`{"after":1,"z":{"q":"\u0000"}}`, "z.q", true},
		{`not json \u0000`, "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p, bad := JSONPath([]byte(tc.in))
			if bad != tc.bad || p != tc.path {
				t.Fatalf("JSONPath(%q) = %q, %v; want %q, %v", tc.in, p, bad, tc.path, tc.bad)
			}
		})
	}
}

func TestCleanJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":"x\u0000"}`:           `{"a":"x\ufffd"}`,
		`{"a":"\\u0000"}`:           `{"a":"\\u0000"}`,
		`["\ud83d\ude00","\ud83d"]`: `["\ud83d\ude00","\ufffd"]`,
	} {
		if got := string(CleanJSON([]byte(in))); got != want {
			t.Errorf("CleanJSON(%s) = %s, want %s", in, got, want)
		}
		if _, bad := JSONPath(CleanJSON([]byte(in))); bad {
			t.Errorf("CleanJSON(%s) is still refused", in)
		}
	}
}

func TestIsDataException(t *testing.T) {
	for code, want := range map[string]bool{"22P05": true, "22021": true, "23505": false, "40001": false} {
		err := fmt.Errorf("saving: %w", &pgconn.PgError{Code: code})
		if IsDataException(err) != want {
			t.Errorf("IsDataException(%s) != %v", code, want)
		}
	}
	if IsDataException(errors.New("SQLSTATE 22P05")) {
		t.Error("a plain error is not a data exception")
	}
}
