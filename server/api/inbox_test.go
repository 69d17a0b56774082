package api_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/server/apitest"
)

// openTaskOf waits for the one open task of the token's user.
func openTaskOf(t *testing.T, e *apitest.Env, tok string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		items := e.Must(200, "GET", "/api/v1/tasks?status=open", nil, tok).JSON()["items"].([]any)
		if len(items) == 1 {
			return items[0].(map[string]any)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d open tasks, want 1", len(items))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestApprovalInbox: an approval shows its level and route, the earlier level's decision and
// comment, and a read-only summary of its record limited to the fields the approver may read;
// people who never held it learn nothing; a bulk decision answers per task.
func TestApprovalInbox(t *testing.T) {
	e := apitest.New(t)
	director, dirTok := e.CreateUser("director@example.com", "Director Wang", nil)
	legal, legalTok := e.CreateUser("legal@example.com", "Legal Li", nil)
	noread, noreadTok := e.CreateUser("noread@example.com", "No Read", nil)
	_, outsiderTok := e.CreateUser("outsider@example.com", "Outsider", nil)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "deal", "label": map[string]any{"en": "Deal", "zh-CN": "商机"}, "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true, "label": map[string]any{"en": "Name", "zh-CN": "名称"}},
		map[string]any{"key": "amount", "type": "money"},
		map[string]any{"key": "cost", "type": "money"},
		map[string]any{"key": "owner_user", "type": "user"}}})
	roles := []map[string]any{
		{"app": "crm", "name": "director", "permissions": []any{
			map[string]any{"resource": "entity:deal", "actions": []any{"read"}, "scope": "all"},
			map[string]any{"resource": "app", "actions": []any{"read"}, "scope": "all"}}},
		// legal reads deals only within its own rows and never the cost
		{"app": "crm", "name": "legal", "permissions": []any{
			map[string]any{"resource": "entity:deal", "actions": []any{"read"}, "scope": "own"},
			map[string]any{"resource": "app", "actions": []any{"read"}, "scope": "all"}},
			"fields": map[string]any{"deal": map[string]any{"hidden": []any{"cost"}, "readonly": []any{}}}},
		{"app": "crm", "name": "viewer", "permissions": []any{
			map[string]any{"resource": "app", "actions": []any{"read"}, "scope": "all"}}},
	}
	for _, r := range roles {
		e.Must(201, "PUT", "/api/v1/admin/roles", r, e.AdminToken)
	}
	for u, role := range map[uuid.UUID]string{director: "director", legal: "legal", noread: "viewer"} {
		e.Must(200, "PUT", "/api/v1/admin/users/"+u.String()+"/roles", map[string]any{"roles": []any{map[string]any{"app": "crm", "role": role}}}, e.AdminToken)
	}
	publishFlow(t, e, map[string]any{"slug": "contract", "trigger": map[string]any{"type": "record.created", "entity": "deal"},
		"nodes": []any{
			map[string]any{"id": "ap", "type": "approval", "params": map[string]any{"title": "合同 {{ trigger.record.name }}", "record": "{{ trigger.record.id }}",
				"routes": []any{map[string]any{"name": "大额合同", "when": "trigger.record.amount > 500000", "levels": []any{
					map[string]any{"name": "总监", "assignee": director.String()},
					map[string]any{"name": "法务", "assignee": legal.String()}}}},
				"levels": []any{map[string]any{"name": "总监", "assignee": director.String()}}}},
		}})
	e.Must(201, "POST", "/api/v1/apps/crm/entities/deal/records", map[string]any{"name": "大单", "amount": 900000, "cost": 12345, "owner_user": director.String()}, e.AdminToken)

	// level 1: the director sees level, route and every field
	dt := openTaskOf(t, e, dirTok)
	d := e.Must(200, "GET", "/api/v1/tasks/"+dt["id"].(string), nil, dirTok).JSON()
	data := d["data"].(map[string]any)
	if data["level"] != "总监" || data["level_index"] != float64(0) || data["levels"] != float64(2) || data["route"] != "大额合同" {
		t.Fatalf("level data %v", data)
	}
	if rec := d["summary"].(map[string]any)["record"].(map[string]any)["data"].(map[string]any); rec["cost"] != float64(12345) {
		t.Fatalf("the director's summary %v", rec)
	}
	e.Must(200, "POST", "/api/v1/tasks/"+dt["id"].(string)+"/complete", map[string]any{"outcome": "approve", "comment": "价格合理"}, dirTok)

	// level 2: legal sees the director's decision and a summary without the cost
	lt := openTaskOf(t, e, legalTok)
	lid := lt["id"].(string)
	d = e.Must(200, "GET", "/api/v1/tasks/"+lid, nil, legalTok).JSON()
	if data := d["data"].(map[string]any); data["level"] != "法务" || data["level_index"] != float64(1) {
		t.Fatalf("legal's level %v", data)
	}
	decs := d["decisions"].([]any)
	if len(decs) != 1 {
		t.Fatalf("decisions %v", decs)
	}
	dec := decs[0].(map[string]any)
	if dec["outcome"] != "approve" || dec["comment"] != "价格合理" || dec["completed_by_name"] != "Director Wang" || dec["level"] != "总监" || dec["completed_at"] == nil {
		t.Fatalf("decision %v", dec)
	}
	sum := d["summary"].(map[string]any)
	rec := sum["record"].(map[string]any)
	if rd := rec["data"].(map[string]any); rd["name"] != "大单" || rd["amount"] != float64(900000) {
		t.Fatalf("legal's summary lacks readable fields: %v", rd)
	} else if _, ok := rd["cost"]; ok {
		t.Fatalf("legal's summary shows the hidden cost: %v", rd)
	}
	for _, f := range sum["entity"].(map[string]any)["fields"].([]any) {
		if f.(map[string]any)["key"] == "cost" {
			t.Fatalf("legal's summary lists the hidden field")
		}
	}
	if disp := rec["display"].(map[string]any); disp[director.String()] != "Director Wang" {
		t.Fatalf("display %v", disp)
	}
	// the summary is read-only: legal still may not read the deal through the records API
	e.Must(404, "GET", "/api/v1/apps/crm/entities/deal/records/"+rec["id"].(string), nil, legalTok)

	// nobody else learns the task exists
	e.Must(404, "GET", "/api/v1/tasks/"+lid, nil, outsiderTok)
	e.Must(404, "GET", "/api/v1/tasks/"+dt["id"].(string), nil, outsiderTok)
	e.Must(404, "GET", "/api/v1/tasks/"+lid, nil, dirTok) // the director decided level 1, not this one

	// delegated to someone who may not read deals: no summary at all
	e.Must(200, "POST", "/api/v1/tasks/"+lid+"/delegate", map[string]any{"user_id": noread.String()}, legalTok)
	d = e.Must(200, "GET", "/api/v1/tasks/"+lid, nil, noreadTok).JSON()
	if d["summary"] != nil || d["summary_note"] != "not_readable" || d["delegated_from_name"] != "Legal Li" {
		t.Fatalf("no-read delegate sees %v / %v", d["summary"], d["summary_note"])
	}
	e.Must(200, "POST", "/api/v1/tasks/"+lid+"/delegate", map[string]any{"user_id": legal.String()}, noreadTok)

	// bulk: bad input is refused whole; each task answers on its own
	e.Must(422, "POST", "/api/v1/tasks/bulk-complete", map[string]any{"ids": []any{}, "outcome": "approve"}, legalTok)
	e.Must(422, "POST", "/api/v1/tasks/bulk-complete", map[string]any{"ids": []any{lid}, "outcome": "maybe"}, legalTok)
	if d := e.Must(200, "GET", "/api/v1/tasks/"+lid, nil, legalTok).JSON(); d["status"] != "open" {
		t.Fatalf("a refused bulk changed the task: %v", d["status"])
	}
	res := e.Must(200, "POST", "/api/v1/tasks/bulk-complete", map[string]any{"ids": []any{lid, uuid.NewString()}, "outcome": "approve", "comment": "OK"}, legalTok).JSON()["results"].([]any)
	if len(res) != 2 || res[0].(map[string]any)["status"] != float64(200) || res[1].(map[string]any)["status"] != float64(404) {
		t.Fatalf("bulk results %v", res)
	}
	if d := e.Must(200, "GET", "/api/v1/tasks/"+lid, nil, legalTok).JSON(); d["status"] != "done" || d["outcome"] != "approve" {
		t.Fatalf("after bulk %v %v", d["status"], d["outcome"])
	}
}
