package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera/tessera/server/apitest"
)

// chatPeer is a loopback chat-completions server keeping every request body it receives.
type chatPeer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newChatPeer(t *testing.T, answer string) *chatPeer {
	p := &chatPeer{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.bodies = append(p.bodies, string(b))
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		out, _ := json.Marshal(map[string]any{"model": "m1", "choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": answer}, "finish_reason": "stop"}},
			"usage": map[string]any{"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}})
		w.Write(out)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *chatPeer) all() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.bodies, "\n")
}

// TestAISummaryRespectsFieldRules runs the AI connector's summarise_record step as a rep
// (run_as trigger_user) and as the service identity against a loopback model: the record, its
// history and a related follow-up reach the model, but no field a role hides, in any request
// body; another rep's lead is not found; usage and cost are summed per run and per app.
func TestAISummaryRespectsFieldRules(t *testing.T) {
	t.Setenv("TESSERA_NET_ALLOW_HOSTS", "127.0.0.1") // the model runs on loopback, like an allow-listed Ollama
	e := apitest.New(t)
	adm := e.AdminToken
	peer := newChatPeer(t, "张三 (ACME) wants 20 licences; call first.")
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, adm)
	publishEntity(t, e, map[string]any{"slug": "lead", "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true},
		map[string]any{"key": "company", "type": "text"},
		map[string]any{"key": "secret_note", "type": "text"}}})
	publishEntity(t, e, map[string]any{"slug": "followup", "fields": []any{
		map[string]any{"key": "lead", "type": "relation", "target": "lead"},
		map[string]any{"key": "need", "type": "textarea"},
		map[string]any{"key": "margin", "type": "number"}}})
	e.Must(201, "POST", "/api/v1/admin/roles", map[string]any{"app": "crm", "name": "rep", "permissions": []any{
		map[string]any{"resource": "entity:lead", "actions": []string{"read", "create", "update"}, "scope": "own"},
		map[string]any{"resource": "entity:followup", "actions": []string{"read", "create", "update"}, "scope": "own"},
		map[string]any{"resource": "flow:*", "actions": []string{"run"}, "scope": "all"}},
		"fields": map[string]any{"lead": map[string]any{"hidden": []string{"secret_note"}}, "followup": map[string]any{"hidden": []string{"margin"}}}}, adm)
	repID, rep := e.CreateUser("rep@example.com", "Rep", nil)
	otherID, other := e.CreateUser("other@example.com", "Other", nil)
	for _, id := range []string{repID.String(), otherID.String()} {
		e.Must(200, "PUT", "/api/v1/admin/users/"+id+"/roles", map[string]any{"roles": []any{map[string]string{"app": "crm", "role": "rep"}}}, adm)
	}
	e.Must(201, "POST", "/api/v1/apps/crm/credentials", map[string]any{"name": "ai", "connector": "ai",
		"values": map[string]any{"provider": "custom", "base_url": peer.URL + "/v1", "api_key": "sk-loopback-key-123", "model": "m1",
			"prices": `{"m1": {"input": 2, "output": 8, "currency": "CNY"}}`}}, adm)
	lead := e.Must(201, "POST", "/api/v1/apps/crm/entities/lead/records", map[string]any{"name": "张三", "company": "ACME"}, rep).JSON()["id"].(string)
	e.Must(200, "PATCH", "/api/v1/apps/crm/entities/lead/records/"+lead, map[string]any{"secret_note": "TOP-SECRET-4711"}, adm)
	fu := e.Must(201, "POST", "/api/v1/apps/crm/entities/followup/records", map[string]any{"lead": lead, "need": "20 licences"}, rep).JSON()["id"].(string)
	e.Must(200, "PATCH", "/api/v1/apps/crm/entities/followup/records/"+fu, map[string]any{"margin": 987654}, adm)
	othersLead := e.Must(201, "POST", "/api/v1/apps/crm/entities/lead/records", map[string]any{"name": "李四"}, other).JSON()["id"].(string)

	// the property form's choices: entities, then the chosen entity's fields
	opts := e.Must(200, "POST", "/api/v1/apps/crm/connectors/ai/options", map[string]any{"operation": "extract", "param": "entity", "credential": "ai"}, adm)
	if !strings.Contains(string(opts.Body), `"value":"lead"`) || !strings.Contains(string(opts.Body), `"value":"followup"`) {
		t.Fatalf("entity choices %s", opts.Body)
	}
	opts = e.Must(200, "POST", "/api/v1/apps/crm/connectors/ai/options", map[string]any{"operation": "extract", "param": "fields", "credential": "ai", "params": map[string]any{"entity": "followup"}}, adm)
	if !strings.Contains(string(opts.Body), `"value":"need"`) || strings.Contains(string(opts.Body), `"value":"lead"`) {
		t.Fatalf("field choices %s", opts.Body)
	}

	for _, runAs := range []string{"trigger_user", "service"} {
		publishFlow(t, e, map[string]any{"slug": "brief-" + runAs, "run_as": runAs, "trigger": map[string]any{"type": "manual"},
			"nodes": []any{map[string]any{"id": "brief", "type": "connector", "params": map[string]any{"connector": "ai", "operation": "summarise_record", "credential": "ai",
				"input": map[string]any{"entity": "lead", "record_id": "{{ trigger.input.id }}", "language": "en"}}}}})
	}
	runs := map[string]string{}
	for _, tc := range []struct {
		name, flow, token, record, status string
	}{
		{"rep on own lead", "brief-trigger_user", rep, lead, "succeeded"},
		{"service identity", "brief-service", adm, lead, "succeeded"},
		{"rep on another rep's lead", "brief-trigger_user", rep, othersLead, "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(strings.Split(peer.all(), "\n"))
			r := e.Must(200, "POST", "/api/v1/apps/crm/flows/"+tc.flow+"/run?wait=true", map[string]any{"input": map[string]any{"id": tc.record}}, tc.token).JSON()
			if r["status"] != tc.status {
				t.Fatalf("run %v", r)
			}
			if tc.status == "failed" {
				if !strings.Contains(fmt.Sprint(r["error"]), "not found") || len(strings.Split(peer.all(), "\n")) != before {
					t.Fatalf("another rep's lead: %v", r)
				}
				return
			}
			runs[tc.name] = r["run_id"].(string)
			out := r["output"].(map[string]any)
			if out["text"] != "张三 (ACME) wants 20 licences; call first." || out["usage"].(map[string]any)["total_tokens"] != 1500.0 ||
				out["cost"].(map[string]any)["amount"] != 0.006 {
				t.Fatalf("output %v", out)
			}
			if fmt.Sprint(out["fields"]) != "[company name]" {
				t.Fatalf("fields sent %v", out["fields"])
			}
		})
	}
	// extract as the rep: the schema has no hidden field, and a prose answer fails the step clearly
	publishFlow(t, e, map[string]any{"slug": "extract-lead", "run_as": "trigger_user", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{map[string]any{"id": "x", "type": "connector", "params": map[string]any{"connector": "ai", "operation": "extract", "credential": "ai",
			"input": map[string]any{"entity": "lead", "text": "{{ trigger.input.text }}"}}}}})
	r := e.Must(200, "POST", "/api/v1/apps/crm/flows/extract-lead/run?wait=true", map[string]any{"input": map[string]any{"text": "王五 from Globex"}}, rep).JSON()
	if r["status"] != "failed" || !strings.Contains(fmt.Sprint(r["error"]), "the model's answer is not a JSON object / 模型的回答不是 JSON 对象") {
		t.Fatalf("extract with a prose answer: %v", r)
	}
	if sent := peer.all(); !strings.Contains(sent, "王五 from Globex") || !strings.Contains(sent, `\"company\"`) {
		t.Fatalf("the extract request: %s", sent)
	}

	sent := peer.all()
	for _, want := range []string{"张三", "ACME", "20 licences"} {
		if !strings.Contains(sent, want) {
			t.Errorf("the model never saw %q", want)
		}
	}
	for _, hidden := range []string{"TOP-SECRET-4711", "secret_note", "987654", "sk-loopback-key-123", "李四"} {
		if strings.Contains(sent, hidden) {
			t.Errorf("%q reached the model: %s", hidden, sent)
		}
	}

	usage := e.Must(200, "GET", "/api/v1/apps/crm/ai/usage", nil, adm).JSON()
	total := usage["total"].([]any)
	if len(total) != 1 || total[0].(map[string]any)["total_tokens"] != 3000.0 || total[0].(map[string]any)["cost"] != 0.012 || total[0].(map[string]any)["currency"] != "CNY" {
		t.Fatalf("app usage %v", usage)
	}
	one := e.Must(200, "GET", "/api/v1/apps/crm/ai/usage?run="+runs["rep on own lead"], nil, adm).JSON()["total"].([]any)
	if len(one) != 1 || one[0].(map[string]any)["steps"] != 1.0 || one[0].(map[string]any)["prompt_tokens"] != 1000.0 {
		t.Fatalf("run usage %v", one)
	}
	e.Must(422, "GET", "/api/v1/apps/crm/ai/usage?run=nope", nil, adm)
	if r := e.Do("GET", "/api/v1/apps/crm/ai/usage", nil, rep); r.Status != 403 && r.Status != 404 {
		t.Fatalf("a rep reads the app's AI usage: %d", r.Status)
	}
}

// TestOptionalConnectorStep: a connector node marked optional publishes without its credential
// and is skipped (output skipped:true) until the credential exists; without optional the
// publish is refused.
func TestOptionalConnectorStep(t *testing.T) {
	e := apitest.New(t)
	flow := func(slug string, optional bool) map[string]any {
		return map[string]any{"slug": slug, "trigger": map[string]any{"type": "manual"}, "nodes": []any{
			map[string]any{"id": "brief", "type": "connector", "params": map[string]any{"connector": "ai", "operation": "chat", "credential": "ai", "optional": optional,
				"input": map[string]any{"prompt": "hi"}}},
			map[string]any{"id": "after", "type": "set", "params": map[string]any{"values": map[string]any{"summary": "{{ steps.brief.text ?? 'none' }}"}}}},
			"edges": []any{map[string]any{"from": "brief", "to": "after"}}}
	}
	publishFlow(t, e, flow("opt", true))
	r := e.Must(200, "POST", "/api/v1/apps/crm/flows/opt/run?wait=true", map[string]any{}, e.AdminToken).JSON()
	if r["status"] != "succeeded" || r["output"].(map[string]any)["summary"] != "none" {
		t.Fatalf("run %v", r)
	}
	e.Must(201, "PUT", "/api/v1/apps/crm/flows/req", flow("req", false), e.AdminToken)
	p := e.Must(422, "POST", "/api/v1/apps/crm/flows/req/publish", nil, e.AdminToken)
	if !strings.Contains(string(p.Body), "no credential named ai") {
		t.Fatalf("publish: %s", p.Body)
	}
}

// TestSalesTemplateAIBrief: with an AI credential named "ai" the sales template's SQL
// assignment summarises the lead (its history included) into the first-contact task; a model
// that fails does not stop the task.
func TestSalesTemplateAIBrief(t *testing.T) {
	t.Setenv("TESSERA_NET_ALLOW_HOSTS", "127.0.0.1")
	e := apitest.New(t)
	peer := newChatPeer(t, "周七想采购 20 套系统，首次通话请先确认预算。")
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	e.Must(201, "POST", "/api/v1/apps/sales/credentials", map[string]any{"name": "ai", "connector": "ai",
		"values": map[string]any{"provider": "custom", "base_url": peer.URL + "/v1", "model": "m1"}}, e.AdminToken)
	me := e.Must(200, "GET", "/api/v1/me", nil, e.AdminToken).JSON()["id"].(string)
	e.Must(200, "PUT", "/api/v1/admin/users/"+me+"/roles", `{"roles":[{"app":"sales","role":"sales_rep"}]}`, e.AdminToken)
	lead := e.Must(201, "POST", "/api/v1/apps/sales/entities/lead/records", `{"name":"周七","company":"东方制造","phone":"13500135000","notes":"询价 20 套"}`, e.AdminToken).JSON()["id"].(string)
	e.Must(200, "PATCH", "/api/v1/apps/sales/entities/lead/records/"+lead, `{"status":"sql"}`, e.AdminToken)
	var desc string
	eventually(t, 30*time.Second, func() string {
		var tasks struct {
			Items []struct {
				Title string         `json:"title"`
				Data  map[string]any `json:"data"`
			}
		}
		e.Must(200, "GET", "/api/v1/tasks", nil, e.AdminToken).Decode(t, &tasks)
		for _, tk := range tasks.Items {
			if strings.Contains(tk.Title, "周七") {
				desc = fmt.Sprint(tk.Data["description"])
				return ""
			}
		}
		return "no first-contact task yet"
	})
	if !strings.Contains(desc, "AI 摘要 / AI brief:\n周七想采购 20 套系统") {
		t.Fatalf("task description %q", desc)
	}
	if sent := peer.all(); !strings.Contains(sent, "询价 20 套") || !strings.Contains(sent, "东方制造") {
		t.Fatalf("the model did not get the lead: %s", sent)
	}

	peer.Close() // the model is gone: the task comes without a brief
	lead = e.Must(201, "POST", "/api/v1/apps/sales/entities/lead/records", `{"name":"吴八","phone":"13500135001"}`, e.AdminToken).JSON()["id"].(string)
	e.Must(200, "PATCH", "/api/v1/apps/sales/entities/lead/records/"+lead, `{"status":"sql"}`, e.AdminToken)
	eventually(t, 60*time.Second, func() string {
		r := e.Must(200, "GET", "/api/v1/tasks", nil, e.AdminToken)
		if !strings.Contains(string(r.Body), "吴八") {
			return "no task for the second lead: " + string(r.Body)
		}
		return ""
	})
}
