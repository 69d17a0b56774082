package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"github.com/tessera/tessera/server/apitest"
)

// listsEnv is a CRM with accounts and deals, a rep who reads every deal but changes only their
// own, and a second rep.
type listsEnv struct {
	*apitest.Env
	rep, rep2             uuid.UUID
	repTok, rep2Tok       string
	mine, hidden          string // accounts: the rep's, and one outside their scope
	views, records, deals string
}

func newListsEnv(t *testing.T) *listsEnv {
	e := &listsEnv{Env: apitest.New(t)}
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	for _, def := range [][2]string{
		{"account", `{"slug":"account","label":{"en":"Account","zh-CN":"客户"},"fields":[{"key":"name","type":"text","required":true}]}`},
		{"deal", `{"slug":"deal","fields":[
			{"key":"title","type":"text","required":true,"label":{"en":"Title","zh-CN":"标题"}},
			{"key":"code","type":"text","unique":true,"label":{"en":"Code","zh-CN":"编号"}},
			{"key":"amount","type":"money","label":{"en":"Amount","zh-CN":"金额"}},
			{"key":"stage","type":"select","options":["new","won"]},
			{"key":"account","type":"relation","target":"account","label":{"en":"Account","zh-CN":"客户"}}]}`},
	} {
		putDef(t, e.Env, "/api/v1/apps/crm/entities/"+def[0], def[1])
		e.Must(200, "POST", "/api/v1/apps/crm/entities/"+def[0]+"/publish", nil, e.AdminToken)
	}
	putDef(t, e.Env, "/api/v1/admin/roles", `{"app":"crm","name":"rep","permissions":[
		{"resource":"app","actions":["read"],"scope":"all"},
		{"resource":"entity:account","actions":["read","create"],"scope":"own"},
		{"resource":"entity:deal","actions":["read","export"],"scope":"all"},
		{"resource":"entity:deal","actions":["create","update","delete"],"scope":"own"}]}`)
	e.rep, e.repTok = e.CreateUser("rep@example.com", "王小明", nil)
	e.rep2, e.rep2Tok = e.CreateUser("rep2@example.com", "李四", nil)
	for _, u := range []uuid.UUID{e.rep, e.rep2} {
		e.Must(200, "PUT", fmt.Sprintf("/api/v1/admin/users/%s/roles", u), `{"roles":[{"app":"crm","role":"rep"}]}`, e.AdminToken)
	}
	e.hidden = e.Must(201, "POST", "/api/v1/apps/crm/entities/account/records", `{"name":"腾讯"}`, e.AdminToken).JSON()["id"].(string)
	e.mine = e.Must(201, "POST", "/api/v1/apps/crm/entities/account/records", `{"name":"华为"}`, e.repTok).JSON()["id"].(string)
	e.views = "/api/v1/apps/crm/entities/deal/views"
	e.deals = "/api/v1/apps/crm/entities/deal"
	e.records = e.deals + "/records"
	return e
}

func problemOf(t *testing.T, r *apitest.Resp, status int) {
	t.Helper()
	if r.Status != status || r.Header["Content-Type"] != "application/problem+json" {
		t.Fatalf("status %d (%s), want %d problem+json: %s", r.Status, r.Header["Content-Type"], status, r.Body)
	}
}

// TestSavedViewsPermissions: a personal view is listed for its owner only and is a 404 (not a
// 403) to anyone else; shared views are written by builders and admins only; bad views are 422.
func TestSavedViewsPermissions(t *testing.T) {
	e := newListsEnv(t)
	personal := `{"name":"我的大单","config":{"columns":["title","amount","account","owner_id"],"filter":{"amount":{"gte":1000}},"sort":"-amount","group":"stage"}}`
	v := e.Must(201, "POST", e.views, personal, e.repTok).JSON()
	id := v["id"].(string)
	if v["mine"] != true || v["shared"] != false {
		t.Fatalf("created view: %v", v)
	}
	cfg := v["config"].(map[string]any)
	if fmt.Sprint(cfg["columns"]) != "[title amount account owner_id]" || cfg["group"] != "stage" || cfg["sort"] != "-amount" {
		t.Fatalf("config kept: %v", cfg)
	}
	names := func(tok string) string {
		var b struct {
			Items []struct{ Name string }
		}
		e.Must(200, "GET", e.views, nil, tok).Decode(t, &b)
		var out []string
		for _, x := range b.Items {
			out = append(out, x.Name)
		}
		return strings.Join(out, ",")
	}
	if got := names(e.repTok); got != "我的大单" {
		t.Fatalf("owner lists %q", got)
	}
	if got := names(e.rep2Tok); got != "" {
		t.Fatalf("another rep lists %q", got)
	}
	if got := names(e.AdminToken); got != "" {
		t.Fatalf("the admin lists %q (personal views are personal)", got)
	}
	shared := e.Must(201, "POST", e.views, `{"name":"全部商机","shared":true,"config":{"columns":["title"]}}`, e.AdminToken).JSON()["id"].(string)
	if got := names(e.rep2Tok); got != "全部商机" {
		t.Fatalf("the shared view for a rep: %q", got)
	}
	rename := `{"name":"改名","config":{"columns":["title"]}}`
	cases := []struct {
		name, method, path string
		body               any
		token              string
		status             int
	}{
		{"another user's personal view: put", "PUT", e.views + "/" + id, rename, e.rep2Tok, 404},
		{"another user's personal view: delete", "DELETE", e.views + "/" + id, nil, e.rep2Tok, 404},
		{"an unknown view", "PUT", e.views + "/" + uuid.NewString(), rename, e.repTok, 404},
		{"a rep shares", "POST", e.views, `{"name":"x","shared":true,"config":{"columns":[]}}`, e.repTok, 403},
		{"a rep shares their view", "PUT", e.views + "/" + id, `{"name":"x","shared":true,"config":{"columns":[]}}`, e.repTok, 403},
		{"a rep changes a shared view", "PUT", e.views + "/" + shared, rename, e.repTok, 403},
		{"a rep deletes a shared view", "DELETE", e.views + "/" + shared, nil, e.rep2Tok, 403},
		{"no name", "POST", e.views, `{"name":" ","config":{"columns":[]}}`, e.repTok, 422},
		{"unknown column", "POST", e.views, `{"name":"x","config":{"columns":["nope"]}}`, e.repTok, 422},
		{"column twice", "POST", e.views, `{"name":"x","config":{"columns":["title","title"]}}`, e.repTok, 422},
		{"bad filter", "POST", e.views, `{"name":"x","config":{"columns":[],"filter":{"nope":{"eq":1}}}}`, e.repTok, 422},
		{"bad sort", "POST", e.views, `{"name":"x","config":{"columns":[],"sort":"-nope"}}`, e.repTok, 422},
		{"group by text", "POST", e.views, `{"name":"x","config":{"columns":[],"group":"title"}}`, e.repTok, 422},
		{"unknown key", "POST", e.views, `{"name":"x","colour":"red"}`, e.repTok, 422},
		{"not json", "POST", e.views, []byte("name=x"), e.repTok, 422},
		{"anonymous", "GET", e.views, nil, "", 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			problemOf(t, e.Do(tc.method, tc.path, tc.body, tc.token), tc.status)
		})
	}
	// the owner renames and deletes their view; the admin changes the shared one
	if got := e.Must(200, "PUT", e.views+"/"+id, rename, e.repTok).JSON()["name"]; got != "改名" {
		t.Fatalf("renamed: %v", got)
	}
	e.Must(200, "PUT", e.views+"/"+shared, `{"name":"全部","shared":true,"config":{"columns":["title","stage"]}}`, e.AdminToken)
	e.Must(204, "DELETE", e.views+"/"+id, nil, e.repTok)
	if got := names(e.repTok); got != "全部" {
		t.Fatalf("after delete the rep lists %q", got)
	}
}

// TestBulkActionsPerRow: one request hands several deals to another rep; each row is checked
// against the caller's update scope in SQL, a row outside it is reported (out_of_scope when the
// caller can read it, not_found otherwise) and left unchanged, the others are written. A row
// whose values fail (a taken unique code) is rolled back alone.
func TestBulkActionsPerRow(t *testing.T) {
	e := newListsEnv(t)
	mk := func(title, tok string) string {
		return e.Must(201, "POST", e.records, fmt.Sprintf(`{"title":%q}`, title), tok).JSON()["id"].(string)
	}
	d1, d2 := mk("D1", e.repTok), mk("D2", e.repTok)
	theirs := mk("D3", e.AdminToken)
	ghost := uuid.NewString()
	body := fmt.Sprintf(`{"action":"owner","owner_id":%q,"ids":[%q,%q,%q,%q]}`, e.rep2, d1, theirs, d2, ghost)
	var res struct {
		OK, Failed int
		Rows       []struct{ ID, Status, Code string }
	}
	e.Must(207, "POST", e.records+"/bulk", body, e.repTok).Decode(t, &res)
	got := []string{}
	for _, r := range res.Rows {
		got = append(got, r.Status+":"+r.Code)
	}
	if res.OK != 2 || res.Failed != 2 || strings.Join(got, ",") != "ok:,failed:out_of_scope,ok:,failed:not_found" {
		t.Fatalf("bulk owner: ok %d failed %d rows %v", res.OK, res.Failed, got)
	}
	owner := func(id string) any { return e.Must(200, "GET", e.records+"/"+id, nil, e.AdminToken).JSON()["owner_id"] }
	if owner(d1) != e.rep2.String() || owner(d2) != e.rep2.String() {
		t.Fatalf("owners after bulk: %v %v", owner(d1), owner(d2))
	}
	if owner(theirs) == e.rep2.String() {
		t.Fatal("a row outside the caller's scope was handed over")
	}
	// per-row rollback: the second row cannot take the same unique code
	a, b := mk("A", e.AdminToken), mk("B", e.AdminToken)
	e.Must(207, "POST", e.records+"/bulk", fmt.Sprintf(`{"action":"update","values":{"code":"X-1","amount":5},"ids":[%q,%q]}`, a, b), e.AdminToken).Decode(t, &res)
	if res.OK != 1 || res.Failed != 1 || res.Rows[1].Code != "invalid" {
		t.Fatalf("bulk update with a unique clash: %+v", res)
	}
	bd := e.Must(200, "GET", e.records+"/"+b, nil, e.AdminToken).JSON()["data"].(map[string]any)
	if _, has := bd["amount"]; has {
		t.Fatalf("the failed row was partly written: %v", bd)
	}
	e.Must(200, "POST", e.records+"/bulk", fmt.Sprintf(`{"action":"delete","ids":[%q]}`, a), e.AdminToken)
	e.Must(404, "GET", e.records+"/"+a, nil, e.AdminToken)

	for _, tc := range []struct {
		name, body, token string
		status            int
	}{
		{"unknown action", fmt.Sprintf(`{"action":"merge","ids":[%q]}`, b), e.AdminToken, 422},
		{"no ids", `{"action":"delete","ids":[]}`, e.AdminToken, 422},
		{"bad id", `{"action":"delete","ids":["x"]}`, e.AdminToken, 422},
		{"twice", fmt.Sprintf(`{"action":"delete","ids":[%q,%q]}`, b, b), e.AdminToken, 422},
		{"no values", fmt.Sprintf(`{"action":"update","ids":[%q]}`, b), e.AdminToken, 422},
		{"bad owner", fmt.Sprintf(`{"action":"owner","owner_id":"x","ids":[%q]}`, b), e.AdminToken, 422},
		{"anonymous", fmt.Sprintf(`{"action":"delete","ids":[%q]}`, b), "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problemOf(t, e.Do("POST", e.records+"/bulk", tc.body, tc.token), tc.status)
		})
	}
	e.Must(200, "GET", e.records+"/"+b, nil, e.AdminToken)
}

func multipartFile(t *testing.T, name string, content []byte) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(content)
	_ = mw.Close()
	return buf.Bytes(), "Content-Type: " + mw.FormDataContentType()
}

// TestImportWizardFlow: the wizard reads an XLSX (or CSV) and gets a field suggested per column
// (keys and en/zh labels), then sends mapped cells: a dry run reports per-row errors and writes
// nothing; partial mode writes the good rows and reports the bad one.
func TestImportWizardFlow(t *testing.T) {
	e := newListsEnv(t)
	x := excelize.NewFile()
	for i, row := range [][]any{{"标题", "Amount", "备注", "CODE"}, {"甲", 100, "x", "C1"}, {"", 5, "", ""}, {"丙", "abc", "", "C3"}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var xb bytes.Buffer
	if err := x.Write(&xb); err != nil {
		t.Fatal(err)
	}
	body, ct := multipartFile(t, "deals.xlsx", xb.Bytes())
	var parsed struct {
		Headers, Suggestions []string
		Rows                 [][]string
	}
	e.Must(200, "POST", e.deals+"/import/parse", body, e.repTok, ct).Decode(t, &parsed)
	if strings.Join(parsed.Suggestions, ",") != "title,amount,,code" || len(parsed.Rows) != 3 || parsed.Rows[0][0] != "甲" {
		t.Fatalf("parsed: %+v", parsed)
	}
	csvBody, csvCT := multipartFile(t, "deals.csv", []byte("\ufefftitle,金额\n乙,7\n"))
	e.Must(200, "POST", e.deals+"/import/parse", csvBody, e.repTok, csvCT).Decode(t, &parsed)
	if strings.Join(parsed.Suggestions, ",") != "title,amount" {
		t.Fatalf("csv suggestions: %v", parsed.Suggestions)
	}
	badBody, badCT := multipartFile(t, "deals.xlsx", []byte("not a workbook"))
	problemOf(t, e.Do("POST", e.deals+"/import/parse", badBody, e.repTok, badCT), 422)
	problemOf(t, e.Do("POST", e.deals+"/import/parse", `{}`, e.repTok), 415)

	mapped, _ := json.Marshal(map[string]any{"columns": []string{"title", "amount", "", "code"}, "rows": [][]string{{"甲", "100", "x", "C1"}, {"", "5", "", ""}, {"丙", "1,000", "", "C3"}}})
	count := func() int {
		return len(e.Must(200, "GET", e.records, nil, e.AdminToken).JSON()["items"].([]any))
	}
	before := count()
	var res struct {
		Rows, Created, Failed int
		Errors                []struct{ Field, Code string }
	}
	e.Must(200, "POST", e.deals+"/import?mode=partial&dry_run=true", mapped, e.repTok).Decode(t, &res)
	if res.Rows != 3 || res.Created != 2 || res.Failed != 1 || len(res.Errors) != 1 || res.Errors[0].Field != "rows[1].title" {
		t.Fatalf("dry run: %+v", res)
	}
	if n := count(); n != before {
		t.Fatalf("a dry run wrote %d records", n-before)
	}
	e.Must(207, "POST", e.deals+"/import?mode=partial", mapped, e.repTok).Decode(t, &res)
	if res.Created != 2 || res.Failed != 1 {
		t.Fatalf("partial import: %+v", res)
	}
	if n := count(); n != before+2 {
		t.Fatalf("after the partial import: %d new records", n-before)
	}
	for _, tc := range []struct{ name, body string }{
		{"unknown column", `{"columns":["nope"],"rows":[["a"]]}`},
		{"twice", `{"columns":["title","title"],"rows":[["a","b"]]}`},
		{"nothing mapped", `{"columns":[""],"rows":[["a"]]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problemOf(t, e.Do("POST", e.deals+"/import?dry_run=true", tc.body, e.repTok), 422)
		})
	}
}

// TestImportWizardProgress: the wizard's mapped import followed with ?progress=<id> reports its
// row total and rows done to the importing user only (another user, the admin included, gets
// 404; so does an id nobody used); a bad id is a 422, and a dry run is followed the same way.
func TestImportWizardProgress(t *testing.T) {
	e := newListsEnv(t)
	const n = 1200
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("进度 %04d", i), fmt.Sprint(i)}
	}
	mapped, _ := json.Marshal(map[string]any{"columns": []string{"title", "amount"}, "rows": rows})
	e.Must(200, "POST", e.deals+"/import?mode=partial&dry_run=true&progress=wizard-check-1", mapped, e.repTok)
	e.Must(201, "POST", e.deals+"/import?progress=wizard-run-1", mapped, e.repTok)
	for _, tc := range []struct {
		name, id, token string
		status          int
	}{
		{"the importer reads the check", "wizard-check-1", e.repTok, 200},
		{"the importer reads the import", "wizard-run-1", e.repTok, 200},
		{"another rep", "wizard-run-1", e.rep2Tok, 404},
		{"the admin", "wizard-run-1", e.AdminToken, 404},
		{"anonymous", "wizard-run-1", "", 401},
		{"an id nobody used", "wizard-run-2", e.repTok, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do("GET", "/api/v1/imports/"+tc.id, nil, tc.token)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.status != 200 {
				if strings.Contains(string(r.Body), "rows_total") {
					t.Fatalf("someone else's progress leaked: %s", r.Body)
				}
				return
			}
			m := r.JSON()
			if m["rows"] != float64(n) || m["rows_total"] != float64(n) || m["created"] != float64(n) || m["done"] != true {
				t.Fatalf("progress: %s", r.Body)
			}
		})
	}
	problemOf(t, e.Do("POST", e.deals+"/import?progress=short", mapped, e.repTok), 422)
}

// TestExportViewNames: the export of a view has its columns in its order and names instead of
// ids; a linked record the caller may not read is a placeholder, never its id or name. Group
// counts name their values the same way.
func TestExportViewNames(t *testing.T) {
	e := newListsEnv(t)
	e.Must(201, "POST", e.records, fmt.Sprintf(`{"title":"D1","amount":10,"account":%q}`, e.mine), e.repTok)
	e.Must(201, "POST", e.records, fmt.Sprintf(`{"title":"D2","amount":20,"account":%q}`, e.hidden), e.AdminToken)
	body := string(e.Must(200, "GET", e.deals+"/export?format=csv&sort=title&columns=account,title,owner_id", nil, e.repTok).Body)
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(body, "\ufeff")), "\n")
	if len(lines) != 3 {
		t.Fatalf("export: %q", body)
	}
	for _, want := range []string{"华为,D1,王小明", "受限记录,D2,"} {
		if !strings.Contains(body, want) {
			t.Errorf("export lacks %q: %q", want, body)
		}
	}
	if strings.Contains(body, e.hidden) || strings.Contains(body, "腾讯") || strings.Contains(body, e.mine) {
		t.Fatalf("export shows ids or a name outside the rep's scope: %q", body)
	}
	admin := string(e.Must(200, "GET", e.deals+"/export?format=csv&sort=title&columns=title,account", nil, e.AdminToken, "Accept-Language: en").Body)
	if !strings.Contains(admin, "D2,腾讯") {
		t.Fatalf("admin export: %q", admin)
	}
	xl := e.Must(200, "GET", e.deals+"/export?format=xlsx&sort=title&columns=title,account", nil, e.repTok).Body
	f, err := excelize.OpenReader(bytes.NewReader(xl))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Sheet1")
	if len(rows) != 3 || rows[1][2] != "华为" || rows[2][2] != "受限记录" {
		t.Fatalf("xlsx rows: %v", rows)
	}
	problemOf(t, e.Do("GET", e.deals+"/export?columns=nope", nil, e.repTok), 422)

	var groups struct {
		Items []struct {
			Value any
			Count int
		}
		Display map[string]string
	}
	e.Must(200, "GET", e.deals+"/groups?group=account", nil, e.repTok).Decode(t, &groups)
	if len(groups.Items) != 2 || groups.Display[e.mine] != "华为" || groups.Display[e.hidden] != "" {
		t.Fatalf("groups: %+v", groups)
	}
	problemOf(t, e.Do("GET", e.deals+"/groups?group=title", nil, e.repTok), 422)
}
