package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/tessera/tessera/server/apitest"
)

// fiberTransport sends the MCP client's requests to the in-process Fiber app with a bearer token.
type fiberTransport struct {
	e     *apitest.Env
	token string
}

func (f fiberTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if f.token != "" {
		r.Header.Set("Authorization", "Bearer "+f.token)
	}
	return f.e.Srv.App().Test(r, -1)
}

// mcpSession connects the SDK's own client to /mcp as the owner of token.
func mcpSession(t testing.TB, e *apitest.Env, token string) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: "http://tessera.test/mcp",
		HTTPClient: &http.Client{Transport: fiberTransport{e, token}}, DisableStandaloneSSE: true, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatalf("connecting the MCP client: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// call runs a tool and answers its text and whether it was a tool error.
func call(t testing.TB, cs *mcp.ClientSession, tool string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

func mustCall(t testing.TB, cs *mcp.ClientSession, tool string, args map[string]any) map[string]any {
	t.Helper()
	text, isErr := call(t, cs, tool, args)
	if isErr {
		t.Fatalf("%s %v: tool error %s", tool, args, text)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		t.Fatalf("%s: %v: %s", tool, err, text)
	}
	return m
}

// apiToken creates a personal API token for the user logged in with session.
func apiToken(t testing.TB, e *apitest.Env, session string) string {
	t.Helper()
	return e.Must(201, "POST", "/api/v1/me/tokens", map[string]any{"name": "mcp", "expires_in_days": 30}, session).JSON()["token"].(string)
}

type mcpFixture struct {
	e                        *apitest.Env
	rep, outsider            string // API tokens
	repID                    string
	ownLead, othersLead      string
	repSession, otherSession string
}

// newMCPFixture: app crm with a lead entity (cost hidden from reps, a gate new -> qualified
// needing a phone), a table report of every field, a manual flow with a task for the rep; two
// leads of rep, one of another rep, and a user without any role in the app.
func newMCPFixture(t *testing.T) *mcpFixture {
	e := apitest.New(t)
	adm := e.AdminToken
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, adm)
	publishEntity(t, e, map[string]any{"slug": "lead", "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true},
		map[string]any{"key": "phone", "type": "phone"},
		map[string]any{"key": "cost", "type": "number"},
		map[string]any{"key": "stage", "type": "select", "options": []string{"new", "qualified", "won"}, "default": "new"}},
		"stages": map[string]any{"field": "stage", "order": []string{"new", "qualified", "won"}, "transitions": []any{
			map[string]any{"from": "new", "to": "qualified", "require": "record.phone != nil && record.phone != ''", "message": "请先填写电话 / add a phone first"}}}})
	e.Must(201, "PUT", "/api/v1/apps/crm/reports/all-leads", map[string]any{"slug": "all-leads", "entity": "lead", "kind": "table"}, adm)
	e.Must(200, "POST", "/api/v1/apps/crm/reports/all-leads/publish", nil, adm)
	e.Must(201, "POST", "/api/v1/admin/roles", map[string]any{"app": "crm", "name": "rep", "permissions": []any{
		map[string]any{"resource": "entity:lead", "actions": []string{"read", "create", "update"}, "scope": "own"},
		map[string]any{"resource": "report:*", "actions": []string{"read"}, "scope": "own"},
		map[string]any{"resource": "flow:*", "actions": []string{"run"}, "scope": "all"},
		map[string]any{"resource": "app", "actions": []string{"read"}, "scope": "all"}},
		"fields": map[string]any{"lead": map[string]any{"hidden": []string{"cost"}}}}, adm)
	f := &mcpFixture{e: e}
	repID, repSession := e.CreateUser("rep@example.com", "Rep", nil)
	otherID, otherSession := e.CreateUser("other@example.com", "Other", nil)
	_, outsiderSession := e.CreateUser("outsider@example.com", "Outsider", nil)
	for _, id := range []string{repID.String(), otherID.String()} {
		e.Must(200, "PUT", "/api/v1/admin/users/"+id+"/roles", map[string]any{"roles": []any{map[string]string{"app": "crm", "role": "rep"}}}, adm)
	}
	f.repID, f.repSession, f.otherSession = repID.String(), repSession, otherSession
	f.rep, f.outsider = apiToken(t, e, repSession), apiToken(t, e, outsiderSession)
	f.ownLead = e.Must(201, "POST", "/api/v1/apps/crm/entities/lead/records", map[string]any{"name": "张三"}, repSession).JSON()["id"].(string)
	e.Must(201, "POST", "/api/v1/apps/crm/entities/lead/records", map[string]any{"name": "王五", "phone": "13800138000"}, repSession)
	f.othersLead = e.Must(201, "POST", "/api/v1/apps/crm/entities/lead/records", map[string]any{"name": "李四"}, otherSession).JSON()["id"].(string)
	e.Must(200, "PATCH", "/api/v1/apps/crm/entities/lead/records/"+f.ownLead, map[string]any{"cost": 777001}, adm)
	publishFlow(t, e, map[string]any{"slug": "callback", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{map[string]any{"id": "t", "type": "task", "params": map[string]any{"title": "回电 {{ trigger.input.name }}", "assignee": repID.String()}}}})
	return f
}

// TestMCPServer drives /mcp with the SDK's own client: a rep's token sees only own leads and
// never the hidden cost (search, get, report, entity listing), writes go through validation and
// stage gates (the gate's message is the tool error), flows and tasks work as that user, every
// call is audited, an outsider cannot see the app, and an admin can turn the server off.
func TestMCPServer(t *testing.T) {
	f := newMCPFixture(t)
	e := f.e
	rep := mcpSession(t, e, f.rep)

	tools, err := rep.ListTools(context.Background(), nil)
	if err != nil || len(tools.Tools) != 11 {
		t.Fatalf("tools: %v %v", tools, err)
	}
	if apps := mustCall(t, rep, "list_apps", nil)["apps"].([]any); len(apps) != 1 || apps[0].(map[string]any)["slug"] != "crm" {
		t.Fatalf("list_apps %v", apps)
	}
	ents := mustCall(t, rep, "list_entities", map[string]any{"app": "crm"})
	if b, _ := json.Marshal(ents); strings.Contains(string(b), "cost") || !strings.Contains(string(b), `"phone"`) {
		t.Fatalf("list_entities shows %s", b)
	}

	// reads: own leads only, never the hidden field
	for _, tc := range []struct {
		name  string
		tool  string
		args  map[string]any
		check func(t *testing.T, text string, isErr bool)
	}{
		{"search", "search_records", map[string]any{"app": "crm", "entity": "lead"}, func(t *testing.T, text string, isErr bool) {
			var page struct {
				Items []struct {
					OwnerID string `json:"owner_id"`
				}
			}
			if isErr || json.Unmarshal([]byte(text), &page) != nil || len(page.Items) != 2 || page.Items[0].OwnerID != f.repID || page.Items[1].OwnerID != f.repID {
				t.Fatalf("search: %s", text)
			}
		}},
		{"search by name", "search_records", map[string]any{"app": "crm", "entity": "lead", "filter": map[string]any{"name": map[string]any{"eq": "张三"}}}, func(t *testing.T, text string, isErr bool) {
			if isErr || strings.Count(text, `"id"`) != 1 || !strings.Contains(text, "张三") {
				t.Fatalf("filtered search: %s", text)
			}
		}},
		{"search another rep's lead by name", "search_records", map[string]any{"app": "crm", "entity": "lead", "q": "李四"}, func(t *testing.T, text string, isErr bool) {
			if isErr || strings.Contains(text, "李四") {
				t.Fatalf("another rep's lead: %s", text)
			}
		}},
		{"filter on the hidden field", "search_records", map[string]any{"app": "crm", "entity": "lead", "filter": map[string]any{"cost": map[string]any{"gt": 0}}}, func(t *testing.T, text string, isErr bool) {
			if !isErr {
				t.Fatalf("a filter on a hidden field answered %s", text)
			}
		}},
		{"get own", "get_record", map[string]any{"app": "crm", "entity": "lead", "id": f.ownLead}, func(t *testing.T, text string, isErr bool) {
			if isErr || !strings.Contains(text, "张三") {
				t.Fatalf("get: %s", text)
			}
		}},
		{"get another rep's", "get_record", map[string]any{"app": "crm", "entity": "lead", "id": f.othersLead}, func(t *testing.T, text string, isErr bool) {
			if !isErr || !strings.Contains(text, "not found") || strings.Contains(text, "李四") {
				t.Fatalf("get another rep's lead: %s", text)
			}
		}},
		{"report", "run_report", map[string]any{"app": "crm", "report": "all-leads"}, func(t *testing.T, text string, isErr bool) {
			var res struct {
				Columns []struct{ Key string }
				Rows    [][]any
			}
			if isErr || json.Unmarshal([]byte(text), &res) != nil || len(res.Rows) != 2 || strings.Contains(text, "李四") {
				t.Fatalf("report: %s", text)
			}
			for _, c := range res.Columns {
				if c.Key == "cost" {
					t.Fatalf("the report shows cost: %s", text)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, isErr := call(t, rep, tc.tool, tc.args)
			if strings.Contains(text, "777001") {
				t.Fatalf("%s reveals the hidden cost: %s", tc.tool, text)
			}
			tc.check(t, text, isErr)
		})
	}

	// writes: validation, hidden fields, gates
	for _, tc := range []struct {
		name, tool string
		args       map[string]any
		wantErr    string
	}{
		{"create without the required name", "create_record", map[string]any{"app": "crm", "entity": "lead", "values": map[string]any{"phone": "13900139000"}}, "name"},
		{"create with a hidden field", "create_record", map[string]any{"app": "crm", "entity": "lead", "values": map[string]any{"name": "x", "cost": 1}}, "cost"},
		{"gate refuses the stage move", "update_record", map[string]any{"app": "crm", "entity": "lead", "id": f.ownLead, "values": map[string]any{"stage": "qualified"}}, "请先填写电话 / add a phone first"},
		{"update another rep's lead", "update_record", map[string]any{"app": "crm", "entity": "lead", "id": f.othersLead, "values": map[string]any{"name": "x"}}, "not found"},
		{"create", "create_record", map[string]any{"app": "crm", "entity": "lead", "values": map[string]any{"name": "赵六", "phone": "13700137000"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, isErr := call(t, rep, tc.tool, tc.args)
			if tc.wantErr == "" {
				if isErr || !strings.Contains(text, "赵六") || !strings.Contains(text, "+8613700137000") {
					t.Fatalf("create: %s", text)
				}
				return
			}
			if !isErr || !strings.Contains(text, tc.wantErr) {
				t.Fatalf("want a tool error with %q, got %v %s", tc.wantErr, isErr, text)
			}
		})
	}
	if got := e.Must(200, "GET", "/api/v1/apps/crm/entities/lead/records/"+f.ownLead, nil, e.AdminToken).JSON()["data"].(map[string]any); got["stage"] != "new" {
		t.Fatalf("the refused move changed the lead: %v", got)
	}

	// flows and tasks as the rep
	run := mustCall(t, rep, "start_flow", map[string]any{"app": "crm", "flow": "callback", "input": map[string]any{"name": "张三"}, "wait": true})
	if run["status"] != "waiting" {
		t.Fatalf("start_flow %v", run)
	}
	tasks := mustCall(t, rep, "list_my_tasks", nil)["items"].([]any)
	if len(tasks) != 1 || tasks[0].(map[string]any)["title"] != "回电 张三" {
		t.Fatalf("tasks %v", tasks)
	}
	mustCall(t, rep, "complete_task", map[string]any{"id": tasks[0].(map[string]any)["id"], "outcome": "done", "comment": "called"})
	waitRun(t, e, run["run_id"].(string))
	if r := mustCall(t, rep, "get_run", map[string]any{"id": run["run_id"]}); r["status"] != "succeeded" || len(r["steps"].([]any)) != 1 {
		t.Fatalf("get_run %v", r)
	}
	if text, isErr := call(t, rep, "complete_task", map[string]any{"id": tasks[0].(map[string]any)["id"]}); !isErr || !strings.Contains(text, "already") {
		t.Fatalf("completing twice: %s", text)
	}

	// calls the SDK refuses before a tool runs are audited too, secrets masked
	if text, isErr := call(t, rep, "list_entities", map[string]any{"app": "crm", "api_key": "sk-never-in-the-log"}); !isErr {
		t.Fatalf("arguments outside the schema: %s", text)
	}
	if _, err := rep.CallTool(context.Background(), &mcp.CallToolParams{Name: "drop_database", Arguments: map[string]any{}}); err == nil {
		t.Fatal("an unknown tool answered")
	}

	// audit: every call, with the tool, its arguments and the result's size
	var n, sized int
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE (after->>'result_bytes')::int > 0)
		FROM audit_log WHERE action = 'mcp.call' AND actor = $1`, f.repID).Scan(&n, &sized); err != nil || n != 21 || sized != 20 {
		t.Fatalf("audit rows %d (%d sized), want 21 (20 with a result): %v", n, sized, err)
	}
	var leaked bool
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT bool_or(after::text LIKE '%sk-never-in-the-log%') FROM audit_log`).Scan(&leaked); err != nil || leaked {
		t.Fatalf("a secret argument reached the audit log (%v)", err)
	}
	var args string
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT after->>'arguments' FROM audit_log WHERE action = 'mcp.call' AND target = 'mcp:update_record' AND after->>'ok' = 'false' ORDER BY id LIMIT 1`).Scan(&args); err != nil ||
		!strings.Contains(args, f.ownLead) || !strings.Contains(args, "qualified") {
		t.Fatalf("audited arguments %q: %v", args, err)
	}
	audit := e.Must(200, "GET", "/api/v1/admin/audit?action=mcp.call", nil, e.AdminToken)
	if !strings.Contains(string(audit.Body), "mcp:search_records") {
		t.Fatalf("the admin audit API misses the MCP calls: %.300s", audit.Body)
	}

	// a user without access to the app
	out := mcpSession(t, e, f.outsider)
	if apps := mustCall(t, out, "list_apps", nil)["apps"].([]any); len(apps) != 0 {
		t.Fatalf("an outsider lists %v", apps)
	}
	for tool, args := range map[string]map[string]any{"list_entities": {"app": "crm"}, "search_records": {"app": "crm", "entity": "lead"},
		"get_record": {"app": "crm", "entity": "lead", "id": f.ownLead}, "run_report": {"app": "crm", "report": "all-leads"}} {
		text, isErr := call(t, out, tool, args)
		if !isErr || !strings.Contains(text, "not found") || strings.Contains(text, "张三") {
			t.Fatalf("outsider %s: %s", tool, text)
		}
	}

	// the per-app switch
	e.Must(403, "PUT", "/api/v1/apps/crm/mcp", map[string]any{"enabled": false}, f.repSession)
	e.Must(422, "PUT", "/api/v1/apps/crm/mcp", map[string]any{}, e.AdminToken)
	e.Must(200, "PUT", "/api/v1/apps/crm/mcp", map[string]any{"enabled": false}, e.AdminToken)
	if e.Must(200, "GET", "/api/v1/apps/crm/mcp", nil, f.repSession).JSON()["enabled"] != false {
		t.Fatal("the switch did not stick")
	}
	if apps := mustCall(t, rep, "list_apps", nil)["apps"].([]any); len(apps) != 0 {
		t.Fatalf("a disabled app is listed: %v", apps)
	}
	if text, isErr := call(t, rep, "search_records", map[string]any{"app": "crm", "entity": "lead"}); !isErr || !strings.Contains(text, "MCP") {
		t.Fatalf("a disabled app answered %s", text)
	}
	e.Must(200, "PUT", "/api/v1/apps/crm/mcp", map[string]any{"enabled": true}, e.AdminToken)
	mustCall(t, rep, "search_records", map[string]any{"app": "crm", "entity": "lead"})
}

// TestMCPAuth: /mcp needs an API token; no credentials and a bad token are 401 problems, and
// a cookie session is refused.
func TestMCPAuth(t *testing.T) {
	e := apitest.New(t)
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`
	accept := "Accept: application/json, text/event-stream"
	tok := apiToken(t, e, e.AdminToken)
	if r := e.Do("GET", "/mcp", nil, tok, accept); r.Status != 405 {
		t.Fatalf("GET /mcp: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", "/mcp", init, e.AdminToken, accept, "Cookie: tessera_session=x"); r.Status != 200 {
		t.Fatalf("a login token as bearer: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", "/mcp", init, "", accept, "Cookie: tessera_session="+e.AdminToken); r.Status != 401 && r.Status != 403 {
		t.Fatalf("a cookie session: %d %s", r.Status, r.Body)
	}
	for _, tc := range []struct {
		name, token string
		headers     []string
		want        int
	}{
		{"no token", "", nil, 401},
		{"bad token", "nope", nil, 401},
		{"api token", tok, nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do("POST", "/mcp", init, tc.token, append(tc.headers, accept)...)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if tc.want == 401 && !strings.Contains(r.Header["Content-Type"], "problem+json") {
				t.Fatalf("401 is not problem+json: %v", r.Header)
			}
		})
	}
}
