package api_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/tessera/tessera/server/apitest"
)

// TestRunLinkFromTheInbox: an approver who may not read the flow's runs follows the run link
// of their task and gets the task's view of the run (the flow's name, the run's state, the
// record and the decisions so far) with none of the builder's steps, inputs or outputs;
// people without a task on the run learn nothing; the builder still sees the whole run.
func TestRunLinkFromTheInbox(t *testing.T) {
	e := apitest.New(t)
	director, dirTok := e.CreateUser("director@example.com", "Director Wang", nil)
	legal, legalTok := e.CreateUser("legal@example.com", "Legal Li", nil)
	outsider, outsiderTok := e.CreateUser("outsider@example.com", "Outsider", nil)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "deal", "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true}, map[string]any{"key": "amount", "type": "money"}}})
	e.Must(201, "PUT", "/api/v1/admin/roles", map[string]any{"app": "crm", "name": "approver", "permissions": []any{
		map[string]any{"resource": "entity:deal", "actions": []any{"read"}, "scope": "all"},
		map[string]any{"resource": "app", "actions": []any{"read"}, "scope": "all"}}}, e.AdminToken)
	for _, u := range []uuid.UUID{director, legal, outsider} {
		e.Must(200, "PUT", "/api/v1/admin/users/"+u.String()+"/roles", map[string]any{"roles": []any{map[string]any{"app": "crm", "role": "approver"}}}, e.AdminToken)
	}
	publishFlow(t, e, map[string]any{"slug": "contract", "label": map[string]any{"en": "Contract approval", "zh-CN": "合同审批"},
		"trigger": map[string]any{"type": "record.created", "entity": "deal"},
		"nodes": []any{map[string]any{"id": "ap", "type": "approval", "params": map[string]any{"title": "合同 {{ trigger.record.name }}", "record": "{{ trigger.record.id }}",
			"levels": []any{map[string]any{"name": "总监", "assignee": director.String()}, map[string]any{"name": "法务", "assignee": legal.String()}}}}}})
	e.Must(201, "POST", "/api/v1/apps/crm/entities/deal/records", map[string]any{"name": "大单", "amount": 900000}, e.AdminToken)

	dt := openTaskOf(t, e, dirTok)
	runID := dt["run_id"].(string)
	// before any decision the director's link shows the run through the open task
	v := e.Must(200, "GET", "/api/v1/runs/"+runID, nil, dirTok).JSON()
	if v["scope"] != "task" || v["status"] != "waiting" || v["flow"] != "contract" {
		t.Fatalf("the director's view of the run: %v", v)
	}
	e.Must(200, "POST", "/api/v1/tasks/"+dt["id"].(string)+"/complete", map[string]any{"outcome": "approve", "comment": "价格合理"}, dirTok)
	lt := openTaskOf(t, e, legalTok)

	for _, tc := range []struct {
		name   string
		tok    string
		status int
		scope  any
	}{
		{"the level-2 approver", legalTok, 200, "task"},
		{"the level-1 approver who decided", dirTok, 200, "task"},
		{"someone with no task on the run", outsiderTok, 404, nil},
		{"the builder", e.AdminToken, 200, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Must(tc.status, "GET", "/api/v1/runs/"+runID, nil, tc.tok)
			if tc.status != 200 {
				return
			}
			v := r.JSON()
			if v["scope"] != tc.scope {
				t.Fatalf("scope %v, want %v", v["scope"], tc.scope)
			}
			if tc.scope == nil {
				if len(v["steps"].([]any)) == 0 {
					t.Fatalf("the builder sees no steps: %v", v)
				}
				return
			}
			for _, k := range []string{"trigger", "output", "error", "started_by"} {
				if _, ok := v[k]; ok {
					t.Fatalf("the task view shows the builder's %s: %v", k, v)
				}
			}
			if len(v["steps"].([]any)) != 0 {
				t.Fatalf("the task view shows steps: %v", v["steps"])
			}
			if l := v["flow_label"].(map[string]any); l["zh-CN"] != "合同审批" {
				t.Fatalf("flow label %v", l)
			}
			task := v["task"].(map[string]any)
			if rec := task["summary"].(map[string]any)["record"].(map[string]any)["data"].(map[string]any); rec["name"] != "大单" {
				t.Fatalf("the task's record %v", rec)
			}
			if tc.tok == legalTok {
				if task["id"] != lt["id"] {
					t.Fatalf("task %v, want the open one %v", task["id"], lt["id"])
				}
				decs := task["decisions"].([]any)
				if len(decs) != 1 || decs[0].(map[string]any)["comment"] != "价格合理" || decs[0].(map[string]any)["completed_by_name"] != "Director Wang" {
					t.Fatalf("decisions so far %v", decs)
				}
			}
		})
	}
	// a run id nobody has a task on, and a malformed one, are not found
	e.Must(404, "GET", "/api/v1/runs/"+uuid.NewString(), nil, legalTok)
	e.Must(404, "GET", "/api/v1/runs/not-a-uuid", nil, legalTok)
}
