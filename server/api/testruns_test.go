package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/tessera/tessera/server/apitest"
)

// waitRunStatus polls a run until it has one of the statuses (30 s at most).
func waitRunStatus(t *testing.T, e *apitest.Env, id string, statuses ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.Must(200, "GET", "/api/v1/runs/"+id, nil, e.AdminToken).JSON()
		for _, s := range statuses {
			if r["status"] == s {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s stayed %v, want %v: %v", id, r["status"], statuses, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func stepOf(run map[string]any, node string) map[string]any {
	var last map[string]any
	for _, s := range run["steps"].([]any) {
		if m := s.(map[string]any); m["node"] == node {
			last = m
		}
	}
	return last
}

// A test run on an existing record sees it as trigger.record (like a real record trigger),
// is marked as a test, and its 7-day approval timeout fires at once when fast-forwarded;
// the app's runs list says what started each run.
func TestTestRunOnRecordAndFastForward(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "contract", "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true},
		map[string]any{"key": "amount", "type": "money"},
		map[string]any{"key": "status", "type": "select", "options": []any{"draft", "approved", "rejected"}}}})
	publishFlow(t, e, map[string]any{"slug": "big-deal", "trigger": map[string]any{"type": "record.created", "entity": "contract"},
		"nodes": []any{
			map[string]any{"id": "big", "type": "condition", "params": map[string]any{"expr": "trigger.record.amount > 500000"}},
			map[string]any{"id": "ok", "type": "approval", "params": map[string]any{"title": "{{ trigger.record.name }}",
				"levels": []any{map[string]any{"name": "director", "assignees": []any{"starter"}}}, "timeout": "7d", "on_timeout": "reject"}},
			map[string]any{"id": "mark", "type": "record.update", "params": map[string]any{"entity": "contract", "id": "{{ trigger.record.id }}", "values": map[string]any{"status": "rejected"}}},
		},
		"edges": []any{map[string]any{"from": "big", "to": "ok", "port": "true"}, map[string]any{"from": "ok", "to": "mark", "port": "rejected"}}})
	rec := e.Must(201, "POST", "/api/v1/apps/crm/entities/contract/records", map[string]any{"name": "大合同", "amount": 800000}, e.AdminToken).JSON()
	recID := rec["id"].(string)
	// the record trigger itself started one real run; wait for it to park so the counts below are stable
	var real string
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT id::text FROM flow_runs WHERE flow = 'big-deal'`).Scan(&real); err != nil {
		t.Fatal(err)
	}
	waitRunStatus(t, e, real, "waiting")

	for _, tc := range []struct {
		name, query string
		want        int
	}{
		{"no record", "?test=true", 422},
		{"bad id", "?test=true&record=nope", 422},
		{"unknown record", "?test=true&record=00000000-0000-0000-0000-000000000000", 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.Must(tc.want, "POST", "/api/v1/apps/crm/flows/big-deal/run"+tc.query, nil, e.AdminToken)
		})
	}
	start := e.Must(202, "POST", "/api/v1/apps/crm/flows/big-deal/run?test=true&record="+recID, nil, e.AdminToken).JSON()
	id := start["run_id"].(string)
	run := waitRunStatus(t, e, id, "waiting")
	if run["test"] != true {
		t.Fatalf("not marked as a test: %v", run)
	}
	trig := run["trigger"].(map[string]any)
	if r, _ := trig["record"].(map[string]any); r["name"] != "大合同" || r["id"] != recID || trig["input"] != nil {
		t.Fatalf("trigger.record is not the chosen record: %v", trig)
	}
	if st := stepOf(run, "big"); st["port"] != "true" {
		t.Fatalf("condition on the sample: %v", st)
	}
	by := run["started_by"].(map[string]any)
	if by["record_title"] != "大合同" || by["type"] != "created" || by["user_name"] == nil {
		t.Fatalf("started_by: %v", by)
	}

	// real runs cannot be fast-forwarded; a test run's 7-day timeout fires now
	e.Must(409, "POST", "/api/v1/runs/"+real+"/fast-forward", nil, e.AdminToken)
	ff := e.Must(202, "POST", "/api/v1/runs/"+id+"/fast-forward", nil, e.AdminToken).JSON()
	if ms := ff["advanced_ms"].(float64); ms < float64(6*24*time.Hour/time.Millisecond) {
		t.Fatalf("moved the clock by %v ms, want about 7 days", ms)
	}
	run = waitRunStatus(t, e, id, "succeeded", "failed")
	if st := stepOf(run, "ok"); run["status"] != "succeeded" || st["port"] != "rejected" {
		t.Fatalf("after fast-forward: %v", run)
	}
	e.Must(409, "POST", "/api/v1/runs/"+id+"/fast-forward", nil, e.AdminToken) // finished: no timer
	if r := e.Must(200, "GET", "/api/v1/runs/"+real, nil, e.AdminToken).JSON(); r["status"] != "waiting" {
		t.Fatalf("the real run moved too: %v", r["status"])
	}

	// a user who may not build the app cannot start test runs nor fast-forward
	_, tok := e.CreateUser("rep@example.com", "Rep", nil)
	e.Must(404, "POST", "/api/v1/apps/crm/flows/big-deal/run?test=true&record="+recID, nil, tok) // not even the app is visible
	e.Must(404, "POST", "/api/v1/runs/"+id+"/fast-forward", nil, tok)
	e.Must(401, "POST", "/api/v1/runs/"+id+"/fast-forward", nil, "")

	// the app's runs: filter by flow, status and test; what started each
	list := e.Must(200, "GET", "/api/v1/apps/crm/runs?flow=big-deal&status=succeeded&test=true", nil, e.AdminToken).JSON()
	items := list["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != id {
		t.Fatalf("filtered runs: %v", items)
	}
	all := e.Must(200, "GET", "/api/v1/apps/crm/runs", nil, e.AdminToken).JSON()["items"].([]any)
	if len(all) != 2 {
		t.Fatalf("app runs: %v", all)
	}
	for _, it := range all {
		if by := it.(map[string]any)["started_by"].(map[string]any); by["record_title"] != "大合同" {
			t.Fatalf("started_by in the list: %v", by)
		}
	}
	e.Must(422, "GET", "/api/v1/apps/crm/runs?status=weird", nil, e.AdminToken)
	e.Must(422, "GET", "/api/v1/apps/crm/runs?from=yesterday", nil, e.AdminToken)
	e.Must(404, "GET", "/api/v1/apps/crm/runs", nil, tok)
	e.Must(404, "GET", "/api/v1/apps/nope/runs", nil, e.AdminToken)
}

// A failed run notifies the flow's last editor (and the app's builders) with a link to the run.
func TestFailedRunNotifiesTheBuilder(t *testing.T) {
	e := apitest.New(t)
	publishFlow(t, e, map[string]any{"slug": "no-approvers", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{map[string]any{"id": "ok", "type": "approval", "params": map[string]any{"title": "x",
			"levels": []any{map[string]any{"name": "director", "assignees": []any{"role:nobody"}}}}}}})
	id := e.Must(202, "POST", "/api/v1/apps/crm/flows/no-approvers/run", map[string]any{}, e.AdminToken).JSON()["run_id"].(string)
	if run := waitRunStatus(t, e, id, "succeeded", "failed"); run["status"] != "failed" {
		t.Fatalf("run: %v", run)
	}
	list := e.Must(200, "GET", "/api/v1/notifications", nil, e.AdminToken).JSON()
	var found map[string]any
	for _, it := range list["items"].([]any) {
		if n := it.(map[string]any); n["kind"] == "run_failed" {
			found = n
		}
	}
	if found == nil || found["run_id"] != id || found["title"] != "no-approvers" {
		t.Fatalf("no run_failed notification for the builder: %v", list)
	}
	if txt := found["text"].(map[string]any); txt["zh-CN"] != "流程运行失败：no-approvers" {
		t.Fatalf("text: %v", txt)
	}
	// retrying and failing again does not notify twice for the same run
	e.Must(202, "POST", "/api/v1/runs/"+id+"/retry", nil, e.AdminToken)
	waitRunStatus(t, e, id, "failed")
	n := 0
	for _, it := range e.Must(200, "GET", "/api/v1/notifications", nil, e.AdminToken).JSON()["items"].([]any) {
		if it.(map[string]any)["kind"] == "run_failed" && it.(map[string]any)["run_id"] == id {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d run_failed notifications, want 1", n)
	}

	// a failing script run, worked inline by the process that accepted it, notifies too
	publishFlow(t, e, map[string]any{"slug": "breaks", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{map[string]any{"id": "boom", "type": "script", "params": map[string]any{"code": "throw new Error('boom')"}}}})
	sid := e.Must(202, "POST", "/api/v1/apps/crm/flows/breaks/run", map[string]any{}, e.AdminToken).JSON()["run_id"].(string)
	if run := waitRunStatus(t, e, sid, "succeeded", "failed"); run["status"] != "failed" {
		t.Fatalf("script run: %v", run)
	}
	eventually(t, 30*time.Second, func() string {
		for _, it := range e.Must(200, "GET", "/api/v1/notifications", nil, e.AdminToken).JSON()["items"].([]any) {
			if n := it.(map[string]any); n["kind"] == "run_failed" && n["run_id"] == sid {
				return ""
			}
		}
		return "no run_failed notification for the failing script run " + sid
	})
}
