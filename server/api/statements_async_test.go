package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/server/apitest"
)

// TestStatementsPerAsyncRun counts the statements and commits of a durable (async) webhook →
// script → record run, from accepting it until it succeeded and no job of it is open (#18
// asks ≤ 10 statements and ≤ 2 commits): the accepting process works it at once when it has
// an inline slot, like a sync run, and answers 202 before the working commits.
func TestStatementsPerAsyncRun(t *testing.T) {
	e, counter := apitest.NewCounted(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "lead", "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true},
		map[string]any{"key": "score", "type": "number"}}})
	publishFlow(t, e, map[string]any{"slug": "ahook", "trigger": map[string]any{"type": "webhook", "key": "count-async", "mode": "async"},
		"nodes": []any{
			map[string]any{"id": "js", "type": "script", "params": map[string]any{"code": "return {name: input.trigger.body.name, score: input.trigger.body.n * 2}"}},
			map[string]any{"id": "create", "type": "record.create", "params": map[string]any{"entity": "lead",
				"values": map[string]any{"name": "{{ steps.js.name }}", "score": "{{ steps.js.score }}"}}}},
		"edges": []any{map[string]any{"from": "js", "to": "create"}}})
	// a connection of its own (no tracer) watches the runs
	cfg := e.DB.Pool.Config().ConnConfig.Copy()
	cfg.Tracer = nil
	watch, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(context.Background())
	done := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			var ok, jobs int
			_ = watch.QueryRow(t.Context(), `SELECT count(*) FROM flow_runs WHERE flow = 'ahook' AND status = 'succeeded'`).Scan(&ok)
			_ = watch.QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&jobs)
			if ok == n && jobs == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d async runs succeeded, %d jobs open", ok, n, jobs)
			}
		}
	}
	e.Must(202, "POST", "/hooks/count-async", `{"name":"a0","n":0}`, "") // warm the caches
	done(1)
	counter.Reset()
	e.Must(202, "POST", "/hooks/count-async", `{"name":"a1","n":1}`, "")
	done(2)
	n, commits := counter.Counts()
	t.Logf("%d statements, %d commits:\n%s", n, commits, counter.Report())
	if n > 7 || commits > 2 {
		t.Fatalf("%d statements and %d commits, want ≤ 7 and ≤ 2:\n%s", n, commits, counter.Report())
	}
}
