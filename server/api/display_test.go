package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

// TestRecordListDisplayNames: the list, record and history answers name the linked records,
// users and owners the caller may read; a linked account outside a rep's scope has no name.
// The app answer says what the caller may do, so the shell can hide the builder's controls.
func TestRecordListDisplayNames(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	// In order: the deal's relation needs the account published first.
	for _, def := range [][2]string{
		{"account", `{"slug":"account","fields":[{"key":"name","type":"text","required":true}]}`},
		{"deal", `{"slug":"deal","fields":[{"key":"title","type":"text","required":true},{"key":"account","type":"relation","target":"account"},{"key":"manager","type":"user"}]}`},
	} {
		slug, body := def[0], def[1]
		putDef(t, e, "/api/v1/apps/crm/entities/"+slug, body)
		e.Must(200, "POST", "/api/v1/apps/crm/entities/"+slug+"/publish", nil, e.AdminToken)
	}
	repID, repTok := e.CreateUser("rep@example.com", "王小明", nil)
	putDef(t, e, "/api/v1/admin/roles", `{"app":"crm","name":"rep","permissions":[
		{"resource":"app","actions":["read"],"scope":"all"},
		{"resource":"entity:account","actions":["read","create"],"scope":"own"},
		{"resource":"entity:deal","actions":["read","create","update"],"scope":"all"}]}`)
	e.Must(200, "PUT", fmt.Sprintf("/api/v1/admin/users/%s/roles", repID), `{"roles":[{"app":"crm","role":"rep"}]}`, e.AdminToken)

	hidden := e.Must(201, "POST", "/api/v1/apps/crm/entities/account/records", `{"name":"腾讯"}`, e.AdminToken).JSON()["id"].(string)
	mine := e.Must(201, "POST", "/api/v1/apps/crm/entities/account/records", `{"name":"华为"}`, repTok).JSON()["id"].(string)
	base := "/api/v1/apps/crm/entities/deal/records"
	d1 := e.Must(201, "POST", base, fmt.Sprintf(`{"title":"D1","account":%q,"manager":%q}`, mine, repID), repTok).JSON()["id"].(string)
	e.Must(201, "POST", base, fmt.Sprintf(`{"title":"D2","account":%q}`, hidden), e.AdminToken)

	type want struct {
		id, name string // name "" = no entry
	}
	cases := []struct {
		who   string
		token string
		want  []want
	}{
		{"admin", e.AdminToken, []want{{mine, "华为"}, {hidden, "腾讯"}, {repID.String(), "王小明"}}},
		{"rep", repTok, []want{{mine, "华为"}, {hidden, ""}, {repID.String(), "王小明"}}},
	}
	for _, tc := range cases {
		t.Run(tc.who, func(t *testing.T) {
			list := e.Must(200, "GET", base+"?sort=title", nil, tc.token).JSON()
			if n := len(list["items"].([]any)); n != 2 {
				t.Fatalf("%s sees %d deals", tc.who, n)
			}
			display, _ := list["display"].(map[string]any)
			for _, w := range tc.want {
				got, ok := display[w.id]
				if w.name == "" && ok {
					t.Errorf("%s: display[%s] = %v, want no entry", tc.who, w.id, got)
				}
				if w.name != "" && got != w.name {
					t.Errorf("%s: display[%s] = %v, want %s", tc.who, w.id, got, w.name)
				}
			}
		})
	}
	one := e.Must(200, "GET", base+"/"+d1, nil, repTok).JSON()
	if d, _ := one["display"].(map[string]any); d[mine] != "华为" {
		t.Fatalf("record display: %v", one["display"])
	}
	e.Must(200, "PATCH", base+"/"+d1, `{"title":"D1b"}`, repTok)
	hist := e.Must(200, "GET", base+"/"+d1+"/history", nil, repTok).JSON()
	items := hist["items"].([]any)
	last := items[len(items)-1].(map[string]any)
	if last["actor_name"] != "王小明" {
		t.Fatalf("history actor_name: %v", last)
	}

	// The shell's permissions: the rep may not design, and saving a draft is refused in both languages.
	app := e.Must(200, "GET", "/api/v1/apps/crm", nil, repTok).JSON()
	can, _ := app["can"].(map[string]any)
	if can["design"] != false || can["export"] != false {
		t.Fatalf("rep can: %v", app["can"])
	}
	perms, _ := app["permissions"].(map[string]any)
	if fmt.Sprint(perms["entity:deal"]) != "[read create update]" || fmt.Sprint(perms["entity:account"]) != "[read create]" {
		t.Fatalf("rep permissions: %v", perms)
	}
	if c := e.Must(200, "GET", "/api/v1/apps/crm", nil, e.AdminToken).JSON()["can"].(map[string]any); c["design"] != true {
		t.Fatalf("admin can: %v", c)
	}
	r := e.Must(403, "PUT", "/api/v1/apps/crm/entities/deal", `{"slug":"deal","fields":[]}`, repTok)
	if !strings.Contains(string(r.Body), "没有") || !strings.Contains(string(r.Body), "may not publish") {
		t.Fatalf("refusal is not bilingual: %s", r.Body)
	}
}
