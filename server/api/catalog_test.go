package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/server/apitest"
)

func TestCatalog(t *testing.T) {
	e := apitest.New(t)
	e.Must(401, "GET", "/api/v1/catalog", nil, "")
	_, tok := e.CreateUser("viewer@example.com", "Viewer", nil)
	var cat struct {
		Nodes []struct {
			Type   string           `json:"type"`
			Params []map[string]any `json:"params"`
		} `json:"nodes"`
		Connectors []struct {
			ID    string `json:"id"`
			Label struct {
				ZhCN string `json:"zh-CN"`
			}
			Capabilities []string `json:"capabilities"`
			Credentials  []map[string]any
			Operations   []struct {
				ID     string           `json:"id"`
				Params []map[string]any `json:"params"`
			} `json:"operations"`
		} `json:"connectors"`
	}
	e.Must(200, "GET", "/api/v1/catalog", nil, tok).Decode(t, &cat)
	nodes := map[string]bool{}
	for _, n := range cat.Nodes {
		nodes[n.Type] = true
	}
	for _, want := range []string{"condition", "switch", "set", "script", "record.create", "record.update", "record.find", "record.delete",
		"assign", "delay", "wait_event", "task", "approval", "connector", "subflow", "foreach"} {
		if !nodes[want] {
			t.Errorf("catalog misses node type %s", want)
		}
	}
	conns := map[string]int{}
	for i, c := range cat.Connectors {
		conns[c.ID] = i
	}
	for _, want := range []string{"http", "email", "dingtalk", "wecom", "feishu", "slack", "sms", "webhook", "pdf"} {
		if _, ok := conns[want]; !ok {
			t.Errorf("catalog misses connector %s", want)
		}
	}
	h := cat.Connectors[conns["http"]]
	if h.Label.ZhCN != "HTTP 请求" || h.Operations[0].ID != "request" || len(h.Operations[0].Params) < 5 || strings.Join(h.Capabilities, ",") != "test,poll" {
		t.Errorf("http connector spec: %+v", h)
	}
	var showIf bool
	for _, p := range h.Operations[0].Params {
		if p["key"] == "body" && p["show_if"] != nil && p["required"] == true {
			showIf = true
		}
	}
	if !showIf {
		t.Error("http body param lacks show_if/required")
	}
}

func TestCredentials(t *testing.T) {
	// The HTTP connector's connection test calls a peer on loopback: allow it like an
	// administrator would for an intranet host.
	t.Setenv("TESSERA_NET_ALLOW_HOSTS", "127.0.0.1")
	e := apitest.New(t)
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret-token" {
			w.WriteHeader(401)
		}
	}))
	defer peer.Close()
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "hr", "name": "HR"}, e.AdminToken)
	_, userTok := e.CreateUser("rep@example.com", "Rep", nil)
	base := "/api/v1/apps/crm/credentials"

	// Validation matrix.
	for _, tc := range []struct {
		name  string
		body  string
		field string
	}{
		{"no name", `{"connector":"http","values":{}}`, "name"},
		{"unknown connector", `{"name":"x","connector":"nope","values":{}}`, "connector"},
		{"connector without credentials", `{"name":"x","connector":"pdf","values":{}}`, "connector"},
		{"missing required value", `{"name":"x","connector":"dingtalk","values":{}}`, "values.webhook_url"},
		{"unknown value key", `{"name":"x","connector":"slack","values":{"webhook_url":"https://h","nope":1}}`, "values.nope"},
		{"bad option", `{"name":"x","connector":"http","values":{"auth":"kerberos"}}`, "values.auth"},
		{"show_if required", `{"name":"x","connector":"http","values":{"auth":"bearer"}}`, "values.token"},
		{"unknown body key", `{"name":"x","connector":"http","values":{},"extra":1}`, "extra"},
		{"webhook secret without whsec_", `{"name":"x","connector":"webhook","values":{"secret":"notwhsec"}}`, "values.secret"},
		{"robot URL not a URL", `{"name":"x","connector":"dingtalk","values":{"webhook_url":123}}`, "values.webhook_url"},
		{"robot URL with another scheme", `{"name":"x","connector":"slack","values":{"webhook_url":"file:///etc/passwd"}}`, "values.webhook_url"},
		{"http base URL without scheme", `{"name":"x","connector":"http","values":{"base_url":"api.example.com"}}`, "values.base_url"},
		{"sms gateway not a URL", `{"name":"x","connector":"sms","values":{"provider":"custom","sign_name":"s","gateway_url":"gw"}}`, "values.gateway_url"},
		{"email port zero", `{"name":"x","connector":"email","values":{"host":"smtp.example.com","from":"a@example.com","port":0}}`, "values.port"},
		{"email port negative", `{"name":"x","connector":"email","values":{"host":"smtp.example.com","from":"a@example.com","port":-1}}`, "values.port"},
		{"email port fraction", `{"name":"x","connector":"email","values":{"host":"smtp.example.com","from":"a@example.com","port":25.5}}`, "values.port"},
		{"email from not an address", `{"name":"x","connector":"email","values":{"host":"smtp.example.com","from":"not-an-email"}}`, "values.from"},
		{"NUL in name", `{"name":"a\u0000b","connector":"slack","values":{"webhook_url":"https://h"}}`, "name"},
		{"control character in name", `{"name":"a\nb","connector":"slack","values":{"webhook_url":"https://h"}}`, "name"},
		{"value too long", `{"name":"x","connector":"slack","values":{"webhook_url":"https://h/` + strings.Repeat("a", 70<<10) + `"}}`, "values.webhook_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Must(422, "POST", base, tc.body, e.AdminToken)
			if !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
				t.Fatalf("want error on %s: %s", tc.field, r.Body)
			}
		})
	}
	e.Must(415, "POST", base, "name=x", e.AdminToken, "Content-Type: text/plain")
	huge := `{"name":"x","connector":"slack","values":{"webhook_url":"https://h/` + strings.Repeat("a", 2<<20) + `"}}`
	if r := e.Must(413, "POST", base, huge, e.AdminToken); !strings.Contains(r.Header["Content-Type"], "problem+json") {
		t.Fatalf("413 is not problem+json: %s", r.Header["Content-Type"])
	}
	var n int
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM credentials`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a refused credential was written: %d %v", n, err)
	}

	// Create, never echo values.
	r := e.Must(201, "POST", base, map[string]any{"name": "内部 API", "connector": "http",
		"values": map[string]any{"base_url": peer.URL + "/health", "auth": "bearer", "token": "s3cret-token"}}, e.AdminToken)
	if strings.Contains(string(r.Body), "s3cret-token") {
		t.Fatalf("secret echoed: %s", r.Body)
	}
	created := r.JSON()
	id, _ := created["id"].(string)
	if id == "" || created["connector"] != "http" || fmt.Sprint(created["fields"]) != "[auth base_url token]" {
		t.Fatalf("created %s", r.Body)
	}
	e.Must(409, "POST", base, map[string]any{"name": "内部 API", "connector": "slack", "values": map[string]any{"webhook_url": "https://hooks.slack.com/x"}}, e.AdminToken)
	var raw []byte
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT ciphertext FROM credentials WHERE id = $1`, id).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "s3cret-token") {
		t.Fatal("plaintext in the database")
	}
	list := e.Must(200, "GET", base, nil, e.AdminToken)
	if strings.Contains(string(list.Body), "s3cret-token") || !strings.Contains(string(list.Body), "内部 API") {
		t.Fatalf("list %s", list.Body)
	}

	// Permission matrix: a user without manage on the app is refused everywhere (403, or 404
	// when the app itself is hidden from them).
	for _, req := range []struct{ method, path string }{{"GET", base}, {"POST", base}, {"DELETE", base + "/" + id},
		{"POST", base + "/" + id + "/test"}, {"PATCH", base + "/" + id}} {
		if r := e.Do(req.method, req.path, `{"name":"y","connector":"slack","values":{"webhook_url":"https://h"}}`, userTok); r.Status != 403 && r.Status != 404 {
			t.Errorf("%s %s as rep: %d %s", req.method, req.path, r.Status, r.Body)
		}
	}
	// Credentials belong to their app: another app does not see them.
	e.Must(404, "POST", "/api/v1/apps/hr/credentials/"+id+"/test", nil, e.AdminToken)
	e.Must(404, "DELETE", "/api/v1/apps/hr/credentials/"+id, nil, e.AdminToken)
	if !strings.Contains(string(e.Must(200, "GET", "/api/v1/apps/hr/credentials", nil, e.AdminToken).Body), `"items":[]`) {
		t.Fatal("hr sees crm credentials")
	}
	e.Must(404, "GET", "/api/v1/apps/nope/credentials", nil, e.AdminToken)
	e.Must(404, "DELETE", base+"/not-a-uuid", nil, e.AdminToken)

	// Connection test through the guarded client, outcome recorded.
	r = e.Must(200, "POST", base+"/"+id+"/test", nil, e.AdminToken)
	if r.JSON()["ok"] != true {
		t.Fatalf("test: %s", r.Body)
	}
	e.Must(200, "PATCH", base+"/"+id, map[string]any{"values": map[string]any{"base_url": peer.URL + "/health", "auth": "bearer", "token": "wrong"}}, e.AdminToken)
	r = e.Must(200, "POST", base+"/"+id+"/test", nil, e.AdminToken)
	if r.JSON()["ok"] != false || !strings.Contains(fmt.Sprint(r.JSON()["error"]), "401") {
		t.Fatalf("test with a wrong token: %s", r.Body)
	}
	if !strings.Contains(string(e.Must(200, "GET", base, nil, e.AdminToken).Body), `"last_test":{"ok":false`) {
		t.Fatal("last test not recorded")
	}
	// A connector without a connection test.
	r = e.Must(201, "POST", base, map[string]any{"name": "群机器人", "connector": "dingtalk", "values": map[string]any{"webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=x", "secret": "SECx"}}, e.AdminToken)
	e.Must(422, "POST", base+"/"+r.JSON()["id"].(string)+"/test", nil, e.AdminToken)

	e.Must(204, "DELETE", base+"/"+id, nil, e.AdminToken)
	e.Must(404, "POST", base+"/"+id+"/test", nil, e.AdminToken)
}

// TestCredentialTestIsGuarded: without an allow-list the connection test cannot reach a
// loopback address (SSRF guard).
func TestCredentialTestIsGuarded(t *testing.T) {
	t.Setenv("TESSERA_NET_ALLOW_HOSTS", "")
	t.Setenv("TESSERA_NET_ALLOW_PRIVATE", "")
	e := apitest.New(t)
	peer := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer peer.Close()
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	r := e.Must(201, "POST", "/api/v1/apps/crm/credentials", map[string]any{"name": "loop", "connector": "http", "values": map[string]any{"base_url": peer.URL}}, e.AdminToken)
	r = e.Must(200, "POST", "/api/v1/apps/crm/credentials/"+r.JSON()["id"].(string)+"/test", nil, e.AdminToken)
	if r.JSON()["ok"] != false || !strings.Contains(fmt.Sprint(r.JSON()["error"]), "not allowed") {
		t.Fatalf("loopback reached: %s", r.Body)
	}
}

// TestCatalogPlugins: JavaScript plugins from TESSERA_PLUGINS_DIR are listed next to the
// built-ins; a broken one is skipped and reported to admins, and the server still starts.
func TestCatalogPlugins(t *testing.T) {
	root := t.TempDir()
	mk := func(name, manifest, code string) {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(manifest), 0o644)
		os.WriteFile(filepath.Join(dir, "index.js"), []byte(code), 0o644)
	}
	mk("hello", `{"id":"hello","version":"1.0.0","label":{"en":"Hello","zh-CN":"你好"},
	  "operations":[{"id":"greet","label":{"en":"Greet","zh-CN":"问候"},"params":[{"key":"name","type":"string","label":{"en":"Name","zh-CN":"名字"},"required":true}]}]}`,
		`const operations = { greet(params) { return {text: '你好，' + params.name}; } };`)
	mk("broken", `{"id":"broken","version":"1.0.0","label":{"en":"Broken"},"operations":[{"id":"x","params":[]}]}`, `const operations = {;`)
	t.Setenv("TESSERA_PLUGINS_DIR", root)
	e := apitest.New(t)
	var cat struct {
		Connectors []struct {
			ID     string `json:"id"`
			Source string `json:"source"`
		} `json:"connectors"`
		Problems []struct {
			Dir   string `json:"dir"`
			Error string `json:"error"`
		} `json:"plugin_problems"`
	}
	e.Must(200, "GET", "/api/v1/catalog", nil, e.AdminToken).Decode(t, &cat)
	sources := map[string]string{}
	for _, c := range cat.Connectors {
		sources[c.ID] = c.Source
	}
	if sources["hello"] != "plugin" || sources["http"] != "builtin" || sources["broken"] != "" {
		t.Fatalf("sources %v", sources)
	}
	if len(cat.Problems) != 1 || filepath.Base(cat.Problems[0].Dir) != "broken" || !strings.Contains(cat.Problems[0].Error, "index.js") {
		t.Fatalf("problems %+v", cat.Problems)
	}
	_, tok := e.CreateUser("u@example.com", "U", nil)
	if strings.Contains(string(e.Must(200, "GET", "/api/v1/catalog", nil, tok).Body), "plugin_problems") {
		t.Fatal("plugin problems shown to a non-admin")
	}
}

// picker is a test connector with dynamic options (registered for this test binary only).
type picker struct{}

func (picker) Spec() sdk.Spec {
	return sdk.Spec{ID: "apitest-picker", Version: "1", Label: sdk.T("Picker", "选择器"),
		Credentials: []sdk.Param{{Key: "tenant", Type: sdk.TypeString, Label: sdk.T("Tenant", "租户"), Required: true}},
		Operations: []sdk.Operation{{ID: "pick", Label: sdk.T("Pick", "选择"), Params: []sdk.Param{
			{Key: "board", Type: sdk.TypeSelect, Label: sdk.T("Board", "看板"), DynamicOptions: true},
			{Key: "plain", Type: sdk.TypeString, Label: sdk.T("Plain", "普通")}},
			Run: func(context.Context, sdk.Env, map[string]any) (any, error) { return nil, nil }}}}
}

func (picker) Options(_ context.Context, env sdk.Env, op, param string, params map[string]any) ([]sdk.Option, error) {
	return []sdk.Option{{Value: env.Credential("tenant") + "/" + fmt.Sprint(params["prefix"]) + "1", Label: sdk.T("One", "一")}}, nil
}

func init() { sdk.Register(picker{}) }

func TestConnectorOptions(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	e.Must(201, "POST", "/api/v1/apps/crm/credentials", map[string]any{"name": "main", "connector": "apitest-picker", "values": map[string]any{"tenant": "t9"}}, e.AdminToken)
	e.Must(201, "POST", "/api/v1/apps/crm/credentials", map[string]any{"name": "other", "connector": "slack", "values": map[string]any{"webhook_url": "https://h"}}, e.AdminToken)
	path := "/api/v1/apps/crm/connectors/apitest-picker/options"
	r := e.Must(200, "POST", path, map[string]any{"operation": "pick", "param": "board", "credential": "main", "params": map[string]any{"prefix": "b"}}, e.AdminToken)
	if !strings.Contains(string(r.Body), `"value":"t9/b1"`) {
		t.Fatalf("options %s", r.Body)
	}
	e.Must(422, "POST", path, map[string]any{"operation": "pick", "param": "plain"}, e.AdminToken)
	e.Must(422, "POST", path, map[string]any{"operation": "nope", "param": "board"}, e.AdminToken)
	e.Must(422, "POST", path, map[string]any{"operation": "pick", "param": "board", "credential": "other"}, e.AdminToken)
	// A connector with required credential fields needs one: 422, not a failed call (502).
	if r := e.Must(422, "POST", path, map[string]any{"operation": "pick", "param": "board"}, e.AdminToken); !strings.Contains(string(r.Body), `"field":"credential"`) {
		t.Fatalf("no credential: %s", r.Body)
	}
	e.Must(404, "POST", "/api/v1/apps/crm/connectors/nope/options", map[string]any{"operation": "pick", "param": "board"}, e.AdminToken)
	_, tok := e.CreateUser("x@example.com", "X", nil)
	if r := e.Do("POST", path, map[string]any{"operation": "pick", "param": "board"}, tok); r.Status != 403 && r.Status != 404 {
		t.Fatalf("outsider: %d", r.Status)
	}
}

func TestCheckConnectorNodes(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	e.Must(201, "POST", "/api/v1/apps/crm/credentials", map[string]any{"name": "群机器人", "connector": "dingtalk",
		"values": map[string]any{"webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=x"}}, e.AdminToken)
	e.Must(201, "POST", "/api/v1/apps/crm/credentials", map[string]any{"name": "slack", "connector": "slack",
		"values": map[string]any{"webhook_url": "https://hooks.slack.com/x"}}, e.AdminToken)
	var appID uuid.UUID
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT id FROM apps WHERE slug = 'crm'`).Scan(&appID); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		params string
		want   string // "field:code" list
	}{
		{"valid with template", `{"connector":"dingtalk","operation":"send","credential":"群机器人","input":{"content":"新线索 {{ trigger.record.data.name }}","at_all":"{{ trigger.body.all }}"}}`, ""},
		{"no credential needed", `{"connector":"pdf","operation":"render","input":{"data":{"items":[]}}}`, ""},
		{"missing required input", `{"connector":"dingtalk","operation":"send","credential":"群机器人","input":{}}`, "nodes[0].params.input.content:required"},
		{"unknown and mistyped input", `{"connector":"dingtalk","operation":"send","credential":"群机器人","input":{"content":"x","at_all":"maybe","colour":1}}`,
			"nodes[0].params.input.at_all:type,nodes[0].params.input.colour:unknown"},
		{"show_if required", `{"connector":"dingtalk","operation":"send","credential":"群机器人","input":{"content":"x","type":"markdown"}}`, "nodes[0].params.input.title:required"},
		{"credential missing", `{"connector":"dingtalk","operation":"send","input":{"content":"x"}}`, "nodes[0].params.credential:required"},
		{"credential unknown", `{"connector":"dingtalk","operation":"send","credential":"nope","input":{"content":"x"}}`, "nodes[0].params.credential:unknown"},
		{"credential of another connector", `{"connector":"dingtalk","operation":"send","credential":"slack","input":{"content":"x"}}`, "nodes[0].params.credential:wrong_connector"},
		{"input not an object", `{"connector":"pdf","operation":"render","input":[1]}`, "nodes[0].params.input:type"},
		{"input as template", `{"connector":"pdf","operation":"render","input":"{{ steps.prep }}"}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &spec.Flow{Slug: "f", Nodes: []spec.Node{{ID: "n", Type: "connector", Params: json.RawMessage(tc.params)}}}
			var got []string
			for _, fe := range e.Srv.CheckConnectorNodes(context.Background(), appID, f) {
				got = append(got, fe.Field+":"+fe.Code)
				if !strings.Contains(fe.Message, " / ") || !strings.ContainsFunc(fe.Message, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) {
					t.Errorf("%s: message %q is not in en and zh-CN", fe.Field, fe.Message)
				}
			}
			if strings.Join(got, ",") != tc.want {
				t.Fatalf("got %v, want %s", got, tc.want)
			}
		})
	}
}

// TestPDFAsRecordAttachment: the pdf connector's file output is stored in the files store and
// attached to a record, the way a flow does (pdf render -> record.update files).
func TestPDFAsRecordAttachment(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	if r := e.Do("PUT", "/api/v1/apps/crm/entities/deal", map[string]any{"slug": "deal", "label": map[string]any{"en": "Deal", "zh-CN": "商机"},
		"fields": []any{map[string]any{"key": "name", "type": "text", "required": true}, map[string]any{"key": "files", "type": "attachment", "multiple": true}}},
		e.AdminToken); r.Status != 200 && r.Status != 201 {
		t.Fatalf("saving the entity: %d %s", r.Status, r.Body)
	}
	e.Must(200, "POST", "/api/v1/apps/crm/entities/deal/publish", nil, e.AdminToken)
	rec := e.Must(201, "POST", "/api/v1/apps/crm/entities/deal/records", map[string]any{"name": "鹏程智能"}, e.AdminToken).JSON()
	var appID uuid.UUID
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT id FROM apps WHERE slug = 'crm'`).Scan(&appID); err != nil {
		t.Fatal(err)
	}
	conn, _ := e.Srv.Connectors.Get("pdf")
	out, err := sdk.Invoke(context.Background(), conn, "render", e.Srv.ConnectorEnv(appID.String(), nil), map[string]any{
		"data": map[string]any{"number": "Q-1", "customer": map[string]any{"name": "鹏程智能"}, "items": []any{map[string]any{"name": "许可证", "qty": 1, "price": 1000}}}})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := e.Srv.StoreConnectorFiles(context.Background(), appID, out)
	if err != nil {
		t.Fatal(err)
	}
	file := stored.(map[string]any)["file"].(map[string]any)
	if file["name"] != "报价单-Q-1.pdf" || file["type"] != "application/pdf" || file["data"] != nil || file["id"] == "" {
		t.Fatalf("stored file %v", file)
	}
	dl := e.Must(200, "GET", "/api/v1/files/"+file["id"].(string), nil, e.AdminToken)
	if !strings.HasPrefix(string(dl.Body), "%PDF-") {
		t.Fatalf("download %q", dl.Body[:20])
	}
	r := e.Must(200, "PATCH", "/api/v1/apps/crm/entities/deal/records/"+rec["id"].(string),
		map[string]any{"files": []any{map[string]any{"id": file["id"]}}}, e.AdminToken)
	if !strings.Contains(string(r.Body), "报价单-Q-1.pdf") {
		t.Fatalf("attachment %s", r.Body)
	}

	// Connectors read stored files of their own app only (the email connector's attachments
	// {"id"}): another app, an unknown id or a malformed one is "not found", never retried.
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "hr", "name": "HR"}, e.AdminToken)
	var hrID uuid.UUID
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT id FROM apps WHERE slug = 'hr'`).Scan(&hrID); err != nil {
		t.Fatal(err)
	}
	got, err := e.Srv.ConnectorEnv(appID.String(), nil).File(context.Background(), file["id"].(string))
	if err != nil || got.Name != "报价单-Q-1.pdf" || got.Type != "application/pdf" || !strings.HasPrefix(string(got.Data), "%PDF-") {
		t.Fatalf("reading the stored file: %v %s %s", err, got.Name, got.Type)
	}
	for _, tc := range []struct{ name, app, id string }{
		{"other app", hrID.String(), file["id"].(string)},
		{"unknown id", appID.String(), uuid.NewString()},
		{"malformed id", appID.String(), "../../etc/passwd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Srv.ConnectorEnv(tc.app, nil).File(context.Background(), tc.id)
			if err == nil || sdk.IsRetryable(err) || !strings.Contains(err.Error(), "not found") {
				t.Fatalf("want a permanent not found, got %v", err)
			}
		})
	}
}

// TestFlowConnectorNode runs a published flow whose connector node sends a signed webhook to
// a real local receiver, with the app's credential, through the guarded client.
func TestFlowConnectorNode(t *testing.T) {
	t.Setenv("TESSERA_NET_ALLOW_HOSTS", "127.0.0.1")
	e := apitest.New(t)
	type delivery struct {
		id, sig string
		body    map[string]any
	}
	got := make(chan delivery, 4)
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		json.NewDecoder(r.Body).Decode(&b)
		got <- delivery{r.Header.Get("webhook-id"), r.Header.Get("webhook-signature"), b}
		w.WriteHeader(204)
	}))
	defer peer.Close()
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	e.Must(201, "POST", "/api/v1/apps/crm/credentials", map[string]any{"name": "erp-hook", "connector": "webhook",
		"values": map[string]any{"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}, e.AdminToken)
	publishFlow(t, e, map[string]any{"slug": "notify-erp", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{map[string]any{"id": "send", "type": "connector", "params": map[string]any{
			"connector": "webhook", "operation": "send", "credential": "erp-hook",
			"input": map[string]any{"url": peer.URL + "/in", "event": "deal.won", "payload": map[string]any{"customer": "{{ trigger.input.customer }}"}}}}}})
	r := e.Must(202, "POST", "/api/v1/apps/crm/flows/notify-erp/run", map[string]any{"input": map[string]any{"customer": "鹏程智能"}}, e.AdminToken).JSON()
	run := waitRun(t, e, r["run_id"].(string))
	if run["status"] != "succeeded" {
		t.Fatalf("run %v", run)
	}
	select {
	case d := <-got:
		if d.body["type"] != "deal.won" || d.body["data"].(map[string]any)["customer"] != "鹏程智能" || !strings.HasPrefix(d.sig, "v1,") || d.id == "" {
			t.Fatalf("delivery %+v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the receiver got nothing")
	}
}

// TestCredentialPatchMerges: PATCH merges values over the saved ones (secrets are never shown,
// so changing one field must not need the others again); null removes an optional value, a
// required one stays required, and a refused PATCH changes nothing.
func TestCredentialPatchMerges(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	base := "/api/v1/apps/crm/credentials"
	id := e.Must(201, "POST", base, map[string]any{"name": "群", "connector": "dingtalk",
		"values": map[string]any{"webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=T1", "secret": "SEC1"}}, e.AdminToken).JSON()["id"].(string)
	var appID uuid.UUID
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT id FROM apps WHERE slug = 'crm'`).Scan(&appID); err != nil {
		t.Fatal(err)
	}
	values := func() map[string]string {
		_, v, err := e.Srv.Secrets.Values(context.Background(), appID, uuid.MustParse(id))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	steps := []struct {
		name   string
		body   any
		status int
		want   string // fmt of the saved values after the step
	}{
		{"rotate the secret only", map[string]any{"values": map[string]any{"secret": "SEC2"}}, 200,
			"map[secret:SEC2 webhook_url:https://oapi.dingtalk.com/robot/send?access_token=T1]"},
		{"remove the optional secret", map[string]any{"values": map[string]any{"secret": nil}}, 200,
			"map[webhook_url:https://oapi.dingtalk.com/robot/send?access_token=T1]"},
		{"removing a required value is refused", map[string]any{"values": map[string]any{"webhook_url": nil}}, 422,
			"map[webhook_url:https://oapi.dingtalk.com/robot/send?access_token=T1]"},
		{"an unknown key is refused", map[string]any{"values": map[string]any{"nope": "x"}}, 422,
			"map[webhook_url:https://oapi.dingtalk.com/robot/send?access_token=T1]"},
		{"empty values keep everything", map[string]any{"values": map[string]any{}}, 200,
			"map[webhook_url:https://oapi.dingtalk.com/robot/send?access_token=T1]"},
	}
	for _, st := range steps {
		r := e.Do("PATCH", base+"/"+id, st.body, e.AdminToken)
		if r.Status != st.status {
			t.Fatalf("%s: %d %s", st.name, r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), "SEC") || strings.Contains(string(r.Body), "access_token") {
			t.Fatalf("%s: values echoed: %s", st.name, r.Body)
		}
		if got := fmt.Sprint(values()); got != st.want {
			t.Fatalf("%s: saved %s, want %s", st.name, got, st.want)
		}
	}
}
