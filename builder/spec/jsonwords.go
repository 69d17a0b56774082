package spec

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

var (
	jsonUnmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// jsonTypeWords names what a value of Go type t looks like in JSON, in English and Chinese
// ("a list", "列表"), so decoding errors never show Go type names such as []spec.Dimension.
func jsonTypeWords(t reflect.Type) (en, zh string) {
	if t == nil {
		return "a value", "值"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pt := reflect.PointerTo(t)
	switch {
	case t == rawMessageType:
		return "a value", "值"
	case t.Implements(textUnmarshalerType) || pt.Implements(textUnmarshalerType):
		return "a string", "字符串"
	case t.Implements(jsonUnmarshalerType) || pt.Implements(jsonUnmarshalerType):
		return "a value", "值"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string", "字符串"
	case reflect.Bool:
		return "true or false", "true 或 false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a whole number", "整数"
	case reflect.Float32, reflect.Float64:
		return "a number", "数字"
	case reflect.Slice, reflect.Array:
		return "a list", "列表"
	case reflect.Map, reflect.Struct:
		return "an object", "对象"
	default: // interfaces and anything else JSON can hold
		return "a value", "值"
	}
}

// jsonValueWords names the JSON value an encoding/json UnmarshalTypeError reports ("string",
// "number", "number 1.5", "bool", "array", "object") in English and Chinese.
func jsonValueWords(v string) (en, zh string) {
	switch {
	case v == "string":
		return "a string", "字符串"
	case v == "number":
		return "a number", "数字"
	case strings.HasPrefix(v, "number "):
		n := strings.TrimPrefix(v, "number ")
		return "the number " + n, "数字 " + n
	case v == "bool":
		return "true or false", "true 或 false"
	case v == "array":
		return "a list", "列表"
	case v == "object":
		return "an object", "对象"
	case v == "null":
		return "null", "null"
	default:
		return "JSON " + v, "JSON " + v
	}
}

// typeErrorMessage is the message of an invalid_type decoding error: what the definition
// expects at the path and what the JSON holds, e.g. "expected a list, got an object
// (应为列表，实际为对象)".
func typeErrorMessage(ute *json.UnmarshalTypeError) string {
	wantEn, wantZh := jsonTypeWords(ute.Type)
	gotEn, gotZh := jsonValueWords(ute.Value)
	return fmt.Sprintf("expected %s, got %s (应为%s，实际为%s)", wantEn, gotEn, zhSpaced(wantZh), zhSpaced(gotZh))
}

// zhSpaced puts a space before words that start with a Latin letter, as Chinese text does
// between Chinese and Latin words ("应为 true 或 false").
func zhSpaced(w string) string {
	if w != "" && w[0] < utf8.RuneSelf {
		return " " + w
	}
	return w
}
