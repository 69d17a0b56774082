package api_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/server/apitest"
	"github.com/tessera/tessera/server/config"
)

// TestBacklogBackPressure: when the queued runs exceed TESSERA_RUN_BACKLOG_SECONDS of work, a
// webhook answers 429 problem+json with Retry-After and accepts nothing; below it, 202. The
// server has the api role, so nothing drains the queue.
func TestBacklogBackPressure(t *testing.T) {
	e := apitest.New(t, apitest.WithConfig(func(c *config.Config) {
		c.Role = "api"
		c.RunBacklog = time.Second // the floor rate is 50 runs/s: over 50 queued runs is too many
		c.WebhookRate, c.AppRate = 0, 0
	}))
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishFlow(t, e, map[string]any{"slug": "in", "trigger": map[string]any{"type": "webhook", "key": "bp-in"},
		"nodes": []any{map[string]any{"id": "s", "type": "set", "params": map[string]any{"values": map[string]any{"ok": true}}}}})
	runs := func() int {
		var n int
		if err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM flow_runs WHERE flow = 'in'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := 0; i < 60; i++ {
		e.Must(202, "POST", "/hooks/bp-in", `{}`, "")
	}
	// the backlog is sampled every second: wait until intake sees it
	var r *apitest.Resp
	for deadline := time.Now().Add(20 * time.Second); ; {
		before := runs()
		r = e.Do("POST", "/hooks/bp-in", `{}`, "")
		if r.Status == 429 {
			if after := runs(); after != before {
				t.Fatalf("a refused call created a run (%d -> %d)", before, after)
			}
			break
		}
		if r.Status != 202 || time.Now().After(deadline) {
			t.Fatalf("status %d (%s), want 429 once the backlog exceeds a second of work", r.Status, r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ct := r.Header["Content-Type"]; !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q", ct)
	}
	if ra, err := strconv.Atoi(r.Header["Retry-After"]); err != nil || ra < 1 {
		t.Fatalf("Retry-After %q", r.Header["Retry-After"])
	}
	if !strings.Contains(string(r.Body), "rate_limited") || !strings.Contains(string(r.Body), "排队") {
		t.Fatalf("body %s", r.Body)
	}
}

// TestBacklogAndRunLatencyInMetrics: /metrics shows the queued backlog (runs and seconds of
// work) with back-pressure off too, and the time from acceptance to the end of worked runs.
func TestBacklogAndRunLatencyInMetrics(t *testing.T) {
	metric := func(e *apitest.Env, name string) float64 {
		r := e.Do("GET", "/metrics", nil, "")
		if r.Status != 200 {
			t.Fatalf("GET /metrics: %d %s", r.Status, r.Body)
		}
		for _, line := range strings.Split(string(r.Body), "\n") {
			if rest, ok := strings.CutPrefix(line, name+" "); ok {
				v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				return v
			}
		}
		return 0 // not exported yet
	}
	hook := map[string]any{"slug": "in", "trigger": map[string]any{"type": "webhook", "key": "m-in"},
		"nodes": []any{map[string]any{"id": "s", "type": "set", "params": map[string]any{"values": map[string]any{"ok": true}}}}}
	// an api process (nothing drains the queue) with back-pressure off
	e := apitest.New(t, apitest.WithConfig(func(c *config.Config) {
		c.Role = "api"
		c.RunBacklog = 0
		c.WebhookRate, c.AppRate = 0, 0
	}))
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishFlow(t, e, hook)
	const queued = 30
	for range queued {
		e.Must(202, "POST", "/hooks/m-in", `{}`, "")
	}
	// sampled every second: wait until the gauge shows the queued runs
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		runs, secs := metric(e, "tessera_flow_backlog_runs"), metric(e, "tessera_flow_backlog_seconds")
		if runs >= queued && secs > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tessera_flow_backlog_runs %v, tessera_flow_backlog_seconds %v with %d runs queued", runs, secs, queued)
		}
	}
	// a process that works runs: a worked run is in the latency histogram
	w := apitest.New(t, apitest.WithConfig(func(c *config.Config) { c.WebhookRate, c.AppRate = 0, 0 }))
	w.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, w.AdminToken)
	publishFlow(t, w, hook)
	worked := func() float64 {
		return metric(w, `tessera_flow_run_seconds_count{worked="inline"}`) + metric(w, `tessera_flow_run_seconds_count{worked="queue"}`)
	}
	before := worked()
	w.Must(202, "POST", "/hooks/m-in", `{}`, "")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if worked() > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no worked run in tessera_flow_run_seconds")
		}
	}
}
