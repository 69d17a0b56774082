package engine_test

import (
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
