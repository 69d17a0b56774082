package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tessera/tessera/server/apitest"
)

func publishEntity(t *testing.T, e *apitest.Env, body map[string]any) {
	t.Helper()
	slug := body["slug"].(string)
	if r := e.Do("PUT", "/api/v1/apps/crm/entities/"+slug, body, e.AdminToken); r.Status >= 300 {
		t.Fatalf("saving entity: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", "/api/v1/apps/crm/entities/"+slug+"/publish", nil, e.AdminToken); r.Status >= 300 {
		t.Fatalf("publishing entity: %d %s", r.Status, r.Body)
	}
}

func TestRecordTriggerApprovalAndTasksAPI(t *testing.T) {
	e := apitest.New(t)
	director, dirTok := e.CreateUser("director@example.com", "Director", nil)
	_, otherTok := e.CreateUser("other@example.com", "Other", nil)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "deal", "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true},
		map[string]any{"key": "amount", "type": "money"},
		map[string]any{"key": "status", "type": "text"}}})
	publishFlow(t, e, map[string]any{"slug": "big-deal", "trigger": map[string]any{"type": "record.created", "entity": "deal", "condition": "record.amount > 500000"},
		"nodes": []any{
			map[string]any{"id": "ap", "type": "approval", "params": map[string]any{"title": "审批 {{ trigger.record.name }}", "record": "{{ trigger.record.id }}",
				"levels": []any{map[string]any{"name": "director", "assignee": director.String()}}}},
			map[string]any{"id": "ok", "type": "record.update", "params": map[string]any{"entity": "deal", "id": "{{ trigger.record.id }}", "values": map[string]any{"status": "approved"}}},
		},
		"edges": []any{map[string]any{"from": "ap", "to": "ok", "port": "approved"}}})

	small := e.Must(201, "POST", "/api/v1/apps/crm/entities/deal/records", map[string]any{"name": "small", "amount": 10}, e.AdminToken).JSON()
	big := e.Must(201, "POST", "/api/v1/apps/crm/entities/deal/records", map[string]any{"name": "大单", "amount": 900000}, e.AdminToken).JSON()
	var runs int
	_ = e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM flow_runs WHERE flow = 'big-deal'`).Scan(&runs)
	if runs != 1 {
		t.Fatalf("%d runs, want 1 (only the big deal matches)", runs)
	}
	_ = small
	// the director sees the approval task
	var task map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for task == nil {
		items := e.Must(200, "GET", "/api/v1/tasks?status=open", nil, dirTok).JSON()["items"].([]any)
		if len(items) == 1 {
			task = items[0].(map[string]any)
		} else if time.Now().After(deadline) {
			t.Fatalf("no task for the director")
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if task["title"] != "审批 大单" || task["kind"] != "approval" || task["record_id"] != big["id"] {
		t.Fatalf("task %v", task)
	}
	id := task["id"].(string)
	if items := e.Must(200, "GET", "/api/v1/tasks", nil, otherTok).JSON()["items"].([]any); len(items) != 0 {
		t.Fatalf("someone else sees %d tasks", len(items))
	}
	// someone who never held the task learns nothing: the same 404 as a missing task
	e.Must(404, "POST", "/api/v1/tasks/"+id+"/complete", map[string]any{"outcome": "approve"}, otherTok)
	e.Must(404, "POST", "/api/v1/tasks/"+id+"/delegate", map[string]any{"email": "other@example.com"}, otherTok)
	e.Must(422, "POST", "/api/v1/tasks/"+id+"/delegate", map[string]any{"email": "director@example.com"}, dirTok)
	e.Must(422, "POST", "/api/v1/tasks/"+id+"/delegate", map[string]any{"email": "nobody@example.com"}, dirTok)
	e.Must(404, "POST", "/api/v1/tasks/00000000-0000-0000-0000-000000000000/complete", map[string]any{"outcome": "approve"}, dirTok)
	// handed to other and back: while other holds it the director may not decide it
	e.Must(200, "POST", "/api/v1/tasks/"+id+"/delegate", map[string]any{"email": "other@example.com"}, dirTok)
	e.Must(403, "POST", "/api/v1/tasks/"+id+"/complete", map[string]any{"outcome": "approve"}, dirTok)
	e.Must(200, "POST", "/api/v1/tasks/"+id+"/delegate", map[string]any{"user_id": director.String()}, otherTok)
	e.Must(422, "POST", "/api/v1/tasks/"+id+"/complete", map[string]any{"outcome": "maybe"}, dirTok)
	e.Must(422, "POST", "/api/v1/tasks/"+id+"/complete", map[string]any{"outcome": "approve", "extra": 1}, dirTok)
	e.Must(200, "POST", "/api/v1/tasks/"+id+"/complete", map[string]any{"outcome": "comment", "comment": "看过了"}, dirTok)
	done := e.Must(200, "POST", "/api/v1/tasks/"+id+"/complete", map[string]any{"outcome": "approve", "comment": "同意"}, dirTok).JSON()
	if done["status"] != "done" || done["outcome"] != "approve" {
		t.Fatalf("completed %v", done)
	}
	e.Must(409, "POST", "/api/v1/tasks/"+id+"/complete", map[string]any{"outcome": "approve"}, dirTok)
	var runID string
	_ = e.DB.Pool.QueryRow(context.Background(), `SELECT id::text FROM flow_runs WHERE flow = 'big-deal'`).Scan(&runID)
	run := waitRun(t, e, runID)
	if run["status"] != "succeeded" {
		t.Fatalf("run %v", run)
	}
	rec := e.Must(200, "GET", fmt.Sprintf("/api/v1/apps/crm/entities/deal/records/%s", big["id"]), nil, e.AdminToken).JSON()
	if rec["data"].(map[string]any)["status"] != "approved" {
		t.Fatalf("record after approval %v", rec)
	}
	if items := e.Must(200, "GET", "/api/v1/tasks?status=done", nil, dirTok).JSON()["items"].([]any); len(items) != 1 {
		t.Fatalf("done tasks %d", len(items))
	}
	e.Must(422, "GET", "/api/v1/tasks?status=weird", nil, dirTok)
}
