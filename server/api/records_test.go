package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/server/apitest"
)

// recLead is the DESIGN 6a lead entity (with a hidden-able cost field).
const recLead = `{"slug":"lead","label":{"en":"Lead","zh-CN":"线索"},"fields":[{"key":"name",
"type":"text","required":true},{"key":"phone","type":"phone","unique":true},{"key":"email",
"type":"email"},{"key":"amount","type":"money"},{"key":"stage","type":"select","options":["new",
"proposal","negotiation","won"]},{"key":"files","type":"attachment","multiple":true},
{"key":"source","type":"text"},{"key":"utm_source","type":"text"},{"key":"cost","type":"number"},
{"key":"vip","type":"boolean"}],
"stages":{"field":"stage","order":["new","proposal","negotiation","won"],"transitions":[{"from":
"proposal","to":"negotiation","require":"any(record.files, {.name contains \"报价单\"})",
"message":"请上传带客户名称的正式报价单"}]},"dedupe":{"keys":[["phone"],["email"]],
"on_duplicate":"merge"}}`

// recEnv starts the API with app crm, the lead entity and a public form published.
func recEnv(t *testing.T) (*apitest.Env, string) {
	t.Helper()
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	putDef(t, e, "/api/v1/apps/crm/entities/lead", recLead)
	e.Must(200, "POST", "/api/v1/apps/crm/entities/lead/publish", nil, e.AdminToken)
	form := `{"slug":"web-lead","entity":"lead","public":true,"title":{"zh-CN":"联系我们","en":"Contact us"},
		"layout":[{"section":{"zh-CN":"基本信息","en":"Basics"},"items":[{"field":"name"},{"field":"phone"}]},{"field":"email"},{"field":"amount"}],
		"defaults":{"source":"web"},"hidden":["utm_source"],"success":{"message":{"zh-CN":"谢谢！","en":"Thanks!"}}}`
	putDef(t, e, "/api/v1/apps/crm/forms/web-lead", form)
	e.Must(200, "POST", "/api/v1/apps/crm/forms/web-lead/publish", nil, e.AdminToken)
	r := e.Must(200, "GET", "/api/v1/apps/crm/forms/web-lead", nil, e.AdminToken)
	pid, _ := r.JSON()["public_id"].(string)
	if pid == "" {
		t.Fatalf("no public_id: %s", r.Body)
	}
	return e, pid
}

// putDef saves a draft (201 when new, 200 when replaced).
func putDef(t *testing.T, e *apitest.Env, path, body string) {
	t.Helper()
	if r := e.Do("PUT", path, body, e.AdminToken); r.Status != 200 && r.Status != 201 {
		t.Fatalf("PUT %s: %d %s", path, r.Status, r.Body)
	}
}

const recBase = "/api/v1/apps/crm/entities/lead/records"

// TestRecordsAPIScenarios walks the record routes: happy paths, bad input, unauthenticated,
// not found and conflicts.
func TestRecordsAPIScenarios(t *testing.T) {
	e, _ := recEnv(t)
	tok := e.AdminToken
	created := e.Must(201, "POST", recBase, `{"name":"张三","phone":"138 0013 8000","amount":1000}`, tok).JSON()
	id, _ := created["id"].(string)
	data, _ := created["data"].(map[string]any)
	if data["phone"] != "+8613800138000" || created["version"] != 1.0 || created["owner_id"] == nil || created["created_at"] == nil {
		t.Fatalf("created %v", created)
	}

	cases := []struct {
		name, method, path string
		body               any
		token              string
		headers            []string
		status             int
		check              func(t *testing.T, m map[string]any)
	}{
		{"list", "GET", recBase, nil, tok, nil, 200, func(t *testing.T, m map[string]any) {
			if items, _ := m["items"].([]any); len(items) != 1 {
				t.Fatalf("items %v", m)
			}
			if _, ok := m["next_cursor"]; !ok {
				t.Fatal("next_cursor missing")
			}
		}},
		{"list filter", "GET", recBase + "?filter=" + url.QueryEscape(`{"amount":{"gte":2000}}`), nil, tok, nil, 200, func(t *testing.T, m map[string]any) {
			if items, _ := m["items"].([]any); len(items) != 0 {
				t.Fatalf("items %v", m)
			}
		}},
		{"list q", "GET", recBase + "?q=" + url.QueryEscape("张"), nil, tok, nil, 200, func(t *testing.T, m map[string]any) {
			if items, _ := m["items"].([]any); len(items) != 1 {
				t.Fatalf("items %v", m)
			}
		}},
		{"list bad filter", "GET", recBase + "?filter=" + url.QueryEscape(`{"nope":{"eq":1}}`), nil, tok, nil, 422, nil},
		{"list bad json filter", "GET", recBase + "?filter=%7B", nil, tok, nil, 422, nil},
		{"list bad sort", "GET", recBase + "?sort=-nope", nil, tok, nil, 422, nil},
		{"list bad limit", "GET", recBase + "?limit=0", nil, tok, nil, 422, nil},
		{"list unauthenticated", "GET", recBase, nil, "", nil, 401, nil},
		{"list unknown app", "GET", "/api/v1/apps/nope/entities/lead/records", nil, tok, nil, 404, nil},
		{"list unknown entity", "GET", "/api/v1/apps/crm/entities/nope/records", nil, tok, nil, 404, nil},
		{"get", "GET", recBase + "/" + id, nil, tok, nil, 200, func(t *testing.T, m map[string]any) {
			if m["id"] != id {
				t.Fatalf("got %v", m)
			}
		}},
		{"get unknown id", "GET", recBase + "/00000000-0000-0000-0000-000000000000", nil, tok, nil, 404, nil},
		{"get bad id", "GET", recBase + "/not-a-uuid", nil, tok, nil, 404, nil},
		{"create missing required", "POST", recBase, `{"phone":"13900139000"}`, tok, nil, 422, func(t *testing.T, m map[string]any) {
			errs, _ := m["errors"].([]any)
			if len(errs) != 1 || errs[0].(map[string]any)["field"] != "name" {
				t.Fatalf("errors %v", m)
			}
		}},
		{"create bad phone", "POST", recBase, `{"name":"x","phone":"12"}`, tok, nil, 422, nil},
		{"create unknown field", "POST", recBase, `{"name":"x","zzz":1}`, tok, nil, 422, nil},
		{"create not an object", "POST", recBase, `[1]`, tok, nil, 422, nil},
		{"create bad json", "POST", recBase, `{"name":`, tok, nil, 422, nil},
		{"create wrong content type", "POST", recBase, nil, tok, []string{"Content-Type: text/plain"}, 422, nil},
		{"create unauthenticated", "POST", recBase, `{"name":"x"}`, "", nil, 401, nil},
		{"create dedupe merge", "POST", recBase, `{"name":"Zhang","phone":"+86 138 0013 8000","email":"z@example.com"}`, tok, nil, 200, func(t *testing.T, m map[string]any) {
			if m["merged"] != true || m["id"] != id {
				t.Fatalf("merge %v", m)
			}
		}},
		{"patch stale version header", "PATCH", recBase + "/" + id, `{"amount":5}`, tok, []string{"If-Match: 1"}, 409, nil},
		{"patch stale version body", "PATCH", recBase + "/" + id, `{"amount":5,"version":1}`, tok, nil, 409, nil},
		{"patch bad if-match", "PATCH", recBase + "/" + id, `{"amount":5}`, tok, []string{"If-Match: abc"}, 422, nil},
		{"patch", "PATCH", recBase + "/" + id, `{"amount":5,"stage":"proposal"}`, tok, []string{`If-Match: "2"`}, 200, func(t *testing.T, m map[string]any) {
			if m["version"] != 3.0 {
				t.Fatalf("patched %v", m)
			}
		}},
		{"patch gate", "PATCH", recBase + "/" + id, `{"stage":"negotiation"}`, tok, nil, 422, func(t *testing.T, m map[string]any) {
			errs, _ := m["errors"].([]any)
			if len(errs) != 1 || errs[0].(map[string]any)["code"] != "stage_gate" || errs[0].(map[string]any)["message"] != "请上传带客户名称的正式报价单" {
				t.Fatalf("gate %v", m)
			}
		}},
		{"patch unknown id", "PATCH", recBase + "/00000000-0000-0000-0000-000000000000", `{"amount":1}`, tok, nil, 404, nil},
		{"patch unauthenticated", "PATCH", recBase + "/" + id, `{"amount":1}`, "", nil, 401, nil},
		{"history", "GET", recBase + "/" + id + "/history", nil, tok, nil, 200, func(t *testing.T, m map[string]any) {
			items, _ := m["items"].([]any)
			var kinds []string
			for _, it := range items {
				kinds = append(kinds, it.(map[string]any)["kind"].(string))
			}
			if strings.Join(kinds, ",") != "created,stage,merged,updated,stage" {
				t.Fatalf("history kinds %v", kinds)
			}
		}},
		{"history unknown", "GET", recBase + "/00000000-0000-0000-0000-000000000000/history", nil, tok, nil, 404, nil},
		{"delete unauthenticated", "DELETE", recBase + "/" + id, nil, "", nil, 401, nil},
		{"delete stale if-match", "DELETE", recBase + "/" + id, nil, tok, []string{`If-Match: "2"`}, 409, nil},
		{"delete bad if-match", "DELETE", recBase + "/" + id, nil, tok, []string{"If-Match: abc"}, 422, nil},
		{"delete", "DELETE", recBase + "/" + id, nil, tok, []string{`If-Match: "3"`}, 204, nil},
		{"get deleted", "GET", recBase + "/" + id, nil, tok, nil, 404, nil},
		{"delete again", "DELETE", recBase + "/" + id, nil, tok, nil, 404, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != nil {
				body = tc.body
			}
			headers := tc.headers
			if tc.name == "create wrong content type" {
				r := rawRequest(t, e, "POST", tc.path, "text/plain", []byte(`{"name":"x"}`), tc.token)
				if r != 415 {
					t.Fatalf("status %d, want 415", r)
				}
				return
			}
			r := e.Do(tc.method, tc.path, body, tc.token, headers...)
			if r.Status != tc.status {
				t.Fatalf("%s %s: status %d, want %d: %s", tc.method, tc.path, r.Status, tc.status, r.Body)
			}
			if r.Status >= 400 && !strings.HasPrefix(r.Header["Content-Type"], "application/problem+json") {
				t.Fatalf("error without problem+json: %v", r.Header)
			}
			if tc.check != nil {
				tc.check(t, r.JSON())
			}
		})
	}
}

func rawRequest(t *testing.T, e *apitest.Env, method, path, ctype string, body []byte, token string) int {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.Srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestRecordsAPIPermissions checks scopes through the real authorizer: a user with no role is
// answered like a missing app (404), a sales rep sees only their own records and never the hidden field.
func TestRecordsAPIPermissions(t *testing.T) {
	e, _ := recEnv(t)
	e.Must(201, "POST", recBase, `{"name":"admin's","cost":7}`, e.AdminToken)
	repID, repTok := e.CreateUser("rep@example.com", "Rep", nil)
	_, noneTok := e.CreateUser("none@example.com", "None", nil)
	e.Must(404, "GET", recBase, nil, noneTok)
	e.Must(404, "POST", recBase, `{"name":"x"}`, noneTok)

	putDef(t, e, "/api/v1/admin/roles", `{"app":"crm","name":"rep","permissions":[{"resource":"entity:lead","actions":["read","create","update"],"scope":"own"}],"fields":{"lead":{"hidden":["cost"],"readonly":["amount"]}}}`)
	e.Must(200, "PUT", fmt.Sprintf("/api/v1/admin/users/%s/roles", repID), `{"roles":[{"app":"crm","role":"rep"}]}`, e.AdminToken)

	mine := e.Must(201, "POST", recBase, `{"name":"rep's"}`, repTok).JSON()
	list := e.Must(200, "GET", recBase, nil, repTok).JSON()
	items, _ := list["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != mine["id"] {
		t.Fatalf("rep sees %v", list)
	}
	e.Must(422, "GET", recBase+"?filter="+url.QueryEscape(`{"cost":{"eq":7}}`), nil, repTok)
	e.Must(422, "POST", recBase, `{"name":"x","cost":1}`, repTok)
	e.Must(403, "PATCH", recBase+"/"+mine["id"].(string), `{"amount":1}`, repTok)
	e.Must(403, "DELETE", recBase+"/"+mine["id"].(string), nil, repTok)
	all := e.Must(200, "GET", recBase+"?sort=name", nil, e.AdminToken).JSON()["items"].([]any)
	if len(all) != 2 {
		t.Fatalf("admin sees %d", len(all))
	}
	theirs := all[0].(map[string]any)["id"].(string)
	e.Must(404, "GET", recBase+"/"+theirs, nil, repTok)
	e.Must(404, "PATCH", recBase+"/"+theirs, `{"name":"y"}`, repTok)
}

// upload posts a multipart file.
func upload(t *testing.T, e *apitest.Env, token, name string, content []byte) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req := httptest.NewRequest("POST", "/api/v1/files", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.Srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return res.StatusCode, m
}

// TestFilesAPI covers upload limits and types, attaching, the gate it opens and download rights.
func TestFilesAPI(t *testing.T) {
	e, _ := recEnv(t)
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF")
	cases := []struct {
		name, file string
		content    []byte
		token      string
		status     int
	}{
		{"pdf", "报价单-ACME.pdf", pdf, e.AdminToken, 201},
		{"png", "a.png", []byte("\x89PNG\r\n\x1a\n0000000000"), e.AdminToken, 201},
		{"csv", "a.csv", []byte("a,b\n1,2\n"), e.AdminToken, 201},
		{"exe refused", "a.exe", []byte("MZ\x90\x00"), e.AdminToken, 415},
		{"html as pdf refused", "a.pdf", []byte("<html><script>alert(1)</script></html>"), e.AdminToken, 415},
		{"svg refused", "a.svg", []byte("<svg/>"), e.AdminToken, 415},
		{"unauthenticated", "a.pdf", pdf, "", 401},
	}
	ids := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, m := upload(t, e, tc.token, tc.file, tc.content)
			if st != tc.status {
				t.Fatalf("status %d want %d: %v", st, tc.status, m)
			}
			if st == 201 {
				ids[tc.name], _ = m["id"].(string)
				if m["sha256"] == "" || m["size"] != float64(len(tc.content)) {
					t.Fatalf("upload answer %v", m)
				}
			}
		})
	}
	big := bytes.Repeat([]byte("a"), int(e.Cfg.MaxUpload)+10)
	if st, _ := upload(t, e, e.AdminToken, "big.txt", big); st != 413 {
		t.Fatalf("oversized upload: %d", st)
	}
	e.Must(422, "POST", "/api/v1/files", nil, e.AdminToken, "Content-Type: multipart/form-data; boundary=x")

	// attach the quote: the gate opens
	rec := e.Must(201, "POST", recBase, `{"name":"ACME","stage":"proposal"}`, e.AdminToken).JSON()
	rid := rec["id"].(string)
	got := e.Must(200, "PATCH", recBase+"/"+rid, fmt.Sprintf(`{"files":[{"id":%q}],"stage":"negotiation"}`, ids["pdf"]), e.AdminToken).JSON()
	files := got["data"].(map[string]any)["files"].([]any)
	f0 := files[0].(map[string]any)
	if f0["name"] != "报价单-ACME.pdf" || f0["type"] != "application/pdf" || f0["size"] == nil || f0["uploaded_at"] == nil {
		t.Fatalf("attachment value %v", f0)
	}
	dl := e.Must(200, "GET", "/api/v1/files/"+ids["pdf"], nil, e.AdminToken)
	if !bytes.Equal(dl.Body, pdf) || dl.Header["Content-Type"] != "application/pdf" {
		t.Fatalf("download %q %v", dl.Body, dl.Header)
	}
	// another user cannot download it nor attach it
	_, otherTok := e.CreateUser("other@example.com", "Other", nil)
	e.Must(404, "GET", "/api/v1/files/"+ids["pdf"], nil, otherTok)
	// a reader of the record it is attached to can
	readerID, readerTok := e.CreateUser("reader@example.com", "Reader", nil)
	putDef(t, e, "/api/v1/admin/roles", `{"app":"crm","name":"reader","permissions":[{"resource":"entity:lead","actions":["read"],"scope":"all"}]}`)
	e.Must(200, "PUT", fmt.Sprintf("/api/v1/admin/users/%s/roles", readerID), `{"roles":[{"app":"crm","role":"reader"}]}`, e.AdminToken)
	if dl := e.Must(200, "GET", "/api/v1/files/"+ids["pdf"], nil, readerTok); !bytes.Equal(dl.Body, pdf) {
		t.Fatal("reader download differs")
	}
	e.Must(404, "GET", "/api/v1/files/"+ids["png"], nil, readerTok) // not attached anywhere
	// a reader who may not see the attachment field cannot download its files
	blindID, blindTok := e.CreateUser("blind@example.com", "Blind", nil)
	putDef(t, e, "/api/v1/admin/roles", `{"app":"crm","name":"blind","permissions":[{"resource":"entity:lead","actions":["read"],"scope":"all"}],"fields":{"lead":{"hidden":["files"]}}}`)
	e.Must(200, "PUT", fmt.Sprintf("/api/v1/admin/users/%s/roles", blindID), `{"roles":[{"app":"crm","role":"blind"}]}`, e.AdminToken)
	e.Must(200, "GET", recBase+"/"+rid, nil, blindTok)
	e.Must(404, "GET", "/api/v1/files/"+ids["pdf"], nil, blindTok)
	e.Must(404, "GET", "/api/v1/files/00000000-0000-0000-0000-000000000000", nil, e.AdminToken)
	e.Must(401, "GET", "/api/v1/files/"+ids["pdf"], nil, "")
}

// TestFormsAPI covers the internal and public submit routes and the public page.
func TestFormsAPI(t *testing.T) {
	e, pid := recEnv(t)
	pub := "/api/v1/public/forms/" + pid + "/submit"
	cases := []struct {
		name, method, path string
		body               any
		token              string
		status             int
		check              func(t *testing.T, r *apitest.Resp)
	}{
		{"public submit", "POST", pub, `{"name":"王五","phone":"13700137000","utm_source":"wechat","utm_medium":"x"}`, "", 201, func(t *testing.T, r *apitest.Resp) {
			m := r.JSON()
			if m["id"] == nil || m["message"] != "谢谢！" {
				t.Fatalf("answer %v", m)
			}
			// the answer is a submission id, not the record's
			e.Must(404, "GET", recBase+"/"+m["id"].(string), nil, e.AdminToken)
			var raw []byte
			if err := e.DB.Pool.QueryRow(t.Context(), `SELECT data FROM records WHERE data->>'phone' = '+8613700137000'`).Scan(&raw); err != nil {
				t.Fatal(err)
			}
			var rec map[string]any
			_ = json.Unmarshal(raw, &rec)
			if rec["source"] != "web" || rec["utm_source"] != "wechat" || rec["phone"] != "+8613700137000" {
				t.Fatalf("stored %v", rec)
			}
		}},
		{"public field errors", "POST", pub, `{"phone":"1"}`, "", 422, func(t *testing.T, r *apitest.Resp) {
			errs, _ := r.JSON()["errors"].([]any)
			if len(errs) != 2 {
				t.Fatalf("errors %v", r.JSON())
			}
		}},
		{"public field outside layout", "POST", pub, `{"name":"x","cost":1}`, "", 422, nil},
		{"public honeypot", "POST", pub, `{"name":"bot","_hp":"http://spam"}`, "", 201, func(t *testing.T, r *apitest.Resp) {
			var n int
			_ = e.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM records WHERE data->>'name' = 'bot'`).Scan(&n)
			if n != 0 {
				t.Fatal("honeypot submission was stored")
			}
		}},
		{"public too large", "POST", pub, `{"name":"` + strings.Repeat("a", 70<<10) + `"}`, "", 413, nil},
		{"public unknown form", "POST", "/api/v1/public/forms/nope/submit", `{"name":"x"}`, "", 404, nil},
		{"public bad json", "POST", pub, `{`, "", 422, nil},
		{"internal submit", "POST", "/api/v1/apps/crm/forms/web-lead/submit", `{"name":"赵六","email":"z6@example.com"}`, e.AdminToken, 201, func(t *testing.T, r *apitest.Resp) {
			if r.JSON()["id"] == nil {
				t.Fatalf("answer %s", r.Body)
			}
		}},
		{"internal submit merged", "POST", "/api/v1/apps/crm/forms/web-lead/submit", `{"name":"赵六","email":"Z6@example.com"}`, e.AdminToken, 200, func(t *testing.T, r *apitest.Resp) {
			if r.JSON()["merged"] != true {
				t.Fatalf("answer %s", r.Body)
			}
		}},
		{"internal unauthenticated", "POST", "/api/v1/apps/crm/forms/web-lead/submit", `{"name":"x"}`, "", 401, nil},
		{"internal unknown form", "POST", "/api/v1/apps/crm/forms/nope/submit", `{"name":"x"}`, e.AdminToken, 404, nil},
		{"page", "GET", "/f/" + pid, nil, "", 200, func(t *testing.T, r *apitest.Resp) {
			html := string(r.Body)
			for _, want := range []string{"联系我们", "基本信息", `name="phone"`, `type="tel"`, `name="_hp"`, `name="utm_source"`, "fetch(", pub} {
				if !strings.Contains(html, want) {
					t.Fatalf("page lacks %q", want)
				}
			}
		}},
		{"page english", "GET", "/f/" + pid + "?lang=en", nil, "", 200, func(t *testing.T, r *apitest.Resp) {
			if !strings.Contains(string(r.Body), "Contact us") || !strings.Contains(string(r.Body), "Basics") {
				t.Fatal("no English labels")
			}
		}},
		{"page unknown", "GET", "/f/nope", nil, "", 404, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do(tc.method, tc.path, tc.body, tc.token)
			if r.Status != tc.status {
				t.Fatalf("status %d want %d: %.300s", r.Status, tc.status, r.Body)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	// events: the form submission is in the record's history
	var kinds string
	_ = e.DB.Pool.QueryRow(t.Context(), `SELECT string_agg(kind, ',' ORDER BY id) FROM record_events WHERE record_id = (SELECT id FROM records WHERE data->>'name' = '王五')`).Scan(&kinds)
	if kinds != "created,stage" {
		t.Fatalf("events %q", kinds)
	}
	// rate limit: 30 per minute per address
	limited := false
	for i := 0; i < 35; i++ {
		r := e.Do("POST", pub, fmt.Sprintf(`{"name":"r%d"}`, i), "")
		if r.Status == 429 {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("no 429 after 35 submissions")
	}
	_ = time.Second
}

// TestRecordsAPINeverFailsOnBadInput throws malformed and hostile input at the record, file
// and form routes: every answer is a 4xx problem, never a 500.
func TestRecordsAPINeverFailsOnBadInput(t *testing.T) {
	e, pid := recEnv(t)
	tok := e.AdminToken
	id := e.Must(201, "POST", recBase, `{"name":"x"}`, tok).JSON()["id"].(string)
	bodies := []string{`null`, `"x"`, `1`, `[]`, `{"name":null}`, `{"name":{"a":1}}`, `{"name":"a\u0000b"}`, `{"amount":"1e999"}`,
		`{"amount":1e400}`, `{"phone":["1"]}`, `{"stage":"won","files":[{"id":"00000000-0000-0000-0000-000000000000"}]}`,
		`{"files":"../../etc/passwd"}`, `{"email":"` + strings.Repeat("a", 300) + `@x.com"}`, `{"name":"` + strings.Repeat("长", 2000) + `"}`,
		strings.Repeat(`[`, 20000), `{"version":"x"}`, `{"version":-1}`, `{"":1}`}
	queries := []string{"filter=" + url.QueryEscape(`{"amount":{"between":[1]}}`), "filter=" + url.QueryEscape(`{"or":[{"or":[{"or":[{"or":[{"or":[{"or":[{"or":[{"or":[{"or":[{}]}]}]}]}]}]}]}]}]}`),
		"filter=null", "filter=" + url.QueryEscape(`{"created_at":{"gt":"99999-01-01"}}`), "sort=" + url.QueryEscape("-,+,--name"), "sort=" + strings.Repeat("name,", 50),
		"cursor=" + strings.Repeat("A", 3000), "cursor=e30", "limit=99999", "limit=-1", "q=" + url.QueryEscape("%\x00"), "q=" + strings.Repeat("x", 500)}
	check := func(r *apitest.Resp, what string) {
		t.Helper()
		if r.Status >= 500 || r.Status == 0 {
			t.Errorf("%.200s: status %d: %.300s", what, r.Status, r.Body)
		}
	}
	for _, b := range bodies {
		check(e.Do("POST", recBase, b, tok), "POST "+b)
		check(e.Do("PATCH", recBase+"/"+id, b, tok), "PATCH "+b)
		check(e.Do("POST", "/api/v1/public/forms/"+pid+"/submit", b, ""), "public "+b)
		check(e.Do("POST", "/api/v1/apps/crm/forms/web-lead/submit", b, tok), "form "+b)
	}
	for _, q := range queries {
		check(e.Do("GET", recBase+"?"+q, nil, tok), "GET ?"+q)
	}
	for _, p := range []string{recBase + "/%00", recBase + "/" + id + "/history/x", "/api/v1/files/x", "/api/v1/apps/crm/entities/lead%27/records", "/f/%27%22"} {
		check(e.Do("GET", p, nil, tok), "GET "+p)
	}
	check(e.Do("PATCH", recBase+"/"+id, `{"name":"y"}`, tok, "If-Match: 99999999999999999999"), "If-Match overflow")
}

// TestFormRulesAndConsent checks form-level required items, require-if and hide rules and the
// consent box of a public form.
func TestFormRulesAndConsent(t *testing.T) {
	e, _ := recEnv(t)
	form := `{"slug":"quote","entity":"lead","public":true,
		"layout":[{"field":"name"},{"field":"phone","required":true},{"field":"email"},{"field":"amount"},{"field":"vip","required":true}],
		"rules":[{"field":"email","when":"record.amount != nil && record.amount > 1000","then":"require"},
		         {"field":"amount","when":"record.name == 'hide'","then":"hide"}],
		"consent":{"zh-CN":"我同意隐私政策","en":"I accept the privacy policy"}}`
	putDef(t, e, "/api/v1/apps/crm/forms/quote", form)
	e.Must(200, "POST", "/api/v1/apps/crm/forms/quote/publish", nil, e.AdminToken)
	pid := e.Must(200, "GET", "/api/v1/apps/crm/forms/quote", nil, e.AdminToken).JSON()["public_id"].(string)
	pub := "/api/v1/public/forms/" + pid + "/submit"
	cases := []struct {
		name, body string
		status     int
		fields     string
	}{
		{"consent missing", `{"name":"a","phone":"13600136000","vip":true}`, 422, "consent"},
		{"form-required item", `{"name":"a","consent":true,"vip":true}`, 422, "phone"},
		{"required checkbox unticked", `{"name":"a","phone":"13600136005","consent":true,"vip":false}`, 422, "vip"},
		{"required checkbox missing", `{"name":"a","phone":"13600136006","consent":true}`, 422, "vip"},
		{"form-required item blank", `{"name":"a","phone":"   ","consent":true,"vip":true}`, 422, "phone"},
		{"form-required item null", `{"name":"a","phone":null,"consent":true,"vip":true}`, 422, "phone"},
		{"require-if blank", `{"name":"a","phone":"13600136004","amount":5000,"email":" ","consent":true,"vip":true}`, 422, "email"},
		{"require-if holds", `{"name":"a","phone":"13600136001","amount":5000,"consent":true,"vip":true}`, 422, "email"},
		{"require-if satisfied", `{"name":"a","phone":"13600136002","amount":5000,"email":"a@example.com","consent":true,"vip":true}`, 201, ""},
		{"hidden by rule", `{"name":"hide","phone":"13600136003","amount":7,"consent":true,"vip":true}`, 201, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do("POST", pub, tc.body, "")
			if r.Status != tc.status {
				t.Fatalf("status %d want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.fields != "" {
				errs, _ := r.JSON()["errors"].([]any)
				var got []string
				for _, x := range errs {
					got = append(got, x.(map[string]any)["field"].(string))
				}
				if strings.Join(got, ",") != tc.fields {
					t.Fatalf("error fields %v want %s", got, tc.fields)
				}
			}
		})
	}
	var amount *float64
	_ = e.DB.Pool.QueryRow(t.Context(), `SELECT (data->>'amount')::float8 FROM records WHERE data->>'name' = 'hide'`).Scan(&amount)
	if amount != nil {
		t.Fatalf("hidden field stored: %v", *amount)
	}
	page := string(e.Must(200, "GET", "/f/"+pid, nil, "").Body)
	if !strings.Contains(page, "我同意隐私政策") || !strings.Contains(page, `name="consent"`) {
		t.Fatal("consent box missing on the page")
	}
}
