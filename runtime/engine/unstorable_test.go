package engine_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tessera/tessera/runtime/engine"
)

// peerConnector is a connector whose operation POSTs to a peer and answers the peer's decoded JSON.
type peerConnector struct{ url string }

func (p peerConnector) CallConnector(ctx context.Context, c engine.ConnectorCall) (any, error) {
	req, _ := http.NewRequestWithContext(ctx, "POST", p.url, strings.NewReader("{}"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body any
	err = json.NewDecoder(resp.Body).Decode(&body)
	return map[string]any{"body": body}, err
}

// TestUnstorableStepFailsOnce: a step whose output, logs or error holds a NUL character fails
// the run once with a bilingual error; nothing is retried, the side effect (a POST to a peer)
// happens exactly once and the queue's job ends (no River retry).
func TestUnstorableStepFailsOnce(t *testing.T) {
	e := newEnv(t, true)
	e.eng.SetScripts(testScripts(t))
	var hits atomic.Int64
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"a\u0000b"}`))
	}))
	defer peer.Close()
	e.eng.SetHTTPClient(peer.Client())
	e.eng.SetConnectors(peerConnector{url: peer.URL})
	retry := `"retry":{"max_attempts":5,"backoff":"10ms"},`
	for _, tc := range []struct {
		name, node string
		peerHits   int64
		want       string
	}{
		{"script returns a NUL", `{"id":"s","type":"script",` + retry + `"params":{"code":"return {a: 'x' + String.fromCharCode(0)}"}}`, 0, "output"},
		{"script logs a NUL", `{"id":"s","type":"script",` + retry + `"params":{"code":"log('a' + String.fromCharCode(0)); return 1"}}`, 0, "input"},
		{"base64 of zero bytes", `{"id":"s","type":"script",` + retry + `"params":{"code":"return encoding.base64Decode('AAAA')"}}`, 0, "output"},
		{"script POST answered with a NUL", `{"id":"s","type":"script",` + retry + `"params":{"code":"return http.fetch('` + peer.URL + `', {method: 'POST', body: {n: 1}}).json()"}}`, 1, "output"},
		{"connector answered with a NUL", `{"id":"s","type":"connector",` + retry + `"params":{"connector":"http","operation":"request"}}`, 1, "output"},
		{"script throws a NUL", `{"id":"s","type":"script",` + retry + `"params":{"code":"throw new Error('bad' + String.fromCharCode(0))"}}`, 0, "bad"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits.Store(0)
			e.publish(`{"slug":"nul","trigger":{"type":"manual"},"nodes":[` + tc.node + `]}`)
			run := e.start("nul", nil)
			r := e.wait(run, "succeeded", "failed")
			if r.Status != "failed" || !strings.Contains(deref(r.Error), tc.want) {
				t.Fatalf("run %s, error %q; steps %s", r.Status, deref(r.Error), e.steps(run))
			}
			if tc.want != "bad" && !strings.Contains(deref(r.Error), "无法保存") {
				t.Fatalf("error is not bilingual: %q", deref(r.Error))
			}
			if n := e.count(`SELECT count(*) FROM flow_steps WHERE run_id = $1`, run); n != 1 {
				t.Fatalf("the step ran %d times: %s", n, e.steps(run))
			}
			if hits.Load() != tc.peerHits {
				t.Fatalf("the peer was called %d times, want %d", hits.Load(), tc.peerHits)
			}
			// the job may still be finishing its bookkeeping: wait for its final state
			for deadline := time.Now().Add(10 * time.Second); e.count(`SELECT count(*) FROM river_job WHERE args->>'run_id' = $1 AND state NOT IN ('completed', 'cancelled', 'discarded')`, run.String()) != 0; {
				if time.Now().After(deadline) {
					t.Fatal("the run's job did not end")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if n := e.count(`SELECT count(*) FROM river_job WHERE args->>'run_id' = $1 AND attempt > 1`, run.String()); n != 0 {
				t.Fatalf("River retried the run's job")
			}
		})
	}
}
