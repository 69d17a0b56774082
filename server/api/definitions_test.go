package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

const leadEntity = `{"slug":"lead","label":{"en":"Lead","zh-CN":"线索"},"fields":[{"key":"name","type":"text","required":true},
{"key":"phone","type":"phone","unique":true},{"key":"email","type":"email"},{"key":"amount","type":"money","indexed":true},
{"key":"stage","type":"select","options":["new","proposal","negotiation","won"]},{"key":"files","type":"attachment","multiple":true}],
"stages":{"field":"stage","order":["new","proposal","negotiation","won"],"transitions":[{"from":"proposal","to":"negotiation",
"require":"any(record.files, {.name contains \"报价单\"})","message":"请上传带客户名称的正式报价单"}]},
"dedupe":{"keys":[["phone"],["email"]],"on_duplicate":"merge"}}`

func TestAppsAndDefinitionsScenarios(t *testing.T) {
	e := apitest.New(t)
	_, repTok := e.CreateUser("rep@example.com", "Rep", nil)
	steps := []struct {
		name   string
		method string
		path   string
		body   any
		token  string
		want   int
		check  func(t *testing.T, r *apitest.Resp)
	}{
		{"create app", "POST", "/api/v1/apps", map[string]string{"slug": "crm", "name": "CRM"}, e.AdminToken, 201, nil},
		{"create app again", "POST", "/api/v1/apps", map[string]string{"slug": "crm", "name": "CRM"}, e.AdminToken, 409, nil},
		{"create app bad slug", "POST", "/api/v1/apps", map[string]string{"slug": "CRM!", "name": "x"}, e.AdminToken, 422, nil},
		{"create app unknown key", "POST", "/api/v1/apps", `{"slug":"x","name":"x","owner":"me"}`, e.AdminToken, 422, nil},
		{"create app non-admin", "POST", "/api/v1/apps", map[string]string{"slug": "mine", "name": "Mine"}, repTok, 403, nil},
		{"create app anonymous", "POST", "/api/v1/apps", map[string]string{"slug": "anon", "name": "x"}, "", 401, nil},
		{"create app wrong content type", "POST", "/api/v1/apps", nil, e.AdminToken, 422, nil},
		{"list apps", "GET", "/api/v1/apps", nil, e.AdminToken, 200, func(t *testing.T, r *apitest.Resp) {
			if items := r.JSON()["items"].([]any); len(items) != 1 {
				t.Fatalf("apps: %s", r.Body)
			}
		}},
		{"list apps as rep sees none", "GET", "/api/v1/apps", nil, repTok, 200, func(t *testing.T, r *apitest.Resp) {
			if items := r.JSON()["items"].([]any); len(items) != 0 {
				t.Fatalf("rep sees apps: %s", r.Body)
			}
		}},
		{"get unknown app", "GET", "/api/v1/apps/nope", nil, e.AdminToken, 404, nil},
		{"save entity draft", "PUT", "/api/v1/apps/crm/entities/lead", leadEntity, e.AdminToken, 201, nil},
		{"save entity draft again", "PUT", "/api/v1/apps/crm/entities/lead", leadEntity, e.AdminToken, 200, nil},
		{"save entity unknown field key", "PUT", "/api/v1/apps/crm/entities/bad", `{"fields":[{"key":"a","type":"text","colour":"red"}]}`, e.AdminToken, 422, func(t *testing.T, r *apitest.Resp) {
			errs := r.JSON()["errors"].([]any)
			if errs[0].(map[string]any)["field"] != "fields[0].colour" {
				t.Fatalf("errors: %s", r.Body)
			}
		}},
		{"save entity bad type", "PUT", "/api/v1/apps/crm/entities/bad", `{"fields":[{"key":"a","type":"colour"}]}`, e.AdminToken, 422, func(t *testing.T, r *apitest.Resp) {
			errs := r.JSON()["errors"].([]any)
			if errs[0].(map[string]any)["field"] != "fields[0].type" {
				t.Fatalf("errors: %s", r.Body)
			}
		}},
		{"save entity slug mismatch", "PUT", "/api/v1/apps/crm/entities/lead", `{"slug":"other","fields":[{"key":"a","type":"text"}]}`, e.AdminToken, 422, nil},
		{"save entity as rep", "PUT", "/api/v1/apps/crm/entities/lead", leadEntity, repTok, 404, nil},
		{"save unknown kind", "PUT", "/api/v1/apps/crm/widgets/x", `{}`, e.AdminToken, 404, nil},
		{"publish entity", "POST", "/api/v1/apps/crm/entities/lead/publish", nil, e.AdminToken, 200, func(t *testing.T, r *apitest.Resp) {
			if r.JSON()["version"].(float64) != 1 {
				t.Fatalf("publish: %s", r.Body)
			}
		}},
		{"publish again", "POST", "/api/v1/apps/crm/entities/lead/publish", nil, e.AdminToken, 200, func(t *testing.T, r *apitest.Resp) {
			if r.JSON()["version"].(float64) != 2 {
				t.Fatalf("publish: %s", r.Body)
			}
		}},
		{"publish missing", "POST", "/api/v1/apps/crm/entities/ghost/publish", nil, e.AdminToken, 404, nil},
		{"versions", "GET", "/api/v1/apps/crm/entities/lead/versions", nil, e.AdminToken, 200, func(t *testing.T, r *apitest.Resp) {
			items := r.JSON()["items"].([]any)
			if len(items) != 2 {
				t.Fatalf("versions: %s", r.Body)
			}
			// the version list names the publisher (author column of the versions drawer)
			if v := items[0].(map[string]any); v["published_by_name"] == nil || v["published_by_name"] == "" || v["body"] == nil {
				t.Fatalf("versions without author or body: %s", r.Body)
			}
		}},
		{"form with unknown field fails publish", "PUT", "/api/v1/apps/crm/forms/broken", `{"entity":"lead","layout":[{"field":"nope"}]}`, e.AdminToken, 201, nil},
		{"publish broken form", "POST", "/api/v1/apps/crm/forms/broken/publish", nil, e.AdminToken, 422, func(t *testing.T, r *apitest.Resp) {
			errs := r.JSON()["errors"].([]any)
			if errs[0].(map[string]any)["field"] != "layout[0].field" {
				t.Fatalf("errors: %s", r.Body)
			}
		}},
		{"public form", "PUT", "/api/v1/apps/crm/forms/web-lead", `{"slug":"web-lead","entity":"lead","public":true,"layout":[{"field":"name"},{"field":"phone"}],"defaults":{"stage":"new"}}`, e.AdminToken, 201, nil},
		{"publish public form", "POST", "/api/v1/apps/crm/forms/web-lead/publish", nil, e.AdminToken, 200, nil},
		{"get public form has public_id", "GET", "/api/v1/apps/crm/forms/web-lead", nil, e.AdminToken, 200, func(t *testing.T, r *apitest.Resp) {
			if id, _ := r.JSON()["public_id"].(string); len(id) < 10 {
				t.Fatalf("public_id missing: %s", r.Body)
			}
		}},
		{"get app lists definitions", "GET", "/api/v1/apps/crm", nil, e.AdminToken, 200, func(t *testing.T, r *apitest.Resp) {
			m := r.JSON()
			if len(m["entities"].([]any)) != 1 || len(m["forms"].([]any)) != 2 {
				t.Fatalf("app: %s", r.Body)
			}
		}},
		{"flow with cycle", "PUT", "/api/v1/apps/crm/flows/loop", `{"trigger":{"type":"manual"},"nodes":[{"id":"a","type":"set"},{"id":"b","type":"set"}],"edges":[{"from":"a","to":"b"},{"from":"b","to":"a"}]}`, e.AdminToken, 422, nil},
		{"patch app timezone", "PATCH", "/api/v1/apps/crm", `{"settings":{"timezone":"Asia/Shanghai"}}`, e.AdminToken, 200, nil},
		{"patch app bad timezone", "PATCH", "/api/v1/apps/crm", `{"settings":{"timezone":"Mars/Olympus"}}`, e.AdminToken, 422, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := e.Do(st.method, st.path, st.body, st.token)
			if r.Status != st.want {
				t.Fatalf("%s %s: status %d, want %d: %s", st.method, st.path, r.Status, st.want, r.Body)
			}
			if st.check != nil {
				st.check(t, r)
			}
		})
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]string{"slug": "crm", "name": "CRM"}, e.AdminToken)
	e.Must(201, "PUT", "/api/v1/apps/crm/entities/lead", leadEntity, e.AdminToken)
	e.Must(201, "PUT", "/api/v1/apps/crm/forms/web-lead", `{"entity":"lead","public":true,"layout":[{"field":"name"}]}`, e.AdminToken)
	e.Must(200, "POST", "/api/v1/apps/crm/entities/lead/publish", nil, e.AdminToken)
	e.Must(200, "POST", "/api/v1/apps/crm/forms/web-lead/publish", nil, e.AdminToken)
	exp := e.Must(200, "GET", "/api/v1/apps/crm/export", nil, e.AdminToken)
	e.Must(409, "POST", "/api/v1/apps/import", exp.Body, e.AdminToken)
	e.Must(201, "POST", "/api/v1/apps/import?slug=crm2", exp.Body, e.AdminToken)
	app := e.Must(200, "GET", "/api/v1/apps/crm2", nil, e.AdminToken).JSON()
	ents := app["entities"].([]any)
	if len(ents) != 1 || ents[0].(map[string]any)["published_version"].(float64) != 1 {
		t.Fatalf("imported app: %v", app)
	}
	// A bundle with one broken definition imports nothing.
	bad := fmt.Sprintf(`{"schema_version":1,"app":{"slug":"crm3","name":"x"},"entities":[%s],"forms":[{"slug":"f","entity":"lead","layout":[{"field":"ghost"}]}]}`, leadEntity)
	r := e.Must(422, "POST", "/api/v1/apps/import", bad, e.AdminToken)
	if errs := r.JSON()["errors"].([]any); errs[0].(map[string]any)["field"] != "forms/f: layout[0].field" {
		t.Fatalf("errors: %s", r.Body)
	}
	e.Must(404, "GET", "/api/v1/apps/crm3", nil, e.AdminToken)
}

func TestSalesTemplateInstalls(t *testing.T) {
	e := apitest.New(t)
	list := e.Must(200, "GET", "/api/v1/templates", nil, e.AdminToken).JSON()["items"].([]any)
	if len(list) == 0 || list[0].(map[string]any)["name"] != "sales" {
		t.Fatalf("templates: %v", list)
	}
	e.Must(404, "POST", "/api/v1/templates/nope/install", nil, e.AdminToken)
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	e.Must(409, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	e.Must(201, "POST", "/api/v1/templates/sales/install", map[string]string{"slug": "sales2", "name": "Sales 2"}, e.AdminToken)
	// the query form the 409 suggests works too
	if r := e.Must(201, "POST", "/api/v1/templates/sales/install?slug=sales3", nil, e.AdminToken).JSON(); r["slug"] != "sales3" {
		t.Fatalf("install ?slug=sales3: %v", r)
	}
	// the copy's webhook flow answers its own key
	hook := e.Must(200, "GET", "/api/v1/apps/sales2/flows/lead-in-webhook", nil, e.AdminToken).JSON()
	if k := hook["trigger"].(map[string]any)["key"]; k != "sales2-lead-in" {
		t.Fatalf("copy's webhook key = %v", k)
	}
	app := e.Must(200, "GET", "/api/v1/apps/sales", nil, e.AdminToken).JSON()
	for _, kind := range []string{"entities", "forms"} {
		for _, d := range app[kind].([]any) {
			if d.(map[string]any)["published_version"].(float64) < 1 {
				t.Fatalf("%s %v not published", kind, d.(map[string]any)["slug"])
			}
		}
	}
	if n := len(app["entities"].([]any)); n != 9 { // ... plus routing_rule and campaign
		t.Fatalf("sales template has %d entities", n)
	}
	roles := e.Must(200, "GET", "/api/v1/admin/roles?app=sales", nil, e.AdminToken)
	for _, name := range []string{"sales_rep", "sales_manager", "sales_director", "legal", "finance", "marketing"} {
		if !strings.Contains(string(roles.Body), `"`+name+`"`) {
			t.Fatalf("role %s missing after install: %s", name, roles.Body)
		}
	}
	// The export carries the roles back out, and imports again (entities in any order).
	exp := e.Must(200, "GET", "/api/v1/apps/sales/export", nil, e.AdminToken)
	if !strings.Contains(string(exp.Body), `"sales_rep"`) {
		t.Fatalf("export lacks roles")
	}
	e.Must(201, "POST", "/api/v1/apps/import?slug=sales-copy", exp.Body, e.AdminToken)
	again := e.Must(200, "GET", "/api/v1/apps/sales-copy/export", nil, e.AdminToken)
	if len(again.Body) < len(exp.Body)/2 {
		t.Fatalf("re-export is much smaller: %d vs %d bytes", len(again.Body), len(exp.Body))
	}
}

func TestImportKeepsUnpublishedDraftsAsDrafts(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]string{"slug": "crm", "name": "CRM"}, e.AdminToken)
	e.Must(201, "PUT", "/api/v1/apps/crm/entities/lead", leadEntity, e.AdminToken)
	e.Must(200, "POST", "/api/v1/apps/crm/entities/lead/publish", nil, e.AdminToken)
	// A draft that would not publish (unknown entity) must not break the round trip.
	e.Must(201, "PUT", "/api/v1/apps/crm/forms/wip", `{"entity":"nope","layout":[{"field":"name"}]}`, e.AdminToken)
	exp := e.Must(200, "GET", "/api/v1/apps/crm/export", nil, e.AdminToken)
	e.Must(201, "POST", "/api/v1/apps/import?slug=crm-copy", exp.Body, e.AdminToken)
	wip := e.Must(200, "GET", "/api/v1/apps/crm-copy/forms/wip", nil, e.AdminToken).JSON()
	if wip["published_version"].(float64) != 0 {
		t.Fatalf("unpublished draft was published: %v", wip)
	}
}

func TestWebhookKeyIsUniqueAcrossApps(t *testing.T) {
	e := apitest.New(t)
	flow := `{"trigger":{"type":"webhook","key":"shared-key"},"nodes":[{"id":"a","type":"set","params":{"values":{"x":1}}}]}`
	for _, app := range []string{"one", "two"} {
		e.Must(201, "POST", "/api/v1/apps", map[string]string{"slug": app, "name": app}, e.AdminToken)
		e.Must(201, "PUT", "/api/v1/apps/"+app+"/flows/hook", flow, e.AdminToken)
	}
	e.Must(200, "POST", "/api/v1/apps/one/flows/hook/publish", nil, e.AdminToken)
	e.Must(200, "POST", "/api/v1/apps/one/flows/hook/publish", nil, e.AdminToken) // republishing the owner is fine
	r := e.Must(422, "POST", "/api/v1/apps/two/flows/hook/publish", nil, e.AdminToken)
	if !strings.Contains(string(r.Body), `"trigger.key"`) || !strings.Contains(string(r.Body), "one/hook") {
		t.Fatalf("duplicate key: %s", r.Body)
	}
}

func TestPublishUniqueOverDuplicatesIs422(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]string{"slug": "crm", "name": "CRM"}, e.AdminToken)
	e.Must(201, "PUT", "/api/v1/apps/crm/entities/item", `{"fields":[{"key":"name","type":"text"},{"key":"tag","type":"text"}]}`, e.AdminToken)
	e.Must(200, "POST", "/api/v1/apps/crm/entities/item/publish", nil, e.AdminToken)
	for i := 0; i < 2; i++ {
		e.Must(201, "POST", "/api/v1/apps/crm/entities/item/records", `{"name":"x","tag":"same"}`, e.AdminToken)
	}
	e.Must(200, "PUT", "/api/v1/apps/crm/entities/item", `{"fields":[{"key":"name","type":"text"},{"key":"tag","type":"text","unique":true}]}`, e.AdminToken)
	r := e.Must(422, "POST", "/api/v1/apps/crm/entities/item/publish", nil, e.AdminToken)
	if !strings.Contains(string(r.Body), `"fields[1].unique"`) {
		t.Fatalf("error: %s", r.Body)
	}
}

// TestDefinitionsAsSeenByARep: a sales rep sees only the definitions their role lets them use,
// and entities without the fields hidden from them.
func TestDefinitionsAsSeenByARep(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	repID, repTok := e.CreateUser("rep@example.com", "Rep", nil)
	e.Must(200, "PUT", "/api/v1/admin/users/"+repID.String()+"/roles", `{"roles":[{"app":"sales","role":"sales_rep"}]}`, e.AdminToken)

	deal := e.Must(200, "GET", "/api/v1/apps/sales/entities/deal", nil, repTok)
	if strings.Contains(string(deal.Body), `"cost"`) || strings.Contains(string(deal.Body), `"margin"`) || !strings.Contains(string(deal.Body), `"amount"`) {
		t.Fatalf("deal as rep: %s", deal.Body)
	}
	e.Must(404, "GET", "/api/v1/apps/sales/entities/contract", nil, repTok)
	e.Must(403, "GET", "/api/v1/apps/sales/entities/deal/versions", nil, repTok)
	app := e.Must(200, "GET", "/api/v1/apps/sales", nil, repTok)
	if strings.Contains(string(app.Body), `"cost"`) || strings.Contains(string(app.Body), `"slug":"contract"`) || !strings.Contains(string(app.Body), `"slug":"deal"`) {
		t.Fatalf("app as rep leaks: %s", app.Body)
	}
	list := e.Must(200, "GET", "/api/v1/apps/sales/entities", nil, repTok)
	if strings.Contains(string(list.Body), `"cost"`) {
		t.Fatalf("entity list as rep leaks cost")
	}
	// The admin still sees everything.
	if !strings.Contains(string(e.Must(200, "GET", "/api/v1/apps/sales/entities/deal", nil, e.AdminToken).Body), `"cost"`) {
		t.Fatal("admin lost the cost field")
	}
}
