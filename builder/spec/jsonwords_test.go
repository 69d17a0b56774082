package spec

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestJSONTypeWords: Go types are named by what they look like in JSON, in English and Chinese.
func TestJSONTypeWords(t *testing.T) {
	var anyVal any
	tests := []struct {
		name   string
		t      reflect.Type
		en, zh string
	}{
		{"string", reflect.TypeOf(""), "a string", "字符串"},
		{"bool", reflect.TypeOf(true), "true or false", "true 或 false"},
		{"int", reflect.TypeOf(0), "a whole number", "整数"},
		{"uint8", reflect.TypeOf(uint8(0)), "a whole number", "整数"},
		{"float", reflect.TypeOf(1.5), "a number", "数字"},
		{"slice of structs", reflect.TypeOf([]Dimension{}), "a list", "列表"},
		{"slice of strings", reflect.TypeOf([]string{}), "a list", "列表"},
		{"array", reflect.TypeOf([2]int{}), "a list", "列表"},
		{"struct", reflect.TypeOf(Report{}), "an object", "对象"},
		{"pointer to struct", reflect.TypeOf(&Compare{}), "an object", "对象"},
		{"map", reflect.TypeOf(map[string]int{}), "an object", "对象"},
		{"raw message", reflect.TypeOf(json.RawMessage{}), "a value", "值"},
		{"interface", reflect.TypeOf(&anyVal).Elem(), "a value", "值"},
		{"own UnmarshalJSON", reflect.TypeOf(Label{}), "a value", "值"},
		{"text unmarshaler", reflect.TypeOf(time.Time{}), "a string", "字符串"},
		{"nil", nil, "a value", "值"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			en, zh := jsonTypeWords(tc.t)
			if en != tc.en || zh != tc.zh {
				t.Errorf("jsonTypeWords(%v) = %q, %q; want %q, %q", tc.t, en, zh, tc.en, tc.zh)
			}
		})
	}
}

// TestDecodeTypeErrors: a value of the wrong JSON type answers invalid_type at its path with a
// message in JSON words (no Go type names), English then Chinese.
func TestDecodeTypeErrors(t *testing.T) {
	tests := []struct {
		name, body  string
		field, want string
	}{
		{"object for a list", `{"slug":"r","dimensions":{"field":"stage"}}`, "dimensions", "expected a list, got an object (应为列表，实际为对象)"},
		{"object for a string", `{"slug":{"a":1}}`, "slug", "expected a string, got an object (应为字符串，实际为对象)"},
		{"string for a whole number", `{"slug":"r","limit":"ten"}`, "limit", "expected a whole number, got a string (应为整数，实际为字符串)"},
		{"fraction for a whole number", `{"slug":"r","limit":1.5}`, "limit", "expected a whole number, got the number 1.5 (应为整数，实际为数字 1.5)"},
		{"number for a list of strings", `{"slug":"r","sort":7}`, "sort", "expected a list, got a number (应为列表，实际为数字)"},
		{"bool for a string in a list", `{"slug":"r","sort":[true]}`, "sort", "expected a string, got true or false (应为字符串，实际为 true 或 false)"},
		{"list for an object", `{"slug":"r","compare":[1]}`, "compare", "expected an object, got a list (应为对象，实际为列表)"},
		{"list for the whole definition", `[1,2]`, "$", "expected an object, got a list (应为对象，实际为列表)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rep Report
			err := DecodeInto([]byte(tc.body), &rep)
			var fe Errors
			if !errors.As(err, &fe) || len(fe) != 1 {
				t.Fatalf("DecodeInto: %v, want one field error", err)
			}
			if fe[0].Code != "invalid_type" || fe[0].Message != tc.want || fe[0].Field != tc.field {
				t.Errorf("got %+v, want field %s, invalid_type, %q", fe[0], tc.field, tc.want)
			}
			if strings.Contains(fe[0].Message, "spec.") || strings.Contains(fe[0].Message, "[]") {
				t.Errorf("message names a Go type: %q", fe[0].Message)
			}
		})
	}
}
