package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

// designerEntity is the entity before the designer adds a field.
const designerEntity = `{"slug":"guest","label":{"en":"Guest","zh-CN":"来宾"},"fields":[{"key":"name","type":"text","label":{"en":"Name","zh-CN":"姓名"}},
{"key":"likes_tea","type":"select","options":["yes","no"]}]}`

// designerForm places the phone field the designer creates with it, a two-column section and a
// field shown only when likes_tea is "yes".
const designerForm = `{"slug":"visit","entity":"guest","public":true,"title":{"zh-CN":"来访登记","en":"Visit"},
"success":{"message":{"zh-CN":"谢谢！","en":"Thank you!"}},
"layout":[{"field":"name","required":true},
 {"section":{"zh-CN":"联系方式","en":"Contact"},"columns":2,"collapsible":true,"items":[
   {"field":"phone","required":true,"validation":{"pattern":"1[3-9][0-9]{9}","message":{"en":"A mobile number","zh-CN":"请填写手机号"}}},
   {"field":"likes_tea"}]},
 {"field":"tea","required":true,"visible":"record.likes_tea == \"yes\"","default":"green"}]}`

const designerEntityWithFields = `{"slug":"guest","label":{"en":"Guest","zh-CN":"来宾"},"fields":[{"key":"name","type":"text","label":{"en":"Name","zh-CN":"姓名"}},
{"key":"likes_tea","type":"select","options":["yes","no"]},{"key":"phone","type":"phone","label":{"en":"Phone","zh-CN":"电话"}},{"key":"tea","type":"text"}]}`

// TestFormWithEntityAndRuntime saves a form with new entity fields in one request (a bad
// layout writes neither), publishes both, and checks that the public page and the submit API
// honour sections, columns, visibility, defaults and validation.
func TestFormWithEntityAndRuntime(t *testing.T) {
	e := apitest.New(t)
	tok := e.AdminToken
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "expo", "name": "Expo"}, tok)
	putDef(t, e, "/api/v1/apps/expo/entities/guest", designerEntity)
	e.Must(200, "POST", "/api/v1/apps/expo/entities/guest/publish", nil, tok)

	// bad input: 422 with the path of each problem, nothing written
	bad := []struct{ body, field string }{
		{`{"form":` + strings.Replace(designerForm, `"columns":2`, `"columns":5`, 1) + `,"entity":` + designerEntityWithFields + `,"publish":true}`, "form.layout[1].columns"},
		{`{"form":` + strings.Replace(designerForm, `"record.likes_tea == \"yes\""`, `"record.likes_tea =="`, 1) + `,"entity":` + designerEntityWithFields + `}`, "form.layout[2].visible"},
		{`{"form":` + designerForm + `,"entity":` + strings.Replace(designerEntityWithFields, `"type":"phone"`, `"type":"fax"`, 1) + `}`, "entity.fields[2].type"},
		{`{"form":` + designerForm + `,"entity":` + designerEntity + `,"publish":true}`, "form.layout[1].items[0].field"},
		{`{"form":` + designerForm + `,"entity":{"slug":"other","fields":[{"key":"a","type":"text"}]}}`, "entity.slug"},
		{`{"entity":` + designerEntity + `}`, "form"},
		{`{"form":` + designerForm + `,"colour":1}`, "colour"},
	}
	for _, b := range bad {
		r := e.Do("PUT", "/api/v1/apps/expo/forms/visit/with-entity", b.body, tok)
		if r.Status != 422 || !strings.Contains(string(r.Body), `"field":"`+b.field+`"`) {
			t.Fatalf("want 422 at %s, got %d %s", b.field, r.Status, r.Body)
		}
	}
	if r := e.Do("GET", "/api/v1/apps/expo/forms/visit", nil, tok); r.Status != 404 {
		t.Fatalf("a refused save wrote the form: %d %s", r.Status, r.Body)
	}
	if d := e.Must(200, "GET", "/api/v1/apps/expo/entities/guest", nil, tok).Body; strings.Contains(string(d), `"phone"`) {
		t.Fatalf("a refused save wrote the entity draft: %s", d)
	}
	if r := e.Do("PUT", "/api/v1/apps/expo/forms/visit/with-entity", `{"form":`+designerForm+`}`, ""); r.Status != 401 {
		t.Fatalf("anonymous save: %d", r.Status)
	}

	// the designer's save: entity and form together, published
	res := e.Must(200, "PUT", "/api/v1/apps/expo/forms/visit/with-entity", `{"form":`+designerForm+`,"entity":`+designerEntityWithFields+`,"publish":true}`, tok).JSON()
	pid, _ := res["public_id"].(string)
	if res["entity_version"] != 2.0 || res["version"] != 1.0 || pid == "" {
		t.Fatalf("saved %v", res)
	}

	// the public page: a collapsible two-column section, the conditional field marked, its default
	page := string(e.Must(200, "GET", "/f/"+pid+"?lang=en", nil, "").Body)
	for _, want := range []string{`<details class="sec" open><summary>Contact</summary><div class="grid c2">`, `id="f-tea" data-key="tea" data-cond="1"`, `value="green"`, `data-visibility="/api/v1/public/forms/` + pid + `/visibility"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("page lacks %s:\n%s", want, page)
		}
	}

	// visibility as the page asks for it
	vis := []struct{ body, hidden string }{
		{`{}`, `["tea"]`},
		{`{"likes_tea":"no"}`, `["tea"]`},
		{`{"likes_tea":"yes"}`, `[]`},
	}
	for _, v := range vis {
		for _, path := range []string{"/api/v1/public/forms/" + pid + "/visibility", "/api/v1/apps/expo/forms/visit/visibility"} {
			tk := ""
			if strings.HasPrefix(path, "/api/v1/apps") {
				tk = tok
			}
			if got := e.Must(200, "POST", path, v.body, tk).JSON()["hidden"]; toJSON(got) != v.hidden {
				t.Fatalf("%s %s: hidden %v, want %s", path, v.body, got, v.hidden)
			}
		}
	}
	if r := e.Do("POST", "/api/v1/apps/expo/forms/visit/visibility", `{}`, ""); r.Status != 401 {
		t.Fatalf("anonymous internal visibility: %d", r.Status)
	}
	if r := e.Do("POST", "/api/v1/public/forms/nope/visibility", `{}`, ""); r.Status != 404 {
		t.Fatalf("unknown public form: %d", r.Status)
	}

	submit := "/api/v1/public/forms/" + pid + "/submit"
	// hidden: tea is not required and its value is dropped
	r := e.Must(201, "POST", submit, `{"name":"王","phone":"13800138000","likes_tea":"no","tea":"black"}`, "", "Accept-Language: en")
	if r.JSON()["message"] != "Thank you!" {
		t.Fatalf("english thanks: %s", r.Body)
	}
	// shown and emptied: required
	r = e.Do("POST", submit, `{"name":"王","phone":"13800138001","likes_tea":"yes","tea":""}`, "", "Accept-Language: en")
	if r.Status != 201 {
		// the default fills an emptied field: green
		t.Fatalf("default should fill tea: %d %s", r.Status, r.Body)
	}
	// the form's pattern with its message in the submitter's language
	r = e.Do("POST", submit, `{"name":"王","phone":"+1 415 555 0100","likes_tea":"no"}`, "", "Accept-Language: en")
	if r.Status != 422 || !strings.Contains(string(r.Body), "A mobile number") {
		t.Fatalf("pattern: %d %s", r.Status, r.Body)
	}
	list := e.Must(200, "GET", "/api/v1/apps/expo/entities/guest/records?sort=created_at", nil, tok).Body
	if !strings.Contains(string(list), `"tea":"green"`) || strings.Contains(string(list), `"black"`) {
		t.Fatalf("records: %s", list)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
