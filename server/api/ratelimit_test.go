package api_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

// TestIntakeRateLimits: webhooks are limited per webhook key and per app, manual runs per app;
// over a limit the answer is 429 problem+json with Retry-After, and other webhooks and apps are
// not affected.
func TestIntakeRateLimits(t *testing.T) {
	// refills are slow (one token per 100 s) so that a slow machine, which waits long for each
	// run below, does not refill a bucket before the step that must find it empty
	t.Setenv("TESSERA_WEBHOOK_RATE", "0.01")
	t.Setenv("TESSERA_WEBHOOK_BURST", "3")
	t.Setenv("TESSERA_APP_RATE", "0.01")
	t.Setenv("TESSERA_APP_BURST", "5")
	e := apitest.New(t)
	hook := func(app, slug, key string) {
		if r := e.Do("GET", "/api/v1/apps/"+app, nil, e.AdminToken); r.Status == 404 {
			e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": app, "name": strings.ToUpper(app)}, e.AdminToken)
		}
		flow := map[string]any{"slug": slug, "trigger": map[string]any{"type": "webhook", "key": key},
			"nodes": []any{map[string]any{"id": "s", "type": "set", "params": map[string]any{"values": map[string]any{"ok": true}}}}}
		if r := e.Do("PUT", "/api/v1/apps/"+app+"/flows/"+slug, flow, e.AdminToken); r.Status >= 300 {
			t.Fatalf("saving flow: %d %s", r.Status, r.Body)
		}
		if r := e.Do("POST", "/api/v1/apps/"+app+"/flows/"+slug+"/publish", nil, e.AdminToken); r.Status >= 300 {
			t.Fatalf("publishing flow: %d %s", r.Status, r.Body)
		}
	}
	hook("crm", "one", "hook-one")
	hook("crm", "two", "hook-two")
	hook("other", "three", "hook-three")
	steps := []struct {
		name, path string
		want       int
		scope      string
	}{
		{"webhook burst 1", "/hooks/hook-one", 202, ""},
		{"webhook burst 2", "/hooks/hook-one", 202, ""},
		{"webhook burst 3", "/hooks/hook-one", 202, ""},
		{"over the webhook's limit", "/hooks/hook-one", 429, "webhook"},
		{"another webhook of the app", "/hooks/hook-two", 202, ""},
		{"app burst 5", "/hooks/hook-two", 202, ""},
		{"over the app's limit", "/hooks/hook-two", 429, "应用"},
		{"manual run over the app's limit", "/api/v1/apps/crm/flows/one/run", 429, "应用"},
		{"another app", "/hooks/hook-three", 202, ""},
	}
	for _, s := range steps {
		tok := ""
		if strings.HasPrefix(s.path, "/api/") {
			tok = e.AdminToken
		}
		r := e.Do("POST", s.path, map[string]any{"n": 1}, tok)
		if r.Status != s.want {
			t.Fatalf("%s: %d %s, want %d", s.name, r.Status, r.Body, s.want)
		}
		if s.want != 429 {
			// the run shows when it became ready and how long it waited for a worker
			id, _ := r.JSON()["run_id"].(string)
			run := waitRun(t, e, id)
			if _, ok := run["queued_at"].(string); !ok {
				t.Fatalf("%s: run without queued_at: %v", s.name, run)
			}
			if ms, ok := run["queued_ms"].(float64); !ok || ms < 0 {
				t.Fatalf("%s: run without queued_ms: %v", s.name, run)
			}
			continue
		}
		if ra, err := strconv.Atoi(r.Header["Retry-After"]); err != nil || ra < 1 || ra > 100 {
			t.Fatalf("%s: Retry-After %q", s.name, r.Header["Retry-After"])
		}
		if ct := r.Header["Content-Type"]; !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("%s: content type %q", s.name, ct)
		}
		var p struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal(r.Body, &p)
		if p.Status != 429 || p.Code != "rate_limited" || !strings.Contains(p.Detail, s.scope) {
			t.Fatalf("%s: problem %s", s.name, r.Body)
		}
	}
}
