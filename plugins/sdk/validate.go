package sdk

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// FieldError is one invalid parameter; the JSON shape matches the API's 422 errors[].
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Validation error codes.
const (
	CodeRequired = "required"
	CodeType     = "type"
	CodeOption   = "option"
	CodeUnknown  = "unknown"
	CodeRange    = "out_of_range"
)

// FieldErrors is a list of FieldError usable as an error.
type FieldErrors []FieldError

// Error joins the field errors into one message.
func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Field + ": " + e.Message
	}
	return "invalid parameters: " + strings.Join(parts, "; ")
}

// IsTemplate reports whether v is a string holding a {{ }} template, whose value is known
// only at run time. Validation at publish accepts templates for any type; at run time the
// host renders templates before calling Prepare.
func IsTemplate(v any) bool {
	s, ok := v.(string)
	return ok && strings.Contains(s, "{{") && strings.Contains(s, "}}")
}

// Visible reports whether p is shown given the other values (its ShowIf rules).
func Visible(p Param, defs []Param, values map[string]any) bool {
	for key, allowed := range p.ShowIf {
		v, ok := values[key]
		if !ok {
			for _, d := range defs {
				if d.Key == key {
					v, ok = d.Default, d.Default != nil
				}
			}
		}
		if !ok {
			return false
		}
		if IsTemplate(v) {
			continue // unknown until run time: treat as visible
		}
		match := false
		for _, a := range allowed {
			if fmt.Sprint(a) == fmt.Sprint(v) {
				match = true
				break
			}
		}
		if !match {
			return false
		}
	}
	return true
}

// ValidateParams checks values against defs: unknown keys, required visible parameters,
// types, select options and number bounds. Template strings ({{ }}) pass every type check.
// Errors are sorted by field.
func ValidateParams(defs []Param, values map[string]any) []FieldError {
	_, errs := prepare(defs, values, false)
	return errs
}

// Prepare validates values against defs and returns a copy with defaults applied and
// values coerced to their declared types: numeric strings to float64, "true"/"false" to
// bool, JSON text to a decoded value for json parameters. Hidden parameters are dropped.
// Call it at run time after templates were rendered.
func Prepare(defs []Param, values map[string]any) (map[string]any, []FieldError) {
	return prepare(defs, values, true)
}

func prepare(defs []Param, values map[string]any, run bool) (map[string]any, []FieldError) {
	var errs []FieldError
	known := make(map[string]bool, len(defs))
	for _, d := range defs {
		known[d.Key] = true
	}
	for k := range values {
		if !known[k] {
			errs = append(errs, FieldError{Field: k, Code: CodeUnknown, Message: "unknown parameter / 未知参数"})
		}
	}
	out := make(map[string]any, len(defs))
	for _, d := range defs {
		if !Visible(d, defs, values) {
			continue
		}
		v, present := values[d.Key]
		if !present || v == nil || v == "" {
			if d.Default != nil {
				out[d.Key] = d.Default
				continue
			}
			if d.Required {
				errs = append(errs, FieldError{Field: d.Key, Code: CodeRequired, Message: "is required / 必填"})
			}
			continue
		}
		if IsTemplate(v) && !run {
			out[d.Key] = v
			continue
		}
		cv, fe := coerce(d, v)
		if fe != nil {
			errs = append(errs, *fe)
			continue
		}
		out[d.Key] = cv
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return out, errs
}

func coerce(d Param, v any) (any, *FieldError) {
	bad := func(code, msg string) *FieldError { return &FieldError{Field: d.Key, Code: code, Message: msg} }
	switch d.Type {
	case TypeString, TypeText, TypeSecret:
		switch x := v.(type) {
		case string:
			return x, nil
		case float64, int, int64, bool, json.Number:
			return fmt.Sprint(x), nil
		}
		return nil, bad(CodeType, "must be a string / 应为字符串")
	case TypeNumber:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case int:
			f = float64(x)
		case int64:
			f = float64(x)
		case json.Number:
			n, err := x.Float64()
			if err != nil {
				return nil, bad(CodeType, "must be a number / 应为数字")
			}
			f = n
		case string:
			n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, bad(CodeType, "must be a number / 应为数字")
			}
			f = n
		default:
			return nil, bad(CodeType, "must be a number / 应为数字")
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, bad(CodeType, "must be a finite number / 应为有限数值")
		}
		if d.Min != nil && f < *d.Min {
			return nil, bad(CodeRange, fmt.Sprintf("must be at least %g / 不能小于 %g", *d.Min, *d.Min))
		}
		if d.Max != nil && f > *d.Max {
			return nil, bad(CodeRange, fmt.Sprintf("must be at most %g / 不能大于 %g", *d.Max, *d.Max))
		}
		return f, nil
	case TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b, nil
			}
		}
		return nil, bad(CodeType, "must be true or false / 应为 true 或 false")
	case TypeSelect:
		s, ok := v.(string)
		if !ok {
			return nil, bad(CodeType, "must be a string / 应为字符串")
		}
		if d.DynamicOptions || len(d.Options) == 0 {
			return s, nil
		}
		for _, o := range d.Options {
			if o.Value == s {
				return s, nil
			}
		}
		vals := make([]string, len(d.Options))
		for i, o := range d.Options {
			vals[i] = o.Value
		}
		return nil, bad(CodeOption, "must be one of "+strings.Join(vals, ", ")+" / 应为以下之一："+strings.Join(vals, ", "))
	case TypeJSON:
		if s, ok := v.(string); ok {
			t := strings.TrimSpace(s)
			if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
				var decoded any
				if err := json.Unmarshal([]byte(t), &decoded); err != nil {
					return nil, bad(CodeType, "must be valid JSON / 应为有效的 JSON: "+err.Error())
				}
				return decoded, nil
			}
		}
		return v, nil
	}
	return nil, bad(CodeType, "has an unknown type "+string(d.Type)+" / 未知的参数类型")
}

// String reads a prepared string parameter ("" when absent).
func String(params map[string]any, key string) string {
	s, _ := params[key].(string)
	return s
}

// Number reads a prepared number parameter (0 when absent).
func Number(params map[string]any, key string) float64 {
	f, _ := params[key].(float64)
	return f
}

// Bool reads a prepared boolean parameter (false when absent).
func Bool(params map[string]any, key string) bool {
	b, _ := params[key].(bool)
	return b
}

// StringMap reads a json parameter holding an object as string values (nil when absent);
// non-string values are formatted with fmt.Sprint.
func StringMap(params map[string]any, key string) map[string]string {
	m, ok := params[key].(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		} else {
			b, err := json.Marshal(v)
			if err != nil {
				out[k] = fmt.Sprint(v)
			} else {
				out[k] = string(b)
			}
		}
	}
	return out
}

// CheckURL reports whether values[key], when set, is an absolute http:// or https:// URL with
// a host: a helper for CredentialChecker. The message never repeats the value (it may be a
// secret webhook URL).
func CheckURL(values map[string]any, key string) []FieldError {
	s, _ := values[key].(string)
	if strings.TrimSpace(s) == "" {
		return nil
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return []FieldError{{Field: key, Code: "invalid", Message: "must be an http:// or https:// URL / 应为 http:// 或 https:// 开头的地址"}}
	}
	return nil
}
