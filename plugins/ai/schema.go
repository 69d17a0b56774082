package ai

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tessera/tessera/plugins/sdk"
)

// jsonType maps an entity field type to a JSON schema type; ok is false for fields a model
// cannot fill (attachments, formulas, autonumbers).
func jsonType(f sdk.FieldInfo) (string, bool) {
	switch f.Type {
	case "number", "money", "percent":
		return "number", true
	case "boolean":
		return "boolean", true
	case "multiselect":
		return "array", true
	case "attachment", "formula", "autonumber", "user", "team", "relation", "lines":
		return "", false
	default:
		if f.Multiple {
			return "array", true
		}
		return "string", true
	}
}

// schema is a JSON schema of an object whose properties are entity fields.
type schema struct {
	fields []sdk.FieldInfo
}

// buildSchema picks the named fields of ent (all fillable ones when keys is empty). A key the
// identity may not read is reported as unknown, like a field that does not exist.
func buildSchema(ent sdk.EntityInfo, keys []string) (*schema, error) {
	s := &schema{}
	if len(keys) == 0 {
		for _, f := range ent.Fields {
			if _, ok := jsonType(f); ok {
				s.fields = append(s.fields, f)
			}
		}
	}
	for _, k := range keys {
		f, ok := ent.Field(k)
		if !ok {
			return nil, sdk.FieldErrors{{Field: "fields", Code: sdk.CodeUnknown, Message: fmt.Sprintf("entity %s has no field %q you may read / 实体 %s 没有可读字段 %q", ent.Slug, k, ent.Slug, k)}}
		}
		if _, ok := jsonType(f); !ok {
			return nil, sdk.FieldErrors{{Field: "fields", Code: sdk.CodeType, Message: fmt.Sprintf("field %q (%s) cannot be extracted / 字段 %q（%s）不能提取", k, f.Type, k, f.Type)}}
		}
		s.fields = append(s.fields, f)
	}
	if len(s.fields) == 0 {
		return nil, sdk.FieldErrors{{Field: "fields", Code: sdk.CodeRequired, Message: "no field to extract / 没有可提取的字段"}}
	}
	return s, nil
}

// JSON renders the schema (draft 2020-12) given to the model.
func (s *schema) JSON() map[string]any {
	props := map[string]any{}
	for _, f := range s.fields {
		t, _ := jsonType(f)
		p := map[string]any{"type": []string{t, "null"}}
		desc := f.Label.En
		if f.Label.ZhCN != "" && f.Label.ZhCN != desc {
			desc = strings.TrimSpace(desc + " / " + f.Label.ZhCN)
		}
		switch f.Type {
		case "date":
			desc += " (YYYY-MM-DD)"
		case "datetime":
			desc += " (RFC 3339, e.g. 2026-05-01T09:30:00+08:00)"
		case "email":
			p["format"] = "email"
		}
		if desc != "" {
			p["description"] = desc
		}
		if len(f.Options) > 0 {
			if t == "array" {
				p["items"] = map[string]any{"type": "string", "enum": f.Options}
			} else {
				p["enum"] = append(append([]any{}, anyList(f.Options)...), nil)
			}
		}
		props[f.Key] = p
	}
	return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
}

func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// validate parses the model's answer and checks it against the schema: a JSON object whose
// keys are schema fields with values of the field's type (null when the text does not say).
// Numbers given as numeric strings are converted; unknown keys are refused.
func (s *schema) validate(text string) (map[string]any, error) {
	obj, err := parseObject(text)
	if err != nil {
		return nil, err
	}
	byKey := map[string]sdk.FieldInfo{}
	for _, f := range s.fields {
		byKey[f.Key] = f
	}
	var problems []string
	out := map[string]any{}
	for _, f := range s.fields {
		out[f.Key] = nil
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := obj[k]
		f, ok := byKey[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: not in the schema / 不在模式中", k))
			continue
		}
		if v == nil {
			continue
		}
		cv, msg := typed(f, v)
		if msg != "" {
			problems = append(problems, k+": "+msg)
			continue
		}
		out[k] = cv
	}
	if len(problems) > 0 {
		return nil, sdk.Permanent(fmt.Errorf("the model's answer does not match the schema / 模型的回答不符合模式: %s", strings.Join(problems, "; ")))
	}
	return out, nil
}

// parseObject reads a JSON object from a model answer, tolerating a ```json fence around it.
func parseObject(text string) (map[string]any, error) {
	t := strings.TrimSpace(text)
	if strings.HasPrefix(t, "```") {
		t = strings.TrimPrefix(t, "```json")
		t = strings.TrimPrefix(t, "```")
		t = strings.TrimSuffix(strings.TrimSpace(t), "```")
	}
	dec := json.NewDecoder(strings.NewReader(t))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		excerpt := text
		if len([]rune(excerpt)) > 200 {
			excerpt = string([]rune(excerpt)[:200]) + "…"
		}
		return nil, sdk.Permanent(fmt.Errorf("the model's answer is not a JSON object / 模型的回答不是 JSON 对象: %q", excerpt))
	}
	return obj, nil
}

// typed converts v to the field's type; msg explains a mismatch (bilingual).
func typed(f sdk.FieldInfo, v any) (any, string) {
	t, _ := jsonType(f)
	switch t {
	case "number":
		switch n := v.(type) {
		case json.Number:
			x, err := n.Float64()
			if err == nil && !math.IsInf(x, 0) {
				return x, ""
			}
		case string:
			x, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(n), ",", ""), 64)
			if err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) {
				return x, ""
			}
		}
		return nil, "expected a number / 应为数字"
	case "boolean":
		if b, ok := v.(bool); ok {
			return b, ""
		}
		return nil, "expected true or false / 应为 true 或 false"
	case "array":
		list, ok := v.([]any)
		if !ok {
			return nil, "expected a list / 应为列表"
		}
		out := make([]any, 0, len(list))
		for _, x := range list {
			s, ok := x.(string)
			if !ok {
				return nil, "expected a list of strings / 应为字符串列表"
			}
			if len(f.Options) > 0 && !contains(f.Options, s) {
				return nil, fmt.Sprintf("%q is not one of %s / 不在可选项中", s, strings.Join(f.Options, ", "))
			}
			out = append(out, s)
		}
		return out, ""
	}
	s, ok := v.(string)
	if !ok {
		return nil, "expected a string / 应为字符串"
	}
	s = strings.TrimSpace(s)
	if len(f.Options) > 0 && !contains(f.Options, s) {
		return nil, fmt.Sprintf("%q is not one of %s / 不在可选项中", s, strings.Join(f.Options, ", "))
	}
	switch f.Type {
	case "date":
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return nil, "expected a date YYYY-MM-DD / 应为日期 YYYY-MM-DD"
		}
	case "datetime":
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return nil, "expected an RFC 3339 time / 应为 RFC 3339 时间"
		}
	case "email":
		if !strings.Contains(s, "@") {
			return nil, "expected an e-mail address / 应为电子邮件地址"
		}
	}
	return s, ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
