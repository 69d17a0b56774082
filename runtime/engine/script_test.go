package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/script"
)

func testScripts(t *testing.T) *engine.ScriptPool {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := engine.NewScriptPool(script.Options{Size: 2, Timeout: 2 * time.Second, Exe: exe, Env: []string{"TESSERA_SANDBOX_WORKER=1"}})
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestScriptNode(t *testing.T) {
	e := newEnv(t, true)
	e.eng.SetScripts(testScripts(t))
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"score": 42}`))
	}))
	defer api.Close()
	e.eng.SetHTTPClient(api.Client())
	e.publish(`{"slug":"js","trigger":{"type":"manual"},"nodes":[
	  {"id":"prep","type":"set","params":{"values":{"name":"{{ trigger.name }}"}}},
	  {"id":"js","type":"script","params":{"code":"const r = records.create('lead', {name: input.steps.prep.name.toUpperCase()}); const s = http.fetch('` + api.URL + `').json(); log('made', r.id); return {id: r.id, name: r.data.name, score: s.score};"}},
	  {"id":"bad","type":"script","retry":{"max_attempts":3,"backoff":"10ms"},"params":{"code":"let x = 1;\nlog('about to fail');\nthrow new Error('boom ' + x);"}}],
	  "edges":[{"from":"prep","to":"js"},{"from":"js","to":"bad"}]}`)
	run := e.start("js", map[string]any{"name": "zhang"})
	r := e.wait(run, "succeeded", "failed")
	steps := e.steps(run)
	if r.Status != "failed" || !strings.Contains(steps, `"name": "ZHANG"`) || !strings.Contains(steps, `"score": 42`) {
		t.Fatalf("run %s: %s", r.Status, steps)
	}
	if !strings.Contains(steps, "boom 1") || !strings.Contains(steps, "line 3") {
		t.Fatalf("script error lacks message or line: %s", steps)
	}
	// what the script logged before failing stays with the failed step
	if n := e.count(`SELECT count(*) FROM flow_steps WHERE run_id = $1 AND node = 'bad' AND status = 'failed' AND input->'logs'->>0 LIKE '%about to fail%'`, run); n != 1 {
		t.Fatalf("failed step lacks the script's logs: %s", steps)
	}
	// a script exception is permanent: no retries
	if n := e.count(`SELECT count(*) FROM flow_steps WHERE run_id = $1 AND node = 'bad'`, run); n != 1 {
		t.Fatalf("script exception retried %d times", n)
	}
	if n := e.count(`SELECT count(*) FROM records WHERE entity = 'lead' AND data->>'name' = 'ZHANG'`); n != 1 {
		t.Fatalf("%d records", n)
	}
}

// TestHostileScripts: a script that loops, recurses, returns what JSON cannot hold or throws a
// non-Error fails only its own step, with an error naming the step in English and zh-CN (the
// sandbox's own messages translated), recorded timings, and no retry; a healthy flow still runs.
func TestHostileScripts(t *testing.T) {
	e := newEnv(t, true)
	e.eng.SetScripts(testScripts(t))
	tests := []struct {
		name, code string
		step       []string // parts of the step's error
		runZH      string   // part of the run's error after "节点 js"
	}{
		{"loop", "while (true) {}", []string{"script exceeded its 2s time limit", "脚本超出了 2s 的时间限制"}, "节点 js：脚本超出了 2s 的时间限制"},
		{"recursion", "function f(n) { return f(n + 1) + 1 }\nreturn f(0)", []string{"maximum call depth", "脚本超出了最大调用深度"}, "节点 js：脚本超出了最大调用深度"},
		{"output", "return 'x'.repeat(2 * 1024 * 1024)", []string{"script output is larger than", "脚本输出超过"}, "节点 js：脚本输出超过"},
		{"cycle", "const a = {}; a.a = a; return a", []string{"circular structure"}, "节点 js"},
		{"host call", "return records.get('lead', '00000000-0000-0000-0000-000000000000')", []string{"not found"}, "节点 js: Error"},
		{"throw object", "throw {code: 7}", []string{`{"code":7}`, "line 1"}, "节点 js: "},
		{"throw null", "throw null", []string{"null"}, "节点 js"},
		{"require", "return require('fs').readFileSync('/etc/passwd')", []string{"require is not defined"}, "节点 js"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			slug := "hostile-" + strings.ReplaceAll(tc.name, " ", "-")
			e.publish(`{"slug":"` + slug + `","trigger":{"type":"manual"},"nodes":[{"id":"js","type":"script","retry":{"max_attempts":3,"backoff":"10ms"},"params":{"code":` + jsonString(tc.code) + `}}]}`)
			run := e.start(slug, map[string]any{})
			r := e.wait(run, "succeeded", "failed")
			if r.Status != "failed" {
				t.Fatalf("run %s: %s", r.Status, e.steps(run))
			}
			var stepErr string
			var ordered bool
			if err := e.d.Pool.QueryRow(context.Background(), `SELECT error, started_at <= finished_at FROM flow_steps WHERE run_id = $1 AND node = 'js'`, run).Scan(&stepErr, &ordered); err != nil {
				t.Fatalf("one failed step, no retries: %v (%s)", err, e.steps(run))
			}
			for _, part := range tc.step {
				if !strings.Contains(stepErr, part) {
					t.Errorf("step error %q lacks %q", stepErr, part)
				}
			}
			if !ordered {
				t.Errorf("step finished before it started: %s", e.steps(run))
			}
			if msg := deref(r.Error); !strings.HasPrefix(msg, "node js") || !strings.Contains(msg, tc.runZH) {
				t.Errorf("run error %q: want it to name node js in English and %q", msg, tc.runZH)
			}
		})
	}
	e.publish(`{"slug":"healthy","trigger":{"type":"manual"},"nodes":[{"id":"js","type":"script","params":{"code":"return {n: input.trigger.n * 2}"}}]}`)
	if r := e.wait(e.start("healthy", map[string]any{"n": 21}), "succeeded", "failed"); r.Status != "succeeded" || fmt.Sprint(r.Output["n"]) != "42" {
		t.Fatalf("healthy flow after hostile ones: %s %v", r.Status, r.Output)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
