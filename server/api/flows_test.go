package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera/tessera/runtime/trigger"
	"github.com/tessera/tessera/server/apitest"
)

// publishFlow creates app crm (once) and publishes flow through the builder routes.
func publishFlow(t *testing.T, e *apitest.Env, flow map[string]any) {
	t.Helper()
	if r := e.Do("GET", "/api/v1/apps/crm", nil, e.AdminToken); r.Status == 404 {
		e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	}
	slug := flow["slug"].(string)
	if r := e.Do("PUT", "/api/v1/apps/crm/flows/"+slug, flow, e.AdminToken); r.Status >= 300 {
		t.Fatalf("saving flow: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", "/api/v1/apps/crm/flows/"+slug+"/publish", nil, e.AdminToken); r.Status >= 300 {
		t.Fatalf("publishing flow: %d %s", r.Status, r.Body)
	}
}

func waitRun(t *testing.T, e *apitest.Env, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.Must(200, "GET", "/api/v1/runs/"+id, nil, e.AdminToken).JSON()
		if st := r["status"]; st == "succeeded" || st == "failed" || time.Now().After(deadline) {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestFlowRunAPI(t *testing.T) {
	e := apitest.New(t)
	publishFlow(t, e, map[string]any{"slug": "greet", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{
			map[string]any{"id": "hello", "type": "set", "name": "打招呼", "params": map[string]any{"values": map[string]any{"msg": "你好 {{ trigger.input.name }}", "n": "{{ trigger.input.n + 1 }}"}}},
			map[string]any{"id": "check", "type": "condition", "params": map[string]any{"expr": "steps.hello.n > 5"}},
		},
		"edges": []any{map[string]any{"from": "hello", "to": "check"}}})
	r := e.Must(202, "POST", "/api/v1/apps/crm/flows/greet/run", map[string]any{"input": map[string]any{"name": "张三", "n": 9}}, e.AdminToken).JSON()
	id, _ := r["run_id"].(string)
	if id == "" {
		t.Fatalf("no run_id: %v", r)
	}
	run := waitRun(t, e, id)
	if run["status"] != "succeeded" || run["id"] != id {
		t.Fatalf("run: %v", run)
	}
	steps := run["steps"].([]any)
	if len(steps) != 2 {
		t.Fatalf("steps: %v", steps)
	}
	first := steps[0].(map[string]any)
	for _, k := range []string{"node", "status", "output", "error", "attempt", "started_at", "finished_at", "input"} {
		if _, ok := first[k]; !ok {
			t.Errorf("step lacks %q: %v", k, first)
		}
	}
	// steps carry the node's name and type from the version that ran (the run page's labels)
	if first["name"] != "打招呼" || first["type"] != "set" || steps[1].(map[string]any)["type"] != "condition" {
		t.Errorf("step names: %v / %v, want 打招呼/set and the condition's type", first, steps[1])
	}
	if out := first["output"].(map[string]any); out["msg"] != "你好 张三" || out["n"] != 10.0 {
		t.Fatalf("output %v", out)
	}
	list := e.Must(200, "GET", "/api/v1/apps/crm/flows/greet/runs", nil, e.AdminToken).JSON()
	if items := list["items"].([]any); len(items) != 1 {
		t.Fatalf("runs list: %v", list)
	}
	// pagination over runs created in one statement (equal created_at)
	if _, err := e.DB.Pool.Exec(context.Background(), `INSERT INTO flow_runs (app_id, flow, flow_version, status) SELECT app_id, flow, flow_version, 'succeeded' FROM flow_runs, generate_series(1, 5) WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	cursor := ""
	for page := 0; page < 10; page++ {
		l := e.Must(200, "GET", "/api/v1/apps/crm/flows/greet/runs?limit=2&cursor="+cursor, nil, e.AdminToken).JSON()
		for _, it := range l["items"].([]any) {
			seen[it.(map[string]any)["id"].(string)] = true
		}
		next, _ := l["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = url.QueryEscape(next)
	}
	if len(seen) != 6 {
		t.Fatalf("paged through %d runs, want 6", len(seen))
	}
	e.Must(422, "GET", "/api/v1/apps/crm/flows/greet/runs?cursor=bad", nil, e.AdminToken)
	e.Must(422, "GET", "/api/v1/apps/crm/flows/greet/runs?status=weird", nil, e.AdminToken)
	// retry of a succeeded run is a conflict; unknown run 404; unknown flow 404
	e.Must(409, "POST", "/api/v1/runs/"+id+"/retry", nil, e.AdminToken)
	e.Must(404, "GET", "/api/v1/runs/00000000-0000-0000-0000-000000000000", nil, e.AdminToken)
	e.Must(404, "GET", "/api/v1/runs/nope", nil, e.AdminToken)
	e.Must(404, "POST", "/api/v1/apps/crm/flows/missing/run", map[string]any{}, e.AdminToken)
	e.Must(401, "GET", "/api/v1/runs/"+id, nil, "")
	// a plain user (no role in the app) may not run or read the flow, and learns nothing of it
	_, tok := e.CreateUser("rep@example.com", "Rep", nil)
	e.Must(404, "POST", "/api/v1/apps/crm/flows/greet/run", map[string]any{}, tok)
	e.Must(404, "GET", "/api/v1/runs/"+id, nil, tok)
}

func TestWebhookIdempotencyAndModes(t *testing.T) {
	// 100 concurrent calls are over the default burst of 40 per webhook (ratelimit_test.go)
	t.Setenv("TESSERA_WEBHOOK_BURST", "1000")
	e := apitest.New(t)
	publishFlow(t, e, map[string]any{"slug": "inbound", "trigger": map[string]any{"type": "webhook", "key": "lead-in"},
		"nodes": []any{map[string]any{"id": "echo", "type": "set", "params": map[string]any{"values": map[string]any{"name": "{{ trigger.body.name }}"}}}}})
	body := `{"name":"李四"}`
	var wg sync.WaitGroup
	ids := make([]string, 100)
	statuses := make([]int, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.Do("POST", "/hooks/lead-in", body, "", "Idempotency-Key: k-1")
			statuses[i] = r.Status
			ids[i], _ = r.JSON()["run_id"].(string)
		}()
	}
	wg.Wait()
	for i := range 100 {
		if statuses[i] != 202 || ids[i] == "" || ids[i] != ids[0] {
			t.Fatalf("call %d: status %d id %q (first %q)", i, statuses[i], ids[i], ids[0])
		}
	}
	var n int
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM flow_runs WHERE flow = 'inbound'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("runs = %d (%v), want 1", n, err)
	}
	// same key, another body
	r := e.Do("POST", "/hooks/lead-in", `{"name":"王五"}`, "", "Idempotency-Key: k-1")
	if r.Status != 422 || !strings.Contains(string(r.Body), "idempotency") {
		t.Fatalf("mismatch: %d %s", r.Status, r.Body)
	}
	if run := waitRun(t, e, ids[0]); run["status"] != "succeeded" {
		t.Fatalf("run %v", run)
	}
	e.Must(404, "POST", "/hooks/no-such-key", body, "")

	// sync mode with a signature
	publishFlow(t, e, map[string]any{"slug": "quote", "trigger": map[string]any{"type": "webhook", "key": "quote", "mode": "sync", "secret": "s3cret"},
		"nodes": []any{map[string]any{"id": "price", "type": "set", "params": map[string]any{"values": map[string]any{"total": "{{ trigger.body.qty * 12.5 }}"}}}}})
	sb := `{"qty":4}`
	e.Must(401, "POST", "/hooks/quote", sb, "")
	e.Must(401, "POST", "/hooks/quote", sb, "", trigger.SignatureHeader+": sha256=00")
	r = e.Must(200, "POST", "/hooks/quote", sb, "", trigger.SignatureHeader+": "+trigger.Sign("s3cret", []byte(sb)))
	if got := r.JSON(); fmt.Sprint(got["total"]) != "50" {
		t.Fatalf("sync output %s", r.Body)
	}
}

// TestWebhookBodies: JSON and URL-encoded forms reach trigger.body; other content types answer
// 415, broken JSON 422 and oversized bodies 413, all as problem+json, and start no run.
func TestWebhookBodies(t *testing.T) {
	e := apitest.New(t)
	publishFlow(t, e, map[string]any{"slug": "echo", "trigger": map[string]any{"type": "webhook", "key": "echo", "mode": "sync"},
		"nodes": []any{map[string]any{"id": "response", "type": "set", "params": map[string]any{"values": map[string]any{"body": "{{ trigger.body }}"}}}}})
	tests := []struct {
		name, ct, body string
		status         int
		want           string // the echoed body (status 200) or a part of the problem
	}{
		{"json", "application/json", `{"n":1}`, 200, `{"n":1}`},
		{"json with charset", "application/json; charset=utf-8", `{"名":"张三"}`, 200, `{"名":"张三"}`},
		{"vendor json", "application/vnd.ads+json", `[1,2]`, 200, `[1,2]`},
		{"no content type, json", "", `{"n":2}`, 200, `{"n":2}`},
		{"empty body", "text/plain", ``, 200, `null`},
		{"form", "application/x-www-form-urlencoded", `name=%E5%BC%A0%E4%B8%89&tag=a&tag=b`, 200, `{"name":"张三","tag":["a","b"]}`},
		{"broken json", "application/json", `{"n":`, 422, "invalid_json"},
		{"text", "text/plain", `hello`, 415, "application/x-www-form-urlencoded"},
		{"xml", "application/xml", `<a/>`, 415, "webhook 请求体须为"},
		{"no content type, text", "", `hello`, 415, "application/json"},
		{"bad content type", "a/b/c;;", `{}`, 415, "application/json"},
		{"too large", "application/json", `"` + strings.Repeat("x", 1<<20) + `"`, 413, "1 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do("POST", "/hooks/echo", tc.body, "", "Content-Type: "+tc.ct)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.status == 200 {
				var got struct {
					Body json.RawMessage `json:"body"`
				}
				if err := json.Unmarshal(r.Body, &got); err != nil || !jsonEqual(got.Body, []byte(tc.want)) {
					t.Fatalf("body %s, want %s", r.Body, tc.want)
				}
				return
			}
			if !strings.Contains(r.Header["Content-Type"], "application/problem+json") || !strings.Contains(string(r.Body), tc.want) {
				t.Fatalf("problem %q %s, want %q", r.Header["Content-Type"], r.Body, tc.want)
			}
		})
	}
	var n int
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM flow_runs WHERE flow = 'echo'`).Scan(&n); err != nil || n != 6 {
		t.Fatalf("runs = %d (%v), want 6 (only the accepted calls)", n, err)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
