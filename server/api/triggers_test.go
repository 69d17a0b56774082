package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/server/apitest"
)

func countRuns(t *testing.T, e *apitest.Env, flow string) int {
	t.Helper()
	var n int
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM flow_runs WHERE flow = $1`, flow).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRecordTriggerKinds(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "lead", "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true},
		map[string]any{"key": "score", "type": "number"},
		map[string]any{"key": "stage", "type": "select", "options": []any{"new", "contacted", "won"}}},
		"stages": map[string]any{"field": "stage", "order": []any{"new", "contacted", "won"}}})
	set := []any{map[string]any{"id": "s", "type": "set", "params": map[string]any{"values": map[string]any{"id": "{{ trigger.record.id }}"}}}}
	for slug, trig := range map[string]map[string]any{
		"on-create":  {"type": "record.created", "entity": "lead"},
		"on-stage":   {"type": "stage.changed", "entity": "lead", "from": "new", "to": "contacted"},
		"on-score":   {"type": "record.updated", "entity": "lead", "fields": []any{"score"}, "condition": "record.score >= 50"},
		"on-delete":  {"type": "record.deleted", "entity": "lead"},
		"on-any-upd": {"type": "record.updated", "entity": "lead"},
	} {
		publishFlow(t, e, map[string]any{"slug": slug, "trigger": trig, "nodes": set})
	}
	rec := e.Must(201, "POST", "/api/v1/apps/crm/entities/lead/records", map[string]any{"name": "甲", "stage": "new"}, e.AdminToken).JSON()
	path := "/api/v1/apps/crm/entities/lead/records/" + rec["id"].(string)
	e.Must(200, "PATCH", path, map[string]any{"name": "乙"}, e.AdminToken)
	e.Must(200, "PATCH", path, map[string]any{"score": 10}, e.AdminToken)
	e.Must(200, "PATCH", path, map[string]any{"score": 80}, e.AdminToken)
	e.Must(200, "PATCH", path, map[string]any{"stage": "contacted"}, e.AdminToken)
	e.Must(200, "PATCH", path, map[string]any{"stage": "won"}, e.AdminToken)
	if r := e.Do("DELETE", path, nil, e.AdminToken); r.Status >= 300 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	// a form submission
	if r := e.Do("PUT", "/api/v1/apps/crm/forms/web-lead", map[string]any{"slug": "web-lead", "entity": "lead", "layout": []any{map[string]any{"field": "name"}}}, e.AdminToken); r.Status >= 300 {
		t.Fatalf("saving form: %d %s", r.Status, r.Body)
	}
	e.Must(200, "POST", "/api/v1/apps/crm/forms/web-lead/publish", nil, e.AdminToken)
	publishFlow(t, e, map[string]any{"slug": "on-form", "trigger": map[string]any{"type": "form.submitted", "form": "web-lead"}, "nodes": set})
	if r := e.Do("POST", "/api/v1/apps/crm/forms/web-lead/submit", map[string]any{"name": "丙"}, e.AdminToken); r.Status >= 300 {
		t.Fatalf("submitting: %d %s", r.Status, r.Body)
	}
	want := map[string]int{"on-form": 1, "on-create": 2, "on-stage": 1, "on-score": 1, "on-delete": 1, "on-any-upd": 5}
	for flow, n := range want {
		if got := countRuns(t, e, flow); got != n {
			t.Errorf("%s: %d runs, want %d", flow, got, n)
		}
	}
	// the trigger payload carries the record
	var id string
	_ = e.DB.Pool.QueryRow(context.Background(), `SELECT id::text FROM flow_runs WHERE flow = 'on-stage'`).Scan(&id)
	run := waitRun(t, e, id)
	if out := run["output"].(map[string]any); out["id"] != rec["id"] {
		t.Fatalf("stage run output %v", run)
	}
}

func TestTaskDelegation(t *testing.T) {
	e := apitest.New(t)
	a, aTok := e.CreateUser("a@example.com", "A", nil)
	b, bTok := e.CreateUser("b@example.com", "B", nil)
	publishFlow(t, e, map[string]any{"slug": "todo", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{map[string]any{"id": "t", "type": "task", "params": map[string]any{"title": "回访客户", "assignee": a.String(), "due": "1d"}}}})
	runID := e.Must(202, "POST", "/api/v1/apps/crm/flows/todo/run", map[string]any{}, e.AdminToken).JSON()["run_id"].(string)
	var task map[string]any
	for deadline := time.Now().Add(20 * time.Second); task == nil; time.Sleep(50 * time.Millisecond) {
		if items := e.Must(200, "GET", "/api/v1/tasks", nil, aTok).JSON()["items"].([]any); len(items) == 1 {
			task = items[0].(map[string]any)
		} else if time.Now().After(deadline) {
			t.Fatal("no task")
		}
	}
	id := task["id"].(string)
	e.Must(422, "POST", "/api/v1/tasks/"+id+"/delegate", map[string]any{"user_id": "00000000-0000-0000-0000-000000000001"}, aTok)
	e.Must(422, "POST", "/api/v1/tasks/"+id+"/delegate", map[string]any{"email": "nobody@example.com"}, aTok)
	e.Must(422, "POST", "/api/v1/tasks/"+id+"/delegate", map[string]any{"comment": "no one named"}, aTok)
	e.Must(422, "POST", "/api/v1/tasks/"+id+"/delegate", map[string]any{"user_id": b.String(), "email": "x@example.com"}, aTok)
	// by email: people who do not know user ids can delegate
	d := e.Must(200, "POST", "/api/v1/tasks/"+id+"/delegate", map[string]any{"email": "B@example.com", "comment": "请代办"}, aTok).JSON()
	if d["assignee_id"] != b.String() || d["delegated_from"] != a.String() {
		t.Fatalf("delegated %v", d)
	}
	e.Must(403, "POST", "/api/v1/tasks/"+id+"/complete", map[string]any{"outcome": "done"}, aTok) // no longer hers
	e.Must(200, "POST", "/api/v1/tasks/"+id+"/complete", map[string]any{"outcome": "done", "comment": "已回访"}, bTok)
	run := waitRun(t, e, runID)
	out, _ := run["output"].(map[string]any)
	if run["status"] != "succeeded" || out["outcome"] != "done" || out["completed_by"] != b.String() {
		t.Fatalf("run %v", run)
	}
}

func TestFlowRunsAsServiceOrTriggerUser(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "note", "fields": []any{map[string]any{"key": "text", "type": "text"}}})
	mk := []any{map[string]any{"id": "mk", "type": "record.create", "params": map[string]any{"entity": "note", "values": map[string]any{"text": "{{ trigger.input.text }}"}}}}
	publishFlow(t, e, map[string]any{"slug": "as-service", "trigger": map[string]any{"type": "manual"}, "nodes": mk})
	publishFlow(t, e, map[string]any{"slug": "as-user", "run_as": "trigger_user", "trigger": map[string]any{"type": "manual"}, "nodes": mk})
	e.Must(201, "PUT", "/api/v1/admin/roles", map[string]any{"app": "crm", "name": "runner", "permissions": []any{
		map[string]any{"resource": "flow:as-service", "actions": []any{"run", "read"}, "scope": "all"},
		map[string]any{"resource": "flow:as-user", "actions": []any{"run", "read"}, "scope": "all"}}}, e.AdminToken)
	uid, tok := e.CreateUser("runner@example.com", "Runner", nil)
	e.Must(200, "PUT", "/api/v1/admin/users/"+uid.String()+"/roles", map[string]any{"roles": []any{map[string]any{"app": "crm", "role": "runner"}}}, e.AdminToken)

	id := e.Must(202, "POST", "/api/v1/apps/crm/flows/as-service/run", map[string]any{"input": map[string]any{"text": "a"}}, tok).JSON()["run_id"].(string)
	if run := waitRun(t, e, id); run["status"] != "succeeded" {
		t.Fatalf("service run: %v", run)
	}
	id = e.Must(202, "POST", "/api/v1/apps/crm/flows/as-user/run", map[string]any{"input": map[string]any{"text": "b"}}, tok).JSON()["run_id"].(string)
	run := waitRun(t, e, id)
	if run["status"] != "failed" || !strings.Contains(fmt.Sprint(run["error"]), "may not create note") {
		t.Fatalf("trigger_user run without entity rights: %v", run)
	}
	// the runner can read the run it started, and retry it (it fails again: no rights)
	e.Must(202, "POST", "/api/v1/runs/"+id+"/retry", nil, tok)
}
