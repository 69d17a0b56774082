package forms_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/forms"
)

func decode[T any](t *testing.T, kind, body string) *T {
	t.Helper()
	v, err := spec.Decode(kind, []byte(body))
	if err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v.(*T)
}

const entity = `{"slug":"lead","fields":[{"key":"name","type":"text","label":{"en":"Name","zh-CN":"姓名"}},
 {"key":"likes_tea","type":"select","options":["yes","no"]},{"key":"tea","type":"text"},{"key":"age","type":"number"},
 {"key":"phone","type":"phone"},{"key":"source","type":"text"},{"key":"vip","type":"boolean"},{"key":"note","type":"textarea"}]}`

const form = `{"slug":"f","entity":"lead","layout":[
 {"field":"name","required":true,"validation":{"min_length":2,"message":{"en":"Two letters at least","zh-CN":"至少两个字"}}},
 {"field":"likes_tea"},
 {"field":"tea","required":true,"visible":"record.likes_tea == \"yes\""},
 {"section":{"en":"More","zh-CN":"更多"},"columns":2,"visible":"!isEmpty(record.name) && record.name != \"anon\"","items":[
   {"field":"age","required":true,"validation":{"min":18,"max":99}},
   {"field":"phone","validation":{"pattern":"\\+86.*"}}]},
 {"field":"source","read_only":true,"default":"web"},
 {"field":"vip","default":true},
 {"field":"note"}],
 "rules":[{"field":"note","when":"record.vip == false","then":"hide"}]}`

func TestValues(t *testing.T) {
	ent := decode[spec.Entity](t, spec.KindEntity, entity)
	f := decode[spec.Form](t, spec.KindForm, form)
	cases := []struct {
		name   string
		in     string
		locale string
		want   map[string]any // nil: an error
		errAt  string         // the field of the first error
		errMsg string         // part of its message
	}{
		{"hidden required field is not required", `{"name":"anon","likes_tea":"no"}`, "en",
			map[string]any{"name": "anon", "likes_tea": "no", "source": "web", "vip": true}, "", ""},
		{"a hidden field's value is dropped", `{"name":"anon","likes_tea":"no","tea":"green","age":5}`, "en",
			map[string]any{"name": "anon", "likes_tea": "no", "source": "web", "vip": true}, "", ""},
		{"shown field is required", `{"name":"anon","likes_tea":"yes"}`, "en", nil, "tea", "is required"},
		{"required message in Chinese with the label", `{"likes_tea":"no"}`, "zh-CN", nil, "name", "姓名为必填项"},
		{"section fields shown and checked", `{"name":"Wang","likes_tea":"no","age":12}`, "en", nil, "age", "at least 18"},
		{"section field required when shown", `{"name":"Wang","likes_tea":"no"}`, "en", nil, "age", "is required"},
		{"custom message in the submitter's language", `{"name":"W","likes_tea":"no"}`, "en", nil, "name", "Two letters at least"},
		{"custom message in Chinese", `{"name":"W","likes_tea":"no"}`, "zh-CN", nil, "name", "至少两个字"},
		{"pattern on what was typed", `{"name":"Wang","age":30,"phone":"13800138000"}`, "en", nil, "phone", "expected format"},
		{"all good", `{"name":"Wang","age":30,"phone":"+86 138 0013 8000","likes_tea":"yes","tea":"oolong"}`, "en",
			map[string]any{"name": "Wang", "age": json.Number("30"), "phone": "+86 138 0013 8000", "likes_tea": "yes", "tea": "oolong", "source": "web", "vip": true}, "", ""},
		{"read-only keeps the form's value", `{"name":"anon","source":"hacked"}`, "en",
			map[string]any{"name": "anon", "source": "web", "vip": true}, "", ""},
		{"rule hides a field", `{"name":"anon","vip":false,"note":"x"}`, "en",
			map[string]any{"name": "anon", "source": "web", "vip": false}, "", ""},
		{"unknown field", `{"name":"anon","x":1}`, "en", nil, "x", "unknown field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var in map[string]any
			dec := json.NewDecoder(strings.NewReader(tc.in))
			dec.UseNumber()
			if err := dec.Decode(&in); err != nil {
				t.Fatal(err)
			}
			got, err := forms.Values(f, ent, in, tc.locale)
			if tc.want != nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %#v, want %#v", got, tc.want)
				}
				return
			}
			errs, ok := err.(spec.Errors)
			if !ok || len(errs) == 0 {
				t.Fatalf("want an error at %s, got %v (%v)", tc.errAt, err, got)
			}
			for _, e := range errs {
				if e.Field == tc.errAt && strings.Contains(e.Message, tc.errMsg) {
					return
				}
			}
			t.Fatalf("want %q at %s, got %v", tc.errMsg, tc.errAt, errs)
		})
	}
}

func TestHidden(t *testing.T) {
	ent := decode[spec.Entity](t, spec.KindEntity, entity)
	f := decode[spec.Form](t, spec.KindForm, form)
	cases := []struct {
		in   map[string]any
		want []string
	}{
		{map[string]any{}, []string{"age", "phone", "tea"}},
		{map[string]any{"name": "Li", "likes_tea": "yes"}, []string{}},
		{map[string]any{"name": "anon", "likes_tea": "no", "vip": false}, []string{"age", "note", "phone", "tea"}},
	}
	for _, tc := range cases {
		if got := forms.Hidden(f, ent, tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Hidden(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
